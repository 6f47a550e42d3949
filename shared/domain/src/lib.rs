//! The capmatch domain: everything the services agree on, with no I/O and no web types.
//!
//! - [`codes`]: parsed codes — countries, M49 regions and [`codes::Geo`] areas, languages, and
//!   the closed vocabularies (support, provider and beneficiary types, target groups, delivery
//!   modes, funding, visibility). Code lists are generated data under `data/`.
//! - [`taxonomy`]: themes and topics, loaded from `data/taxonomy.json`.
//! - [`actor`]: who is calling, as bound by the JWT claims.
//! - [`need`] and [`offer`]: wire types (drafts and patches), commands, events, and the pure
//!   aggregates `decide` / `evolve`.
//! - [`partnership`]: matches between a need and an offer, and their review workflow.
//! - [`event`]: the [`event::DomainEvent`] trait: stable type names, schema versions, payloads.
//! - [`visibility`]: who may see a need.
//! - [`error`]: [`error::DomainError`] and the per-field errors of a 422.
//! - [`window`]: date windows.
//!
//! Values in this crate can only be built by parsing, so a service that holds one knows it is
//! valid; wire types convert into them at the edge, in `decide`.

pub mod actor;
pub mod codes;
pub mod error;
pub mod event;
pub mod ids;
pub mod need;
pub mod offer;
pub mod partnership;
pub mod schema;
pub mod taxonomy;
mod validate;
pub mod visibility;
pub mod window;

pub use validate::limits;
