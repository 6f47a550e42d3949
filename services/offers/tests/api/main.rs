//! The offers service over real HTTP. One test binary; each test spawns its own service on
//! 127.0.0.1:0 with a fresh data directory. `TEST_LOG=1` prints the service's logs.

mod concurrency;
mod errors;
mod feed;
mod helpers;
mod idempotency;
mod offers;
mod openapi;
mod restart;
