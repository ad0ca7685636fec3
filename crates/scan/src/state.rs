//! The scan state store: what `confwatch scan --url … --state PATH` remembers between runs.
//!
//! Per site (base URL) and space, the start time of the last complete scan (the watermark an
//! `--incremental` run starts from), and for a run that did not finish, which spaces it
//! completed (with their findings, secrets stripped) so the next run resumes instead of
//! starting over. SQLite, in tables of its own (`scan_state_version`, `scan_runs`,
//! `scan_progress`, `scan_watermarks`), so the same file can also be `hunt --state`'s
//! (`DIR/confwatch-state.sqlite3`). Every write is one transaction: a crash mid-write leaves
//! the previous state intact.

use crate::collect::Report;
use chrono::{DateTime, SecondsFormat, Utc};
use confwatch_event::finding::{Finding, SpaceProfile};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};

/// The layout of the scan tables this version reads and writes.
pub const SCAN_SCHEMA_VERSION: i64 = 1;

/// The database file inside a state folder (the name `hunt --state DIR` uses too).
pub const FILE_NAME: &str = "confwatch-state.sqlite3";

/// Stored findings per completed space are capped (a runaway space must not bloat the file).
const MAX_STORED_JSON: usize = 256 << 20;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot create state folder {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
    #[error("scan state {path}: {source}")]
    Sql {
        path: String,
        source: rusqlite::Error,
    },
    #[error(
        "scan state {path} has scan schema version {found}; this confwatch reads version {SCAN_SCHEMA_VERSION}"
    )]
    Version { path: String, found: i64 },
    #[error("scan state {path}: stored {what} is not valid: {message}")]
    Corrupt {
        path: String,
        what: String,
        message: String,
    },
}

/// Where the database lives for a `--state` argument: an existing file, or a name ending in
/// `.sqlite3`/`.sqlite`/`.db`, is the database itself; anything else is a folder holding
/// [`FILE_NAME`] (as for `hunt --state DIR`).
pub fn resolve_path(arg: &Path) -> PathBuf {
    let is_db_name = arg
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "sqlite3" | "sqlite" | "db"));
    if arg.is_file() || (!arg.is_dir() && is_db_name) {
        arg.to_path_buf()
    } else {
        arg.join(FILE_NAME)
    }
}

/// A run of one site and scope, new or resumed.
#[derive(Debug, Clone)]
pub struct RunHandle {
    pub id: i64,
    /// When the run first started (kept when resumed): the watermark a completion records.
    pub started_at: DateTime<Utc>,
    /// True when an interrupted run of the same site and scope was picked up.
    pub resumed: bool,
    /// Spaces that run completed already.
    pub done_spaces: Vec<String>,
    /// Interrupted runs of the same site with another scope, abandoned by this one.
    pub abandoned: u64,
}

/// Findings and profile of one completed space, as stored for a resumed run.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct StoredSpace {
    pub findings: Vec<Finding>,
    pub spaces: Vec<SpaceProfile>,
    pub documents: u64,
    pub malformed: u64,
    pub suppressed: u64,
}

impl StoredSpace {
    /// From a space's report; secrets are never written to the state file.
    pub fn from_report(r: &Report) -> StoredSpace {
        let mut findings = r.findings.clone();
        for f in &mut findings {
            f.secret = None;
        }
        StoredSpace {
            findings,
            spaces: r.spaces.clone(),
            documents: r.documents,
            malformed: r.malformed,
            suppressed: r.suppressed,
        }
    }

    pub fn into_report(self) -> Report {
        Report {
            findings: self.findings,
            spaces: self.spaces,
            documents: self.documents,
            malformed: self.malformed,
            suppressed: self.suppressed,
        }
    }
}

/// An open scan state store.
pub struct StateStore {
    conn: Connection,
    path: String,
}

