//! `confwatch rules list|validate|test|export`: shows the rules a hunt would run, reports
//! every rule file that does not load (file and reason), runs each rule's own positive and
//! negative test events (`<name>.tests.yml` next to the rule), and writes the embedded pack
//! out as Sigma files: as confwatch runs it, or (`--siem`) in the form pySigma's SIEM
//! backends convert, with the processing pipeline that goes with it.

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
        #[arg(long = "with-tests", conflicts_with = "siem")]
        with_tests: bool,
        /// Write the SIEM form for sigma-cli: only event_count, value_count and temporal
        /// correlations over detection rules (three rules approximated, see
        /// docs/detections.md), one bundle file `confluence-siem.yml` that converts in one
        /// go, and the pySigma pipeline `pipelines/confwatch-siem.yml`.
        #[arg(long)]
        siem: bool,
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
            siem,
        } => {
            let files: Vec<(String, String)> = if siem {
                siem_pack()
            } else {
                RuleSet::builtin_sources()
                    .iter()
                    .filter(|(rel, _)| with_tests || !is_tests_file(rel))
                    .map(|(rel, text)| ((*rel).to_owned(), (*text).to_owned()))
                    .collect()
            };
            let mut written = 0usize;
            for (rel, text) in &files {
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
            if siem {
                writeln!(
                    out,
                    "wrote {written} file(s) to {0}; convert with: sigma convert -t splunk -p {1} {2}",
                    dir.display(),
                    dir.join(SIEM_PIPELINE_PATH).display(),
                    dir.join(SIEM_BUNDLE_PATH).display()
                )?;
            } else {
                writeln!(
                    out,
                    "wrote {written} file(s) to {}; for SIEM queries use `rules export --siem` (docs/detections.md)",
                    dir.display()
                )?;
            }
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

fn is_tests_file(rel: &str) -> bool {
    rel.ends_with(".tests.yml") || rel.ends_with(".tests.yaml")
}

/// SIEM forms of the rules whose correlations pySigma's Splunk and ES|QL backends cannot
/// convert (`temporal_ordered`, `value_sum`, a correlation of a correlation); they replace
/// the file of the same path in `rules export --siem`. Kept in `rules/siem/` as `.yml.in`
/// so that the hunt, which loads every `.yml` under `rules/`, never runs them.
const SIEM_FORMS: &[(&str, &str)] = &[
    (
        "confluence/brute_force_then_login.yml",
        include_str!("../../../rules/siem/brute_force_then_login.yml.in"),
    ),
    (
        "confluence/rest_bulk_body_read.yml",
        include_str!("../../../rules/siem/rest_bulk_body_read.yml.in"),
    ),
    (
        "confluence/sensitive_search_then_read.yml",
        include_str!("../../../rules/siem/sensitive_search_then_read.yml.in"),
    ),
];

/// pySigma pipeline that turns the SIEM form's event_count of body-expanding REST reads back
/// into confwatch's sum of `rest.items`.
const SIEM_PIPELINE: &str = include_str!("../../../rules/siem/confwatch-siem-pipeline.yml.in");
const SIEM_PIPELINE_PATH: &str = "pipelines/confwatch-siem.yml";
const SIEM_BUNDLE_PATH: &str = "confluence-siem.yml";

/// The pack in SIEM form as (relative path, text): every rule file (the three above
/// replaced), each with its documents ordered so that a rule comes after the rules it
/// references, plus one bundle of all of them in that order and the pipeline.
///
/// The order matters because pySigma converts a collection in list order after sorting it
/// with a comparison that only knows "referenced by": an already ordered list stays as it
/// is, anything else can leave a correlation before its rule ("Conversion result not
/// available"). sigma-cli also resolves references per command-line argument, so the
/// shared building block (`user_content_read.yml`) must sit in the same input as its users:
/// the bundle is that input.
fn siem_pack() -> Vec<(String, String)> {
    let mut rules: Vec<(String, String)> = Vec::new();
    for (rel, text) in RuleSet::builtin_sources() {
        if is_tests_file(rel) || !(rel.ends_with(".yml") || rel.ends_with(".yaml")) {
            continue;
        }
        let text = SIEM_FORMS
            .iter()
            .find(|(p, _)| p == rel)
            .map_or(*text, |(_, t)| *t);
        rules.push(((*rel).to_owned(), referenced_first(text)));
    }
    // Files of detection rules only (shared building blocks) go first in the bundle.
    rules.sort_by_key(|(rel, text)| (has_correlation(text), rel.clone()));
    let bundle = rules
        .iter()
        .map(|(rel, text)| format!("# {rel}\n{text}"))
        .collect::<Vec<_>>()
        .join("---\n");
    let mut files = rules;
    files.push((SIEM_BUNDLE_PATH.to_owned(), bundle));
    files.push((SIEM_PIPELINE_PATH.to_owned(), SIEM_PIPELINE.to_owned()));
    files
}

/// Splits a multi-document YAML text at its `---` lines.
fn documents(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line.trim_end() == "---" {
            docs.push(String::new());
        } else if let Some(cur) = docs.last_mut() {
            cur.push_str(line);
            cur.push('\n');
        }
    }
    docs.retain(|d| {
        d.lines()
            .any(|l| !l.trim().is_empty() && !l.starts_with('#'))
    });
    docs
}

fn has_correlation(doc: &str) -> bool {
    doc.lines().any(|l| l.trim_end() == "correlation:")
}

/// Detection rules first, then correlations in reverse file order: the pack writes an
/// alerting correlation before the step correlations and detection rules it references,
/// and the SIEM form has no correlation of a correlation (tested).
fn referenced_first(text: &str) -> String {
    let docs = documents(text);
    let (mut corr, det): (Vec<String>, Vec<String>) =
        docs.into_iter().partition(|d| has_correlation(d));
    corr.reverse();
    det.into_iter()
        .chain(corr)
        .collect::<Vec<_>>()
        .join("---\n")
}
