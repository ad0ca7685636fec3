//! Scanning one document: extraction, rule matching, classification, and turning text
//! offsets into [`Location`]s (original file line/column for files; body offset for pages).

use crate::classify::{Classifier, PageSignals};
use crate::engine::{RawHit, scan_extracted};
use crate::error::ScanError;
use crate::extract::{Extracted, extract_storage};
use crate::rules::RuleSet;
use crate::text::{LineIndex, ceil_boundary, floor_boundary, redact};
use confwatch_event::finding::{Category, FindingKind, Location, Severity};

/// How a body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// Confluence storage format (XHTML with `ac:` macros).
    Storage,
    /// Plain text (Markdown, text, extracted attachment text).
    Plain,
}

impl BodyFormat {
    /// Picks the format from a file name: `.xhtml`, `.html`, `.htm`, `.xml` are storage format.
    pub fn from_path(p: &str) -> BodyFormat {
        let l = p.to_ascii_lowercase();
        if l.ends_with(".xhtml")
            || l.ends_with(".html")
            || l.ends_with(".htm")
            || l.ends_with(".xml")
        {
            BodyFormat::Storage
        } else {
            BodyFormat::Plain
        }
    }

    /// Sniffs storage format from content (for stdin): markup near the start.
    pub fn sniff(body: &str) -> BodyFormat {
        let head = crate::text::truncate_chars(body.trim_start(), 512);
        if head.starts_with('<') && (head.contains("</") || head.contains("/>")) {
            BodyFormat::Storage
        } else {
            BodyFormat::Plain
        }
    }
}

/// One body to scan, with the location fields every hit inherits.
pub struct Document<'a> {
    pub body: &'a str,
    pub format: BodyFormat,
    /// Template: space, page id, title, version, path... `line`/`column`/`offset` are filled
    /// per hit. When `path` is set, `line`/`column` are computed in `body`.
    pub meta: Location,
    /// File name for classification (attachments, files).
    pub file_name: Option<&'a str>,
}

/// One hit with its location and snippet.
#[derive(Debug, Clone)]
pub struct DocHit {
    pub rule: usize,
    pub secret: String,
    pub validated: bool,
    pub location: Location,
    /// The extracted line with the secret redacted.
    pub snippet: String,
    /// The extracted line with the secret in clear (used with `--show-secrets`).
    pub snippet_clear: String,
}

/// What scanning a document gives.
#[derive(Debug, Clone, Default)]
pub struct DocResult {
    pub hits: Vec<DocHit>,
    pub categories: Vec<Category>,
    /// The body was not well-formed storage format (it was still scanned as text).
    pub malformed: bool,
}

/// Options of a scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub show_secrets: bool,
    pub min_severity: Severity,
    /// Locations kept per finding (occurrences are still counted beyond it).
    pub max_locations: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            show_secrets: false,
            min_severity: Severity::Info,
            max_locations: 1000,
        }
    }
}

/// The rules and classifier, ready to scan documents from many threads.
pub struct Scanner {
    pub rules: RuleSet,
    pub classifier: Classifier,
    pub options: ScanOptions,
}

const SNIPPET_RADIUS: usize = 60;

/// What locating a hit needs to know about its document.
#[derive(Clone, Copy)]
struct LocateCtx<'a> {
    doc: &'a Document<'a>,
    x: &'a Extracted,
    text_idx: &'a LineIndex,
    src_idx: Option<&'a LineIndex>,
    secrets: &'a [(usize, usize)],
    secret_values: &'a [String],
}

impl Scanner {
    /// A scanner with the embedded rules.
    pub fn new(options: ScanOptions) -> Result<Scanner, ScanError> {
        let mut rules = RuleSet::embedded()?;
        if options.min_severity > Severity::Info {
            rules.retain_min_severity(options.min_severity)?;
        }
        Ok(Scanner {
            rules,
            classifier: Classifier::embedded()?,
            options,
        })
    }

    /// Extracts the text of a document.
    pub fn extract(&self, doc: &Document<'_>) -> Extracted {
        match doc.format {
            BodyFormat::Storage => extract_storage(doc.body),
            BodyFormat::Plain => Extracted::plain(doc.body),
        }
    }

