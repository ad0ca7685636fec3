//! Rules as data: the TOML rule files under `rules/secrets/` (embedded in the binary),
//! their schema, and compilation into matchers.
//!
//! Every regex is compiled with `regex::bytes` and Unicode mode off: Unicode classes in
//! large patterns fall off the lazy DFA and run far slower, and secrets are ASCII anyway
//! (non-ASCII letters in keywords such as `contraseña` still match as UTF-8 bytes). A rule
//! lists literal `keywords`; one keyword-automaton pass over the text decides which rules run
//! and where ([`crate::text::KeywordMatcher`]).

use crate::error::ScanError;
use crate::text::KeywordMatcher;
use confwatch_event::finding::{Category, FindingKind, Severity};
use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;

/// The rule files shipped in the binary: (file name, contents).
pub const EMBEDDED_RULE_FILES: &[(&str, &str)] = &[
    (
        "cloud.toml",
        include_str!("../../../rules/secrets/cloud.toml"),
    ),
    (
        "vcs-ci.toml",
        include_str!("../../../rules/secrets/vcs-ci.toml"),
    ),
    (
        "saas.toml",
        include_str!("../../../rules/secrets/saas.toml"),
    ),
    (
        "keys.toml",
        include_str!("../../../rules/secrets/keys.toml"),
    ),
    (
        "connection.toml",
        include_str!("../../../rules/secrets/connection.toml"),
    ),
    (
        "generic.toml",
        include_str!("../../../rules/secrets/generic.toml"),
    ),
    (
        "network.toml",
        include_str!("../../../rules/secrets/network.toml"),
    ),
];

/// Values no rule reports, whatever matched them (AWS's documented example keys, ...).
pub const EMBEDDED_ALLOWLIST: &str = include_str!("../../../rules/secrets/allowlist.toml");

/// How a rule finds candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Engine {
    /// A regex over the extracted text.
    #[default]
    Regex,
    /// A table column whose header matches `header`; every data cell below is a candidate.
    TableColumn,
    /// A table row whose first cell matches `header`; the next cell is the candidate.
    TableRow,
}

/// One rule as written in a rule file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDef {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "default_kind")]
    pub kind: String,
    #[serde(default = "default_category")]
    pub category: String,
    pub severity: String,
    #[serde(default)]
    pub engine: Engine,
    /// Literals (matched ASCII case-insensitively); the rule runs only when one occurs.
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub regex: Option<String>,
    /// For table engines: the header cell (or first cell) pattern.
    #[serde(default)]
    pub header: Option<String>,
    /// Capture group holding the secret: a name or a number. Default: the group named
    /// `secret`, else group 1 if there is one, else the whole match.
    #[serde(default)]
    pub secret_group: Option<String>,
    #[serde(default)]
    pub checksum: Option<String>,
    #[serde(default)]
    pub min_entropy: Option<f64>,
    #[serde(default)]
    pub min_length: Option<usize>,
    /// For multi-line rules: bytes after a keyword occurrence to search (default: to the end
    /// of the keyword's line).
    #[serde(default)]
    pub window: Option<usize>,
    /// Generic rules apply the password plausibility filter and lose overlaps to specific
    /// rules.
    #[serde(default)]
    pub generic: bool,
    /// Regexes on the secret value that silence this rule.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Texts (plain or storage format) the rule must report.
    #[serde(default)]
    pub positives: Vec<String>,
    /// Texts the rule must not report.
    #[serde(default)]
    pub negatives: Vec<String>,
}

fn default_kind() -> String {
    "secret".to_owned()
}
fn default_category() -> String {
    "credentials".to_owned()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<RuleDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowFile {
    #[serde(default)]
    allow: Vec<AllowDef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowDef {
    pub id: String,
    pub regex: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub def: RuleDef,
    pub kind: FindingKind,
    pub category: Category,
    pub severity: Severity,
    pub regex: Option<Regex>,
    pub header: Option<Regex>,
    pub group: GroupRef,
    pub allow: Vec<Regex>,
}

/// Which capture group holds the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupRef {
    Index(usize),
    Name(String),
}

/// All rules, the global allowlist and the keyword prefilter.
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub allow: Vec<(AllowDef, Regex)>,
    /// Every keyword; `keyword_rules[keyword]` lists the rules it enables.
    pub(crate) keywords: KeywordMatcher,
    pub(crate) keyword_rules: Vec<Vec<usize>>,
    /// Rules without keywords: always run.
    pub(crate) always: Vec<usize>,
}

fn compile(pattern: &str, what: &str) -> Result<Regex, ScanError> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(16 << 20)
        .dfa_size_limit(16 << 20)
        .build()
        .map_err(|e| ScanError::RuleRegex {
            rule: what.to_owned(),
            message: e.to_string(),
        })
}

