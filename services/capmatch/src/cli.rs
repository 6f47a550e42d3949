//! The command line (clap 4).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "capmatch",
    version,
    about = "Matches cyber capacity-building needs with offers"
)]
pub struct Cli {
    /// Configuration file (TOML). Without it, `capmatch.toml` in the working directory is read
    /// when present. `CAPMATCH_*` variables override the file (`CAPMATCH_GATEWAY__BIND=...`).
    #[arg(long, global = true, env = "CAPMATCH_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs all four services in one process on the embedded store (the gateway on port 8080).
    Serve(Serve),
    /// Runs the needs service alone.
    Needs(DataDir),
    /// Runs the offers service alone.
    Offers(DataDir),
    /// Runs the matcher alone.
    Matcher(DataDir),
    /// Runs the gateway alone (the data directory holds the development secret, if any).
    Gateway(DataDir),
    /// Mints a development token with the development secret of a data directory.
    Token(Token),
    /// Posts a demonstration data set through the API, so suggestions appear at once.
    Demo(Demo),
    /// Scores the matcher on a file of real cases through the API (hit@1, hit@3, MRR).
    Eval(Eval),
    /// Prints the merged OpenAPI document (the committed copy is openapi/openapi.json).
    Openapi,
    /// Walks every store's hash chain offline and reports.
    Verify(DataDir),
    /// Exits 0 when GET of the URL answers 200 (for container health checks).
    Probe {
        /// e.g. http://127.0.0.1:8080/readyz
        url: String,
    },
}

#[derive(Debug, Args)]
pub struct DataDir {
    /// Where the stores live (default ./data).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct Serve {
    #[command(flatten)]
    pub data: DataDir,
    /// Address for the gateway (default 127.0.0.1:8080).
    #[arg(long)]
    pub bind: Option<String>,
    /// Run in development mode (generated secret) even on a non-loopback address.
    #[arg(long)]
    pub allow_dev_mode_on_public_address: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    State,
    Provider,
    Coordinator,
    Admin,
    Service,
}

#[derive(Debug, Args)]
pub struct Token {
    #[arg(long, value_enum)]
    pub role: RoleArg,
    /// ISO 3166-1 alpha-2 country (role state).
    #[arg(long)]
    pub country: Option<String>,
    /// Organisation id (role provider).
    #[arg(long)]
    pub org: Option<String>,
    /// Organisation type (role provider): ngo, private_sector, academia, government,
    /// intergovernmental, technical_community.
    #[arg(long)]
    pub org_type: Option<String>,
    /// The token's subject (default: derived from the role and binding).
    #[arg(long)]
    pub sub: Option<String>,
    /// Lifetime: 3600, 90s, 30m, 12h or 7d (default 12h).
    #[arg(long, default_value = "12h")]
    pub ttl: String,
    #[command(flatten)]
    pub data: DataDir,
}

#[derive(Debug, Args)]
pub struct Demo {
    /// The gateway to post through.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    #[command(flatten)]
    pub data: DataDir,
}

#[derive(Debug, Args)]
pub struct Eval {
    /// The case file: offers, and needs labelled with their true offers (the shape of
    /// `real-cases-dev.json`).
    #[arg(long)]
    pub cases: PathBuf,
    /// Post into this gateway (in development mode, with tokens from --data-dir) instead of a
    /// capmatch of its own on a fresh data directory.
    #[arg(long)]
    pub url: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub data: DataDir,
}
