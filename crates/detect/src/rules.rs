//! Rule loading: the built-in pack (embedded at build time from `rules/`), rule folders
//! given with `--rules`, per-file validation that says why a rule did not load, and the
//! configuration applied to rules before compilation (thresholds, sensitive terms).
//!
//! Conventions (documented in `docs/detections.md`):
//! - one rule file holds one alerting rule plus the detection rules its correlation
//!   references (multi-document YAML, `---` separated);
//! - its test events live next to it in `<name>.tests.yml`;
//! - rules reference each other by `name`; alerts use the `name` as `rule_id`.

use crate::config::HuntConfig;
use crate::error::DetectError;
use confwatch_event::alert::Severity;
use rsigma_eval::{CorrelationConfig, CorrelationEngine, EvalError};
use rsigma_parser::value::{SigmaString, SigmaValue};
use rsigma_parser::{
    ConditionOperator, CorrelationCondition, CorrelationRule, Detection, Level, SigmaCollection,
    SigmaRule, parse_sigma_yaml,
};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));
}

/// Files larger than this are refused: a Sigma rule is a few kilobytes.
const MAX_RULE_FILE_BYTES: u64 = 1 << 20;

/// A rule file that did not load, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub file: String,
    pub reason: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.reason)
    }
}

/// One loaded rule file.
#[derive(Debug, Clone)]
pub struct RuleFile {
    /// `builtin:confluence/x.yml` or the path as found.
    pub path: String,
    pub builtin: bool,
    pub collection: SigmaCollection,
    /// The `<name>.tests.yml` next to the rule: (path, text).
    pub tests: Option<(String, String)>,
}

/// What `rules list` shows about an alerting rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleInfo {
    /// `name`, else `id`, else title.
    pub name: String,
    pub uuid: Option<String>,
    pub title: String,
    pub level: Severity,
    /// `detection` or the correlation type.
    pub kind: String,
    pub techniques: Vec<String>,
    pub file: String,
    pub description: Option<String>,
    pub falsepositives: Vec<String>,
    pub has_tests: bool,
}

/// The rules a hunt runs.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub files: Vec<RuleFile>,
    /// Files that failed to load.
    pub errors: Vec<LoadError>,
}

/// `attack.t1213.001` → `T1213.001`; tactic tags (`attack.collection`) give `None`.
pub fn technique_from_tag(tag: &str) -> Option<String> {
    let t = tag.strip_prefix("attack.")?;
    let rest = t.strip_prefix('t').or_else(|| t.strip_prefix('T'))?;
    let (main, sub) = match rest.split_once('.') {
        Some((m, s)) => (m, Some(s)),
        None => (rest, None),
    };
    if main.len() != 4 || !main.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match sub {
        Some(s) if s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()) => {
            Some(format!("T{main}.{s}"))
        }
        Some(_) => None,
        None => Some(format!("T{main}")),
    }
}

pub fn level_to_severity(level: Option<Level>) -> Severity {
    match level {
        Some(Level::Informational) => Severity::Informational,
        Some(Level::Low) => Severity::Low,
        Some(Level::Medium) | None => Severity::Medium,
        Some(Level::High) => Severity::High,
        Some(Level::Critical) => Severity::Critical,
    }
}

/// The identifier a rule is referenced and reported by.
pub fn rule_key(name: &Option<String>, id: &Option<String>, title: &str) -> String {
    name.clone()
        .or_else(|| id.clone())
        .unwrap_or_else(|| title.to_owned())
}

fn identities(c: &SigmaCollection) -> Vec<String> {
    let mut out = Vec::new();
    for r in &c.rules {
        out.extend(r.id.iter().cloned());
        out.extend(r.name.iter().cloned());
    }
    for r in &c.correlations {
        out.extend(r.id.iter().cloned());
        out.extend(r.name.iter().cloned());
    }
    out
}

impl RuleSet {
    /// An empty set (for `--rules-only`).
    pub fn empty() -> RuleSet {
        RuleSet::default()
    }

