//! Given/when/then tests for the capmatch domain, one binary so linking happens once.
//! Each test name states the rule it checks.
#![allow(clippy::unwrap_used)]

mod codes;
mod events;
mod helpers;
mod need;
mod offer;
mod openapi;
mod partnership;
mod properties;
mod taxonomy;
mod visibility;
mod window;