fn parse_kind(s: &str) -> Option<FindingKind> {
    match s {
        "secret" => Some(FindingKind::Secret),
        "sensitive" => Some(FindingKind::Sensitive),
        _ => None,
    }
}

impl Rule {
    fn from_def(def: RuleDef, file: &str) -> Result<Rule, ScanError> {
        let bad = |message: String| ScanError::RuleFile {
            file: file.to_owned(),
            message: format!("rule {}: {message}", def.id),
        };
        let kind =
            parse_kind(&def.kind).ok_or_else(|| bad(format!("unknown kind {}", def.kind)))?;
        let category = Category::parse(&def.category)
            .ok_or_else(|| bad(format!("unknown category {}", def.category)))?;
        let severity = Severity::parse(&def.severity)
            .ok_or_else(|| bad(format!("unknown severity {}", def.severity)))?;
        if let Some(c) = &def.checksum
            && !crate::validate::KNOWN.contains(&c.as_str())
        {
            return Err(bad(format!("unknown checksum {c}")));
        }
        let regex = match (&def.engine, &def.regex) {
            (Engine::Regex, Some(r)) => Some(compile(r, &def.id)?),
            (Engine::Regex, None) => return Err(bad("regex engine needs `regex`".into())),
            (_, Some(r)) => Some(compile(r, &def.id)?),
            (_, None) => None,
        };
        let header = match (&def.engine, &def.header) {
            (Engine::Regex, _) => None,
            (_, Some(h)) => Some(compile(h, &def.id)?),
            (_, None) => return Err(bad("table engines need `header`".into())),
        };
        let group = match &def.secret_group {
            Some(g) => match g.parse::<usize>() {
                Ok(i) => GroupRef::Index(i),
                Err(_) => GroupRef::Name(g.clone()),
            },
            None => match &regex {
                Some(r) if r.capture_names().flatten().any(|n| n == "secret") => {
                    GroupRef::Name("secret".into())
                }
                Some(r) if r.captures_len() > 1 => GroupRef::Index(1),
                _ => GroupRef::Index(0),
            },
        };
        let allow = def
            .allow
            .iter()
            .map(|a| compile(a, &def.id))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Rule {
            kind,
            category,
            severity,
            regex,
            header,
            group,
            allow,
            def,
        })
    }
}

impl RuleSet {
    /// The rules shipped in the binary.
    pub fn embedded() -> Result<RuleSet, ScanError> {
        RuleSet::from_sources(EMBEDDED_RULE_FILES, EMBEDDED_ALLOWLIST)
    }

    /// Builds a rule set from (file name, TOML text) pairs and an allowlist file.
    pub fn from_sources(files: &[(&str, &str)], allowlist: &str) -> Result<RuleSet, ScanError> {
        let mut rules = Vec::new();
        for (name, text) in files {
            let f: RuleFile = toml::from_str(text).map_err(|e| ScanError::RuleFile {
                file: (*name).to_owned(),
                message: e.to_string(),
            })?;
            for def in f.rule {
                if rules.iter().any(|r: &Rule| r.def.id == def.id) {
                    return Err(ScanError::RuleFile {
                        file: (*name).to_owned(),
                        message: format!("duplicate rule id {}", def.id),
                    });
                }
                rules.push(Rule::from_def(def, name)?);
            }
        }
        let af: AllowFile = toml::from_str(allowlist).map_err(|e| ScanError::RuleFile {
            file: "allowlist.toml".into(),
            message: e.to_string(),
        })?;
        let allow = af
            .allow
            .into_iter()
            .map(|a| compile(&a.regex, &a.id).map(|r| (a, r)))
            .collect::<Result<Vec<_>, _>>()?;
        let (keywords, keyword_rules, always) = build_index(&rules)?;
        Ok(RuleSet {
            rules,
            allow,
            keywords,
            keyword_rules,
            always,
        })
    }

    /// Keeps only the rules at or above `min` severity.
    pub fn retain_min_severity(&mut self, min: Severity) -> Result<(), ScanError> {
        let rules: Vec<Rule> = self.rules.drain(..).filter(|r| r.severity >= min).collect();
        let (keywords, keyword_rules, always) = build_index(&rules)?;
        self.rules = rules;
        self.keywords = keywords;
        self.keyword_rules = keyword_rules;
        self.always = always;
        Ok(())
    }

