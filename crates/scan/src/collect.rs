//! Turns document hits into findings: dedupe by fingerprint (one secret in N versions is one
//! finding with N locations), the ignore file, severity floor, and per-space profiles
//! ranked by exposure.

use crate::error::ScanError;
use crate::rules::RuleSet;
use crate::scanner::{DocResult, ScanOptions};
use crate::text::fingerprint;
use confwatch_event::finding::{Category, Finding, FindingKind, Severity, SpaceProfile};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

/// Entries of an ignore file (`.confwatchignore`): one per line, `#` comments.
///
/// - a bare 16-hex-digit fingerprint, or `fingerprint:<hex>`
/// - `rule:<rule id>`
/// - `space:<space key>`
/// - `page:<page id>`
/// - `path:<prefix>` (file inputs)
#[derive(Debug, Clone, Default)]
pub struct IgnoreList {
    pub fingerprints: HashSet<String>,
    pub rules: HashSet<String>,
    pub spaces: HashSet<String>,
    pub pages: HashSet<String>,
    pub paths: Vec<String>,
}

impl IgnoreList {
    pub fn parse(text: &str, path: &Path) -> Result<IgnoreList, ScanError> {
        let mut l = IgnoreList::default();
        for (i, line) in text.lines().enumerate() {
            let t = line.split('#').next().unwrap_or("").trim();
            if t.is_empty() {
                continue;
            }
            match t.split_once(':') {
                Some(("fingerprint", v)) => {
                    l.fingerprints.insert(v.trim().to_ascii_lowercase());
                }
                Some(("rule", v)) => {
                    l.rules.insert(v.trim().to_owned());
                }
                Some(("space", v)) => {
                    l.spaces.insert(v.trim().to_owned());
                }
                Some(("page", v)) => {
                    l.pages.insert(v.trim().to_owned());
                }
                Some(("path", v)) => l.paths.push(v.trim().to_owned()),
                None if t.len() == 16 && t.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    l.fingerprints.insert(t.to_ascii_lowercase());
                }
                _ => {
                    return Err(ScanError::IgnoreFile {
                        path: path.to_owned(),
                        line: i + 1,
                        message: format!(
                            "cannot read {t:?}: expected a fingerprint or rule:/space:/page:/path: entry"
                        ),
                    });
                }
            }
        }
        Ok(l)
    }

    pub fn load(path: &Path) -> Result<IgnoreList, ScanError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScanError::Io {
            path: path.to_owned(),
            source,
        })?;
        IgnoreList::parse(&text, path)
    }
}

#[derive(Default)]
struct SpaceAcc {
    name: Option<String>,
    pages: HashSet<String>,
    cats: BTreeMap<Category, HashSet<String>>,
    secrets: HashSet<String>,
    sensitive: HashSet<String>,
    score: u64,
    max: Severity,
}

/// Accumulates document results into findings.
pub struct Collector {
    options: ScanOptions,
    ignore: IgnoreList,
    index: HashMap<String, usize>,
    findings: Vec<Finding>,
    spaces: BTreeMap<String, SpaceAcc>,
    /// Documents scanned and documents that were not well-formed.
    pub documents: u64,
    pub malformed: u64,
    pub suppressed: u64,
}

/// The result of a scan.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// Spaces ranked by exposure score, highest first.
    pub spaces: Vec<SpaceProfile>,
    pub documents: u64,
    pub malformed: u64,
    pub suppressed: u64,
}

impl Collector {
    pub fn new(options: ScanOptions, ignore: IgnoreList) -> Collector {
        Collector {
            options,
            ignore,
            index: HashMap::new(),
            findings: Vec::new(),
            spaces: BTreeMap::new(),
            documents: 0,
            malformed: 0,
            suppressed: 0,
        }
    }

