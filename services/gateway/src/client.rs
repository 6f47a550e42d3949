//! Who the client is, by address: the connection's peer, or, when the peer is one of the
//! reverse proxies the operator listed ([`TrustedProxies`]), the address that proxy says it
//! forwarded for (`Forwarded: for=…`, RFC 7239, else `X-Forwarded-For`).
//!
//! The forwarding headers are a list each proxy appends to, so only their right-hand end is
//! vouched for: the address is the last one in the list that is not itself a trusted proxy. A
//! client that writes its own `X-Forwarded-For` only adds to the left, which is never read. With
//! no proxies listed (the default) the headers are ignored altogether: anyone can send them.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::header::{FORWARDED, HeaderName};
use ipnet::IpNet;
use serde::Deserialize;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The reverse proxies whose forwarding headers are believed: addresses (`10.0.0.7`) and
/// networks (`10.0.0.0/8`, `fd00::/8`). Empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// The proxies at these addresses and networks.
    pub fn parse<S: AsRef<str>>(list: &[S]) -> Result<Self, String> {
        list.iter()
            .map(|t| parse_net(t.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    /// Whether `addr` is one of the proxies.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        self.0.iter().any(|net| net.contains(&addr))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The client's address for `req`: see the module documentation. `None` only when the
    /// connection has no peer address (a test request).
    pub fn client_of(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = canonical(req.peer_addr()?.ip());
        if !self.contains(peer) {
            return Some(peer);
        }
        let chain = forwarded_for(req).or_else(|| x_forwarded_for(req));
        let Some(chain) = chain else {
            return Some(peer);
        };
        // From the right: past every proxy we trust, the first address is the client's. A
        // chain made only of trusted proxies (or unreadable) leaves the peer.
        let mut client = peer;
        for hop in chain.iter().rev() {
            match hop {
                Some(addr) if self.contains(*addr) => client = *addr,
                Some(addr) => return Some(*addr),
                None => return Some(client),
            }
        }
        Some(client)
    }
}

fn parse_net(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{text:?} is neither an IP address nor a network such as 10.0.0.0/8"))
}

impl<'de> Deserialize<'de> for TrustedProxies {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let texts = Vec::<String>::deserialize(d)?;
        Self::parse(&texts).map_err(serde::de::Error::custom)
    }
}

/// An IPv4 address mapped into IPv6 (`::ffff:10.0.0.7`, as a dual-stack socket reports it) as
/// the IPv4 address it is.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The `for=` addresses of every `Forwarded` header, in order; `None` for an element whose
/// `for` is not an address (`unknown`, an obfuscated name). `None` without the header.
fn forwarded_for(req: &HttpRequest) -> Option<Vec<Option<IpAddr>>> {
    let mut chain = Vec::new();
    for value in req.headers().get_all(FORWARDED) {
        let text = value.to_str().ok()?;
        for element in text.split(',') {
            let node = element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| value.trim())
            });
            if let Some(node) = node {
                chain.push(node_address(node));
            }
        }
    }
    (!chain.is_empty()).then_some(chain)
}

/// An RFC 7239 node: `192.0.2.60`, `"192.0.2.60:8080"`, `"[2001:db8::1]:4711"`.
fn node_address(node: &str) -> Option<IpAddr> {
    let node = node.trim_matches('"');
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok().map(canonical);
    }
    let host = match node.rsplit_once(':') {
        // One colon: an IPv4 address with a port.
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host
        }
        _ => node,
    };
    host.parse().ok().map(canonical)
}

/// The addresses of every `X-Forwarded-For` header, in order.
fn x_forwarded_for(req: &HttpRequest) -> Option<Vec<Option<IpAddr>>> {
    let mut chain = Vec::new();
    for value in req.headers().get_all(X_FORWARDED_FOR) {
        let text = value.to_str().ok()?;
        chain.extend(text.split(',').map(|a| node_address(a.trim())));
    }
    (!chain.is_empty()).then_some(chain)
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use actix_web::test::TestRequest;

    use super::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(list).expect("valid proxies")
    }

    fn client(trusted: &TrustedProxies, peer: &str, headers: &[(&str, &str)]) -> String {
        let mut req = TestRequest::default().peer_addr(peer.parse::<SocketAddr>().expect("addr"));
        for (name, value) in headers {
            req = req.append_header((*name, *value));
        }
        trusted
            .client_of(&req.to_http_request())
            .expect("an address")
            .to_string()
    }

    #[test]
    fn without_trusted_proxies_the_forwarding_headers_are_ignored() {
        let none = TrustedProxies::default();
        let forged = [
            ("x-forwarded-for", "203.0.113.9"),
            ("forwarded", "for=203.0.113.9"),
        ];
        assert_eq!(client(&none, "198.51.100.1:5000", &forged), "198.51.100.1");
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_what_the_client_wrote_itself_is_not_read() {
        let trusted = proxies(&["10.0.0.0/8", "192.0.2.1"]);
        // The client sent its own header (a lie, on the left); the proxies appended the truth.
        let xff = [("x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.1.1.1")];
        assert_eq!(client(&trusted, "192.0.2.1:443", &xff), "198.51.100.7");
        let forwarded = [(
            "forwarded",
            "for=1.2.3.4, for=\"[2001:db8::7]:4711\";proto=https, for=10.2.2.2",
        )];
        assert_eq!(client(&trusted, "10.9.9.9:1", &forwarded), "2001:db8::7");
        // Forwarded wins over X-Forwarded-For when both are sent.
        let both = [
            ("forwarded", "for=198.51.100.8:1234"),
            ("x-forwarded-for", "198.51.100.9"),
        ];
        assert_eq!(client(&trusted, "10.0.0.1:1", &both), "198.51.100.8");
        // An untrusted peer's headers say nothing.
        assert_eq!(client(&trusted, "198.51.100.1:5", &xff), "198.51.100.1");
        // No header, or nothing but proxies: the proxy itself.
        assert_eq!(client(&trusted, "10.0.0.1:1", &[]), "10.0.0.1");
        let only = [("x-forwarded-for", "10.3.3.3")];
        assert_eq!(client(&trusted, "10.0.0.1:1", &only), "10.3.3.3");
        // An unreadable hop stops the walk at the last address vouched for.
        let garbled = [("x-forwarded-for", "198.51.100.7, garbage, 10.1.1.1")];
        assert_eq!(client(&trusted, "10.0.0.1:1", &garbled), "10.1.1.1");
    }

    #[test]
    fn mapped_ipv4_peers_match_ipv4_networks_and_bad_entries_are_refused() {
        let trusted = proxies(&["127.0.0.1"]);
        assert!(trusted.contains("::ffff:127.0.0.1".parse().expect("v6")));
        assert!(serde_json::from_str::<TrustedProxies>(r#"["10.0.0.0/33"]"#).is_err());
        assert!(serde_json::from_str::<TrustedProxies>(r#"["proxy.example"]"#).is_err());
    }
}
