//! Hunt configuration (`--config FILE`, TOML): thresholds, allowlists with reasons,
//! sensitive search terms, privileged accounts and groups; and the privileged-account
//! seam ([`PrivilegeSource`]) that the account list implements today and LDAP later.

use crate::error::DetectError;
use confwatch_event::alert::{Alert, Severity};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

/// The credential terms searched for by default (the `sensitive_terms` selection of the
/// credential-search rules, kept in sync with `rules/confluence/`).
pub const DEFAULT_SENSITIVE_TERMS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "credential",
    "secret",
    "token",
    "api key",
    "apikey",
    "api_key",
    "private key",
    "ssh",
    "vpn",
    "aws",
    "azure",
    "admin",
    "root",
];

/// One allowlist entry: every given criterion must match the alert. `reason` is
/// mandatory so the suppression is explained in the report.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AllowEntry {
    /// Rule name (or Sigma id) the entry applies to; absent = every rule.
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    /// An address or a CIDR block; matches when every source IP of the alert is inside.
    #[serde(default)]
    pub client_ip: Option<String>,
    /// Case-insensitive substring of a user agent seen in the evidence.
    #[serde(default)]
    pub user_agent: Option<String>,
    pub reason: String,
}

/// The `--config` file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HuntConfig {
    /// Rule name (or id) → new threshold for its correlation condition.
    #[serde(default)]
    pub thresholds: BTreeMap<String, u64>,
    /// Extra search terms added to every rule's `sensitive_terms` selection.
    #[serde(default)]
    pub sensitive_terms: Vec<String>,
    /// Accounts treated as privileged, in addition to `--privileged-accounts`.
    #[serde(default)]
    pub privileged_accounts: Vec<String>,
    /// Directory groups whose members are privileged (used by the LDAP source; the
    /// defaults Domain Admins, Enterprise Admins and Schema Admins always apply there).
    #[serde(default)]
    pub privileged_groups: Vec<String>,
    #[serde(default)]
    pub allow: Vec<AllowEntry>,
    /// Alerts below this severity are dropped.
    #[serde(default)]
    pub min_severity: Option<Severity>,
}

