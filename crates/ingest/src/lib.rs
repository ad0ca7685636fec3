//! # confwatch-ingest: Confluence logs in, [`Event`]s out
//!
//! Owns everything between a path on the command line and a normalised event:
//! finding files (folders, stdin), decompression (gzip, zstd, bzip2), format sniffing,
//! the parsers ([`formats`]), the URL → action classifier ([`classify`]), bounded-memory
//! chunked reading with parallel parsing, time-ordered merging of several files
//! ([`merge`]), and the per-file statistics that `confwatch events --stats` prints.
//!
//! Data flows one way: [`input`] → [`read`] (sniff, chunk, parse in parallel) → events in
//! file order → either straight to the caller ([`Ingestor::read_unordered`]) or through the
//! time-ordered merge ([`Ingestor::ordered`]).

pub mod chunk;
pub mod classify;
pub mod formats;
pub mod input;
pub mod jsondoc;
pub mod login_join;
pub mod merge;
pub mod read;
pub mod sniff;
pub mod stats;
#[cfg(test)]
mod test_support;
pub mod time;

use chrono::{FixedOffset, Offset};
use confwatch_event::Event;
use formats::access::{AccessLogOptions, AccessLogParser, DurationUnit, PRESETS, PatternError};
use rayon::prelude::*;
use sniff::AccessCandidates;
use stats::{FileStats, RunStats};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub use input::Input;
pub use login_join::{LoginJoinOptions, join_logins};

/// Errors that concern a whole input or the configuration; line-level problems are
/// [`formats::ParseError`]s counted in [`FileStats`].
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot open {path}: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid access-log pattern `{pattern}`: {source}")]
    Pattern {
        pattern: String,
        source: PatternError,
    },
    #[error("{path}: no AccessLogValve pattern found in this server.xml")]
    NoValve { path: String },
}

/// How inputs are read. `Default` suits every known Confluence layout.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Extra access-log patterns (from `--access-log-pattern` or `--server-xml`), tried
    /// before the built-in presets.
    pub access_patterns: Vec<String>,
    /// `%D` unit (Tomcat 10+ writes microseconds).
    pub duration_unit: DurationUnit,
    /// UTC offset of the server for logs that write local time without a zone (log4j).
    pub local_offset: FixedOffset,
    /// Longest line kept; longer lines are reported and skipped without being buffered.
    pub max_line_len: usize,
    /// Target bytes per parallel parsing chunk.
    pub chunk_size: usize,
    /// Chunks parsed at once per file (memory ≈ this × `chunk_size` per open file).
    pub parallel_chunks: usize,
    /// Events held back to restore time order inside a file (see [`merge`]).
    pub reorder_capacity: usize,
    /// How late (ms) an event may arrive and still be put in order.
    pub reorder_lateness_ms: i64,
}

impl Default for IngestOptions {
    fn default() -> IngestOptions {
        IngestOptions {
            access_patterns: Vec::new(),
            duration_unit: DurationUnit::Millis,
            local_offset: chrono::Utc.fix(),
            max_line_len: 4 << 20,
            chunk_size: 1 << 20,
            parallel_chunks: rayon::current_num_threads().max(1) * 2,
            reorder_capacity: 200_000,
            reorder_lateness_ms: 300_000,
        }
    }
}

/// Progress counters a front end can poll while a run goes on.
#[derive(Debug, Default)]
pub struct Progress {
    /// Raw (compressed) bytes consumed so far.
    pub bytes: Arc<AtomicU64>,
    /// Files finished so far.
    pub files_done: AtomicU64,
}

