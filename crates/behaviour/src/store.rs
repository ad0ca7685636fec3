//! The state store: baselines and routine memory persisted in SQLite between runs, so a
//! daily `confwatch hunt --state DIR` builds on every earlier run without re-reading old
//! logs.
//!
//! One file, `DIR/confwatch-state.sqlite3`. Rows hold one user's (or group's) baseline as
//! JSON. A `schema_version` table guards against a newer or older layout. Every save is one
//! transaction: a crash mid-write leaves the previous state intact (SQLite's journal).

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::engine::{EngineState, GroupBaseline, UserBaseline};
use crate::routine::RoutineMemory;

/// The layout this version reads and writes.
pub const SCHEMA_VERSION: i64 = 1;

/// The database file inside the state folder.
pub const FILE_NAME: &str = "confwatch-state.sqlite3";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create state folder {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
    #[error("state database {path}: {source}")]
    Sql {
        path: String,
        source: rusqlite::Error,
    },
    #[error(
        "state database {path} has schema version {found}; this confwatch reads version {SCHEMA_VERSION}"
    )]
    Version { path: String, found: i64 },
    #[error("state database {path}: stored {what} is not valid: {source}")]
    Json {
        path: String,
        what: String,
        source: serde_json::Error,
    },
    #[error("no default state folder: neither XDG_STATE_HOME nor HOME is set")]
    NoDefault,
}

/// Where state lives when `--state` is not given: `$XDG_STATE_HOME/confwatch`, else
/// `~/.local/state/confwatch`.
pub fn default_dir() -> Result<PathBuf, StoreError> {
    let from = |var: &str| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(x) = from("XDG_STATE_HOME") {
        return Ok(x.join("confwatch"));
    }
    from("HOME")
        .map(|h| h.join(".local").join("state").join("confwatch"))
        .ok_or(StoreError::NoDefault)
}

/// An open state store.
pub struct Store {
    conn: Connection,
    path: String,
}

impl Store {
    /// Opens (creating if needed) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Dir {
            path: dir.display().to_string(),
            source,
        })?;
        let file = dir.join(FILE_NAME);
        let path = file.display().to_string();
        let conn = Connection::open(&file).map_err(|source| StoreError::Sql {
            path: path.clone(),
            source,
        })?;
        let mut store = Store { conn, path };
        store.init()?;
        Ok(store)
    }

    fn sql<T>(&self, r: Result<T, rusqlite::Error>) -> Result<T, StoreError> {
        r.map_err(|source| StoreError::Sql {
            path: self.path.clone(),
            source,
        })
    }

    fn init(&mut self) -> Result<(), StoreError> {
        // FULL sync: a committed save survives a power cut, not just a process crash.
        let r = self.conn.execute_batch(
            "PRAGMA synchronous = FULL;
             PRAGMA busy_timeout = 5000;
             CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);",
        );
        self.sql(r)?;
        let found: Option<i64> = {
            let r = self
                .conn
                .query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0));
            self.sql(r)?
        };
        match found {
            None => {
                let path = self.path.clone();
                let r = self.conn.transaction().and_then(|tx| {
                    tx.execute_batch(
                        "CREATE TABLE user_baseline (user TEXT PRIMARY KEY, json TEXT NOT NULL);
                         CREATE TABLE group_baseline (name TEXT PRIMARY KEY, json TEXT NOT NULL);
                         CREATE TABLE routine (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL);
                         CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
                    )?;
                    tx.execute(
                        "INSERT INTO schema_version (version) VALUES (?1)",
                        params![SCHEMA_VERSION],
                    )?;
                    tx.commit()
                });
                r.map_err(|source| StoreError::Sql { path, source })
            }
            Some(v) if v == SCHEMA_VERSION => Ok(()),
            Some(found) => Err(StoreError::Version {
                path: self.path.clone(),
                found,
            }),
        }
    }

    fn json<T: serde::de::DeserializeOwned>(&self, what: &str, s: &str) -> Result<T, StoreError> {
        serde_json::from_str(s).map_err(|source| StoreError::Json {
            path: self.path.clone(),
            what: what.to_string(),
            source,
        })
    }

    /// Everything saved: engine state and routine memory (empty for a new store).
    pub fn load(&self) -> Result<(EngineState, RoutineMemory), StoreError> {
        let mut state = EngineState::default();
        for (user, json) in self.rows("SELECT user, json FROM user_baseline")? {
            let b: UserBaseline = self.json(&format!("baseline of {user}"), &json)?;
            state.users.insert(user, b);
        }
        for (name, json) in self.rows("SELECT name, json FROM group_baseline")? {
            let g: GroupBaseline = self.json(&format!("peer group {name}"), &json)?;
            state.groups.insert(name, g);
        }
        let last: Option<String> = {
            let r = self
                .conn
                .query_row("SELECT value FROM meta WHERE key = 'last_day'", [], |r| {
                    r.get(0)
                })
                .optional();
            self.sql(r)?
        };
        state.last_day = last.and_then(|s| s.parse().ok());
        let routine: Option<String> = {
            let r = self
                .conn
                .query_row("SELECT json FROM routine WHERE id = 1", [], |r| r.get(0))
                .optional();
            self.sql(r)?
        };
        let routine = match routine {
            Some(j) => self.json("routine memory", &j)?,
            None => RoutineMemory::default(),
        };
        Ok((state, routine))
    }

    fn rows(&self, query: &str) -> Result<Vec<(String, String)>, StoreError> {
        let r = self.conn.prepare(query).and_then(|mut st| {
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        });
        self.sql(r)
    }

    /// One user's saved baseline.
    pub fn user(&self, user: &str) -> Result<Option<UserBaseline>, StoreError> {
        let json: Option<String> = {
            let r = self
                .conn
                .query_row(
                    "SELECT json FROM user_baseline WHERE user = ?1",
                    params![user],
                    |r| r.get(0),
                )
                .optional();
            self.sql(r)?
        };
        json.map(|j| self.json(&format!("baseline of {user}"), &j))
            .transpose()
    }

    /// Users with a saved baseline, sorted.
    pub fn users(&self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .rows("SELECT user, '' FROM user_baseline ORDER BY user")?
            .into_iter()
            .map(|(u, _)| u)
            .collect())
    }

    /// Saves the whole state in one transaction (all or nothing).
    pub fn save(&mut self, state: &EngineState, routine: &RoutineMemory) -> Result<(), StoreError> {
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(|source| StoreError::Sql {
            path: path.clone(),
            source,
        })?;
        write(&tx, state, routine, &path)?;
        tx.commit()
            .map_err(|source| StoreError::Sql { path, source })
    }
}

