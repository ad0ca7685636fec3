//! Privileged accounts from a directory (Active Directory or OpenLDAP): the members of the
//! privileged groups (Domain Admins, Enterprise Admins, Schema Admins and configured ones),
//! resolved once before the hunt so no event waits on the network.
//!
//! Groups are found by `cn` (`group`, `groupOfNames`, `groupOfUniqueNames`, `posixGroup`);
//! members come from `member`/`uniqueMember` (nested groups are followed) and `memberUid`.
//! An account's name is its `sAMAccountName`, else `uid`, else `cn`, lower-cased — what
//! Confluence logs as the user name when it is connected to the directory.

use crate::config::PrivilegedAccounts;
use crate::error::DetectError;
use ldap3::{LdapConn, LdapConnSettings, Scope, SearchEntry, ldap_escape};
use std::collections::{BTreeSet, HashSet, VecDeque};
use std::time::Duration;

/// Groups whose members are always privileged.
pub const DEFAULT_PRIVILEGED_GROUPS: &[&str] =
    &["Domain Admins", "Enterprise Admins", "Schema Admins"];

/// Environment variables holding the bind credentials (never on the command line).
pub const ENV_BIND_DN: &str = "CONFWATCH_LDAP_BIND_DN";
pub const ENV_PASSWORD: &str = "CONFWATCH_LDAP_PASSWORD";

/// Upper bound on directory entries read while expanding groups.
const MAX_ENTRIES: usize = 100_000;

/// How to reach the directory.
#[derive(Debug, Clone)]
pub struct LdapSettings {
    /// `ldap://host:389` or `ldaps://host:636`.
    pub url: String,
    /// Search base; `None` asks the server (RootDSE `defaultNamingContext`/`namingContexts`).
    pub base_dn: Option<String>,
    pub bind_dn: Option<String>,
    pub password: Option<String>,
    /// Extra groups besides [`DEFAULT_PRIVILEGED_GROUPS`].
    pub groups: Vec<String>,
    /// Upgrade `ldap://` with StartTLS.
    pub starttls: bool,
    pub timeout: Duration,
}

impl LdapSettings {
    /// Settings for `url`, with bind credentials from the environment.
    pub fn from_env(url: &str, base_dn: Option<String>, groups: Vec<String>) -> LdapSettings {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        LdapSettings {
            url: url.to_owned(),
            base_dn,
            bind_dn: var(ENV_BIND_DN),
            password: var(ENV_PASSWORD),
            groups,
            starttls: false,
            timeout: Duration::from_secs(10),
        }
    }

    fn all_groups(&self) -> Vec<String> {
        let mut out: Vec<String> = DEFAULT_PRIVILEGED_GROUPS
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        for g in &self.groups {
            if !out.iter().any(|o| o.eq_ignore_ascii_case(g)) {
                out.push(g.clone());
            }
        }
        out
    }
}

/// What the directory said.
#[derive(Debug, Clone, Default)]
pub struct DirectoryPrivileges {
    pub accounts: PrivilegedAccounts,
    /// Group names found, and those asked for but absent.
    pub groups_found: Vec<String>,
    pub groups_missing: Vec<String>,
}

fn err(context: &str, e: impl std::fmt::Display) -> DetectError {
    DetectError::Ldap(format!("{context}: {e}"))
}

fn first<'a>(e: &'a SearchEntry, attr: &str) -> Option<&'a str> {
    e.attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attr))
        .and_then(|(_, v)| v.first())
        .map(String::as_str)
}

fn all<'a>(e: &'a SearchEntry, attr: &str) -> impl Iterator<Item = &'a String> {
    e.attrs
        .iter()
        .filter(move |(k, _)| k.eq_ignore_ascii_case(attr))
        .flat_map(|(_, v)| v.iter())
}

fn is_group(e: &SearchEntry) -> bool {
    all(e, "objectClass").any(|c| {
        matches!(
            c.to_ascii_lowercase().as_str(),
            "group" | "groupofnames" | "groupofuniquenames" | "posixgroup"
        )
    })
}

fn take_members(e: &SearchEntry, queue: &mut VecDeque<String>, out: &mut DirectoryPrivileges) {
    for dn in all(e, "member").chain(all(e, "uniqueMember")) {
        queue.push_back(dn.clone());
    }
    for uid in all(e, "memberUid") {
        out.accounts.add(uid);
    }
}

