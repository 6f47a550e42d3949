//! The route table: which service owns which public path.

/// A service behind the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Upstream {
    Needs,
    Offers,
    Matcher,
}

impl Upstream {
    pub const ALL: [Upstream; 3] = [Upstream::Needs, Upstream::Offers, Upstream::Matcher];

    pub fn name(self) -> &'static str {
        match self {
            Upstream::Needs => "needs",
            Upstream::Offers => "offers",
            Upstream::Matcher => "matcher",
        }
    }
}

/// The owner of `path`, or `None` when no service serves it publicly (`/internal/…` included).
///
/// Suggestions for a need or an offer (`/v1/needs/{id}/matches`) belong to the matcher, which
/// keeps them; everything else under `/v1/needs` and `/v1/offers` to the service of that name.
pub fn upstream_for(path: &str) -> Option<Upstream> {
    let rest = path.strip_prefix("/v1/")?;
    let mut segments = rest.split('/');
    let first = segments.next()?;
    let second = segments.next();
    let third = segments.next();
    let fourth = segments.next();
    match first {
        "needs" | "offers" => {
            let is_matches = second.is_some_and(|s| !s.is_empty())
                && third == Some("matches")
                && fourth.is_none();
            if is_matches {
                Some(Upstream::Matcher)
            } else if first == "needs" {
                Some(Upstream::Needs)
            } else {
                Some(Upstream::Offers)
            }
        }
        "taxonomy" if second.is_none() => Some(Upstream::Needs),
        "matches" | "plan" | "stats" => Some(Upstream::Matcher),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_public_path_goes_to_its_owner() {
        let cases = [
            ("/v1/needs", Some(Upstream::Needs)),
            ("/v1/needs/abc", Some(Upstream::Needs)),
            ("/v1/needs/abc/history", Some(Upstream::Needs)),
            ("/v1/needs/abc/withdraw", Some(Upstream::Needs)),
            ("/v1/needs/abc/matches", Some(Upstream::Matcher)),
            ("/v1/offers", Some(Upstream::Offers)),
            ("/v1/offers/abc/pause", Some(Upstream::Offers)),
            ("/v1/offers/abc/matches", Some(Upstream::Matcher)),
            ("/v1/matches", Some(Upstream::Matcher)),
            ("/v1/matches/abc/introduce", Some(Upstream::Matcher)),
            ("/v1/plan", Some(Upstream::Matcher)),
            ("/v1/stats", Some(Upstream::Matcher)),
            ("/v1/taxonomy", Some(Upstream::Needs)),
        ];
        for (path, owner) in cases {
            assert_eq!(upstream_for(path), owner, "{path}");
        }
    }

    #[test]
    fn internal_and_unknown_paths_are_never_routed() {
        for path in [
            "/internal/events",
            "/internal/head",
            "/v1/internal/events",
            "/v2/needs",
            "/v1",
            "/v1/",
            "/v1/taxonomy/extra",
            "/needs",
            "/v1/needs/abc/matches/extra",
            "/",
        ] {
            let owner = upstream_for(path);
            assert!(
                owner.is_none() || path.starts_with("/v1/needs/"),
                "{path} -> {owner:?}"
            );
        }
        assert_eq!(upstream_for("/internal/events"), None);
        // A longer path under a need goes to the needs service, which answers 404 itself.
        assert_eq!(
            upstream_for("/v1/needs/abc/matches/extra"),
            Some(Upstream::Needs)
        );
    }
}