    /// Adds the result of one document. `page_key` identifies the page across versions
    /// (page id, or file path); `space` is the space key (or input root for files).
    pub fn add(
        &mut self,
        rules: &RuleSet,
        space: &str,
        space_name: Option<&str>,
        page_key: &str,
        res: DocResult,
    ) {
        self.documents += 1;
        if res.malformed {
            self.malformed += 1;
        }
        if self.ignore.spaces.contains(space) || self.ignore.pages.contains(page_key) {
            self.suppressed += res.hits.len() as u64;
            return;
        }
        let acc = self.spaces.entry(space.to_owned()).or_default();
        if acc.name.is_none() {
            acc.name = space_name.map(str::to_owned);
        }
        if acc.pages.len() < 10_000_000 {
            acc.pages.insert(page_key.to_owned());
        }
        for c in &res.categories {
            acc.cats.entry(*c).or_default().insert(page_key.to_owned());
        }
        for h in res.hits {
            let Some(rule) = rules.rules.get(h.rule) else {
                continue;
            };
            if rule.severity < self.options.min_severity {
                continue;
            }
            let fp = fingerprint(&h.secret);
            if self.ignore.fingerprints.contains(&fp)
                || self.ignore.rules.contains(&rule.def.id)
                || h.location
                    .path
                    .as_deref()
                    .is_some_and(|p| self.ignore.paths.iter().any(|i| p.starts_with(i.as_str())))
            {
                self.suppressed += 1;
                continue;
            }
            let acc = self.spaces.entry(space.to_owned()).or_default();
            let new_in_space = match rule.kind {
                FindingKind::Secret => acc.secrets.insert(fp.clone()),
                FindingKind::Sensitive => acc.sensitive.insert(fp.clone()),
            };
            if new_in_space {
                acc.score += rule.severity.weight();
                acc.max = acc.max.max(rule.severity);
            }
            match self.index.get(&fp).and_then(|&i| self.findings.get_mut(i)) {
                Some(f) => {
                    f.occurrences += 1;
                    f.validated |= h.validated;
                    if rule.severity > f.severity {
                        f.severity = rule.severity;
                    }
                    if f.locations.len() < self.options.max_locations {
                        f.locations.push(h.location);
                    }
                }
                None => {
                    let show = self.options.show_secrets;
                    self.index.insert(fp.clone(), self.findings.len());
                    self.findings.push(Finding {
                        fingerprint: fp,
                        rule_id: rule.def.id.clone(),
                        rule_name: rule.def.name.clone(),
                        kind: rule.kind,
                        category: rule.category,
                        severity: rule.severity,
                        validated: h.validated,
                        snippet: if show { h.snippet_clear } else { h.snippet },
                        secret: show.then_some(h.secret),
                        occurrences: 1,
                        locations: vec![h.location],
                    });
                }
            }
        }
    }

    /// Finishes: findings sorted by severity (highest first) then first location; spaces
    /// ranked by score.
    pub fn finish(self) -> Report {
        let mut findings = self.findings;
        findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule_id.cmp(&b.rule_id)));
        let mut spaces: Vec<SpaceProfile> = self
            .spaces
            .into_iter()
            .map(|(key, acc)| {
                let categories: BTreeMap<Category, u64> =
                    acc.cats.iter().map(|(c, s)| (*c, s.len() as u64)).collect();
                let cat_score: u64 = categories
                    .iter()
                    .map(|(c, n)| {
                        let w = match c {
                            Category::Credentials => 5,
                            Category::NetworkDiagrams | Category::ArchitectureDiagrams => 3,
                            Category::NetworkShares | Category::TechnicalDocumentation => 2,
                            _ => 1,
                        };
                        w * (*n).min(100)
                    })
                    .sum();
                let score = acc.score + cat_score;
                let sensitivity = if acc.max >= Severity::High {
                    acc.max
                } else if categories.contains_key(&Category::Credentials)
                    || categories.contains_key(&Category::NetworkDiagrams)
                    || categories.contains_key(&Category::ArchitectureDiagrams)
                {
                    Severity::Medium.max(acc.max)
                } else if categories.is_empty() {
                    acc.max
                } else {
                    Severity::Low.max(acc.max)
                };
                SpaceProfile {
                    space_key: key,
                    space_name: acc.name,
                    pages: acc.pages.len() as u64,
                    secrets: acc.secrets.len() as u64,
                    sensitive: acc.sensitive.len() as u64,
                    max_severity: acc.max,
                    categories,
                    score,
                    sensitivity,
                }
            })
            .collect();
        spaces.sort_by(|a, b| b.score.cmp(&a.score).then(a.space_key.cmp(&b.space_key)));
        Report {
            findings,
            spaces,
            documents: self.documents,
            malformed: self.malformed,
            suppressed: self.suppressed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_file_parses_all_forms() {
        let l = IgnoreList::parse(
            "# comment\n0123456789abcdef\nrule:private-ipv4\nspace:SANDBOX # test space\npage:42\npath:docs/\n",
            Path::new("x"),
        )
        .unwrap();
        assert!(l.fingerprints.contains("0123456789abcdef"));
        assert!(l.rules.contains("private-ipv4"));
        assert!(l.spaces.contains("SANDBOX"));
        assert!(l.pages.contains("42"));
        assert_eq!(l.paths, vec!["docs/".to_owned()]);
        assert!(IgnoreList::parse("what is this", Path::new("x")).is_err());
    }
}
