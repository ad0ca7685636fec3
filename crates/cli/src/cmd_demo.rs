//! `confwatch demo`: simulates a small organisation in a temporary folder (with the
//! simulator's labelled attacks), hunts it and prints the alerts and riskiest users, so a new
//! user sees what confwatch does in seconds. It runs the same commands a user would type.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Keep the simulated organisation in this folder instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,

    /// People in the simulated organisation.
    #[arg(long, default_value_t = 60)]
    pub users: u32,

    /// Days simulated.
    #[arg(long, default_value_t = 7)]
    pub days: u32,

    /// Random seed of the simulation.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

pub fn run(args: DemoArgs) -> Result<u8> {
    let tmp;
    let dir: &Path = match &args.keep {
        Some(d) => d,
        None => {
            tmp = tempfile::tempdir().context("creating a temporary folder")?;
            tmp.path()
        }
    };
    let out = dir.display().to_string();
    let logs = dir.join("logs").display().to_string();
    let privileged = dir.join("privileged.txt").display().to_string();
    let peers = dir.join("users.csv").display().to_string();
    let (users, days, seed) = (
        args.users.to_string(),
        args.days.to_string(),
        args.seed.to_string(),
    );

    println!("== confwatch simulate --users {users} --days {days} --seed {seed} --out {out}\n");
    let mut sim = vec![
        "confwatch",
        "simulate",
        "--users",
        &users,
        "--days",
        &days,
        "--seed",
        &seed,
        "--out",
        &out,
    ];
    if args.keep.is_some() {
        sim.push("--force");
    }
    crate::run_argv(sim)?;
    println!("\n== confwatch events --stats {logs}\n");
    crate::run_argv(["confwatch", "events", "--stats", "--no-progress", &logs])?;
    println!("\n== confwatch hunt --privileged-accounts {privileged} --peers {peers} {logs}\n");
    let code = crate::run_argv([
        "confwatch",
        "hunt",
        "--no-progress",
        "--privileged-accounts",
        &privileged,
        "--peers",
        &peers,
        &logs,
    ])?;
    println!(
        "\nThe simulation's answer key is {}/labels.jsonl; score the hunt with\n  confwatch hunt --format jsonl -o alerts.jsonl --privileged-accounts {privileged} --peers {peers} {logs}\n  confwatch eval --labels {}/labels.jsonl alerts.jsonl",
        out, out
    );
    // Alerts are the point of the demo, not a failure.
    Ok(if code == crate::cmd_hunt::EXIT_ALERTS {
        0
    } else {
        code
    })
}
