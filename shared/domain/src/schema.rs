//! Hand-written OpenAPI schemas: the parsed newtypes, which travel as plain strings, and the
//! fields of the wire drafts and patches, which are raw on the Rust side (so every invalid value
//! comes back as one field error in one 422) but must be described exactly in the document:
//! which codes, how many, how long, which dates. What the document says is what the checker in
//! [`crate::validate`] accepts, rule for rule; only rules across fields (start not after end, an
//! end not in the past, topics under chosen themes, conditions when conditions are attached) are
//! left to the field descriptions, because JSON Schema cannot state them.

use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, Ref, Schema, SchemaFormat, SchemaType,
    Type,
};

use crate::codes::{
    BeneficiaryType, CountryCode, DeliveryMode, Funding, Geo, LanguageCode, SupportType,
    TargetGroup, Visibility,
};
use crate::taxonomy::{ThemeCode, TopicCode};
use crate::validate::limits;

/// The characters trimmed from both ends of a text before its length is checked: ASCII
/// whitespace (space, tab, line feed, vertical tab, form feed, carriage return). One set, used
/// by the checker and spelt out in the document's patterns, so both agree on every string.
pub const TRIMMED: [char; 6] = [' ', '\t', '\n', '\u{0B}', '\u{0C}', '\r'];

/// [`TRIMMED`] as a regular-expression class body (ECMA-262 and Python alike).
const TRIMMED_CLASS: &str = r" \t\n\x0B\f\r";

/// A `string` schema with a pattern and an example, for newtypes serialized as strings.
pub(crate) fn string(description: &str, pattern: &str, example: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .pattern(Some(pattern))
        .examples([example])
        .into()
}

/// A `string` schema listing every accepted code.
pub(crate) fn code<'a>(
    description: &str,
    values: impl IntoIterator<Item = &'a str>,
    example: &str,
) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(values))
        .examples([example])
        .into()
}

/// The pattern of a text whose trimmed length is at least `min` (`min` ≥ 2) characters.
fn trimmed_at_least(min: usize) -> String {
    let c = TRIMMED_CLASS;
    format!("^[{c}]*[^{c}][\\s\\S]{{{},}}[^{c}][{c}]*$", min - 2)
}

fn required_text(min: usize, max: usize, nullable: bool) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(types(Type::String, nullable))
        .min_length(Some(min))
        .max_length(Some(max))
        .pattern(Some(trimmed_at_least(min)))
        .into()
}

fn optional_text(max: usize) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(types(Type::String, true))
        .max_length(Some(max))
        .into()
}

fn types(ty: Type, nullable: bool) -> SchemaType {
    if nullable {
        SchemaType::from_iter([ty, Type::Null])
    } else {
        SchemaType::new(ty)
    }
}

/// A set of codes sent as a list: `min` to [`limits::LIST_MAX`] entries, no repeats.
fn list<T: ToSchema>(min: usize, nullable: bool) -> RefOr<Schema> {
    list_up_to::<T>(min, nullable, limits::LIST_MAX)
}

fn list_up_to<T: ToSchema>(min: usize, nullable: bool, max: usize) -> RefOr<Schema> {
    let mut array = ArrayBuilder::new()
        .items(Ref::from_schema_name(T::name()))
        .max_items(Some(max))
        .unique_items(true);
    if min > 0 {
        array = array.min_items(Some(min));
    }
    if nullable {
        array = array.schema_type(types(Type::Array, true));
    }
    array.into()
}

/// One code, or `null`.
fn code_or_null<T: ToSchema>() -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(Ref::from_schema_name(T::name()))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

/// Wire-field schemas for `#[schema(schema_with = ...)]`, each with its description (utoipa
/// takes nothing else from a field that has `schema_with`). `*_or_null` variants are for
/// optional fields, where `null` means absent (a draft) or unchanged (a patch).
pub mod field {
    use super::*;

    fn described(schema: RefOr<Schema>, description: &str) -> RefOr<Schema> {
        match schema {
            RefOr::T(Schema::Object(mut o)) => {
                o.description = Some(description.to_owned());
                RefOr::T(Schema::Object(o))
            }
            RefOr::T(Schema::Array(mut a)) => {
                a.description = Some(description.to_owned());
                RefOr::T(Schema::Array(a))
            }
            RefOr::T(Schema::OneOf(mut o)) => {
                o.description = Some(description.to_owned());
                RefOr::T(Schema::OneOf(o))
            }
            other => other,
        }
    }

