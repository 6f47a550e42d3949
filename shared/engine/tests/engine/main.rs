//! The matcher engine's tests, in one binary so linking happens once. Each test name states
//! the fact it checks.
#![allow(clippy::unwrap_used)]

mod helpers;

mod components;
mod concepts;
mod experience;
mod incremental;
mod plan;
mod quality;
mod reasons;
mod restricted;
mod rules;
