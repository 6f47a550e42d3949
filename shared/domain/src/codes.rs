//! Codes that travel on the wire, each a type that can only be built by parsing.
//!
//! Countries, M49 regions and languages come from generated data files under `data/`
//! (see `data/generate.py` for their sources), embedded at compile time and parsed once.
//! The small closed vocabularies (support, provider and beneficiary types, target groups,
//! delivery modes, funding, visibility) are plain enums.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{PartialSchema, ToSchema};

/// Which family of codes a value failed to parse as; carried by [`CodeError`] so an API error
/// can say "unknown country code" rather than "bad value".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeKind {
    Country,
    Region,
    Geo,
    Language,
    Theme,
    Topic,
    SupportType,
    ProviderType,
    BeneficiaryType,
    TargetGroup,
    DeliveryMode,
    Funding,
    Visibility,
    OrgId,
}

impl CodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Country => "country",
            Self::Region => "region",
            Self::Geo => "country or region",
            Self::Language => "language",
            Self::Theme => "theme",
            Self::Topic => "topic",
            Self::SupportType => "support type",
            Self::ProviderType => "provider type",
            Self::BeneficiaryType => "beneficiary type",
            Self::TargetGroup => "target group",
            Self::DeliveryMode => "delivery mode",
            Self::Funding => "funding",
            Self::Visibility => "visibility",
            Self::OrgId => "organisation id",
        }
    }
}

impl fmt::Display for CodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value that is not a valid code of its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} code {value:?}")]
pub struct CodeError {
    pub kind: CodeKind,
    /// The offending input, cut to 64 characters so an error never echoes a whole request body.
    pub value: String,
}

impl CodeError {
    pub fn new(kind: CodeKind, value: &str) -> Self {
        let value = match value.char_indices().nth(64) {
            Some((cut, _)) => format!("{}…", &value[..cut]),
            None => value.to_owned(),
        };
        Self { kind, value }
    }
}

/// Serialize as the code string, deserialize through `FromStr` so invalid codes are rejected
/// even when read back from storage or a peer service.
macro_rules! string_serde {
    ($ty:ty) => {
        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                raw.parse().map_err(::serde::de::Error::custom)
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_serde;

// ---------------------------------------------------------------------------------------------
// Geography: countries and UN M49 regions.

/// Generated from pycountry (ISO 3166-1) and UN M49 membership; see `data/generate.py`.
const COUNTRIES_TSV: &str = include_str!("../data/countries.tsv");
/// UN M49 region names and parents; see `data/generate.py`.
const REGIONS_TSV: &str = include_str!("../data/regions.tsv");
/// Generated from pycountry (ISO 639-1); see `data/generate.py`.
const LANGUAGES_TSV: &str = include_str!("../data/languages.tsv");

struct CountryRow {
    name: &'static str,
    /// Regions containing the country, most specific first, always ending with `001`.
    regions: Vec<&'static str>,
}

struct RegionRow {
    name: &'static str,
    parent: Option<&'static str>,
}

struct Geography {
    countries: BTreeMap<&'static str, CountryRow>,
    regions: BTreeMap<&'static str, RegionRow>,
    languages: BTreeMap<&'static str, &'static str>,
}

/// Rows of a generated TSV file: `#` lines are provenance comments.
fn rows(tsv: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    tsv.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| line.split('\t').collect())
}

fn column(row: &[&'static str], index: usize) -> &'static str {
    row.get(index).copied().unwrap_or_default()
}

impl Geography {
    fn parse() -> Self {
        let regions: BTreeMap<_, _> = rows(REGIONS_TSV)
            .map(|row| {
                let parent = Some(column(&row, 2)).filter(|p| !p.is_empty());
                (
                    column(&row, 0),
                    RegionRow {
                        name: column(&row, 1),
                        parent,
                    },
                )
            })
            .collect();
        let countries = rows(COUNTRIES_TSV)
            .map(|row| {
                // Most specific first: intermediate region, sub-region, region, then the world.
                let mut chain: Vec<&'static str> = [4, 3, 2]
                    .iter()
                    .map(|&i| column(&row, i))
                    .filter(|c| !c.is_empty())
                    .collect();
                chain.push(RegionCode::WORLD.0);
                (
                    column(&row, 0),
                    CountryRow {
                        name: column(&row, 1),
                        regions: chain,
                    },
                )
            })
            .collect();
        let languages = rows(LANGUAGES_TSV)
            .map(|row| (column(&row, 0), column(&row, 1)))
            .collect();
        Self {
            countries,
            regions,
            languages,
        }
    }
}

/// Parsed once, on first use. The files are embedded at compile time and checked by tests,
/// so parsing cannot fail at run time.
static GEOGRAPHY: LazyLock<Geography> = LazyLock::new(Geography::parse);

/// An ISO 3166-1 alpha-2 country (all 249 assigned codes) or `XK` (Kosovo, as IATI uses it).
///
/// Holds the code as a `&'static str` into the embedded table, so it is `Copy` and cheap to
/// compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode(&'static str);

impl CountryCode {
    pub fn as_str(&self) -> &'static str {
        self.0
    }

    /// The ISO 3166-1 short name (English), e.g. "Gambia".
    pub fn name(&self) -> &'static str {
        GEOGRAPHY
            .countries
            .get(self.0)
            .map(|c| c.name)
            .unwrap_or_default()
    }

    /// The M49 regions containing this country, most specific first, ending with `001` (world).
    /// Antarctica (`AQ`) belongs to no M49 region but the world.
    pub fn regions(&self) -> impl Iterator<Item = RegionCode> + 'static {
        GEOGRAPHY
            .countries
            .get(self.0)
            .map(|c| c.regions.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|&code| RegionCode(code))
    }

    /// Every known country, in code order: for vocabulary endpoints and exhaustive tests.
    pub fn all() -> impl Iterator<Item = CountryCode> {
        GEOGRAPHY.countries.keys().map(|&code| CountryCode(code))
    }
}