impl HuntConfig {
    pub fn from_toml_str(text: &str, path: &str) -> Result<HuntConfig, DetectError> {
        let cfg: HuntConfig = toml::from_str(text).map_err(|e| DetectError::Config {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        for a in &cfg.allow {
            if a.reason.trim().is_empty() {
                return Err(DetectError::Config {
                    path: path.to_owned(),
                    reason: "every [[allow]] entry needs a non-empty reason".into(),
                });
            }
            if let Some(ip) = &a.client_ip
                && parse_cidr(ip).is_none()
            {
                return Err(DetectError::Config {
                    path: path.to_owned(),
                    reason: format!("[[allow]] client_ip {ip:?} is not an address or CIDR"),
                });
            }
        }
        Ok(cfg)
    }

    pub fn load(path: &std::path::Path) -> Result<HuntConfig, DetectError> {
        let text = std::fs::read_to_string(path).map_err(|source| DetectError::Io {
            path: path.display().to_string(),
            source,
        })?;
        HuntConfig::from_toml_str(&text, &path.display().to_string())
    }

    /// Every sensitive term: the defaults plus the configured ones, lower-cased.
    pub fn all_sensitive_terms(&self) -> Vec<String> {
        let mut out: Vec<String> = DEFAULT_SENSITIVE_TERMS
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        for t in &self.sensitive_terms {
            let t = t.trim().to_lowercase();
            if !t.is_empty() && !out.contains(&t) {
                out.push(t);
            }
        }
        out
    }

    /// The first allowlist entry that suppresses `alert`, if any.
    pub fn allowed_by(&self, alert: &Alert) -> Option<&AllowEntry> {
        self.allow.iter().find(|a| allow_matches(a, alert))
    }
}

fn allow_matches(a: &AllowEntry, alert: &Alert) -> bool {
    if let Some(rule) = &a.rule
        && rule != &alert.rule_id
        && Some(rule) != alert.rule_uuid.as_ref()
    {
        return false;
    }
    if let Some(user) = &a.user
        && !alert
            .user
            .as_deref()
            .is_some_and(|u| u.eq_ignore_ascii_case(user))
    {
        return false;
    }
    if let Some(net) = &a.client_ip {
        let Some((base, bits)) = parse_cidr(net) else {
            return false;
        };
        if alert.source_ips.is_empty()
            || !alert
                .source_ips
                .iter()
                .all(|ip| ip.parse::<IpAddr>().is_ok_and(|ip| in_cidr(ip, base, bits)))
        {
            return false;
        }
    }
    if let Some(ua) = &a.user_agent {
        let ua = ua.to_lowercase();
        let seen = alert.evidence.values.get("user_agents");
        if !seen.is_some_and(|v| v.iter().any(|s| s.to_lowercase().contains(&ua))) {
            return false;
        }
    }
    true
}

/// Parses `10.0.0.0/8`, `2001:db8::/32` or a bare address.
pub fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (ip, bits) = match s.split_once('/') {
        Some((ip, bits)) => (
            ip.trim().parse::<IpAddr>().ok()?,
            Some(bits.trim().parse::<u8>().ok()?),
        ),
        None => (s.trim().parse::<IpAddr>().ok()?, None),
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(max);
    (bits <= max).then_some((ip, bits))
}

fn in_cidr(ip: IpAddr, base: IpAddr, bits: u8) -> bool {
    match (ip, base) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// Answers "is this account privileged?". The account list implements it today; an
/// LDAP-backed source (group membership) plugs in here later.
pub trait PrivilegeSource {
    fn is_privileged(&self, user: &str) -> bool;
}

/// Privileged accounts from `--privileged-accounts FILE` and the config: one account per
/// line, `#` starts a comment, compared case-insensitively.
#[derive(Debug, Clone, Default)]
pub struct PrivilegedAccounts {
    names: HashSet<String>,
}

impl PrivilegedAccounts {
    pub fn from_names<I: IntoIterator<Item = S>, S: AsRef<str>>(names: I) -> PrivilegedAccounts {
        let mut p = PrivilegedAccounts::default();
        for n in names {
            p.add(n.as_ref());
        }
        p
    }

    /// Parses the file format (one account per line, `#` comments, blank lines ignored).
    pub fn parse(text: &str) -> PrivilegedAccounts {
        PrivilegedAccounts::from_names(text.lines().map(|l| l.split('#').next().unwrap_or("")))
    }

    pub fn load(path: &std::path::Path) -> Result<PrivilegedAccounts, DetectError> {
        let text = std::fs::read_to_string(path).map_err(|source| DetectError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Ok(PrivilegedAccounts::parse(&text))
    }

    pub fn add(&mut self, name: &str) {
        let n = name.trim();
        if !n.is_empty() {
            self.names.insert(n.to_lowercase());
        }
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// The accounts, lower-cased, in no particular order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

impl PrivilegeSource for PrivilegedAccounts {
    fn is_privileged(&self, user: &str) -> bool {
        if self.names.is_empty() {
            return false;
        }
        // Avoid allocating for the common all-lower-case name.
        if user.bytes().any(|b| b.is_ascii_uppercase()) || !user.is_ascii() {
            self.names.contains(&user.to_lowercase())
        } else {
            self.names.contains(user)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_parses_and_requires_reasons() {
        let cfg = HuntConfig::from_toml_str(
            r#"
sensitive_terms = ["Payroll", "kdbx"]
min_severity = "medium"
[thresholds]
confluence_distinct_pages_hour = 300
[[allow]]
rule = "confluence_scripted_client"
user = "svc-backup"
reason = "nightly backup"
"#,
            "c.toml",
        )
        .unwrap();
        assert_eq!(cfg.thresholds["confluence_distinct_pages_hour"], 300);
        assert_eq!(cfg.min_severity, Some(Severity::Medium));
        let terms = cfg.all_sensitive_terms();
        assert!(terms.contains(&"payroll".to_string()) && terms.contains(&"password".to_string()));
        let bad = HuntConfig::from_toml_str("[[allow]]\nuser='x'\nreason=' '\n", "c.toml");
        assert!(bad.unwrap_err().to_string().contains("reason"));
        let unknown = HuntConfig::from_toml_str("bogus = 1\n", "c.toml");
        assert!(unknown.is_err());
    }

    #[test]
    fn privileged_file_format() {
        let p = PrivilegedAccounts::parse("# admins\nAdmin\n  svc-root  # service\n\n");
        assert_eq!(p.len(), 2);
        assert!(p.is_privileged("admin"));
        assert!(p.is_privileged("ADMIN"));
        assert!(p.is_privileged("svc-root"));
        assert!(!p.is_privileged("jdoe"));
    }

    #[test]
    fn cidr_matching() {
        let (b, n) = parse_cidr("10.1.0.0/16").unwrap();
        assert!(in_cidr("10.1.200.3".parse().unwrap(), b, n));
        assert!(!in_cidr("10.2.0.1".parse().unwrap(), b, n));
        assert!(parse_cidr("10.0.0.0/33").is_none());
        let (b, n) = parse_cidr("2001:db8::/32").unwrap();
        assert!(in_cidr("2001:db8::1".parse().unwrap(), b, n));
        let (b, n) = parse_cidr("0.0.0.0/0").unwrap();
        assert!(in_cidr("8.8.8.8".parse().unwrap(), b, n));
    }
}
