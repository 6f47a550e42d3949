//! End-to-end tests of capmatch live in `e2e/`; this library is empty on purpose.