const ATTRS: [&str; 8] = [
    "objectClass",
    "cn",
    "sAMAccountName",
    "uid",
    "member",
    "uniqueMember",
    "memberUid",
    "distinguishedName",
];

/// Connects, binds and resolves the members of the privileged groups.
pub fn resolve_privileged(s: &LdapSettings) -> Result<DirectoryPrivileges, DetectError> {
    let settings = LdapConnSettings::new()
        .set_conn_timeout(s.timeout)
        .set_starttls(s.starttls);
    let mut ldap = LdapConn::with_settings(settings, &s.url).map_err(|e| err(&s.url, e))?;
    ldap.with_timeout(s.timeout);
    match (&s.bind_dn, &s.password) {
        (Some(dn), Some(pw)) => {
            ldap.simple_bind(dn, pw)
                .and_then(|r| r.success())
                .map_err(|e| err("bind", e))?;
        }
        (Some(_), None) => {
            return Err(DetectError::Ldap(format!(
                "{ENV_BIND_DN} is set but {ENV_PASSWORD} is not"
            )));
        }
        // Anonymous: some directories allow reading group membership.
        _ => {}
    }
    let base = match &s.base_dn {
        Some(b) => b.clone(),
        None => {
            let (entries, _) = ldap
                .search(
                    "",
                    Scope::Base,
                    "(objectClass=*)",
                    vec!["defaultNamingContext", "namingContexts"],
                )
                .and_then(|r| r.success())
                .map_err(|e| err("reading the RootDSE", e))?;
            entries
                .into_iter()
                .map(SearchEntry::construct)
                .find_map(|e| {
                    first(&e, "defaultNamingContext")
                        .or_else(|| first(&e, "namingContexts"))
                        .map(str::to_owned)
                })
                .ok_or_else(|| DetectError::Ldap("no search base: pass --ldap-base".into()))?
        }
    };
    let groups = s.all_groups();
    let names: String = groups
        .iter()
        .map(|g| format!("(cn={})", ldap_escape(g.as_str())))
        .collect();
    let filter = format!(
        "(&(|(objectClass=group)(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))(|{names}))"
    );
    let (entries, _) = ldap
        .search(&base, Scope::Subtree, &filter, ATTRS.to_vec())
        .and_then(|r| r.success())
        .map_err(|e| err("searching groups", e))?;
    let mut out = DirectoryPrivileges::default();
    let mut found: BTreeSet<String> = BTreeSet::new();
    let mut queue: VecDeque<String> = VecDeque::new();
    let mut seen: HashSet<String> = HashSet::new();
    for e in entries.into_iter().map(SearchEntry::construct) {
        if let Some(cn) = first(&e, "cn") {
            found.insert(cn.to_owned());
        }
        seen.insert(e.dn.to_lowercase());
        take_members(&e, &mut queue, &mut out);
    }
    while let Some(dn) = queue.pop_front() {
        if seen.len() >= MAX_ENTRIES {
            return Err(DetectError::Ldap(format!(
                "more than {MAX_ENTRIES} entries under the privileged groups"
            )));
        }
        if !seen.insert(dn.to_lowercase()) {
            continue;
        }
        let entry = match ldap
            .search(&dn, Scope::Base, "(objectClass=*)", ATTRS.to_vec())
            .and_then(|r| r.success())
        {
            Ok((mut v, _)) => match v.pop() {
                Some(e) => SearchEntry::construct(e),
                None => continue,
            },
            // A dangling member DN (deleted account) is not an error of the hunt.
            Err(_) => continue,
        };
        if is_group(&entry) {
            take_members(&entry, &mut queue, &mut out);
        } else if let Some(name) = first(&entry, "sAMAccountName")
            .or_else(|| first(&entry, "uid"))
            .or_else(|| first(&entry, "cn"))
        {
            out.accounts.add(name);
        }
    }
    let _ = ldap.unbind();
    for g in groups {
        if found.iter().any(|f| f.eq_ignore_ascii_case(&g)) {
            out.groups_found.push(g);
        } else {
            out.groups_missing.push(g);
        }
    }
    Ok(out)
}
