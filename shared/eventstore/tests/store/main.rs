//! Integration tests of the event store, in one binary so it links once.
#![allow(clippy::unwrap_used)]

mod append;
mod crash;
mod helpers;
mod idempotency;
mod properties;
mod reads;
mod subscription;
