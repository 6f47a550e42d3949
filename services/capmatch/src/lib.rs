//! The `capmatch` command. `main.rs` parses and hands over to [`run`].
//!
//! - [`cli`]: the subcommands.
//! - [`config`]: layered configuration (defaults < `capmatch.toml` < `CAPMATCH_*` < flags).
//! - [`serve`]: all four services in one process, or one alone; development mode.
//! - [`openapi`]: the merged API document.
//! - [`demo`]: the demonstration data set, posted through the API.
//! - [`eval`]: scoring the matcher on a file of real cases through the API.
//! - [`token`], [`verify`], [`probe`]: the small commands.

pub mod cli;
pub mod config;
pub mod demo;
pub mod eval;
pub mod openapi;
pub mod probe;
pub mod serve;
pub mod token;
pub mod verify;

use std::process::ExitCode;

use cli::{Cli, Command};
use config::Config;

/// Runs a parsed command line to its exit code.
///
/// Every file and directory the process creates is its owner's only (umask 077): the stores
/// hold confidential needs, the data directory the development secret.
pub fn run(cli: Cli) -> ExitCode {
    rustix::process::umask(rustix::fs::Mode::from_bits_truncate(0o077));
    let mut config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("capmatch: configuration: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::Token(args) => {
            apply_data_dir(&mut config, args.data.data_dir.clone());
            match token::mint(&config, &args) {
                Ok(token) => {
                    println!("{token}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        Command::Verify(args) => {
            apply_data_dir(&mut config, args.data_dir);
            match verify::run(&config.data_dir) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(1),
                Err(e) => fail(&e),
            }
        }
        Command::Probe { url } => match probe::run(&url) {
            Ok(200) => ExitCode::SUCCESS,
            Ok(status) => {
                eprintln!("capmatch: {url} answered {status}");
                ExitCode::from(1)
            }
            Err(e) => fail(&e),
        },
        Command::Openapi => match openapi::document_json() {
            Ok(json) => {
                print!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e.to_string()),
        },
        Command::Serve(args) => {
            apply_data_dir(&mut config, args.data.data_dir);
            if let Some(bind) = args.bind {
                config.gateway.bind = bind;
            }
            let allow = args.allow_dev_mode_on_public_address;
            server(&config, |c| Box::pin(serve::all_in_one(c, allow)))
        }
        Command::Needs(args) => one(config, args.data_dir, serve::One::Needs),
        Command::Offers(args) => one(config, args.data_dir, serve::One::Offers),
        Command::Matcher(args) => one(config, args.data_dir, serve::One::Matcher),
        Command::Gateway(args) => one(config, args.data_dir, serve::One::Gateway),
        Command::Eval(args) => {
            apply_data_dir(&mut config, args.data.data_dir);
            let outcome = actix_web::rt::System::new().block_on(eval::run(
                &config,
                &args.cases,
                args.url.as_deref(),
                args.json,
            ));
            match outcome {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
        Command::Demo(args) => {
            apply_data_dir(&mut config, args.data.data_dir);
            let url = args.url;
            let outcome = actix_web::rt::System::new().block_on(demo::run(&config, &url));
            match outcome {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
    }
}

type Running<'a> = std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + 'a>>;

fn one(mut config: Config, data_dir: Option<std::path::PathBuf>, which: serve::One) -> ExitCode {
    apply_data_dir(&mut config, data_dir);
    server(&config, |c| Box::pin(serve::one(c, which)))
}

/// Runs a server command in an actix system, with telemetry as configured.
fn server(config: &Config, run: impl for<'a> FnOnce(&'a Config) -> Running<'a>) -> ExitCode {
    let format = match config.log.format {
        config::LogFormat::Human => capmatch_service::telemetry::Format::Human,
        config::LogFormat::Json => capmatch_service::telemetry::Format::Json,
    };
    let (writer, written) = capmatch_service::telemetry::stderr_in_background();
    capmatch_service::telemetry::init_with_format(&config.log.filter, format, writer);
    let outcome = actix_web::rt::System::new().block_on(run(config));
    if let Err(e) = &outcome {
        tracing::error!(error = %e, "capmatch stopped");
    }
    // Every line logged is on stderr before anything else is printed or the process exits.
    drop(written);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn apply_data_dir(config: &mut Config, flag: Option<std::path::PathBuf>) {
    if let Some(dir) = flag {
        config.data_dir = dir;
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("capmatch: {message}");
    ExitCode::from(2)
}