/// RFC 3339 in UTC with seconds, the form stored.
pub fn fmt_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl StateStore {
    /// Opens (creating if needed) the store for a `--state` argument (see [`resolve_path`]).
    pub fn open(arg: &Path) -> Result<StateStore, StateError> {
        let file = resolve_path(arg);
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StateError::Dir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let path = file.display().to_string();
        let conn = Connection::open(&file).map_err(|source| StateError::Sql {
            path: path.clone(),
            source,
        })?;
        let mut s = StateStore { conn, path };
        s.init()?;
        Ok(s)
    }

    /// The database file.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn sql<T>(&self, r: Result<T, rusqlite::Error>) -> Result<T, StateError> {
        r.map_err(|source| StateError::Sql {
            path: self.path.clone(),
            source,
        })
    }

    fn init(&mut self) -> Result<(), StateError> {
        // FULL sync: a recorded completed space survives a power cut, not only a crash.
        let r = self.conn.execute_batch(
            "PRAGMA synchronous = FULL;
             PRAGMA busy_timeout = 5000;
             CREATE TABLE IF NOT EXISTS scan_state_version (version INTEGER NOT NULL);",
        );
        self.sql(r)?;
        let r = self
            .conn
            .query_row("SELECT MAX(version) FROM scan_state_version", [], |r| {
                r.get::<_, Option<i64>>(0)
            });
        match self.sql(r)? {
            None => {
                let r = self.conn.transaction().and_then(|tx| {
                    tx.execute_batch(
                        "CREATE TABLE scan_runs (
                             id INTEGER PRIMARY KEY,
                             site TEXT NOT NULL,
                             scope TEXT NOT NULL,
                             started_at TEXT NOT NULL,
                             finished_at TEXT,
                             status TEXT NOT NULL);
                         CREATE TABLE scan_progress (
                             run_id INTEGER NOT NULL,
                             space_key TEXT NOT NULL,
                             since TEXT,
                             findings TEXT NOT NULL,
                             PRIMARY KEY (run_id, space_key));
                         CREATE TABLE scan_watermarks (
                             site TEXT NOT NULL,
                             space_key TEXT NOT NULL,
                             last_complete_start TEXT NOT NULL,
                             PRIMARY KEY (site, space_key));",
                    )?;
                    tx.execute(
                        "INSERT INTO scan_state_version (version) VALUES (?1)",
                        params![SCAN_SCHEMA_VERSION],
                    )?;
                    tx.commit()
                });
                self.sql(r)
            }
            Some(v) if v == SCAN_SCHEMA_VERSION => Ok(()),
            Some(found) => Err(StateError::Version {
                path: self.path.clone(),
                found,
            }),
        }
    }

    fn parse_time(&self, what: &str, s: &str) -> Result<DateTime<Utc>, StateError> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| StateError::Corrupt {
                path: self.path.clone(),
                what: what.to_owned(),
                message: format!("{s}: {e}"),
            })
    }

    /// Start time of the last complete scan of `space` on `site`.
    pub fn watermark(&self, site: &str, space: &str) -> Result<Option<DateTime<Utc>>, StateError> {
        let r = self
            .conn
            .query_row(
                "SELECT last_complete_start FROM scan_watermarks WHERE site = ?1 AND space_key = ?2",
                params![site, space],
                |r| r.get::<_, String>(0),
            )
            .optional();
        match self.sql(r)? {
            Some(s) => self.parse_time("watermark", &s).map(Some),
            None => Ok(None),
        }
    }

    /// Every watermark of `site`, by space key.
    pub fn watermarks(&self, site: &str) -> Result<Vec<(String, DateTime<Utc>)>, StateError> {
        let rows: Result<Vec<(String, String)>, rusqlite::Error> = self
            .conn
            .prepare(
                "SELECT space_key, last_complete_start FROM scan_watermarks WHERE site = ?1 ORDER BY space_key",
            )
            .and_then(|mut st| {
                st.query_map(params![site], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            });
        self.sql(rows)?
            .into_iter()
            .map(|(k, t)| Ok((k, self.parse_time("watermark", &t)?)))
            .collect()
    }

    /// Resumes the unfinished run of `site` and `scope`, or starts one at `now`. Unfinished
    /// runs of the same site with another scope are marked abandoned (their progress no
    /// longer applies).
    pub fn begin_run(
        &mut self,
        site: &str,
        scope: &str,
        now: DateTime<Utc>,
    ) -> Result<RunHandle, StateError> {
        let existing = self
            .conn
            .query_row(
                "SELECT id, started_at FROM scan_runs WHERE site = ?1 AND scope = ?2 AND status = 'running' ORDER BY id DESC LIMIT 1",
                params![site, scope],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
            )
            .optional();
        let existing = self.sql(existing)?;
        let abandoned = {
            let r = self.conn.execute(
                "UPDATE scan_runs SET status = 'abandoned' WHERE site = ?1 AND scope <> ?2 AND status = 'running'",
                params![site, scope],
            );
            self.sql(r)? as u64
        };
        if let Some((id, started)) = existing {
            let started_at = self.parse_time("run start", &started)?;
            let done: Result<Vec<String>, rusqlite::Error> = self
                .conn
                .prepare("SELECT space_key FROM scan_progress WHERE run_id = ?1 ORDER BY space_key")
                .and_then(|mut st| st.query_map(params![id], |r| r.get(0))?.collect());
            return Ok(RunHandle {
                id,
                started_at,
                resumed: true,
                done_spaces: self.sql(done)?,
                abandoned,
            });
        }
        let r = self.conn.execute(
            "INSERT INTO scan_runs (site, scope, started_at, status) VALUES (?1, ?2, ?3, 'running')",
            params![site, scope, fmt_time(now)],
        );
        self.sql(r)?;
        Ok(RunHandle {
            id: self.conn.last_insert_rowid(),
            started_at: now,
            resumed: false,
            done_spaces: Vec::new(),
            abandoned,
        })
    }

    /// Records that the run completed `space` (scanned from `since`, `None` = everything),
    /// with its findings.
    pub fn space_done(
        &mut self,
        run_id: i64,
        space: &str,
        since: Option<DateTime<Utc>>,
        found: &StoredSpace,
    ) -> Result<(), StateError> {
        let json = serde_json::to_string(found).map_err(|e| StateError::Corrupt {
            path: self.path.clone(),
            what: format!("findings of space {space}"),
            message: e.to_string(),
        })?;
        // Too large to keep: record the space as done without findings rather than fail.
        let json = if json.len() > MAX_STORED_JSON {
            "{\"findings\":[],\"spaces\":[]}".to_owned()
        } else {
            json
        };
        let r = self.conn.execute(
            "INSERT OR REPLACE INTO scan_progress (run_id, space_key, since, findings) VALUES (?1, ?2, ?3, ?4)",
            params![run_id, space, since.map(fmt_time), json],
        );
        self.sql(r).map(|_| ())
    }

    /// The findings a run stored for a completed space.
    pub fn space_findings(
        &self,
        run_id: i64,
        space: &str,
    ) -> Result<Option<StoredSpace>, StateError> {
        let r = self
            .conn
            .query_row(
                "SELECT findings FROM scan_progress WHERE run_id = ?1 AND space_key = ?2",
                params![run_id, space],
                |r| r.get::<_, String>(0),
            )
            .optional();
        match self.sql(r)? {
            Some(j) => serde_json::from_str(&j)
                .map(Some)
                .map_err(|e| StateError::Corrupt {
                    path: self.path.clone(),
                    what: format!("findings of space {space}"),
                    message: e.to_string(),
                }),
            None => Ok(None),
        }
    }

    /// Completes the run: each space's watermark moves to the run's start time when the run
    /// covered everything since the previous watermark (its `since` was none or not later),
    /// and the run's progress rows are dropped. One transaction.
    pub fn finish_run(
        &mut self,
        run: &RunHandle,
        site: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StateError> {
        let rows: Result<Vec<(String, Option<String>)>, rusqlite::Error> = self
            .conn
            .prepare("SELECT space_key, since FROM scan_progress WHERE run_id = ?1")
            .and_then(|mut st| {
                st.query_map(params![run.id], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            });
        let rows = self.sql(rows)?;
        let mut advance = Vec::new();
        for (space, since) in rows {
            let since = match since {
                Some(s) => Some(self.parse_time("space since", &s)?),
                None => None,
            };
            let covered = match (since, self.watermark(site, &space)?) {
                (None, _) => true,
                (Some(s), Some(w)) => s <= w,
                // A partial scan of a space never scanned fully proves nothing earlier.
                (Some(_), None) => false,
            };
            if covered {
                advance.push(space);
            }
        }
        let started = fmt_time(run.started_at);
        let finished = fmt_time(now);
        let r = self.conn.transaction().and_then(|tx| {
            for space in &advance {
                // Never move a watermark backwards (a later run may have finished first).
                tx.execute(
                    "INSERT INTO scan_watermarks (site, space_key, last_complete_start) VALUES (?1, ?2, ?3)
                     ON CONFLICT (site, space_key) DO UPDATE SET last_complete_start = excluded.last_complete_start
                     WHERE excluded.last_complete_start > scan_watermarks.last_complete_start",
                    params![site, space, started],
                )?;
            }
            tx.execute("DELETE FROM scan_progress WHERE run_id = ?1", params![run.id])?;
            tx.execute(
                "UPDATE scan_runs SET status = 'complete', finished_at = ?2 WHERE id = ?1",
                params![run.id, finished],
            )?;
            tx.commit()
        });
        self.sql(r)?;
        Ok(advance.len() as u64)
    }

    /// Forgets the unfinished runs of `site` (`--restart`). Returns how many.
    pub fn abandon_runs(&mut self, site: &str) -> Result<u64, StateError> {
        let r = self.conn.transaction().and_then(|tx| {
            tx.execute(
                "DELETE FROM scan_progress WHERE run_id IN (SELECT id FROM scan_runs WHERE site = ?1 AND status = 'running')",
                params![site],
            )?;
            let n = tx.execute(
                "UPDATE scan_runs SET status = 'abandoned' WHERE site = ?1 AND status = 'running'",
                params![site],
            )?;
            tx.commit()?;
            Ok(n as u64)
        });
        self.sql(r)
    }
}

/// Merges reports of disjoint parts of one scan (spaces resumed from the store, spaces
/// scanned now, files): the same fingerprint becomes one finding (locations appended up to
/// `max_locations`, occurrences added, the highest severity kept); profiles of the same
/// space are added up. Order as [`crate::Collector::finish`]: findings by severity, spaces by
/// score.
pub fn merge_reports(parts: Vec<Report>, max_locations: usize) -> Report {
    let mut out = Report::default();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut space_index: std::collections::HashMap<String, usize> =
        std::collections::HashMap::new();
    for part in parts {
        out.documents += part.documents;
        out.malformed += part.malformed;
        out.suppressed += part.suppressed;
        for f in part.findings {
            match index
                .get(&f.fingerprint)
                .and_then(|&i| out.findings.get_mut(i))
            {
                Some(have) => {
                    have.occurrences = have.occurrences.saturating_add(f.occurrences);
                    have.validated |= f.validated;
                    if f.severity > have.severity {
                        have.severity = f.severity;
                    }
                    if have.secret.is_none() {
                        have.secret = f.secret;
                    }
                    let room = max_locations.saturating_sub(have.locations.len());
                    have.locations.extend(f.locations.into_iter().take(room));
                }
                None => {
                    index.insert(f.fingerprint.clone(), out.findings.len());
                    out.findings.push(f);
                }
            }
        }
        for p in part.spaces {
            match space_index
                .get(&p.space_key)
                .and_then(|&i| out.spaces.get_mut(i))
            {
                Some(have) => {
                    have.pages += p.pages;
                    have.secrets += p.secrets;
                    have.sensitive += p.sensitive;
                    have.score += p.score;
                    have.max_severity = have.max_severity.max(p.max_severity);
                    have.sensitivity = have.sensitivity.max(p.sensitivity);
                    for (c, n) in p.categories {
                        *have.categories.entry(c).or_insert(0) += n;
                    }
                    if have.space_name.is_none() {
                        have.space_name = p.space_name;
                    }
                }
                None => {
                    space_index.insert(p.space_key.clone(), out.spaces.len());
                    out.spaces.push(p);
                }
            }
        }
    }
    out.findings
        .sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule_id.cmp(&b.rule_id)));
    out.spaces
        .sort_by(|a, b| b.score.cmp(&a.score).then(a.space_key.cmp(&b.space_key)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, h, 0, 0).unwrap()
    }

    #[test]
    fn watermark_moves_only_when_a_run_completes_and_resume_keeps_progress() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = StateStore::open(dir.path()).unwrap();
        assert!(s.path().ends_with(FILE_NAME));
        let run = s.begin_run("https://w", "all", t(1)).unwrap();
        assert!(!run.resumed);
        s.space_done(run.id, "OPS", None, &StoredSpace::default())
            .unwrap();
        drop(s);
        // Interrupted: reopen, the same run resumes with OPS done and no watermark yet.
        let mut s = StateStore::open(dir.path()).unwrap();
        assert_eq!(s.watermark("https://w", "OPS").unwrap(), None);
        let again = s.begin_run("https://w", "all", t(5)).unwrap();
        assert!(again.resumed);
        assert_eq!(again.id, run.id);
        assert_eq!(again.started_at, t(1));
        assert_eq!(again.done_spaces, vec!["OPS".to_owned()]);
        assert!(s.space_findings(run.id, "OPS").unwrap().is_some());
        s.space_done(run.id, "DEV", None, &StoredSpace::default())
            .unwrap();
        assert_eq!(s.finish_run(&again, "https://w", t(6)).unwrap(), 2);
        assert_eq!(s.watermark("https://w", "OPS").unwrap(), Some(t(1)));
        assert_eq!(s.watermark("https://w", "DEV").unwrap(), Some(t(1)));
        assert!(s.space_findings(run.id, "OPS").unwrap().is_none());
        // A later run whose explicit since is after the watermark does not move it.
        let r3 = s.begin_run("https://w", "all", t(8)).unwrap();
        assert!(!r3.resumed);
        s.space_done(r3.id, "OPS", Some(t(3)), &StoredSpace::default())
            .unwrap();
        s.space_done(r3.id, "DEV", Some(t(0)), &StoredSpace::default())
            .unwrap();
        assert_eq!(s.finish_run(&r3, "https://w", t(9)).unwrap(), 1);
        assert_eq!(s.watermark("https://w", "OPS").unwrap(), Some(t(1)));
        assert_eq!(s.watermark("https://w", "DEV").unwrap(), Some(t(8)));
    }

    #[test]
    fn shares_a_file_with_other_tables_and_rejects_a_newer_layout() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("state.sqlite3");
        {
            let c = Connection::open(&file).unwrap();
            c.execute_batch(
                "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1);
                 CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
            )
            .unwrap();
        }
        assert_eq!(resolve_path(&file), file);
        StateStore::open(&file).unwrap();
        let c = Connection::open(&file).unwrap();
        let n: i64 = c
            .query_row("SELECT COUNT(*) FROM schema_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1, "the behaviour store's table is left alone");
        c.execute("INSERT INTO scan_state_version VALUES (99)", [])
            .unwrap();
        assert!(matches!(
            StateStore::open(&file),
            Err(StateError::Version { found: 99, .. })
        ));
    }

    #[test]
    fn merge_joins_fingerprints_and_spaces() {
        use confwatch_event::finding::{Category, FindingKind, Location, Severity};
        let f = |fp: &str, sev: Severity, space: &str| Finding {
            fingerprint: fp.into(),
            rule_id: "r".into(),
            rule_name: "r".into(),
            kind: FindingKind::Secret,
            category: Category::Credentials,
            severity: sev,
            validated: false,
            snippet: String::new(),
            secret: None,
            occurrences: 1,
            locations: vec![Location {
                space_key: Some(space.into()),
                ..Location::default()
            }],
        };
        let a = Report {
            findings: vec![f("aa", Severity::Low, "A")],
            spaces: vec![SpaceProfile {
                space_key: "A".into(),
                score: 1,
                ..SpaceProfile::default()
            }],
            documents: 2,
            ..Report::default()
        };
        let b = Report {
            findings: vec![f("aa", Severity::High, "B"), f("bb", Severity::Low, "B")],
            spaces: vec![SpaceProfile {
                space_key: "B".into(),
                score: 9,
                ..SpaceProfile::default()
            }],
            documents: 3,
            ..Report::default()
        };
        let m = merge_reports(vec![a, b], 1000);
        assert_eq!(m.documents, 5);
        assert_eq!(m.findings.len(), 2);
        assert_eq!(m.findings[0].fingerprint, "aa");
        assert_eq!(m.findings[0].occurrences, 2);
        assert_eq!(m.findings[0].severity, Severity::High);
        assert_eq!(m.findings[0].locations.len(), 2);
        assert_eq!(m.spaces[0].space_key, "B");
    }
}
