//! Peer groups: who a user is compared with. From a directory CSV (`user,department`, as
//! `confwatch simulate` writes `users.csv` and an LDAP/HR export would give), or, for users
//! it does not name, from co-access: users whose most-read space is the same are peers.

use std::collections::HashMap;
use std::path::Path;

use crate::BehaviourError;

/// At most this many directory rows are read (memory bound).
pub const MAX_DIRECTORY_ROWS: usize = 1_000_000;

/// User → peer group, from a directory.
#[derive(Debug, Clone, Default)]
pub struct Peers {
    groups: HashMap<String, String>,
}

impl Peers {
    /// No directory: every user is grouped by co-access.
    pub fn none() -> Peers {
        Peers::default()
    }

    /// Reads a CSV with a header naming a user column (`user`, `username`, `login`, `name`)
    /// and a group column (`department`, `dept`, `group`, `team`).
    pub fn from_csv_path(path: &Path) -> Result<Peers, BehaviourError> {
        let text = std::fs::read_to_string(path).map_err(|source| BehaviourError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Peers::from_csv(&text).map_err(|reason| BehaviourError::Peers {
            path: path.display().to_string(),
            reason,
        })
    }

    /// Parses CSV text (see [`Peers::from_csv_path`]).
    pub fn from_csv(text: &str) -> Result<Peers, String> {
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header = lines.next().ok_or("empty file")?;
        let cols: Vec<String> = split_csv(header)
            .into_iter()
            .map(|c| c.trim().to_ascii_lowercase())
            .collect();
        let find = |names: &[&str]| cols.iter().position(|c| names.contains(&c.as_str()));
        let ui = find(&["user", "username", "login", "name", "user_name"])
            .ok_or("no user column (user, username, login) in the header")?;
        let gi = find(&["department", "dept", "group", "team"])
            .ok_or("no department column (department, dept, group, team) in the header")?;
        let mut groups = HashMap::new();
        for line in lines.take(MAX_DIRECTORY_ROWS) {
            let f = split_csv(line);
            if let (Some(u), Some(g)) = (f.get(ui), f.get(gi)) {
                let (u, g) = (u.trim(), g.trim());
                if !u.is_empty() && !g.is_empty() {
                    groups.insert(u.to_string(), g.to_string());
                }
            }
        }
        Ok(Peers { groups })
    }

    /// Adds or replaces one user's group.
    pub fn insert(&mut self, user: &str, group: &str) {
        self.groups.insert(user.to_string(), group.to_string());
    }

    /// The directory group of `user`, if the directory names them.
    pub fn group_of(&self, user: &str) -> Option<&str> {
        self.groups.get(user).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

/// Splits one CSV line, honouring double quotes (`"a, b"`, `""` for a quote).
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_simulator_header_and_quotes() {
        let p = Peers::from_csv(
            "username,display_name,department,email,utc_offset_minutes\n\
             jsmith,\"Smith, John\",finance,jsmith@corp.example,60\n\
             adoe,Ann Doe,engineering,adoe@corp.example,60\n",
        )
        .unwrap();
        assert_eq!(p.group_of("jsmith"), Some("finance"));
        assert_eq!(p.group_of("adoe"), Some("engineering"));
        assert_eq!(p.group_of("nobody"), None);
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn rejects_header_without_department() {
        assert!(Peers::from_csv("user,email\na,b\n").is_err());
        assert!(Peers::from_csv("").is_err());
    }
}