impl Progress {
    pub fn bytes_read(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

/// Reads inputs into events. Cheap to share across threads.
pub struct Ingestor {
    pub options: IngestOptions,
    pub progress: Arc<Progress>,
    access: AccessCandidates,
}

impl Ingestor {
    pub fn new(options: IngestOptions) -> Result<Ingestor, IngestError> {
        let opts = AccessLogOptions {
            duration_unit: options.duration_unit,
        };
        let mut parsers = Vec::new();
        for (i, p) in options.access_patterns.iter().enumerate() {
            let parser =
                AccessLogParser::new(p, opts.clone()).map_err(|source| IngestError::Pattern {
                    pattern: p.clone(),
                    source,
                })?;
            let name = if options.access_patterns.len() == 1 {
                "custom".to_string()
            } else {
                format!("custom-{}", i + 1)
            };
            parsers.push((name, Arc::new(parser)));
        }
        for (name, p) in PRESETS {
            let parser =
                AccessLogParser::new(p, opts.clone()).map_err(|source| IngestError::Pattern {
                    pattern: p.to_string(),
                    source,
                })?;
            parsers.push((name.to_string(), Arc::new(parser)));
        }
        Ok(Ingestor {
            options,
            progress: Arc::new(Progress::default()),
            access: AccessCandidates { parsers },
        })
    }

    /// Reads access-log patterns from a Tomcat `server.xml` into the options.
    pub fn patterns_from_server_xml(path: &std::path::Path) -> Result<Vec<String>, IngestError> {
        let display = path.display().to_string();
        let xml = std::fs::read_to_string(path).map_err(|source| IngestError::Read {
            path: display.clone(),
            source,
        })?;
        let patterns = formats::access::patterns_from_server_xml(&xml).map_err(|source| {
            IngestError::Pattern {
                pattern: display.clone(),
                source,
            }
        })?;
        if patterns.is_empty() {
            return Err(IngestError::NoValve { path: display });
        }
        Ok(patterns)
    }

    /// Expands paths into inputs; paths that cannot be opened become [`FileStats`] with
    /// an error, so a run always accounts for every path it was given.
    pub fn discover(&self, paths: &[PathBuf]) -> (Vec<Input>, Vec<FileStats>) {
        let (inputs, errors) = input::discover(paths);
        let failed = errors
            .into_iter()
            .map(|(display, e)| {
                let mut s = FileStats::new(&display);
                s.error(0, &e);
                s
            })
            .collect();
        (inputs, failed)
    }

    /// Reads one input to the end, calling `on_events` with batches in file order. With
    /// `None`, events are only counted (on the parsing threads), which is much cheaper.
    pub fn read_input(
        &self,
        input: &Input,
        on_events: Option<&mut dyn FnMut(Vec<Event>)>,
    ) -> FileStats {
        match on_events {
            Some(sink) => self.read_input_boxed(input, Some(&mut read::unboxing(sink)), None),
            None => self.read_input_boxed(input, None, None),
        }
    }

    /// [`Ingestor::read_input`] with the events boxed as parsed, dropping those `filter`
    /// rejects in the parse workers.
    pub(crate) fn read_input_boxed(
        &self,
        input: &Input,
        on_events: Option<read::TimedSink<'_>>,
        filter: Option<&read::KeepFn>,
    ) -> FileStats {
        let stats = match read::open(self, input) {
            Ok(opened) => opened.read_boxed(self, on_events, filter),
            Err(e) => {
                let mut s = FileStats::new(&input.display);
                s.error(0, &e);
                s
            }
        };
        self.progress.files_done.fetch_add(1, Ordering::Relaxed);
        stats
    }

    /// Reads every input in parallel, in no particular order across files. `on_events` is
    /// called from many threads. Statistics come back in input order.
    pub fn read_unordered<F>(&self, inputs: &[Input], on_events: F) -> RunStats
    where
        F: Fn(&Input, Vec<Event>) + Sync,
    {
        let files: Vec<FileStats> = inputs
            .par_iter()
            .with_max_len(1)
            .map(|input| self.read_input(input, Some(&mut |batch| on_events(input, batch))))
            .collect();
        RunStats::from_files(files)
    }

    /// Reads every input in parallel for statistics only; no event leaves its parsing thread.
    pub fn read_stats(&self, inputs: &[Input]) -> RunStats {
        let files: Vec<FileStats> = inputs
            .par_iter()
            .with_max_len(1)
            .map(|input| self.read_input(input, None))
            .collect();
        RunStats::from_files(files)
    }

    /// Reads every input and yields all events in time order (files merged, small
    /// disorder inside a file repaired). Call [`merge::Ordered::finish`] for statistics.
    pub fn ordered(self: &Arc<Self>, inputs: Vec<Input>) -> merge::Ordered {
        merge::Ordered::new(Arc::clone(self), inputs, None)
    }

    /// [`Ingestor::ordered`] without the events `keep` rejects: they are dropped in the
    /// parse workers, before the merge, so they cost no ordering. The events kept come in
    /// the same order as from `ordered`, and [`merge::Ordered::finish`] counts every event
    /// read, dropped or not.
    ///
    /// Dropping events changes what [`join_logins`] sees, so `keep` must accept every
    /// [`Action::Login`](confwatch_event::Action::Login) event that should still be joined.
    pub fn ordered_filtered(
        self: &Arc<Self>,
        inputs: Vec<Input>,
        keep: Arc<read::KeepFn>,
    ) -> merge::Ordered {
        merge::Ordered::new(Arc::clone(self), inputs, Some(keep))
    }
}
