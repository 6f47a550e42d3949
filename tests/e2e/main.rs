//! End to end: the real `capmatch` binary, started on free ports with temporary data
//! directories, driven over HTTP through the gateway — all-in-one and as four processes.
#![allow(clippy::unwrap_used)]

mod attack;
mod confidentiality;
mod faults;
mod helpers;
mod journey;
mod processes;
mod sweep;
