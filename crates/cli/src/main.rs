//! The `confwatch` binary: parses flags (clap) and wires library crates together.
//! No detection or parsing logic lives here; each `cmd_*` module builds a pipeline from
//! library parts, shows progress and maps errors to exit codes (see `docs/exit-codes.md`).

mod alloc;
mod cmd_baseline;
mod cmd_demo;
mod cmd_eval;
mod cmd_events;
mod cmd_hunt;
mod cmd_rules;
mod cmd_scan;
mod cmd_simulate;
mod common;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "confwatch",
    version,
    about = "Defends Atlassian Confluence against data mining (ATT&CK T1213.001)",
    long_about = None,
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the normalised events read from Confluence logs, or statistics about them.
    Events(cmd_events::EventsArgs),
    /// Hunt Confluence logs for data mining with the Sigma rule pack.
    Hunt(cmd_hunt::HuntArgs),
    /// List, validate, test or export the detection rules.
    Rules(cmd_rules::RulesArgs),
    /// Scan Confluence content (exports, REST, files) for secrets and sensitive material.
    Scan(cmd_scan::ScanArgs),
    /// Write a simulated organisation's Confluence logs with labelled attack scenarios.
    Simulate(cmd_simulate::SimulateArgs),
    /// Show what behaviour analytics learnt about a user (from `hunt --state`).
    Baseline(cmd_baseline::BaselineArgs),
    /// Score hunt alerts against simulation labels (recall, false positives, precision).
    Eval(cmd_eval::EvalArgs),
    /// Simulate a small organisation, hunt it, and show the alerts and riskiest users.
    Demo(cmd_demo::DemoArgs),
}

/// Exit code for usage errors and fatal failures (documented in docs/exit-codes.md).
pub const EXIT_FATAL: u8 = 2;

fn main() -> ExitCode {
    alloc::tune();
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("confwatch: error: {e:#}");
            ExitCode::from(EXIT_FATAL)
        }
    }
}

fn run(command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Events(a) => cmd_events::run(a),
        Command::Hunt(a) => cmd_hunt::run(a),
        Command::Rules(a) => cmd_rules::run(a),
        Command::Scan(a) => cmd_scan::run(a),
        Command::Simulate(a) => cmd_simulate::run(a),
        Command::Eval(a) => cmd_eval::run(a),
        Command::Baseline(a) => cmd_baseline::run(a),
        Command::Demo(a) => cmd_demo::run(a),
    }
}

/// Runs a command line as if typed (used by `demo` to show the real commands).
pub fn run_argv<I, T>(argv: I) -> anyhow::Result<u8>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::try_parse_from(argv)?;
    run(cli.command)
}
