//! `confwatch rules list|validate|test|export`: shows the rules a hunt would run, reports
//! every rule file that does not load (file and reason), runs each rule's own positive and
//! negative test events (`<name>.tests.yml` next to the rule), and writes the embedded pack
//! out as Sigma files.

use crate::cmd_hunt::{RuleSourceArgs, report_rule_errors};
use crate::common::sanitize;
use anyhow::{Context, Result};
use confwatch_detect::RuleSet;
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
    /// Write the built-in rule pack as Sigma files (for `sigma convert` or a SIEM).
    Export {
        /// Folder to write into (created; existing files are not overwritten without --force).
        #[arg(long, value_name = "DIR")]
        out: std::path::PathBuf,
        /// Also write the `.tests.yml` files.
        #[arg(long = "with-tests")]
        with_tests: bool,
        /// Overwrite existing files.
        #[arg(long)]
        force: bool,
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
        RulesCommand::Export {
            out: dir,
            with_tests,
            force,
        } => {
            let mut written = 0usize;
            for (rel, text) in RuleSet::builtin_sources() {
                if !with_tests && (rel.ends_with(".tests.yml") || rel.ends_with(".tests.yaml")) {
                    continue;
                }
                // Paths come from the embedded pack (no `..`); keep them relative anyway.
                let rel_path = std::path::Path::new(rel);
                if rel_path
                    .components()
                    .any(|c| !matches!(c, std::path::Component::Normal(_)))
                {
                    continue;
                }
                let target = dir.join(rel_path);
                if target.exists() && !force {
                    anyhow::bail!("{} exists (use --force to overwrite)", target.display());
                }
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("creating {}", parent.display()))?;
                }
                std::fs::write(&target, text)
                    .with_context(|| format!("writing {}", target.display()))?;
                written += 1;
            }
            writeln!(
                out,
                "wrote {written} file(s) to {}; e.g. sigma convert -t splunk --without-pipeline {}",
                dir.display(),
                dir.join("confluence").display()
            )?;
            Ok(0)
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