    /// The embedded pack's files as (path relative to `rules/`, text), rule tests included.
    pub fn builtin_sources() -> &'static [(&'static str, &'static str)] {
        builtin::BUILTIN_RULES
    }

    /// The embedded pack.
    pub fn builtin() -> RuleSet {
        let mut set = RuleSet::default();
        let tests: BTreeMap<&str, &str> = builtin::BUILTIN_RULES
            .iter()
            .filter(|(p, _)| is_tests_file(p))
            .map(|(p, t)| (*p, *t))
            .collect();
        for (path, text) in builtin::BUILTIN_RULES {
            if is_tests_file(path) {
                continue;
            }
            let tpath = tests_path_for(path);
            let t = tests
                .get(tpath.as_str())
                .map(|t| (format!("builtin:{tpath}"), (*t).to_owned()));
            set.add_source(&format!("builtin:{path}"), text, t, true);
        }
        set.finalize();
        set
    }

    /// Adds every `*.yml`/`*.yaml` under `dir` (recursively, sorted); `*.tests.yml` files
    /// are attached to their rule. Unreadable files become [`LoadError`]s.
    pub fn add_dir(&mut self, dir: &Path) -> Result<(), DetectError> {
        let mut files = Vec::new();
        walk(dir, &mut files).map_err(|source| DetectError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        files.sort();
        for f in files {
            let shown = f.display().to_string();
            if is_tests_file(&shown) {
                continue;
            }
            match read_capped(&f) {
                Ok(text) => {
                    let tp = f.with_file_name(tests_path_for(
                        &f.file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                    ));
                    let tests = if tp.is_file() {
                        match read_capped(&tp) {
                            Ok(t) => Some((tp.display().to_string(), t)),
                            Err(reason) => {
                                self.errors.push(LoadError {
                                    file: tp.display().to_string(),
                                    reason,
                                });
                                None
                            }
                        }
                    } else {
                        None
                    };
                    self.add_source(&shown, &text, tests, false);
                }
                Err(reason) => self.errors.push(LoadError {
                    file: shown,
                    reason,
                }),
            }
        }
        self.finalize();
        Ok(())
    }

    /// Parses and validates one rule file; on failure records why and drops the file.
    pub fn add_source(
        &mut self,
        path: &str,
        text: &str,
        tests: Option<(String, String)>,
        builtin: bool,
    ) {
        let collection = match parse_sigma_yaml(text) {
            Ok(c) => c,
            Err(e) => {
                self.errors.push(LoadError {
                    file: path.to_owned(),
                    reason: e.to_string(),
                });
                return;
            }
        };
        if !collection.errors.is_empty() {
            for reason in &collection.errors {
                self.errors.push(LoadError {
                    file: path.to_owned(),
                    reason: reason.clone(),
                });
            }
            return;
        }
        if collection.rules.is_empty() && collection.correlations.is_empty() {
            self.errors.push(LoadError {
                file: path.to_owned(),
                reason: "no Sigma rule in file".into(),
            });
            return;
        }
        for r in &collection.rules {
            if let Err(e) = rsigma_eval::compile_rule(r) {
                self.errors.push(LoadError {
                    file: path.to_owned(),
                    reason: format!("rule '{}': {e}", r.title),
                });
                return;
            }
        }
        let known: HashSet<String> = self
            .files
            .iter()
            .flat_map(|f| identities(&f.collection))
            .collect();
        for id in identities(&collection) {
            if known.contains(&id) {
                let other = self
                    .files
                    .iter()
                    .find(|f| identities(&f.collection).contains(&id))
                    .map(|f| f.path.clone())
                    .unwrap_or_default();
                self.errors.push(LoadError {
                    file: path.to_owned(),
                    reason: format!("rule id/name '{id}' is already defined in {other}"),
                });
                return;
            }
        }
        // Correlations are checked in `finalize`, once every file is known, because they
        // may reference rules in other files.
        self.files.push(RuleFile {
            path: path.to_owned(),
            builtin,
            collection,
            tests,
        });
    }

    /// Drops files whose correlations do not compile or reference unknown rules.
    pub fn finalize(&mut self) {
        loop {
            let known: HashSet<String> = self
                .files
                .iter()
                .flat_map(|f| identities(&f.collection))
                .collect();
            let mut bad: Option<(usize, String)> = None;
            for (i, f) in self.files.iter().enumerate() {
                for c in &f.collection.correlations {
                    if let Some(missing) = c.rules.iter().find(|r| !known.contains(*r)) {
                        bad = Some((
                            i,
                            format!(
                                "correlation '{}' references unknown rule '{missing}'",
                                c.title
                            ),
                        ));
                        break;
                    }
                    if let Err(e) = rsigma_eval::correlation::compile_correlation(c) {
                        bad = Some((i, format!("correlation '{}': {e}", c.title)));
                        break;
                    }
                }
                if bad.is_some() {
                    break;
                }
            }
            match bad {
                Some((i, reason)) => {
                    let f = self.files.remove(i);
                    self.errors.push(LoadError {
                        file: f.path,
                        reason,
                    });
                }
                None => break,
            }
        }
        if let Err(e) = self.engine(&HuntConfig::default()) {
            // Not attributable to one file (e.g. a correlation cycle across files).
            self.errors.push(LoadError {
                file: "(rule set)".into(),
                reason: e.to_string(),
            });
        }
    }

    /// All files' rules merged, with the configuration applied.
    pub fn collection(&self, cfg: &HuntConfig) -> SigmaCollection {
        let mut all = SigmaCollection::new();
        let terms = cfg.sensitive_terms.clone();
        for f in &self.files {
            for r in &f.collection.rules {
                let mut r = r.clone();
                add_sensitive_terms(&mut r, &terms);
                all.rules.push(r);
            }
            for c in &f.collection.correlations {
                let mut c = c.clone();
                let key = rule_key(&c.name, &c.id, &c.title);
                let t = cfg
                    .thresholds
                    .get(&key)
                    .or_else(|| c.id.as_ref().and_then(|id| cfg.thresholds.get(id)));
                if let Some(&t) = t {
                    set_threshold(&mut c, t);
                }
                all.correlations.push(c);
            }
            all.filters.extend(f.collection.filters.iter().cloned());
        }
        all
    }

    /// A correlation engine over the whole set.
    pub fn engine(&self, cfg: &HuntConfig) -> Result<CorrelationEngine, DetectError> {
        let mut engine = CorrelationEngine::new(CorrelationConfig::default());
        engine
            .add_collection(&self.collection(cfg))
            .map_err(|e: EvalError| DetectError::Compile(e.to_string()))?;
        Ok(engine)
    }

    /// Threshold keys in `cfg` that name no correlation rule (reported as warnings).
    pub fn unknown_threshold_keys(&self, cfg: &HuntConfig) -> Vec<String> {
        let known: HashSet<String> = self
            .files
            .iter()
            .flat_map(|f| f.collection.correlations.iter())
            .flat_map(|c| c.name.iter().chain(c.id.iter()).cloned())
            .collect();
        cfg.thresholds
            .keys()
            .filter(|k| !known.contains(*k))
            .cloned()
            .collect()
    }

    /// The alerting rules (see [`alerting_keys`]), in file order.
    pub fn rules(&self) -> Vec<RuleInfo> {
        let all = self.collection(&HuntConfig::default());
        let alerting = alerting_keys(&all);
        let mut out = Vec::new();
        for f in &self.files {
            for r in &f.collection.rules {
                let key = rule_key(&r.name, &r.id, &r.title);
                if alerting.contains(&key) {
                    out.push(RuleInfo {
                        name: key,
                        uuid: r.id.clone(),
                        title: r.title.clone(),
                        level: level_to_severity(r.level),
                        kind: "detection".into(),
                        techniques: r
                            .tags
                            .iter()
                            .filter_map(|t| technique_from_tag(t))
                            .collect(),
                        file: f.path.clone(),
                        description: r.description.clone(),
                        falsepositives: r.falsepositives.clone(),
                        has_tests: f.tests.is_some(),
                    });
                }
            }
            for c in &f.collection.correlations {
                let key = rule_key(&c.name, &c.id, &c.title);
                if alerting.contains(&key) {
                    out.push(RuleInfo {
                        name: key,
                        uuid: c.id.clone(),
                        title: c.title.clone(),
                        level: level_to_severity(c.level),
                        kind: c.correlation_type.as_str().into(),
                        techniques: c
                            .tags
                            .iter()
                            .filter_map(|t| technique_from_tag(t))
                            .collect(),
                        file: f.path.clone(),
                        description: c.description.clone(),
                        falsepositives: c.falsepositives.clone(),
                        has_tests: f.tests.is_some(),
                    });
                }
            }
        }
        out
    }

    /// A set holding the file at `index` and the files defining rules it references,
    /// transitively (for running that file's tests on their own).
    pub fn only(&self, index: usize) -> RuleSet {
        let mut keep: Vec<usize> = Vec::new();
        let mut todo = vec![index];
        while let Some(i) = todo.pop() {
            if keep.contains(&i) {
                continue;
            }
            let Some(f) = self.files.get(i) else { continue };
            keep.push(i);
            let own = identities(&f.collection);
            for r in f
                .collection
                .correlations
                .iter()
                .flat_map(|c| c.rules.iter())
            {
                if own.contains(r) {
                    continue;
                }
                if let Some(j) = self
                    .files
                    .iter()
                    .position(|g| identities(&g.collection).contains(r))
                {
                    todo.push(j);
                }
            }
        }
        keep.sort_unstable();
        RuleSet {
            files: keep
                .iter()
                .filter_map(|&i| self.files.get(i).cloned())
                .collect(),
            errors: Vec::new(),
        }
    }

    /// The names of the alerting rules defined in the file at `index`.
    pub fn alerting_in(&self, index: usize) -> Vec<String> {
        let Some(f) = self.files.get(index) else {
            return Vec::new();
        };
        let keys = alerting_keys(&self.collection(&HuntConfig::default()));
        let mut out = Vec::new();
        for r in &f.collection.rules {
            let k = rule_key(&r.name, &r.id, &r.title);
            if keys.contains(&k) {
                out.push(k);
            }
        }
        for c in &f.collection.correlations {
            let k = rule_key(&c.name, &c.id, &c.title);
            if keys.contains(&k) {
                out.push(k);
            }
        }
        out
    }
}

