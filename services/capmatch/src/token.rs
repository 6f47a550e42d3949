//! `capmatch token`: a development token signed with the data directory's development secret.

use std::time::Duration;

use capmatch_auth::TokenSigner;
use capmatch_domain::actor::{Actor, Role};

use crate::cli::{RoleArg, Token};
use crate::config::Config;

/// Mints the token described by the arguments.
pub fn mint(config: &Config, args: &Token) -> Result<String, String> {
    if config.auth.is_some() {
        return Err(
            "an identity provider is configured ([auth]); capmatch token only mints \
                    development tokens. Get a token from your identity provider."
                .into(),
        );
    }
    let role = role(args)?;
    let ttl = parse_ttl(&args.ttl)?;
    let subject = args.sub.clone().unwrap_or_else(|| default_subject(&role));
    if subject.is_empty() {
        return Err("--sub must not be empty".into());
    }
    let secret = crate::serve::development_secret(config)?;
    let signer = TokenSigner::from_dev_secret(
        &secret,
        &config.development.issuer,
        &config.development.audience,
    );
    signer
        .mint(&Actor::new(subject, role), ttl)
        .map_err(|e| format!("cannot sign: {e}"))
}

fn role(args: &Token) -> Result<Role, String> {
    let unexpected = |flag: &str, role: &str| format!("--{flag} does not apply to role {role}");
    match args.role {
        RoleArg::State => {
            if args.org.is_some() || args.org_type.is_some() {
                return Err(unexpected("org/--org-type", "state"));
            }
            let country = args
                .country
                .as_deref()
                .ok_or("role state needs --country")?;
            let country = country.parse().map_err(|e| format!("--country: {e}"))?;
            Ok(Role::State { country })
        }
        RoleArg::Provider => {
            if args.country.is_some() {
                return Err(unexpected("country", "provider"));
            }
            let org = args.org.as_deref().ok_or("role provider needs --org")?;
            let org_type = args
                .org_type
                .as_deref()
                .ok_or("role provider needs --org-type")?;
            Ok(Role::Provider {
                org: org.parse().map_err(|e| format!("--org: {e}"))?,
                org_type: org_type.parse().map_err(|e| format!("--org-type: {e}"))?,
            })
        }
        other => {
            if args.country.is_some() || args.org.is_some() || args.org_type.is_some() {
                return Err(
                    "--country, --org and --org-type apply to state and provider only".into(),
                );
            }
            Ok(match other {
                RoleArg::Coordinator => Role::Coordinator,
                RoleArg::Admin => Role::Admin,
                _ => Role::Service,
            })
        }
    }
}

fn default_subject(role: &Role) -> String {
    match role {
        Role::State { country } => format!("focal-point-{}", country.as_str().to_lowercase()),
        Role::Provider { org, .. } => format!("staff@{}", org.as_str()),
        other => format!("dev-{}", other.name()),
    }
}

/// `3600`, `90s`, `30m`, `12h`, `7d`.
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c),
        _ => (text, 's'),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("--ttl {text:?}: expected e.g. 3600, 90s, 30m, 12h or 7d"))?;
    let seconds = match unit {
        's' => Some(n),
        'm' => n.checked_mul(60),
        'h' => n.checked_mul(3600),
        'd' => n.checked_mul(86_400),
        _ => None,
    }
    .filter(|s| (1..=366 * 86_400).contains(s))
    .ok_or_else(|| format!("--ttl {text:?}: between 1 second and 366 days, units s, m, h, d"))?;
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn lifetimes_parse_with_and_without_units() {
        assert_eq!(parse_ttl("3600").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_ttl("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_ttl("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_ttl("12h").unwrap(), Duration::from_secs(43_200));
        assert_eq!(parse_ttl("7d").unwrap(), Duration::from_secs(604_800));
        for bad in ["", "h", "0", "-5m", "5w", "400d", "1.5h"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }
}