impl FromStr for CountryCode {
    type Err = CodeError;

    /// Accepts exactly two ASCII letters in any case and normalises to upper case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || CodeError::new(CodeKind::Country, s);
        if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(err());
        }
        let upper = s.to_ascii_uppercase();
        GEOGRAPHY
            .countries
            .get_key_value(upper.as_str())
            .map(|(&code, _)| CountryCode(code))
            .ok_or_else(err)
    }
}

string_serde!(CountryCode);

impl PartialSchema for CountryCode {
    fn schema() -> RefOr<Schema> {
        crate::schema::code(
            "ISO 3166-1 alpha-2 country code, or XK (Kosovo).",
            CountryCode::all().map(|c| c.as_str()),
            "GM",
        )
    }
}
impl ToSchema for CountryCode {}

/// A UN M49 geographic region: the world (`001`), a region (`002` Africa), a sub-region
/// (`202` Sub-Saharan Africa) or an intermediate region (`011` Western Africa).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode(&'static str);

impl RegionCode {
    /// `001`: covering the world covers every country.
    pub const WORLD: RegionCode = RegionCode("001");

    pub fn as_str(&self) -> &'static str {
        self.0
    }

    /// The M49 name, e.g. "Western Africa".
    pub fn name(&self) -> &'static str {
        GEOGRAPHY
            .regions
            .get(self.0)
            .map(|r| r.name)
            .unwrap_or_default()
    }

    /// The enclosing region, `None` for the world.
    pub fn parent(&self) -> Option<RegionCode> {
        GEOGRAPHY
            .regions
            .get(self.0)
            .and_then(|r| r.parent)
            .map(RegionCode)
    }

    /// Whether the country lies in this region; the world contains every country.
    pub fn contains(&self, country: &CountryCode) -> bool {
        country.regions().any(|r| r == *self)
    }

    /// The countries in this region, in code order.
    pub fn countries(&self) -> impl Iterator<Item = CountryCode> + 'static {
        let region = *self;
        CountryCode::all().filter(move |c| region.contains(c))
    }

    /// Every known region, in code order.
    pub fn all() -> impl Iterator<Item = RegionCode> {
        GEOGRAPHY.regions.keys().map(|&code| RegionCode(code))
    }
}

impl FromStr for RegionCode {
    type Err = CodeError;

    /// Accepts exactly three ASCII digits naming a known M49 region.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || CodeError::new(CodeKind::Region, s);
        if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        GEOGRAPHY
            .regions
            .get_key_value(s)
            .map(|(&code, _)| RegionCode(code))
            .ok_or_else(err)
    }
}

string_serde!(RegionCode);

impl PartialSchema for RegionCode {
    fn schema() -> RefOr<Schema> {
        crate::schema::code(
            "UN M49 region code; 001 is the world.",
            RegionCode::all().map(|r| r.as_str()),
            "011",
        )
    }
}
impl ToSchema for RegionCode {}

/// An area an offer covers: one country or one M49 region. On the wire it is the code itself,
/// told apart by shape (`FR` vs `011`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Geo {
    Country(CountryCode),
    Region(RegionCode),
}

impl Geo {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Country(c) => c.as_str(),
            Self::Region(r) => r.as_str(),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Country(c) => c.name(),
            Self::Region(r) => r.name(),
        }
    }

    /// Whether this area includes the country.
    pub fn covers(&self, country: &CountryCode) -> bool {
        match self {
            Self::Country(c) => c == country,
            Self::Region(r) => r.contains(country),
        }
    }
}

impl FromStr for Geo {
    type Err = CodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || CodeError::new(CodeKind::Geo, s);
        if s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().map(Geo::Region).map_err(|_| err())
        } else {
            s.parse().map(Geo::Country).map_err(|_| err())
        }
    }
}

impl From<CountryCode> for Geo {
    fn from(c: CountryCode) -> Self {
        Self::Country(c)
    }
}

impl From<RegionCode> for Geo {
    fn from(r: RegionCode) -> Self {
        Self::Region(r)
    }
}

string_serde!(Geo);