/// Rules that raise alerts: detection rules and correlations that no correlation
/// references, or that a correlation with `generate: true` references (Sigma v2 rules).
pub fn alerting_keys(c: &SigmaCollection) -> HashSet<String> {
    let mut referenced: HashSet<&str> = HashSet::new();
    for corr in &c.correlations {
        if !corr.generate {
            referenced.extend(corr.rules.iter().map(String::as_str));
        }
    }
    let is_ref = |name: &Option<String>, id: &Option<String>| {
        name.as_deref().is_some_and(|n| referenced.contains(n))
            || id.as_deref().is_some_and(|i| referenced.contains(i))
    };
    let mut out = HashSet::new();
    for r in &c.rules {
        if !is_ref(&r.name, &r.id) {
            out.insert(rule_key(&r.name, &r.id, &r.title));
        }
    }
    for r in &c.correlations {
        if !is_ref(&r.name, &r.id) {
            out.insert(rule_key(&r.name, &r.id, &r.title));
        }
    }
    out
}

fn set_threshold(c: &mut CorrelationRule, value: u64) {
    if let CorrelationCondition::Threshold { predicates, .. } = &mut c.condition {
        for (op, v) in predicates.iter_mut() {
            if matches!(op, ConditionOperator::Gte | ConditionOperator::Gt) {
                *v = value;
            }
        }
    }
}

