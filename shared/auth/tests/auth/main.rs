//! Integration tests of capmatch-auth: one binary.

mod helpers;

mod accepted;
mod config;
mod dev_secret;
mod extractors;
mod keys;
mod refused;
mod remembered;
mod verdict;
