//! `confwatch simulate`: writes the logs of a simulated organisation (access logs per node
//! and day, the audit log file) and, beside them, the labels of the attack scenarios and
//! hard benign cases, for `confwatch eval` and for demonstrations. The model lives in
//! `confwatch-sim`; this module only maps flags to a `SimConfig` and prints a summary.

use anyhow::{Context, Result};
use confwatch_sim::{BenignCase, Scenario, SimConfig, parse_formats, parse_list, simulate};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct SimulateArgs {
    /// Number of people in the organisation.
    #[arg(long, default_value_t = 200)]
    pub users: u32,

    /// Number of days to simulate.
    #[arg(long, default_value_t = 14)]
    pub days: u32,

    /// Random seed: the same seed and settings give the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Output folder: logs go to DIR/logs/, labels to DIR/labels.jsonl.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Attack scenarios: `all`, `none` or a comma list (credential_hunt, privileged_browsing,
    /// rest_scrape, insider_low_slow, mass_export, brute_force_then_browse, password_spray,
    /// attachment_mass_download, page_id_enumeration, dormant_account).
    #[arg(long, default_value = "all")]
    pub scenarios: String,

    /// Hard benign cases: `all`, `none` or a comma list (search_crawler, nightly_export,
    /// newcomer, heavy_reader, helpdesk_password_reset, team_surge, travel_new_ip,
    /// automation_script, vpn_help_search).
    #[arg(long, default_value = "all")]
    pub benign: String,

    /// Log formats: `all` (installer, xff, docker, dc-audit) or a comma list of installer,
    /// xff, docker, dc-audit, security-log. With several access-log patterns the nodes take
    /// them in turn. The security log is written in server-local time without a zone: read
    /// it with `--log-offset` equal to `--server-offset`.
    #[arg(long, default_value = "installer,dc-audit")]
    pub format: String,

    /// First day (server-local date, YYYY-MM-DD).
    #[arg(long, default_value = "2026-03-02")]
    pub start: String,

    /// Cluster nodes (one access log per node per day).
    #[arg(long, default_value_t = 2)]
    pub nodes: u8,

    /// Instances of each attack scenario.
    #[arg(long, default_value_t = 1)]
    pub instances: u32,

    /// The server's UTC offset, e.g. +01:00 (access logs are written in server-local time).
    #[arg(long, default_value = "+01:00", allow_hyphen_values = true)]
    pub server_offset: String,

    /// Replace DIR/logs if it holds an earlier run (otherwise that is an error).
    #[arg(long)]
    pub force: bool,
}

fn parse_offset(s: &str) -> Result<i32> {
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1, s.get(1..).unwrap_or("")),
        Some(b'-') => (-1, s.get(1..).unwrap_or("")),
        _ => anyhow::bail!("--server-offset must look like +01:00 or -05:00"),
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let h: i32 = h.parse().context("--server-offset hours")?;
    let m: i32 = m.parse().context("--server-offset minutes")?;
    Ok(sign * (h * 60 + m))
}

pub fn run(args: SimulateArgs) -> Result<u8> {
    let formats = parse_formats(&args.format)?;
    let scenarios = parse_list(&args.scenarios, &Scenario::ALL, Scenario::id)
        .map_err(|e| anyhow::anyhow!("--scenarios: {e}"))?;
    let benign = parse_list(&args.benign, &BenignCase::ALL, BenignCase::id)
        .map_err(|e| anyhow::anyhow!("--benign: {e}"))?;
    let start = chrono::NaiveDate::parse_from_str(&args.start, "%Y-%m-%d")
        .with_context(|| format!("--start `{}` is not a YYYY-MM-DD date", args.start))?;
    let cfg = SimConfig {
        users: args.users,
        days: args.days,
        seed: args.seed,
        start,
        nodes: args.nodes,
        access: formats.access,
        audit: formats.audit,
        security_log: formats.security_log,
        scenarios,
        benign,
        instances: args.instances,
        server_offset_min: parse_offset(&args.server_offset)?,
        overwrite: args.force,
    };
    let started = std::time::Instant::now();
    let summary = simulate(&cfg, &args.out)?;
    eprintln!(
        "confwatch simulate: {} users, {} days, seed {}: {} access-log lines and {} audit records in {} files, {} labels ({:.1?})",
        summary.users,
        summary.days,
        summary.seed,
        summary.access_lines,
        summary.audit_records,
        summary.files.len(),
        summary.labels,
        started.elapsed()
    );
    eprintln!(
        "  logs:   {}\n  labels: {}\n  privileged accounts: {}",
        args.out.join("logs").display(),
        args.out.join("labels.jsonl").display(),
        args.out.join("privileged.txt").display()
    );
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::parse_offset;

    #[test]
    fn offsets() {
        assert_eq!(parse_offset("+01:00").unwrap(), 60);
        assert_eq!(parse_offset("-05:30").unwrap(), -330);
        assert!(parse_offset("0100").is_err());
    }
}