/// Appends configured terms to the rule's detection named `sensitive_terms`.
fn add_sensitive_terms(r: &mut SigmaRule, terms: &[String]) {
    if terms.is_empty() {
        return;
    }
    if let Some(Detection::AllOf(items)) = r.detection.named.get_mut("sensitive_terms") {
        for item in items.iter_mut() {
            for t in terms {
                let t = t.trim();
                if !t.is_empty() {
                    item.values.push(SigmaValue::String(SigmaString::new(t)));
                }
            }
        }
    }
}

/// The correlation threshold (`gte`/`gt` value), if the rule has one.
pub fn threshold_of(c: &CorrelationRule) -> Option<f64> {
    match &c.condition {
        CorrelationCondition::Threshold { predicates, .. } => predicates
            .iter()
            .find(|(op, _)| matches!(op, ConditionOperator::Gte | ConditionOperator::Gt))
            .map(|(_, v)| *v as f64),
        CorrelationCondition::Extended(_) => None,
    }
}

fn is_tests_file(p: &str) -> bool {
    p.ends_with(".tests.yml") || p.ends_with(".tests.yaml")
}

fn tests_path_for(rule_path: &str) -> String {
    let stem = rule_path
        .strip_suffix(".yml")
        .or_else(|| rule_path.strip_suffix(".yaml"))
        .unwrap_or(rule_path);
    format!("{stem}.tests.yml")
}

