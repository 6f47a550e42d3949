//! Hand-written OpenAPI schemas for the parsed newtypes, which travel as plain strings.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// A `string` schema with a pattern and an example, for newtypes serialized as strings.
pub(crate) fn string(description: &str, pattern: &str, example: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .pattern(Some(pattern))
        .examples([example])
        .into()
}
