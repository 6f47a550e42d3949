//! The gateway over real HTTP. Its upstreams here are small echo servers on port 0 standing in for
//! the services (the real services are driven end to end in the workspace `tests/` crate).
#![allow(clippy::unwrap_used)]

mod helpers;
mod resilience;
mod routing;
