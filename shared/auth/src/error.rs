//! [`AuthError`]: why a token was refused. For logs only: every refusal is the same generic
//! 401 problem on the wire.

use jsonwebtoken::errors::ErrorKind;

/// Why a bearer token was refused. `Display` never includes the token or a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    #[error("authorization header is not a single `Bearer <token>`")]
    MalformedHeader,
    #[error("token is not a well-formed JWS compact serialisation")]
    Malformed,
    #[error("token algorithm {0:?} is not allowed")]
    AlgorithmNotAllowed(String),
    #[error("token names an unknown key id")]
    UnknownKid,
    #[error("token has no kid and more than one key is configured")]
    MissingKid,
    #[error("token algorithm does not match its key's algorithm")]
    AlgorithmKeyMismatch,
    #[error("token header lists critical extensions, none of which are supported")]
    UnsupportedCritical,
    #[error("token signature does not verify")]
    BadSignature,
    #[error("token has expired")]
    Expired,
    #[error("token is not valid yet")]
    NotYetValid,
    #[error("token issuer is not the configured issuer")]
    WrongIssuer,
    #[error("token audience does not include the configured audience")]
    WrongAudience,
    #[error("token lacks the required claim `{0}`")]
    MissingClaim(&'static str),
    #[error("token claim `{0}` is invalid")]
    InvalidClaim(&'static str),
    #[error("token role is not a known role")]
    UnknownRole,
    #[error("token refused by the JWT library ({0})")]
    Rejected(String),
}

impl AuthError {
    /// Classifies a `jsonwebtoken` failure. Its kinds are `#[non_exhaustive]`: a kind added
    /// later is still a refusal, logged with its name.
    pub(crate) fn from_jwt(err: &jsonwebtoken::errors::Error) -> Self {
        match err.kind() {
            ErrorKind::InvalidSignature => Self::BadSignature,
            ErrorKind::ExpiredSignature => Self::Expired,
            ErrorKind::ImmatureSignature => Self::NotYetValid,
            ErrorKind::InvalidIssuer => Self::WrongIssuer,
            ErrorKind::InvalidAudience => Self::WrongAudience,
            ErrorKind::MissingRequiredClaim(claim) => Self::MissingClaim(registered(claim)),
            ErrorKind::InvalidClaimFormat(claim) => Self::InvalidClaim(registered(claim)),
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                Self::AlgorithmKeyMismatch
            }
            ErrorKind::InvalidToken
            | ErrorKind::Base64(_)
            | ErrorKind::Json(_)
            | ErrorKind::Utf8(_) => Self::Malformed,
            other => Self::Rejected(kind_name(other)),
        }
    }
}

/// The registered claim names `jsonwebtoken` validates, as `'static` strings.
fn registered(claim: &str) -> &'static str {
    match claim {
        "exp" => "exp",
        "nbf" => "nbf",
        "iss" => "iss",
        "aud" => "aud",
        "sub" => "sub",
        _ => "(registered claim)",
    }
}

/// The variant name of a kind, without any payload (which may quote key material errors).
fn kind_name(kind: &ErrorKind) -> String {
    let debug = format!("{kind:?}");
    debug
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or("unknown")
        .to_owned()
}
