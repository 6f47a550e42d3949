//! The matcher service over real HTTP, beside the real needs and offers services, all in this
//! test process. One test binary; each test spawns its own stack on 127.0.0.1 with fresh data
//! directories. `TEST_LOG=1` prints the services' logs.

mod closing;
mod experience;
mod feed;
mod helpers;
mod openapi;
mod resilience;
mod stats;
mod suggestions;
mod visibility;
mod workflow;
