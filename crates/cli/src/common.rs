//! Flags and plumbing shared by every command that reads logs (`events`, `hunt`, …):
//! input options, the ingestor, the progress bar and the end-of-run error report.

use anyhow::{Context, Result};
use confwatch_ingest::formats::access::DurationUnit;
use confwatch_ingest::login_join::NodeScope;
use confwatch_ingest::stats::RunStats;
use confwatch_ingest::{IngestOptions, Ingestor, Input, LoginJoinOptions};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Exit code: the run finished, but some input could not be read (counted and reported).
pub const EXIT_INPUT_ERRORS: u8 = 1;

#[derive(clap::Args, Debug, Clone)]
pub struct InputArgs {
    /// Log files or folders (read recursively); `-` reads standard input. Plain, .gz, .zst
    /// and .bz2 are recognised by content.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// A Tomcat AccessLogValve pattern to try before the built-in ones (repeatable);
    /// `common` and `combined` are accepted.
    #[arg(long = "access-log-pattern", value_name = "PATTERN")]
    pub access_log_patterns: Vec<String>,

    /// Read the access-log pattern(s) from Tomcat's server.xml.
    #[arg(long = "server-xml", value_name = "FILE")]
    pub server_xml: Option<PathBuf>,

    /// Unit of %D in access logs: ms (Tomcat ≤ 9) or us (Tomcat 10+).
    #[arg(long = "duration-unit", value_enum, default_value = "ms")]
    pub duration_unit: DurationArg,

    /// UTC offset of log4j logs (atlassian-confluence*.log), which carry no zone, e.g. +02:00.
    #[arg(long = "log-offset", value_name = "OFFSET", default_value = "+00:00")]
    pub log_offset: String,

    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Never show a progress bar.
    #[arg(long = "no-progress")]
    pub no_progress: bool,

    /// All logs come from one Confluence node: pair the access-log and security-log lines
    /// of a login even when the two files sit in unrelated folders. Wrong for a cluster,
    /// whose nodes reuse thread names (by default only files in the same folder pair).
    #[arg(long = "single-node")]
    pub single_node: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum DurationArg {
    Ms,
    Us,
}

impl InputArgs {
    /// How access-log and security-log halves of one login are paired.
    pub fn login_join(&self) -> LoginJoinOptions {
        LoginJoinOptions {
            node_scope: if self.single_node {
                NodeScope::Anywhere
            } else {
                NodeScope::SameFolder
            },
            ..LoginJoinOptions::default()
        }
    }

    /// Builds the ingestor these flags describe.
    pub fn ingestor(&self) -> Result<Arc<Ingestor>> {
        if let Some(n) = self.threads {
            // Only the first call takes effect; later ones (tests in one process) keep theirs.
            let _ = rayon::ThreadPoolBuilder::new()
                .num_threads(n.max(1))
                .build_global();
        }
        let mut options = IngestOptions {
            access_patterns: self.access_log_patterns.clone(),
            duration_unit: match self.duration_unit {
                DurationArg::Ms => DurationUnit::Millis,
                DurationArg::Us => DurationUnit::Micros,
            },
            local_offset: confwatch_ingest::time::parse_offset(&self.log_offset).with_context(
                || {
                    format!(
                        "--log-offset: `{}` is not an offset like +02:00",
                        self.log_offset
                    )
                },
            )?,
            ..IngestOptions::default()
        };
        if let Some(xml) = &self.server_xml {
            let patterns = Ingestor::patterns_from_server_xml(xml)?;
            options.access_patterns.extend(patterns);
        }
        Ok(Arc::new(Ingestor::new(options)?))
    }

    /// Expands the paths; unreadable ones come back as failed file statistics.
    pub fn discover(
        &self,
        ing: &Ingestor,
    ) -> (Vec<Input>, Vec<confwatch_ingest::stats::FileStats>) {
        ing.discover(&self.paths)
    }
}

/// A progress bar on stderr over the bytes of `inputs`; hidden when stderr is not a
/// terminal or when asked. Dropping the guard clears it.
pub struct ProgressGuard {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ProgressGuard {
    pub fn start(ing: &Arc<Ingestor>, inputs: &[Input], disabled: bool) -> ProgressGuard {
        let stop = Arc::new(AtomicBool::new(false));
        let total: u64 = inputs.iter().map(|i| i.size).sum();
        // Small runs finish before a bar is useful.
        if disabled || !std::io::stderr().is_terminal() || total < (32 << 20) {
            return ProgressGuard { stop, thread: None };
        }
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let progress = Arc::clone(&ing.progress);
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                bar.set_position(progress.bytes_read());
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        });
        ProgressGuard {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for ProgressGuard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Prints a short account of input errors to stderr and returns the exit code they imply.
pub fn report_input_errors(stats: &RunStats) -> u8 {
    if stats.errors == 0 {
        return 0;
    }
    let bad_files = stats.files.iter().filter(|f| f.errors > 0).count();
    eprintln!(
        "confwatch: {} input error(s) in {} file(s); the rest was read. First examples:",
        stats.errors, bad_files
    );
    for ex in stats
        .files
        .iter()
        .flat_map(|f| f.error_examples.iter())
        .take(10)
    {
        eprintln!("  {}", sanitize(ex));
    }
    EXIT_INPUT_ERRORS
}

/// Makes log-derived text safe for a terminal: control characters (ANSI escapes, carriage
/// returns) are shown as `\xNN` instead of being interpreted.
pub fn sanitize(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sanitize_escapes_terminal_controls() {
        assert_eq!(super::sanitize("a\x1b[31mb\r"), "a\\x1b[31mb\\x0d");
        assert_eq!(super::sanitize("plain"), "plain");
    }
}