impl PartialSchema for Geo {
    fn schema() -> RefOr<Schema> {
        crate::schema::code(
            "An ISO 3166-1 alpha-2 country code (or XK) or a UN M49 region code (001 is the world).",
            CountryCode::all()
                .map(|c| c.as_str())
                .chain(RegionCode::all().map(|r| r.as_str())),
            "011",
        )
    }
}
impl ToSchema for Geo {}

/// An ISO 639-1 language (the 183 current two-letter codes), normalised to lower case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LanguageCode(&'static str);

impl LanguageCode {
    pub fn as_str(&self) -> &'static str {
        self.0
    }

    /// The English name, e.g. "French".
    pub fn name(&self) -> &'static str {
        GEOGRAPHY.languages.get(self.0).copied().unwrap_or_default()
    }

    pub fn all() -> impl Iterator<Item = LanguageCode> {
        GEOGRAPHY.languages.keys().map(|&code| LanguageCode(code))
    }
}

impl FromStr for LanguageCode {
    type Err = CodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || CodeError::new(CodeKind::Language, s);
        if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(err());
        }
        let lower = s.to_ascii_lowercase();
        GEOGRAPHY
            .languages
            .get_key_value(lower.as_str())
            .map(|(&code, _)| LanguageCode(code))
            .ok_or_else(err)
    }
}

string_serde!(LanguageCode);

impl PartialSchema for LanguageCode {
    fn schema() -> RefOr<Schema> {
        crate::schema::code(
            "ISO 639-1 language code.",
            LanguageCode::all().map(|l| l.as_str()),
            "fr",
        )
    }
}
impl ToSchema for LanguageCode {}

// ---------------------------------------------------------------------------------------------
// Closed vocabularies.

/// Declares a closed vocabulary: the enum, its wire strings, `ALL`, `as_str`, `FromStr` and
/// `Display`.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        pub enum $name:ident as $kind:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
        )]
        // The wire names are the variants in snake_case; utoipa cannot read per-variant renames
        // through a macro literal, and tests check `as_str`, serde and the schema agree.
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(&self) -> &'static str {
                match self {
                    $( Self::$variant => $wire, )+
                }
            }
        }

        impl FromStr for $name {
            type Err = CodeError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $wire => Ok(Self::$variant), )+
                    _ => Err(CodeError::new(CodeKind::$kind, s)),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// What kind of help is offered or needed.
    pub enum SupportType as SupportType {
        Training = "training",
        TechnicalAssistance = "technical_assistance",
        PolicyAdvice = "policy_advice",
        Assessment = "assessment",
        Equipment = "equipment",
        MentoringExchange = "mentoring_exchange",
        Funding = "funding",
    }
}

vocabulary! {
    /// What kind of organisation a provider is; bound by the `org_type` claim.
    pub enum ProviderType as ProviderType {
        Ngo = "ngo",
        PrivateSector = "private_sector",
        Academia = "academia",
        Government = "government",
        Intergovernmental = "intergovernmental",
        TechnicalCommunity = "technical_community",
    }
}

vocabulary! {
    /// Who in the requesting state receives the help.
    pub enum BeneficiaryType as BeneficiaryType {
        Government = "government",
        Ngo = "ngo",
        PrivateSector = "private_sector",
        Academia = "academia",
    }
}

vocabulary! {
    /// Groups whose inclusion the OEWG principles ask for; the matcher rewards alignment.
    pub enum TargetGroup as TargetGroup {
        Women = "women",
        Youth = "youth",
        PersonsWithDisabilities = "persons_with_disabilities",
        IndigenousCommunities = "indigenous_communities",
        RuralCommunities = "rural_communities",
        OlderPersons = "older_persons",
        Smes = "smes",
    }
}

vocabulary! {
    /// How the help is delivered.
    pub enum DeliveryMode as DeliveryMode {
        Remote = "remote",
        InPerson = "in_person",
    }
}

vocabulary! {
    /// Who pays for an offer's delivery.
    pub enum Funding as Funding {
        /// The provider pays.
        SelfFunded = "self_funded",
        /// The provider can bring or broker funds.
        FundingAvailable = "funding_available",
        /// Someone else must fund the delivery.
        FundingRequired = "funding_required",
    }
}

vocabulary! {
    /// Who may see a need. `public`: anyone, even without a token. `registered`: any
    /// authenticated caller. `restricted`: the owning state and coordinators, and a provider
    /// only while one of its partnerships on the need is `introduced` or `agreed`; a decline,
    /// a dismissal, a closing or a completion ends that, and from then on the need (with every
    /// later revision) is, for that provider, as if it never existed: 404 everywhere, absent
    /// from every list and count. A completed partnership keeps its own record (the match, its
    /// decisions and outcome) for both parties, without the need's text. No figure anyone
    /// else can see (capacity, rank, score, total, statistic, cursor, precondition) moves
    /// because a restricted need exists, changes or is decided.
    pub enum Visibility as Visibility {
        /// Anyone, even without a token.
        Public = "public",
        /// Any authenticated caller.
        Registered = "registered",
        /// The owning state, coordinators, and the providers it is shared with now.
        Restricted = "restricted",
    }
}
