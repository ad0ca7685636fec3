//! `confwatch rules list|validate|test`: shows the rules a hunt would run, reports every
//! rule file that does not load (file and reason), and runs each rule's own positive and
//! negative test events (`<name>.tests.yml` next to the rule).

use crate::cmd_hunt::{RuleSourceArgs, report_rule_errors};
use crate::common::sanitize;
use anyhow::Result;
use confwatch_detect::testing::run_rule_tests;
use std::io::Write;

#[derive(clap::Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub command: RulesCommand,
}

#[derive(clap::Subcommand)]
pub enum RulesCommand {
    /// List the alerting rules: name, level, type, ATT&CK techniques, file.
    List {
        #[command(flatten)]
        rules: RuleSourceArgs,
        /// One JSON object per rule instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Load every rule and report the ones that fail, with the reason. Exit 1 on failure.
    Validate {
        #[command(flatten)]
        rules: RuleSourceArgs,
    },
    /// Run each rule's positive and negative example events. Exit 1 on failure.
    Test {
        #[command(flatten)]
        rules: RuleSourceArgs,
        /// Also fail rules that have no tests file or lack a positive or negative case.
        #[arg(long)]
        strict: bool,
        /// Print every case, not only failures.
        #[arg(long, short)]
        verbose: bool,
    },
}

pub fn run(args: RulesArgs) -> Result<u8> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.command {
        RulesCommand::List { rules, json } => {
            let set = rules.load()?;
            let errors = report_rule_errors(&set);
            for r in set.rules() {
                if json {
                    let v = serde_json::json!({
                        "name": r.name, "id": r.uuid, "title": r.title,
                        "level": r.level.as_str(), "type": r.kind,
                        "techniques": r.techniques, "file": r.file,
                        "has_tests": r.has_tests,
                    });
                    writeln!(out, "{v}")?;
                } else {
                    writeln!(
                        out,
                        "{:<40} {:<13} {:<16} {:<28} {}",
                        sanitize(&r.name),
                        r.level.as_str(),
                        r.kind,
                        r.techniques.join(","),
                        sanitize(&r.file)
                    )?;
                }
            }
            Ok(u8::from(errors > 0))
        }
        RulesCommand::Validate { rules } => {
            let set = rules.load()?;
            let errors = report_rule_errors(&set);
            let n = set.rules().len();
            writeln!(
                out,
                "{} rule file(s) loaded, {n} alerting rule(s), {errors} file(s) failed",
                set.files.len()
            )?;
            Ok(u8::from(errors > 0))
        }
        RulesCommand::Test {
            rules,
            strict,
            verbose,
        } => {
            let set = rules.load()?;
            let errors = report_rule_errors(&set);
            let results = run_rule_tests(&set, strict);
            let failed = results.iter().filter(|r| !r.passed).count();
            for r in &results {
                if !r.passed || verbose {
                    writeln!(
                        out,
                        "{} {} :: {}{}",
                        if r.passed { "PASS" } else { "FAIL" },
                        sanitize(&r.file),
                        sanitize(&r.case),
                        if r.passed {
                            String::new()
                        } else {
                            format!("\n     {}", sanitize(&r.detail))
                        }
                    )?;
                }
            }
            writeln!(
                out,
                "{} case(s), {} passed, {failed} failed",
                results.len(),
                results.len() - failed
            )?;
            Ok(u8::from(failed > 0 || errors > 0))
        }
    }
}
