//! `confwatch eval`: scores hunt alerts against the simulator's labels (recall per scenario,
//! false-positive user-days per 1,000, precision at k of the riskiest users) and applies the
//! quality gates CI uses. The measuring lives in `confwatch-eval`.

use anyhow::{Context, Result};
use confwatch_eval::{Gates, Report, check, evaluate, read_alerts, read_labels};
use std::path::PathBuf;

/// Exit code: a quality gate failed.
pub const EXIT_GATE_FAILED: u8 = 1;

#[derive(clap::Args)]
pub struct EvalArgs {
    /// The labels file `confwatch simulate` wrote (`DIR/labels.jsonl`).
    #[arg(long, value_name = "FILE")]
    pub labels: PathBuf,

    /// Alerts written by `confwatch hunt --format jsonl`.
    #[arg(value_name = "ALERTS")]
    pub alerts: PathBuf,

    /// The simulation summary, for the number of user-days (default: `sim-summary.json`
    /// beside the labels).
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: EvalFormat,

    /// Fail (exit 1) when any scenario's recall is below this.
    #[arg(long, default_value_t = 1.0)]
    pub min_recall: f64,

    /// Fail when false-positive user-days per 1,000 user-days exceed this.
    #[arg(long = "max-fp-per-1000", default_value_t = 2.0)]
    pub max_fp_per_1000: f64,

    /// Fail when precision at k of the riskiest users is below this.
    #[arg(long, default_value_t = 0.75)]
    pub min_precision: f64,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvalFormat {
    Table,
    Json,
}

pub fn run(args: EvalArgs) -> Result<u8> {
    let labels = read_labels(&args.labels)?;
    let alerts = read_alerts(&args.alerts)?;
    let summary_path = args.summary.clone().unwrap_or_else(|| {
        args.labels
            .parent()
            .map(|p| p.join("sim-summary.json"))
            .unwrap_or_else(|| "sim-summary.json".into())
    });
    let text = std::fs::read_to_string(&summary_path)
        .with_context(|| format!("reading {} (pass --summary)", summary_path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("parsing {}", summary_path.display()))?;
    // Prefer the simulator's count of active user-days; fall back to users × days.
    let user_days = v["user_days"]
        .as_u64()
        .unwrap_or_else(|| v["users"].as_u64().unwrap_or(0) * v["days"].as_u64().unwrap_or(0));
    let report = evaluate(&labels, &alerts, user_days);
    let gates = Gates {
        min_recall: args.min_recall,
        max_fp_per_1000: args.max_fp_per_1000,
        min_precision_at_k: args.min_precision,
    };
    let failed = check(&report, gates);
    match args.format {
        EvalFormat::Json => {
            let mut v = serde_json::to_value(&report)?;
            v["gates_failed"] = serde_json::json!(failed);
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        EvalFormat::Table => print_table(&report, &failed),
    }
    Ok(if failed.is_empty() {
        0
    } else {
        EXIT_GATE_FAILED
    })
}

fn print_table(r: &Report, failed: &[String]) {
    println!(
        "{:<28} {:>9} {:>9} {:>7}  RULES",
        "SCENARIO", "INSTANCES", "DETECTED", "RECALL"
    );
    for s in &r.scenarios {
        println!(
            "{:<28} {:>9} {:>9} {:>7.2}  {}",
            s.scenario,
            s.instances,
            s.detected,
            s.recall,
            s.rules.join(", ")
        );
    }
    println!(
        "\nrecall {:.2} ({} of {} attack instances); {} alerts",
        r.recall, r.detected_instances, r.attack_instances, r.alerts
    );
    println!(
        "false-positive user-days: {} of {} ({:.2} per 1,000)",
        r.false_positive_user_days, r.user_days, r.false_positives_per_1000_user_days
    );
    for fp in r.false_positive_days.iter().take(15) {
        println!(
            "  {} {} {}",
            fp.day,
            crate::common::sanitize(&fp.subject),
            fp.rules.join(", ")
        );
    }
    let noisy: Vec<_> = r.benign_cases.iter().filter(|b| b.alerts > 0).collect();
    println!(
        "hard benign cases with alerts: {} of {}",
        noisy.len(),
        r.benign_cases.len()
    );
    for b in noisy {
        println!(
            "  {} ({}): {} alerts: {}",
            b.case,
            b.users.join(", "),
            b.alerts,
            b.rules.join(", ")
        );
    }
    println!(
        "precision at k={} of the riskiest users ({}): {:.2}  [{}]",
        r.k,
        r.ranking,
        r.precision_at_k,
        r.top_k.join(", ")
    );
    if failed.is_empty() {
        println!("\nall gates passed");
    } else {
        println!("\ngates failed:");
        for f in failed {
            println!("  {f}");
        }
    }
}
