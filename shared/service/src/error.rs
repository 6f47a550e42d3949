//! Domain and store errors as HTTP problems, each in one exhaustive match (no catch-all arm):
//! a new variant upstream fails the build here instead of turning into a silent 500.
//!
//! | error | status | code |
//! |---|---|---|
//! | `DomainError::Validation` | 422 | `validation_failed`, with field errors |
//! | `DomainError::Forbidden` | 403 | `forbidden` |
//! | `DomainError::InvalidTransition` | 409 | `invalid_transition` |
//! | `DomainError::NotFound` | 404 | `not_found` |
//! | `DomainError::AlreadyExists` | 409 | `already_exists` |
//! | `Error::WrongExpectedVersion` | 412 after `If-Match`, else 409 | `precondition_failed` / `conflict` |
//! | `Error::IdempotencyConflict` | 422 | `idempotency_key_reused` |
//! | `Error::Storage`, `Io`, `Closed` | 503 | `unavailable` (opaque) |
//! | `Error::Corrupt`, `Upcast`, `InvalidInput`, `Locked`, `InsecurePermissions` | 500 | `internal` (opaque) |

use capmatch_domain::error::DomainError;
use capmatch_eventstore::{Error as StoreError, ExpectedVersion};
use capmatch_http::{ApiError, FieldError, ProblemCode};

/// What a lost optimistic-concurrency race means for the request at hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnVersionConflict {
    /// The caller named the version in `If-Match`: 412.
    PreconditionFailed,
    /// The caller named no version (the service read it): 409, retry.
    Conflict,
}

/// The problem for a refused command.
pub fn domain_error(err: DomainError) -> ApiError {
    match err {
        DomainError::Validation(errors) => ApiError::validation(
            errors
                .into_iter()
                .map(|e| FieldError::new(e.field, e.code, e.message)),
        ),
        DomainError::Forbidden(reason) => ApiError::forbidden(capitalised(reason)),
        DomainError::InvalidTransition { from, action } => {
            ApiError::invalid_transition(format!("Cannot {action} when {from}."))
        }
        DomainError::NotFound => ApiError::not_found(),
        DomainError::AlreadyExists => ApiError::new(ProblemCode::AlreadyExists),
    }
}

/// The problem for a failed store operation. Causes are logged, never shown.
pub fn store_error(err: StoreError, on_conflict: OnVersionConflict) -> ApiError {
    match err {
        StoreError::WrongExpectedVersion {
            expected, actual, ..
        } => match (on_conflict, expected) {
            (OnVersionConflict::PreconditionFailed, ExpectedVersion::Exact(expected)) => {
                ApiError::precondition_failed(expected, actual)
            }
            (OnVersionConflict::PreconditionFailed, ExpectedVersion::Any)
            | (OnVersionConflict::PreconditionFailed, ExpectedVersion::NoStream)
            | (OnVersionConflict::Conflict, _) => ApiError::conflict(
                "The resource changed while the request was processed; retry it.",
            ),
        },
        StoreError::IdempotencyConflict { .. } => idempotency_key_reused(),
        err @ (StoreError::Storage(_) | StoreError::Io(_) | StoreError::Closed) => {
            ApiError::unavailable(err)
        }
        err @ (StoreError::Corrupt { .. }
        | StoreError::Upcast { .. }
        | StoreError::InvalidInput(_)
        | StoreError::Locked { .. }
        | StoreError::InsecurePermissions { .. }) => ApiError::internal(err),
    }
}

/// 422 `idempotency_key_reused`.
pub fn idempotency_key_reused() -> ApiError {
    ApiError::new(ProblemCode::IdempotencyKeyReused).with_detail(
        "This Idempotency-Key was already used for a different request; use a new key.",
    )
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => {
            let mut out: String = first.to_uppercase().collect();
            out.push_str(chars.as_str());
            if !out.ends_with('.') {
                out.push('.');
            }
            out
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use capmatch_domain::error::FieldError as DomainFieldError;

    #[test]
    fn domain_errors_map_to_their_statuses() {
        let cases = [
            (
                DomainError::Validation(vec![DomainFieldError::new("title", "too_short", "x")]),
                422,
            ),
            (DomainError::Forbidden("only a state may"), 403),
            (
                DomainError::InvalidTransition {
                    from: "withdrawn",
                    action: "revise",
                },
                409,
            ),
            (DomainError::NotFound, 404),
            (DomainError::AlreadyExists, 409),
        ];
        for (err, status) in cases {
            assert_eq!(domain_error(err).code().status().as_u16(), status);
        }
        let err = domain_error(DomainError::Validation(vec![DomainFieldError::new(
            "themes[0]",
            "unknown_code",
            "unknown theme",
        )]));
        assert_eq!(err.field_errors()[0].field.as_deref(), Some("themes[0]"));
    }

    #[test]
    fn store_errors_map_to_their_statuses() {
        let stale = || StoreError::WrongExpectedVersion {
            stream: "need-x".into(),
            expected: ExpectedVersion::Exact(1),
            actual: 2,
        };
        assert_eq!(
            store_error(stale(), OnVersionConflict::PreconditionFailed).code(),
            ProblemCode::PreconditionFailed
        );
        assert_eq!(
            store_error(stale(), OnVersionConflict::Conflict).code(),
            ProblemCode::Conflict
        );
        assert_eq!(
            store_error(
                StoreError::IdempotencyConflict {
                    event_id: uuid::Uuid::nil()
                },
                OnVersionConflict::Conflict
            )
            .code(),
            ProblemCode::IdempotencyKeyReused
        );
        assert_eq!(
            store_error(StoreError::Closed, OnVersionConflict::Conflict).code(),
            ProblemCode::Unavailable
        );
        assert_eq!(
            store_error(
                StoreError::InvalidInput("x".into()),
                OnVersionConflict::Conflict
            )
            .code(),
            ProblemCode::Internal
        );
    }
}
