//! `confwatch baseline show USER [--state DIR]`: prints what behaviour analytics learnt
//! about one user (from the state store that `hunt --state` keeps).

use anyhow::{Context, Result};
use confwatch_behaviour::Store;
use confwatch_behaviour::store::default_dir;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct BaselineArgs {
    #[command(subcommand)]
    pub command: BaselineCommand,
}

#[derive(clap::Subcommand)]
pub enum BaselineCommand {
    /// Print one user's baseline: per-day and per-hour quantiles, usual spaces, active
    /// hours and weekdays, networks and user agents.
    Show {
        /// The user name as it appears in the logs.
        user: String,
        /// State folder (default: $XDG_STATE_HOME/confwatch or ~/.local/state/confwatch).
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
        /// Print the stored baseline as JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Exit code when the user has no baseline.
pub const EXIT_NO_BASELINE: u8 = 1;

pub fn run(args: BaselineArgs) -> Result<u8> {
    match args.command {
        BaselineCommand::Show { user, state, json } => {
            let dir = match state {
                Some(d) => d,
                None => default_dir()?,
            };
            if !dir.join(confwatch_behaviour::store::FILE_NAME).exists() {
                eprintln!(
                    "confwatch: no state in {} (run `confwatch hunt --state DIR` first)",
                    crate::common::sanitize(&dir.display().to_string())
                );
                return Ok(EXIT_NO_BASELINE);
            }
            let store = Store::open(&dir).with_context(|| format!("--state {}", dir.display()))?;
            let Some(b) = store.user(&user)? else {
                eprintln!(
                    "confwatch: no baseline for {} in {}",
                    crate::common::sanitize(&user),
                    crate::common::sanitize(&dir.display().to_string())
                );
                return Ok(EXIT_NO_BASELINE);
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&b)?);
            } else {
                // Names and user agents come from logs: escape control characters per line.
                for line in b.describe(&user).lines() {
                    println!("{}", crate::common::sanitize(line));
                }
            }
            Ok(0)
        }
    }
}