    /// Scans one document.
    pub fn scan(&self, doc: &Document<'_>) -> DocResult {
        let x = self.extract(doc);
        let raw = scan_extracted(&self.rules, &x);
        let mut categories = self.classifier.classify(&PageSignals {
            title: doc.meta.title.as_deref(),
            text: &x.text,
            macros: &x.macros,
            file_name: doc.file_name,
        });
        let text_idx = LineIndex::new(x.text.as_bytes());
        let src_idx = doc
            .meta
            .path
            .as_ref()
            .map(|_| LineIndex::new(doc.body.as_bytes()));
        let secrets: Vec<(usize, usize)> = raw
            .iter()
            .filter(|h| {
                self.rules
                    .rules
                    .get(h.rule)
                    .is_some_and(|r| r.kind == FindingKind::Secret)
            })
            .map(|h| (h.start, h.end))
            .collect();
        let mut secret_values: Vec<String> = raw
            .iter()
            .filter(|h| {
                self.rules
                    .rules
                    .get(h.rule)
                    .is_some_and(|r| r.kind == FindingKind::Secret)
            })
            .map(|h| h.secret.clone())
            .collect();
        // Longest first, so a secret containing another is hidden whole.
        secret_values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        secret_values.dedup();
        let mut hits = Vec::with_capacity(raw.len());
        for h in raw {
            let Some(rule) = self.rules.rules.get(h.rule) else {
                continue;
            };
            if !categories.contains(&rule.category) {
                categories.push(rule.category);
            }
            let ctx = LocateCtx {
                doc,
                x: &x,
                text_idx: &text_idx,
                src_idx: src_idx.as_ref(),
                secrets: &secrets,
                secret_values: &secret_values,
            };
            hits.push(self.locate(&ctx, h));
        }
        categories.sort();
        DocResult {
            hits,
            categories,
            malformed: x.malformed,
        }
    }

    fn locate(&self, c: &LocateCtx<'_>, h: RawHit) -> DocHit {
        let LocateCtx {
            doc,
            x,
            text_idx,
            src_idx,
            secrets,
            secret_values,
        } = *c;
        let mut loc = doc.meta.clone();
        let (tl, tc) = text_idx.position(x.text.as_bytes(), h.start);
        loc.text_line = tl;
        loc.text_column = tc;
        let src_off = x.source_offset(h.start);
        loc.offset = Some(src_off as u64);
        if let Some(si) = src_idx {
            let (l, c) = si.position(doc.body.as_bytes(), src_off);
            loc.line = Some(l);
            loc.column = Some(c);
        }
        let ctx = x.context_at(h.start).map(std::borrow::Cow::into_owned);
        loc.context = match (ctx, &h.note) {
            (Some(c), Some(n)) => Some(format!("{c} ({n})")),
            (Some(c), None) => Some(c),
            (None, Some(n)) => Some(n.clone()),
            (None, None) => None,
        };
        let (ls, le) = text_idx.line_range(x.text.len(), h.start);
        let s = floor_boundary(&x.text, ls.max(h.start.saturating_sub(SNIPPET_RADIUS)));
        let e = ceil_boundary(&x.text, le.min(h.end + SNIPPET_RADIUS).max(h.end));
        // Redact this hit and every other secret in the window: a host name finding on a
        // line must not show the password next to it.
        let mut ranges: Vec<(usize, usize)> = secrets
            .iter()
            .copied()
            .filter(|&(a, b)| a < e && b > s)
            .collect();
        ranges.push((h.start, h.end));
        ranges.sort_unstable();
        let clean = |t: &str| t.replace(['\n', '\r', '\t'], " ");
        let mut snippet = String::new();
        let mut cur = s;
        for (a, b) in ranges {
            let a = floor_boundary(&x.text, a.max(cur));
            let b = ceil_boundary(&x.text, b.min(e).max(a));
            if b <= cur {
                continue;
            }
            snippet.push_str(&clean(x.text.get(cur..a).unwrap_or("")));
            snippet.push_str(&redact(x.text.get(a..b).unwrap_or("")));
            cur = b;
        }
        snippet.push_str(&clean(x.text.get(cur..e).unwrap_or("")));
        // The same value may also sit elsewhere in the window undetected (glued text):
        // hide every copy of every secret found in this document.
        for v in secret_values {
            if v.chars().count() >= 4 && snippet.contains(v) {
                snippet = snippet.replace(v, &redact(v));
            }
        }
        let snippet_clear = clean(x.text.get(s..e).unwrap_or(""));
        DocHit {
            rule: h.rule,
            secret: h.secret,
            validated: h.validated,
            location: loc,
            snippet: snippet.trim().to_owned(),
            snippet_clear: snippet_clear.trim().to_owned(),
        }
    }
}

impl Scanner {
    /// Runs every rule's positive and negative examples through the full pipeline
    /// (storage-format extraction for examples that start with `<`). Returns one message per
    /// failure; empty means every example behaves.
    pub fn check_examples(&self) -> Vec<String> {
        let mut failures = Vec::new();
        for (i, rule) in self.rules.rules.iter().enumerate() {
            for (want, examples) in [(true, &rule.def.positives), (false, &rule.def.negatives)] {
                for ex in examples {
                    let doc = Document {
                        body: ex,
                        format: BodyFormat::sniff(ex),
                        meta: Location::default(),
                        file_name: None,
                    };
                    let x = self.extract(&doc);
                    let got = !crate::engine::scan_one_rule(&self.rules, i, &x).is_empty();
                    if got != want {
                        failures.push(format!(
                            "{}: {} example not {}: {ex:?}",
                            rule.def.id,
                            if want { "positive" } else { "negative" },
                            if want { "reported" } else { "silent" }
                        ));
                    }
                }
            }
        }
        failures
    }
}
