//! Integration tests of the HTTP kit: one binary, a tiny actix app per test.

mod helpers;

mod conditional;
mod extractors;
mod problems;
mod request_context;
