//! Why a command was refused. No web types here: each service maps [`DomainError`] to HTTP in
//! one exhaustive match (422, 403, 409, 404, 409).

use serde::Serialize;
use utoipa::ToSchema;

/// A command the domain refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// One or more fields are invalid; every problem is listed, not just the first.
    #[error("{} invalid field(s): {}", .0.len(), summary(.0))]
    Validation(Vec<FieldError>),
    /// The actor's role or claims do not allow this command. The text is fixed per rule and
    /// safe to show; it never contains the need or offer's content.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// The entity's status does not allow the action (e.g. revising a withdrawn need).
    #[error("cannot {action} when {from}")]
    InvalidTransition {
        from: &'static str,
        action: &'static str,
    },
    /// The command targets an entity that does not exist.
    #[error("not found")]
    NotFound,
    /// A post for an id that already has a history.
    #[error("already exists")]
    AlreadyExists,
}

impl DomainError {
    /// A stable machine-readable code for the error's kind, for problem documents.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::Forbidden(_) => "forbidden",
            Self::InvalidTransition { .. } => "invalid_transition",
            Self::NotFound => "not_found",
            Self::AlreadyExists => "already_exists",
        }
    }

    /// The field errors of a validation failure, empty for any other error.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            Self::Validation(errors) => errors,
            _ => &[],
        }
    }
}

fn summary(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{} ({})", e.field, e.code))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One invalid field, in the shape a 422 problem document lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The wire path of the field, with an index for list entries: `themes[1]`. `body` when the
    /// problem is the request as a whole (an empty patch).
    #[schema(example = "themes[1]")]
    pub field: String,
    /// A stable, machine-readable code: `required`, `too_short`, `too_long`, `empty`,
    /// `too_many`, `duplicate`, `unknown_code`, `out_of_range`, `invalid_date`,
    /// `start_after_end`, `end_in_past`, `theme_not_selected`, `conditions_required`,
    /// `conditions_not_allowed`, `country_mismatch`, `empty_patch`.
    #[schema(example = "unknown_code")]
    pub code: &'static str,
    /// A human-readable explanation.
    #[schema(example = "unknown theme code \"cyber\"")]
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}