    /// The keyword prefilter: which rules run on this text, each with the byte windows to
    /// run its regex in (the line around every keyword occurrence, or `window` bytes after
    /// it for multi-line rules), merged and in order. Rules without keywords get the whole
    /// text. Confirming in bounded windows keeps the cost proportional to keyword hits rather
    /// than to rules × text size.
    pub(crate) fn plan(&self, text: &[u8]) -> Vec<(usize, Vec<(usize, usize)>)> {
        let mut hits: Vec<Vec<(usize, usize)>> = vec![Vec::new(); self.rules.len()];
        self.keywords.for_each_match(text, |p, s, e| {
            for &r in self.keyword_rules.get(p).map(Vec::as_slice).unwrap_or(&[]) {
                if let Some(v) = hits.get_mut(r)
                    && v.len() < MAX_KEYWORD_HITS
                {
                    v.push((s, e));
                }
            }
        });
        let mut plan = Vec::new();
        for (ri, rule) in self.rules.iter().enumerate() {
            if self.always.contains(&ri) {
                plan.push((ri, vec![(0, text.len())]));
                continue;
            }
            let Some(h) = hits.get_mut(ri) else {
                continue;
            };
            if h.is_empty() {
                continue;
            }
            h.sort_unstable();
            let mut windows: Vec<(usize, usize)> = Vec::new();
            for &(s, e) in h.iter() {
                let w = window(text, s, e, rule.def.window);
                match windows.last_mut() {
                    Some(last) if w.0 <= last.1 => last.1 = last.1.max(w.1),
                    _ => windows.push(w),
                }
            }
            plan.push((ri, windows));
        }
        plan
    }
}

/// Keyword occurrences kept per rule and text (a pathological text cannot exhaust memory).
const MAX_KEYWORD_HITS: usize = 100_000;
/// How far back from a keyword a line-bounded window may start.
const WINDOW_BACK: usize = 2048;
/// How far after a keyword a line-bounded window may end.
const WINDOW_AHEAD: usize = 4096;

/// The window around a keyword at `s..e`: from the start of its line (at most
/// [`WINDOW_BACK`] before) to the end of its line (at most [`WINDOW_AHEAD`] after), or to
/// `after` bytes past the keyword for multi-line rules.
fn window(text: &[u8], s: usize, e: usize, after: Option<usize>) -> (usize, usize) {
    let len = text.len();
    let s = s.min(len);
    let e = e.min(len).max(s);
    let back = s.saturating_sub(WINDOW_BACK);
    let ws = text
        .get(back..s)
        .and_then(|t| memchr::memrchr(b'\n', t))
        .map(|p| back + p + 1)
        .unwrap_or(back);
    let we = match after {
        Some(n) => e.saturating_add(n).min(len),
        None => {
            let lim = e.saturating_add(WINDOW_AHEAD).min(len);
            text.get(e..lim)
                .and_then(|t| memchr::memchr(b'\n', t))
                .map(|p| e + p)
                .unwrap_or(lim)
        }
    };
    (ws, we)
}

type Index = (KeywordMatcher, Vec<Vec<usize>>, Vec<usize>);

fn build_index(rules: &[Rule]) -> Result<Index, ScanError> {
    let mut patterns: Vec<String> = Vec::new();
    let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
    let mut always = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        // An empty keyword would match everywhere: such a rule simply always runs.
        if r.def.keywords.is_empty() || r.def.keywords.iter().any(String::is_empty) {
            always.push(i);
        }
        for k in &r.def.keywords {
            let k = k.to_ascii_lowercase();
            match patterns.iter().position(|p| *p == k) {
                Some(p) => {
                    if let Some(v) = keyword_rules.get_mut(p)
                        && !v.contains(&i)
                    {
                        v.push(i);
                    }
                }
                None => {
                    patterns.push(k);
                    keyword_rules.push(vec![i]);
                }
            }
        }
    }
    // Every occurrence of every keyword is found (overlapping ones too), so a keyword inside a
    // longer one ("pass" in "password=") enables its own rules directly.
    let keywords = KeywordMatcher::new(&patterns).ok_or_else(|| ScanError::RuleFile {
        file: "keywords".into(),
        message: "too many keywords to index".into(),
    })?;
    Ok((keywords, keyword_rules, always))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &str = r#"
[[rule]]
id = "short"
name = "short keyword"
severity = "low"
keywords = ["pass"]
regex = 'pass'
[[rule]]
id = "long"
name = "long keyword"
severity = "low"
keywords = ["password="]
regex = 'password='
"#;

    #[test]
    fn keywords_inside_longer_keywords_still_enable_their_rules() {
        let rs = RuleSet::from_sources(&[("t.toml", RULES)], "").unwrap();
        let plan = rs.plan(b"first line\nUser=sa;Password=x\nlast");
        let ids: Vec<&str> = plan
            .iter()
            .filter_map(|(r, _)| rs.rules.get(*r).map(|r| r.def.id.as_str()))
            .collect();
        assert_eq!(ids, vec!["short", "long"]);
        // The window is the keyword's line.
        assert_eq!(plan[0].1, vec![(11, 29)]);
        assert!(rs.plan(b"nothing here").is_empty());
    }
}
