//! `capmatch`: parse the command line, hand over to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    capmatch::run(capmatch::cli::Cli::parse())
}
