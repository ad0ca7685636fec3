//! Per-file and per-run statistics: what `confwatch events --stats` prints and what every
//! command uses to report bad input.

use crate::formats::ParseError;
use chrono::{DateTime, FixedOffset};
use confwatch_event::{Event, SourceFormat};
use rustc_hash::FxHashSet as HashSet;
use serde::Serialize;
use std::sync::Arc;

/// Error examples kept per file; the rest are only counted.
pub const ERROR_EXAMPLES: usize = 5;
/// Distinct users tracked per file before counting stops growing (hostile input).
const USER_CAP: usize = 1_000_000;

/// Counts over a run of events, computed on the thread that parsed them so the events
/// themselves need not travel when only statistics are wanted.
#[derive(Debug, Default)]
pub struct ChunkSummary {
    pub events: u64,
    pub format: Option<SourceFormat>,
    pub first: Option<DateTime<FixedOffset>>,
    pub last: Option<DateTime<FixedOffset>>,
    /// Users, one per distinct allocation: the events of a chunk share their interned names,
    /// so the address tells them apart without hashing or comparing text ([`FileStats`]
    /// removes duplicates by text). Every address in `user_ptrs` belongs to an `Arc` held in
    /// `users`, so none can be freed and reused while the summary lives.
    users: Vec<Arc<str>>,
    user_ptrs: HashSet<usize>,
}

impl ChunkSummary {
    pub fn add(&mut self, ev: &Event) {
        self.events += 1;
        if self.format.is_none() {
            self.format = Some(ev.format);
        }
        let t = ev.timestamp;
        if self.first.is_none_or(|f| t < f) {
            self.first = Some(t);
        }
        if self.last.is_none_or(|l| t > l) {
            self.last = Some(t);
        }
        if let Some(u) = &ev.user
            && self.users.len() < USER_CAP
            && self.user_ptrs.insert(Arc::as_ptr(u).cast::<u8>() as usize)
        {
            self.users.push(Arc::clone(u));
        }
    }
}

/// What happened to one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileStats {
    pub path: String,
    /// The format of its records (`tomcat-access`, `dc-audit-file`, …), `null` when none was
    /// recognised.
    pub format: Option<SourceFormat>,
    /// Finer detail: the access-log pattern preset (`installer`, `xff`, `docker`, `custom`),
    /// `json-lines`, `json-document`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<&'static str>,
    /// Lines (or JSON records) read.
    pub records: u64,
    pub events: u64,
    /// Records that are neither events nor errors (other loggers, stack traces, blank lines).
    pub skipped: u64,
    pub errors: u64,
    /// The first errors, as `file:line: reason`.
    pub error_examples: Vec<String>,
    /// Set when the whole file was passed over (found in a folder but not a Confluence log).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped_reason: Option<String>,
    pub users: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_event: Option<DateTime<FixedOffset>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_event: Option<DateTime<FixedOffset>>,
    #[serde(skip)]
    user_set: HashSet<Arc<str>>,
}

impl FileStats {
    pub fn new(path: &str) -> FileStats {
        FileStats {
            path: path.to_string(),
            format: None,
            variant: None,
            compression: None,
            records: 0,
            events: 0,
            skipped: 0,
            errors: 0,
            error_examples: Vec::new(),
            skipped_reason: None,
            users: 0,
            first_event: None,
            last_event: None,
            user_set: HashSet::default(),
        }
    }

    /// Counts an error at `line` (0 when the error concerns the whole file).
    pub fn error(&mut self, line: u64, err: &dyn std::fmt::Display) {
        self.errors += 1;
        if self.error_examples.len() < ERROR_EXAMPLES {
            if line == 0 {
                self.error_examples.push(format!("{}: {err}", self.path));
            } else {
                self.error_examples
                    .push(format!("{}:{line}: {err}", self.path));
            }
        }
    }

    pub fn parse_error(&mut self, line: u64, err: &ParseError) {
        self.error(line, err);
    }

    pub fn event(&mut self, ev: &Event) {
        let mut one = ChunkSummary::default();
        one.add(ev);
        self.absorb(one);
    }

    /// Adds the summary of a run of events (computed where they were parsed).
    pub fn absorb(&mut self, sum: ChunkSummary) {
        if sum.events == 0 {
            return;
        }
        self.events += sum.events;
        if self.format.is_none() {
            self.format = sum.format;
        }
        if let Some(t) = sum.first
            && self.first_event.is_none_or(|f| t < f)
        {
            self.first_event = Some(t);
        }
        if let Some(t) = sum.last
            && self.last_event.is_none_or(|l| t > l)
        {
            self.last_event = Some(t);
        }
        for u in sum.users {
            if self.user_set.len() >= USER_CAP {
                break;
            }
            self.user_set.insert(u);
        }
        self.users = self.user_set.len() as u64;
    }

    /// The distinct users seen (bounded).
    pub fn user_names(&self) -> &HashSet<Arc<str>> {
        &self.user_set
    }
}

/// The whole run.
#[derive(Debug, Clone, Serialize, Default)]
pub struct RunStats {
    pub files_read: u64,
    pub files_skipped: u64,
    pub records: u64,
    pub events: u64,
    pub skipped: u64,
    pub errors: u64,
    pub users: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_event: Option<DateTime<FixedOffset>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_event: Option<DateTime<FixedOffset>>,
    pub files: Vec<FileStats>,
}

impl RunStats {
    /// Builds the run totals from per-file statistics (kept in the given order).
    pub fn from_files(files: Vec<FileStats>) -> RunStats {
        let mut run = RunStats::default();
        let mut users: HashSet<&str> = HashSet::default();
        for f in &files {
            if f.skipped_reason.is_some() {
                run.files_skipped += 1;
            } else {
                run.files_read += 1;
            }
            run.records += f.records;
            run.events += f.events;
            run.skipped += f.skipped;
            run.errors += f.errors;
            if users.len() < USER_CAP {
                users.extend(f.user_set.iter().map(|u| &**u));
            }
            if let Some(t) = f.first_event
                && run.first_event.is_none_or(|r| t < r)
            {
                run.first_event = Some(t);
            }
            if let Some(t) = f.last_event
                && run.last_event.is_none_or(|r| t > r)
            {
                run.last_event = Some(t);
            }
        }
        run.users = users.len() as u64;
        run.files = files;
        run
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confwatch_event::Origin;

    fn ev(user: &Arc<str>) -> Event {
        let mut e = Event::new(
            chrono::DateTime::from_timestamp(1_700_000_000, 0)
                .unwrap()
                .fixed_offset(),
            SourceFormat::TomcatAccess,
            Origin {
                file: Arc::from("f"),
                line: 1,
            },
        );
        e.user = Some(Arc::clone(user));
        e
    }

    /// Users are told apart by allocation in a chunk and by text in the file.
    #[test]
    fn users_count_by_text_whatever_their_allocation() {
        let alice = Arc::<str>::from("alice");
        let alice_again = Arc::<str>::from("alice");
        let bob = Arc::<str>::from("bob");
        let mut first = ChunkSummary::default();
        for u in [&alice, &alice, &bob, &alice_again] {
            first.add(&ev(u));
        }
        assert_eq!(first.users.len(), 3);
        let mut second = ChunkSummary::default();
        second.add(&ev(&Arc::from("bob")));
        second.add(&ev(&Arc::from("carol")));
        let mut file = FileStats::new("f");
        file.absorb(first);
        file.absorb(second);
        assert_eq!((file.events, file.users), (6, 3));
    }
}