fn read_capped(p: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(p).map_err(|e| e.to_string())?;
    if meta.len() > MAX_RULE_FILE_BYTES {
        return Err(format!("file is larger than {MAX_RULE_FILE_BYTES} bytes"));
    }
    std::fs::read_to_string(p).map_err(|e| e.to_string())
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let p = entry?.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(p);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn technique_tags() {
        assert_eq!(
            technique_from_tag("attack.t1213.001").as_deref(),
            Some("T1213.001")
        );
        assert_eq!(technique_from_tag("attack.t1119").as_deref(), Some("T1119"));
        assert_eq!(technique_from_tag("attack.collection"), None);
        assert_eq!(technique_from_tag("cve.2023-22515"), None);
    }

    #[test]
    fn broken_files_say_why() {
        let mut set = RuleSet::empty();
        set.add_source("bad-yaml.yml", "title: [unclosed", None, false);
        set.add_source(
            "bad-regex.yml",
            "title: r\nlogsource: {product: confluence}\ndetection:\n  s:\n    url|re: '(('\n  condition: s\n",
            None,
            false,
        );
        set.add_source(
            "bad-ref.yml",
            "title: c\nname: c\ncorrelation:\n  type: event_count\n  rules: [nope]\n  group-by: [user]\n  timespan: 1h\n  condition: {gte: 2}\n",
            None,
            false,
        );
        set.add_source(
            "good.yml",
            "title: g\nname: g\nlogsource: {product: confluence}\ndetection:\n  s:\n    action: login\n  condition: s\n",
            None,
            false,
        );
        set.add_source(
            "dup.yml",
            "title: g2\nname: g\nlogsource: {product: confluence}\ndetection:\n  s:\n    action: login\n  condition: s\n",
            None,
            false,
        );
        set.finalize();
        let files: Vec<&str> = set.errors.iter().map(|e| e.file.as_str()).collect();
        assert_eq!(
            files,
            vec!["bad-yaml.yml", "bad-regex.yml", "dup.yml", "bad-ref.yml"],
            "{:?}",
            set.errors
        );
        assert!(set.errors[1].reason.contains("regex"), "{}", set.errors[1]);
        assert!(set.errors[2].reason.contains("already defined in good.yml"));
        assert!(set.errors[3].reason.contains("unknown rule 'nope'"));
        assert_eq!(set.files.len(), 1);
        assert_eq!(set.rules()[0].name, "g");
    }

    #[test]
    fn config_changes_thresholds_and_terms() {
        let mut set = RuleSet::empty();
        set.add_source(
            "x.yml",
            "title: s\nname: s\nlogsource: {product: confluence}\ndetection:\n  sensitive_terms:\n    search_query|contains: [password]\n  condition: sensitive_terms\n---\ntitle: c\nname: c\ncorrelation:\n  type: event_count\n  rules: [s]\n  group-by: [user]\n  timespan: 1h\n  condition: {gte: 5}\n",
            None,
            false,
        );
        set.finalize();
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        let cfg = HuntConfig {
            thresholds: [("c".to_string(), 9), ("zzz".to_string(), 1)]
                .into_iter()
                .collect(),
            sensitive_terms: vec!["payroll".into()],
            ..HuntConfig::default()
        };
        let c = set.collection(&cfg);
        assert_eq!(threshold_of(&c.correlations[0]), Some(9.0));
        let Some(Detection::AllOf(items)) = c.rules[0].detection.named.get("sensitive_terms")
        else {
            panic!("selection missing")
        };
        assert_eq!(items[0].values.len(), 2);
        assert_eq!(set.unknown_threshold_keys(&cfg), vec!["zzz".to_string()]);
        // Only the correlation alerts; its base rule is correlation-only.
        let keys = alerting_keys(&c);
        assert!(keys.contains("c") && !keys.contains("s"));
    }
}