/// Writes everything inside `tx` (the caller commits).
fn write(
    tx: &Transaction<'_>,
    state: &EngineState,
    routine: &RoutineMemory,
    path: &str,
) -> Result<(), StoreError> {
    let sql = |source| StoreError::Sql {
        path: path.to_string(),
        source,
    };
    let ser = |what: &str, source| StoreError::Json {
        path: path.to_string(),
        what: what.to_string(),
        source,
    };
    {
        let mut st = tx
            .prepare("INSERT OR REPLACE INTO user_baseline (user, json) VALUES (?1, ?2)")
            .map_err(sql)?;
        for (user, b) in &state.users {
            let j = serde_json::to_string(b).map_err(|e| ser(user, e))?;
            st.execute(params![user, j]).map_err(sql)?;
        }
        let mut st = tx
            .prepare("INSERT OR REPLACE INTO group_baseline (name, json) VALUES (?1, ?2)")
            .map_err(sql)?;
        for (name, g) in &state.groups {
            let j = serde_json::to_string(g).map_err(|e| ser(name, e))?;
            st.execute(params![name, j]).map_err(sql)?;
        }
    }
    let j = serde_json::to_string(routine).map_err(|e| ser("routine memory", e))?;
    tx.execute(
        "INSERT OR REPLACE INTO routine (id, json) VALUES (1, ?1)",
        params![j],
    )
    .map_err(sql)?;
    if let Some(d) = state.last_day {
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('last_day', ?1)",
            params![d.to_string()],
        )
        .map_err(sql)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BehaviourConfig;
    use chrono::NaiveDate;

    fn state_with(user: &str, days: u32) -> EngineState {
        let cfg = BehaviourConfig::default();
        let mut s = EngineState::default();
        let mut b = UserBaseline::new(&cfg);
        b.active_days = days;
        b.last_active = NaiveDate::from_ymd_opt(2026, 3, 2);
        s.users.insert(user.to_string(), b);
        s.last_day = NaiveDate::from_ymd_opt(2026, 3, 2);
        s
    }

    #[test]
    fn saves_and_loads_across_opens() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut st = Store::open(dir.path()).unwrap();
            assert!(st.load().unwrap().0.users.is_empty());
            st.save(&state_with("alice", 7), &RoutineMemory::default())
                .unwrap();
        }
        let st = Store::open(dir.path()).unwrap();
        let (s, _) = st.load().unwrap();
        assert_eq!(s.users["alice"].active_days, 7);
        assert_eq!(s.last_day, NaiveDate::from_ymd_opt(2026, 3, 2));
        assert_eq!(st.user("alice").unwrap().unwrap().active_days, 7);
        assert!(st.user("bob").unwrap().is_none());
        assert_eq!(st.users().unwrap(), vec!["alice".to_string()]);
    }

    #[test]
    fn uncommitted_write_leaves_previous_state() {
        let dir = tempfile::tempdir().unwrap();
        let mut st = Store::open(dir.path()).unwrap();
        st.save(&state_with("alice", 3), &RoutineMemory::default())
            .unwrap();
        {
            // A crash mid-save: the transaction is written to but never committed.
            let tx = st.conn.transaction().unwrap();
            write(
                &tx,
                &state_with("alice", 99),
                &RoutineMemory::default(),
                "t",
            )
            .unwrap();
            drop(tx);
        }
        assert_eq!(st.load().unwrap().0.users["alice"].active_days, 3);
    }

    #[test]
    fn other_schema_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let c = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        c.execute("UPDATE schema_version SET version = 2", [])
            .unwrap();
        drop(c);
        assert!(matches!(
            Store::open(dir.path()),
            Err(StoreError::Version { found: 2, .. })
        ));
    }
}