    const TITLE: &str = "5 to 200 characters; surrounding whitespace does not count.";
    const DESCRIPTION: &str = "20 to 5000 characters; surrounding whitespace does not count.";
    const THEMES: &str = "Theme codes of the taxonomy; 1 to 20, no repeats.";
    const TOPICS: &str = "Topic codes of the taxonomy, up to 20, no repeats. Each topic's theme \
                          (the part before the dot) must be among `themes`.";
    const SUPPORT_TYPES: &str = "1 to 20 support types, no repeats.";
    const LANGUAGES: &str = "1 to 20 ISO 639-1 codes, no repeats.";
    const COVERAGE: &str = "Country (`FR`) and UN M49 region (`011`; `001` is the world) \
                            codes, at least one, as many as there are, no repeats.";
    const START: &str = "First day, `YYYY-MM-DD`; not after `end`.";
    const END: &str = "Last day, `YYYY-MM-DD`; not before `start`, and not already past \
                       when set.";

    pub fn title() -> RefOr<Schema> {
        let len = limits::TITLE;
        described(required_text(*len.start(), *len.end(), false), TITLE)
    }
    pub fn title_or_null() -> RefOr<Schema> {
        let len = limits::TITLE;
        described(required_text(*len.start(), *len.end(), true), TITLE)
    }
    pub fn description() -> RefOr<Schema> {
        let len = limits::DESCRIPTION;
        described(required_text(*len.start(), *len.end(), false), DESCRIPTION)
    }
    pub fn description_or_null() -> RefOr<Schema> {
        let len = limits::DESCRIPTION;
        described(required_text(*len.start(), *len.end(), true), DESCRIPTION)
    }
    pub fn budget_note_or_null() -> RefOr<Schema> {
        described(
            optional_text(limits::BUDGET_NOTE_MAX),
            "Up to 500 characters; blank means none.",
        )
    }
    pub fn conditions_or_null() -> RefOr<Schema> {
        described(
            optional_text(limits::CONDITIONS_MAX),
            "Up to 1000 characters; required, not blank, exactly when `conditions_attached` \
             is true.",
        )
    }
    fn date_or_null(description: &str) -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(types(Type::String, true))
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .description(Some(description))
            .examples(["2030-12-31"])
            .into()
    }
    pub fn start_or_null() -> RefOr<Schema> {
        date_or_null(START)
    }
    pub fn end_or_null() -> RefOr<Schema> {
        date_or_null(END)
    }

    pub fn themes() -> RefOr<Schema> {
        described(list::<ThemeCode>(1, false), THEMES)
    }
    pub fn themes_or_null() -> RefOr<Schema> {
        described(list::<ThemeCode>(1, true), THEMES)
    }
    pub fn topics_or_null() -> RefOr<Schema> {
        described(list::<TopicCode>(0, true), TOPICS)
    }
    pub fn support_types() -> RefOr<Schema> {
        described(list::<SupportType>(1, false), SUPPORT_TYPES)
    }
    pub fn support_types_or_null() -> RefOr<Schema> {
        described(list::<SupportType>(1, true), SUPPORT_TYPES)
    }
    pub fn languages() -> RefOr<Schema> {
        described(list::<LanguageCode>(1, false), LANGUAGES)
    }
    pub fn languages_or_null() -> RefOr<Schema> {
        described(list::<LanguageCode>(1, true), LANGUAGES)
    }
    pub fn coverage() -> RefOr<Schema> {
        described(list_up_to::<Geo>(1, false, limits::COVERAGE_MAX), COVERAGE)
    }
    pub fn coverage_or_null() -> RefOr<Schema> {
        described(list_up_to::<Geo>(1, true, limits::COVERAGE_MAX), COVERAGE)
    }
    pub fn beneficiary_types_or_null() -> RefOr<Schema> {
        described(
            list::<BeneficiaryType>(1, true),
            "1 to 20 beneficiary types, no repeats.",
        )
    }
    pub fn delivery_modes_or_null() -> RefOr<Schema> {
        described(
            list::<DeliveryMode>(1, true),
            "1 or 2 delivery modes, no repeats.",
        )
    }
    pub fn target_groups_or_null() -> RefOr<Schema> {
        described(list::<TargetGroup>(0, true), "Target groups, no repeats.")
    }

    pub fn country_or_null() -> RefOr<Schema> {
        described(
            code_or_null::<CountryCode>(),
            "The need's country. A state's comes from its token (naming another is 403); a \
             coordinator posting on a state's behalf must give it.",
        )
    }
    pub fn beneficiary_type_or_null() -> RefOr<Schema> {
        code_or_null::<BeneficiaryType>()
    }
    pub fn visibility_or_null() -> RefOr<Schema> {
        code_or_null::<Visibility>()
    }
    pub fn funding() -> RefOr<Schema> {
        Ref::from_schema_name(Funding::name()).into()
    }
    pub fn funding_or_null() -> RefOr<Schema> {
        code_or_null::<Funding>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trimmed_length_pattern_counts_what_the_checker_counts() {
        assert_eq!(
            trimmed_at_least(5),
            r"^[ \t\n\x0B\f\r]*[^ \t\n\x0B\f\r][\s\S]{3,}[^ \t\n\x0B\f\r][ \t\n\x0B\f\r]*$"
        );
        assert_eq!(TRIMMED_CLASS.len(), 13);
        assert_eq!(TRIMMED.len(), 6);
    }
}
