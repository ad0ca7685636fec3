//! The hunt: feeds time-ordered events through rsigma, keeps bounded evidence per
//! correlation window, and turns rule firings into merged, explained [`Alert`]s.
//!
//! Memory is bounded by groups × windows: each (correlation, group) keeps at most
//! [`MAX_ITEMS_PER_GROUP`] evidence items inside its timespan, and idle groups are swept.

use crate::config::{HuntConfig, PrivilegeSource, PrivilegedAccounts};
use crate::error::DetectError;
use crate::native::{FieldValue, Input, NativeCorr, Window};
use crate::rules::{
    RuleSet, alerting_keys, level_to_severity, rule_key, technique_from_tag, threshold_of,
};
use crate::summary::{AlertFacts, render_summary};
use crate::view::{EventView, rest_items};
use chrono::{DateTime, FixedOffset};
use confwatch_event::alert::{Alert, Evidence, SampleRequest, Severity};
use confwatch_event::{Event, Outcome};
use rsigma_eval::{CorrelationEngine, EvaluationResult, Event as _};
use rsigma_parser::{CorrelationType, SigmaCollection};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::Arc;

/// Evidence items kept per (correlation, group) window.
pub const MAX_ITEMS_PER_GROUP: usize = 64;
/// Distinct values kept per alert and kind.
const MAX_DISTINCT: usize = 1000;
/// Distinct values written into the alert per kind.
const MAX_VALUES_SHOWN: usize = 20;
/// Samples kept: the first few and the last few.
const FIRST_SAMPLES: usize = 3;
const LAST_SAMPLES: usize = 2;
/// Long strings from logs are cut to this many bytes in evidence.
const MAX_TEXT: usize = 512;
/// Events between sweeps of idle evidence groups.
const SWEEP_EVERY: u64 = 100_000;
/// Default merge window for single-event rules.
const DEFAULT_GROUP_WINDOW_SECS: i64 = 3600;

/// Per-rule options under the rule's top-level `confwatch:` key.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RuleOptions {
    /// Sentence template for the alert summary (see `docs/detections.md`).
    pub summary: Option<String>,
    /// Single-event rules: fields whose values form one alert (default `[user]`).
    pub group_by: Vec<String>,
    /// Single-event rules: hits closer than this merge into one alert (`30m`, `1h`).
    pub group_window: Option<String>,
    /// Noun used by `{terms}` (default "credential terms").
    pub terms_noun: Option<String>,
}

fn rule_options(attrs: &HashMap<String, impl serde::Serialize>) -> RuleOptions {
    attrs
        .get("confwatch")
        .and_then(|v| serde_json::to_value(v).ok())
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

fn parse_span(s: &str) -> Option<i64> {
    rsigma_parser::Timespan::parse(s)
        .ok()
        .and_then(|t| i64::try_from(t.seconds).ok())
}

#[derive(Debug)]
struct RuleMeta {
    key: String,
    uuid: Option<String>,
    title: String,
    severity: Severity,
    techniques: Vec<String>,
    alerting: bool,
    options: RuleOptions,
    /// Correlations referencing this rule (indices into `corrs`).
    parents: Vec<usize>,
    /// Single-event rules: merge window (the grouping fields are `spec`).
    group_window: i64,
    /// Index of `group_by` in [`Hunter::specs`].
    spec: usize,
}

#[derive(Debug)]
struct CorrMeta {
    rule: RuleMeta,
    timespan: i64,
    group_by: Vec<String>,
    /// Index of `group_by` in [`Hunter::specs`].
    spec: usize,
    threshold: Option<f64>,
}

/// One contributing event, shared by every rule it matched and every window it falls in.
/// Names that repeat across events (user, agent, method, file) share the event's `Arc<str>`;
/// the texts particular to the event sit in one buffer, so an item costs two allocations.
#[derive(Debug)]
struct Item {
    ts: DateTime<FixedOffset>,
    file: Arc<str>,
    line: u64,
    action: &'static str,
    content: bool,
    outcome: Outcome,
    user: Option<Arc<str>>,
    client_ip: Option<IpAddr>,
    method: Option<Arc<str>>,
    status: Option<u16>,
    user_agent: Option<Arc<str>>,
    rest_items: u32,
    /// The texts of [`Text`], each cut to [`MAX_TEXT`] bytes, one after another.
    text: Box<str>,
    /// Per [`Text`], its byte range in `text`, when the event has it.
    spans: [Option<(u32, u32)>; TEXTS],
}

/// The texts an item keeps in its buffer.
#[derive(Debug, Clone, Copy)]
enum Text {
    Url,
    SearchQuery,
    Page,
    Space,
    Attachment,
    AuditAction,
    AuditMessage,
}
const TEXTS: usize = 7;

/// Appends `s` to `buf`, cut to [`MAX_TEXT`] bytes (at a character boundary, marked `…`).
fn push_cut(buf: &mut String, s: &str) {
    if s.len() <= MAX_TEXT {
        buf.push_str(s);
        return;
    }
    let mut end = MAX_TEXT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    buf.push_str(s.get(..end).unwrap_or(""));
    buf.push('…');
}

/// One detection of one event: which rule matched, in which order. The event time is kept
/// here too, so window eviction does not chase the item pointer.
#[derive(Debug, Clone)]
struct Entry {
    seq: u64,
    epoch: i64,
    rule: usize,
    item: Rc<Item>,
}

impl Item {
    fn new(ev: &Event) -> Item {
        let mut text = String::new();
        let mut spans = [None; TEXTS];
        let mut put = |t: Text, write: &dyn Fn(&mut String)| {
            let start = text.len();
            write(&mut text);
            if let (Ok(a), Ok(b), Some(slot)) = (
                u32::try_from(start),
                u32::try_from(text.len()),
                spans.get_mut(t as usize),
            ) {
                *slot = Some((a, b));
            }
        };
        if let Some(u) = ev.url.as_deref() {
            put(Text::Url, &|b| push_cut(b, u));
        }
        if let Some(q) = ev.search_query.as_deref() {
            put(Text::SearchQuery, &|b| push_cut(b, q));
        }
        // The page reference as `view::page_ref` spells it, written in place.
        match (ev.object.page_id, &ev.object.space_key, &ev.object.title) {
            (Some(id), _, _) => put(Text::Page, &|b| {
                use std::fmt::Write;
                let _ = write!(b, "{id}");
            }),
            (None, _, Some(_)) => {
                if let Some(p) = crate::view::page_ref(ev) {
                    put(Text::Page, &|b| push_cut(b, &p));
                }
            }
            _ => {}
        }
        if let Some(k) = ev.object.space_key.as_deref() {
            put(Text::Space, &|b| push_cut(b, k));
        }
        if let Some(a) = ev.object.attachment.as_deref() {
            put(Text::Attachment, &|b| push_cut(b, a));
        }
        if let Some(a) = ev.audit.as_deref() {
            put(Text::AuditAction, &|b| push_cut(b, &a.action_key));
            if let Some(m) = a.message.as_deref() {
                put(Text::AuditMessage, &|b| push_cut(b, m));
            }
        }
        Item {
            ts: ev.timestamp,
            file: ev.origin.file.clone(),
            line: ev.origin.line,
            action: ev.action.as_str(),
            content: ev.action.is_content_retrieval(),
            outcome: ev.outcome,
            user: ev.user.clone(),
            client_ip: ev.client_ip,
            method: ev.method.clone(),
            status: ev.status,
            user_agent: ev.user_agent.clone(),
            rest_items: rest_items(ev).unwrap_or(0),
            text: text.into_boxed_str(),
            spans,
        }
    }

    fn text(&self, t: Text) -> Option<&str> {
        let (a, b) = self.spans.get(t as usize).copied().flatten()?;
        self.text.get(a as usize..b as usize)
    }

    fn sample(&self) -> SampleRequest {
        let owned = |v: &Option<Arc<str>>| v.as_deref().map(str::to_owned);
        let text = |t: Text| self.text(t).map(str::to_owned);
        SampleRequest {
            timestamp: self.ts,
            origin: format!("{}:{}", self.file, self.line),
            action: self.action.to_owned(),
            user: owned(&self.user),
            client_ip: self.client_ip.map(|i| i.to_string()),
            method: owned(&self.method),
            url: text(Text::Url),
            status: self.status,
            user_agent: owned(&self.user_agent),
            search_query: text(Text::SearchQuery),
            audit_action: text(Text::AuditAction),
        }
    }
}

/// The kinds of distinct values an alert keeps, in the order of [`DISTINCT_KINDS`].
#[derive(Debug, Clone, Copy)]
enum Kind {
    Users,
    UserAgents,
    SearchQueries,
    Pages,
    Spaces,
    Attachments,
    AuditActions,
    AuditMessages,
    Actions,
}

/// Names of the kinds as alerts and summaries call them (`source_ips` is kept apart).
const DISTINCT_KINDS: [&str; 9] = [
    "users",
    "user_agents",
    "search_queries",
    "pages",
    "spaces",
    "attachments",
    "audit_actions",
    "audit_messages",
    "actions",
];

/// Distinct values of one kind: a set to test membership and the first-seen order.
#[derive(Debug)]
struct DistinctValues<T> {
    seen: FxHashSet<T>,
    order: Vec<T>,
}

impl<T> Default for DistinctValues<T> {
    fn default() -> Self {
        DistinctValues {
            seen: FxHashSet::default(),
            order: Vec::new(),
        }
    }
}

impl DistinctValues<Arc<str>> {
    /// [`DistinctValues::note`] for borrowed text: allocates only for a new value.
    fn note_str(&mut self, v: &str) -> bool {
        if self.seen.contains(v) {
            return true;
        }
        if self.seen.len() >= MAX_DISTINCT {
            return false;
        }
        let v: Arc<str> = Arc::from(v);
        self.seen.insert(v.clone());
        self.order.push(v);
        true
    }
}

impl<T: std::hash::Hash + Eq + Clone> DistinctValues<T> {
    /// Adds `v`; false when the set is full (then the alert says it was truncated).
    fn note(&mut self, v: &T) -> bool {
        if self.seen.contains(v) {
            return true;
        }
        if self.seen.len() >= MAX_DISTINCT {
            return false;
        }
        self.seen.insert(v.clone());
        self.order.push(v.clone());
        true
    }
}

/// Accumulates one alert across the windows merged into it.
#[derive(Debug)]
struct Building {
    rule: RuleRef,
    group: BTreeMap<String, String>,
    first: DateTime<FixedOffset>,
    last: DateTime<FixedOffset>,
    last_epoch: i64,
    merge_window: i64,
    max_seq: u64,
    windows: u64,
    aggregated: f64,
    event_count: u64,
    truncated: bool,
    per_rule: BTreeMap<usize, u64>,
    per_rule_pages: FxHashMap<usize, FxHashSet<Arc<str>>>,
    failures: u64,
    items_sum: u64,
    distinct: [DistinctValues<Arc<str>>; DISTINCT_KINDS.len()],
    source_ips: DistinctValues<IpAddr>,
    /// The first few and the last few contributing events; turned into samples at the end.
    first_samples: Vec<Rc<Item>>,
    last_samples: VecDeque<Rc<Item>>,
    privileged: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum RuleRef {
    Det(usize),
    Corr(usize),
}

impl Building {
    fn new(
        rule: RuleRef,
        group: BTreeMap<String, String>,
        ts: DateTime<FixedOffset>,
        merge_window: i64,
    ) -> Building {
        Building {
            rule,
            group,
            first: ts,
            last: ts,
            last_epoch: ts.timestamp(),
            merge_window,
            max_seq: 0,
            windows: 0,
            aggregated: 0.0,
            event_count: 0,
            truncated: false,
            per_rule: BTreeMap::new(),
            per_rule_pages: FxHashMap::default(),
            failures: 0,
            items_sum: 0,
            distinct: Default::default(),
            source_ips: DistinctValues::default(),
            first_samples: Vec::new(),
            last_samples: VecDeque::new(),
            privileged: false,
        }
    }

    fn note(&mut self, kind: Kind, value: &Option<Arc<str>>) {
        if let Some(v) = value
            && let Some(set) = self.distinct.get_mut(kind as usize)
            && !set.note(v)
        {
            self.truncated = true;
        }
    }

    fn note_text(&mut self, kind: Kind, value: Option<&str>) {
        if let Some(v) = value
            && let Some(set) = self.distinct.get_mut(kind as usize)
            && !set.note_str(v)
        {
            self.truncated = true;
        }
    }

    fn add(&mut self, e: &Entry) {
        if e.seq <= self.max_seq {
            return;
        }
        self.max_seq = e.seq;
        let it = &e.item;
        self.event_count += 1;
        if it.ts < self.first {
            self.first = it.ts;
        }
        if it.ts > self.last {
            self.last = it.ts;
        }
        *self.per_rule.entry(e.rule).or_default() += 1;
        if it.outcome == Outcome::Failure {
            self.failures += 1;
        }
        self.items_sum += u64::from(it.rest_items);
        self.note(Kind::Users, &it.user);
        if let Some(ip) = it.client_ip
            && !self.source_ips.note(&ip)
        {
            self.truncated = true;
        }
        self.note(Kind::UserAgents, &it.user_agent);
        self.note_text(Kind::SearchQueries, it.text(Text::SearchQuery));
        if it.content
            && let Some(p) = it.text(Text::Page)
        {
            self.note_text(Kind::Pages, Some(p));
            let set = self.per_rule_pages.entry(e.rule).or_default();
            if set.len() < MAX_DISTINCT && !set.contains(p) {
                set.insert(Arc::from(p));
            }
        }
        self.note_text(Kind::Spaces, it.text(Text::Space));
        self.note_text(Kind::Attachments, it.text(Text::Attachment));
        self.note_text(Kind::AuditActions, it.text(Text::AuditAction));
        self.note_text(Kind::AuditMessages, it.text(Text::AuditMessage));
        if let Some(set) = self.distinct.get_mut(Kind::Actions as usize)
            && !set.order.iter().any(|a| a.as_ref() == it.action)
        {
            set.note(&Arc::from(it.action));
        }
        if self.first_samples.len() < FIRST_SAMPLES {
            self.first_samples.push(e.item.clone());
        } else {
            if self.last_samples.len() >= LAST_SAMPLES {
                self.last_samples.pop_front();
            }
            self.last_samples.push_back(e.item.clone());
        }
    }

    /// Distinct values per kind in first-seen order, and how many were seen, as the alert
    /// and its summary name them.
    fn distinct_maps(
        &self,
    ) -> (
        BTreeMap<&'static str, Vec<String>>,
        BTreeMap<&'static str, u64>,
    ) {
        let mut lists = BTreeMap::new();
        let mut counts = BTreeMap::new();
        for (kind, set) in DISTINCT_KINDS.iter().zip(&self.distinct) {
            if set.order.is_empty() {
                continue;
            }
            lists.insert(*kind, set.order.iter().map(|v| v.to_string()).collect());
            counts.insert(*kind, set.seen.len() as u64);
        }
        if !self.source_ips.order.is_empty() {
            lists.insert(
                "source_ips",
                self.source_ips
                    .order
                    .iter()
                    .map(IpAddr::to_string)
                    .collect(),
            );
            counts.insert("source_ips", self.source_ips.seen.len() as u64);
        }
        (lists, counts)
    }
}

/// A slot's key: (group-by spec, interned group key).
type SlotKey = (usize, u32);

/// The state of correlation `ci` for group `gid` in `groups`, if it has any (a function of
/// the fields it reads, so it can be used while other fields are borrowed).
fn slot_group<'a>(
    groups: &'a FxHashMap<SlotKey, Box<[Group]>>,
    corrs: &[CorrMeta],
    slot_pos: &[usize],
    ci: usize,
    gid: u32,
) -> Option<&'a Group> {
    let spec = corrs.get(ci)?.spec;
    groups.get(&(spec, gid))?.get(*slot_pos.get(ci)?)
}

/// [`slot_group`], creating the slot when missing.
fn slot_group_mut<'a>(
    groups: &'a mut FxHashMap<SlotKey, Box<[Group]>>,
    corrs: &[CorrMeta],
    slot_pos: &[usize],
    spec_corrs: &[Vec<usize>],
    ci: usize,
    gid: u32,
) -> Option<&'a mut Group> {
    let spec = corrs.get(ci)?.spec;
    let pos = *slot_pos.get(ci)?;
    let width = spec_corrs.get(spec).map_or(0, Vec::len);
    groups
        .entry((spec, gid))
        .or_insert_with(|| new_slot(width))
        .get_mut(pos)
}

/// A slot of `width` empty correlation states.
fn new_slot(width: usize) -> Box<[Group]> {
    (0..width).map(|_| Group::default()).collect()
}

/// The (field, value) pairs of the event for group-by spec `spec`, without the missing
/// fields.
fn group_pairs(specs: &[Vec<String>], spec: usize, view: &EventView<'_>) -> Vec<(String, String)> {
    specs
        .get(spec)
        .map(|fields| {
            fields
                .iter()
                .filter_map(|f| {
                    let v = view.get_field(f)?.as_str()?.into_owned();
                    Some((f.clone(), v))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The state of one (correlation, group): its native window, if the correlation is
/// evaluated natively, and the evidence inside its timespan.
#[derive(Debug, Default)]
struct Group {
    window: Option<Window>,
    entries: VecDeque<Entry>,
}

/// Values of one event worked out at most once: group keys by group-by spec, and
/// correlation field values by slot.
#[derive(Default)]
struct Memo {
    keys: Vec<Option<u32>>,
    values: Vec<Option<Option<FieldValue>>>,
}

/// One correlation a detection feeds, with the event's key and value for it.
#[derive(Debug, Clone, Copy)]
struct Step {
    ci: usize,
    spec: usize,
    gid: u32,
    timespan: i64,
    value: Option<FieldValue>,
    keeps_evidence: bool,
}

/// Per-event working state shared by the detections of one event.
#[derive(Default)]
struct EventScratch {
    /// The correlations the current detection feeds (reused buffer).
    plan: Vec<Step>,
    /// The event's evidence item, created on the first detection.
    shared: Option<Rc<Item>>,
    memo: Memo,
    /// Native value_count firings, handled after all detections.
    fired: Vec<Firing>,
}

/// A native correlation firing: (correlation index, group-by spec, group key, aggregated
/// value).
type Firing = (usize, usize, u32, f64);

/// The group a correlation fired for: as (field, value) pairs (rsigma's firings), or as the
/// interned key the native windows already worked out (then the pairs are only built when
/// an alert opens or a chain needs them).
enum FireKey<'a> {
    Pairs(&'a [(String, String)]),
    Known { spec: usize, gid: u32 },
}

/// Events and alerts of one hunt.
#[derive(Debug, Clone, Default)]
pub struct HuntStats {
    pub events_read: u64,
    /// Events inside `--since/--until`.
    pub events_in_range: u64,
    pub first_event: Option<DateTime<FixedOffset>>,
    pub last_event: Option<DateTime<FixedOffset>>,
    pub rules_loaded: usize,
    /// Alerts removed by allowlist entries: (reason, count).
    pub suppressed: Vec<(String, u64)>,
    pub below_min_severity: u64,
}

/// What a hunt produced.
#[derive(Debug, Clone, Default)]
pub struct HuntReport {
    /// Sorted by severity (most severe first), then first_seen.
    pub alerts: Vec<Alert>,
    pub stats: HuntStats,
}

/// Runtime options that are not part of the TOML file.
#[derive(Debug, Clone, Default)]
pub struct HuntOptions {
    pub since: Option<DateTime<FixedOffset>>,
    pub until: Option<DateTime<FixedOffset>>,
    /// Overrides the config's `min_severity`.
    pub min_severity: Option<Severity>,
    /// Also evaluate static resources and background polling (off by default: they say
    /// nothing about intent, are often half of all lines, and no built-in rule reads them).
    pub include_noise: bool,
}

impl HuntOptions {
    /// For an event no rule and no analytic looks at (static resources and background
    /// polling, unless `include_noise`): whether it is inside `--since/--until`, so a caller
    /// can count it with [`HuntStats::count_unevaluated`] instead of passing it on. `None`
    /// for every other event.
    pub fn noise_in_range(&self, ev: &Event) -> Option<bool> {
        if self.include_noise || !ev.is_noise() {
            return None;
        }
        Some(!self.out_of_range(ev))
    }

    fn out_of_range(&self, ev: &Event) -> bool {
        self.since.is_some_and(|s| ev.timestamp < s) || self.until.is_some_and(|u| ev.timestamp > u)
    }
}

impl HuntStats {
    /// Counts events set aside before evaluation (see [`HuntOptions::noise_in_range`]).
    pub fn count_unevaluated(&mut self, read: u64, in_range: u64) {
        self.events_read += read;
        self.events_in_range += in_range;
    }
}

/// Why an event is not evaluated.
#[derive(Debug, Clone, Copy)]
enum Skip {
    OutOfRange,
    Noise,
}

/// What [`Matcher::evaluate`] found for one event; hand it to [`Hunter::process_matched`].
pub struct Matched {
    /// The detection rules it matched (indices), when no rsigma correlation counts them.
    dets: Vec<usize>,
    /// rsigma's results, when one of rsigma's own correlations counts the event.
    rsigma: Option<Vec<EvaluationResult>>,
    privileged: bool,
    skip: Option<Skip>,
}

/// Which detection rules one event matches: the stateless half of the hunt. It is `Sync`,
/// so a batch can be evaluated on all cores while the [`Hunter`] keeps windows in order on
/// one thread.
pub struct Matcher {
    engine: CorrelationEngine,
    det_by_id: FxHashMap<String, usize>,
    rsigma_refs: FxHashSet<String>,
    privileged: PrivilegedAccounts,
    opts: HuntOptions,
}

impl Matcher {
    pub fn evaluate(&self, ev: &Event) -> Matched {
        evaluate(
            &self.engine,
            &self.det_by_id,
            &self.rsigma_refs,
            &self.privileged,
            &self.opts,
            ev,
        )
    }
}

fn evaluate(
    engine: &CorrelationEngine,
    det_by_id: &FxHashMap<String, usize>,
    rsigma_refs: &FxHashSet<String>,
    privilege: &dyn PrivilegeSource,
    opts: &HuntOptions,
    ev: &Event,
) -> Matched {
    let skipped = |skip| Matched {
        dets: Vec::new(),
        rsigma: None,
        privileged: false,
        skip: Some(skip),
    };
    if opts.out_of_range(ev) {
        return skipped(Skip::OutOfRange);
    }
    if !opts.include_noise && ev.is_noise() {
        return skipped(Skip::Noise);
    }
    let privileged = ev
        .user
        .as_deref()
        .is_some_and(|u| privilege.is_privileged(u));
    let detections = engine.evaluate(&EventView::new(ev, privileged));
    // rsigma's correlation layer only sees events that one of its correlations counts.
    if detections.iter().any(|d| {
        d.header
            .rule_id
            .as_ref()
            .is_some_and(|id| rsigma_refs.contains(id))
    }) {
        return Matched {
            dets: Vec::new(),
            rsigma: Some(detections),
            privileged,
            skip: None,
        };
    }
    let dets = detections
        .iter()
        .filter(|r| r.is_detection())
        .filter_map(|r| {
            let ident = r.header.rule_id.as_ref().unwrap_or(&r.header.rule_title);
            det_by_id.get(ident).copied()
        })
        .collect();
    Matched {
        dets,
        rsigma: None,
        privileged,
        skip: None,
    }
}

/// The streaming hunter: `process` each event in time order, then `finish`.
pub struct Hunter {
    engine: CorrelationEngine,
    /// Sigma ids of the detection rules that rsigma's own correlations count.
    rsigma_refs: FxHashSet<String>,
    cfg: HuntConfig,
    opts: HuntOptions,
    privilege: Box<dyn PrivilegeSource>,
    dets: Vec<RuleMeta>,
    det_by_id: FxHashMap<String, usize>,
    corrs: Vec<CorrMeta>,
    corr_by_id: FxHashMap<String, usize>,
    /// The distinct group-by field lists of all rules; rules refer to them by index.
    specs: Vec<Vec<String>>,
    /// Group keys (the values of a group-by spec, joined) interned to small ids, so the
    /// per-event lookups below hash a pair of integers. One entry per entity (user, address)
    /// ever grouped on, so it grows with entities, not with lines.
    keys: FxHashMap<Box<str>, u32>,
    /// Reused to build group keys without allocating.
    key_buf: String,
    /// Evidence and native windows per (group-by spec, group key): one slot holds the
    /// state of every correlation with that group-by, so an event that several of them
    /// count costs one lookup.
    groups: FxHashMap<SlotKey, Box<[Group]>>,
    /// Per correlation, its position in its spec's slot; per spec, its correlations.
    slot_pos: Vec<usize>,
    spec_corrs: Vec<Vec<usize>>,
    /// Correlations evaluated here rather than by rsigma (see [`crate::native`]), by index.
    native: Vec<Option<NativeCorr>>,
    /// The distinct fields native correlations count or sum, and each correlation's slot
    /// among them, so an event's value is worked out once for all of them.
    value_fields: Vec<String>,
    value_slot: Vec<Option<usize>>,
    /// Keys the value hashes of distinct counting (see [`FieldValue`]).
    value_key: std::hash::RandomState,
    /// Per correlation, the correlation whose group keeps its evidence (itself, or one
    /// with identical evidence).
    store_of: Vec<usize>,
    building: Vec<Building>,
    /// The open alert per (rule, group key).
    open: FxHashMap<(RuleRef, u32), usize>,
    seq: u64,
    stats: HuntStats,
    terms: Vec<String>,
    scratch: EventScratch,
}

fn key_string(values: &[Option<String>]) -> String {
    let mut s = String::new();
    for v in values {
        match v {
            Some(v) => s.push_str(v),
            None => s.push('\u{0}'),
        }
        s.push('\u{1f}');
    }
    s
}

impl Hunter {
    pub fn new(
        rules: &RuleSet,
        cfg: &HuntConfig,
        opts: HuntOptions,
    ) -> Result<Hunter, DetectError> {
        let coll = rules.collection(cfg);
        let alerting = alerting_keys(&coll);
        let mut specs: Vec<Vec<String>> = Vec::new();
        let mut spec_of = |g: &[String]| -> usize {
            match specs.iter().position(|s| s.as_slice() == g) {
                Some(i) => i,
                None => {
                    specs.push(g.to_vec());
                    specs.len() - 1
                }
            }
        };
        let mut dets = Vec::new();
        let mut det_by_id = FxHashMap::default();
        for r in &coll.rules {
            let key = rule_key(&r.name, &r.id, &r.title);
            let options = rule_options(&r.custom_attributes);
            let group_by = if options.group_by.is_empty() {
                vec!["user".to_owned()]
            } else {
                options.group_by.clone()
            };
            let group_window = options
                .group_window
                .as_deref()
                .and_then(parse_span)
                .unwrap_or(DEFAULT_GROUP_WINDOW_SECS);
            let idx = dets.len();
            for ident in
                r.id.iter()
                    .chain(r.name.iter())
                    .chain(std::iter::once(&r.title))
            {
                det_by_id.entry(ident.clone()).or_insert(idx);
            }
            dets.push(RuleMeta {
                alerting: alerting.contains(&key),
                key,
                uuid: r.id.clone(),
                title: r.title.clone(),
                severity: level_to_severity(r.level),
                techniques: r
                    .tags
                    .iter()
                    .filter_map(|t| technique_from_tag(t))
                    .collect(),
                options,
                parents: Vec::new(),
                spec: spec_of(&group_by),
                group_window,
            });
        }
        let mut corrs = Vec::new();
        let mut corr_by_id = FxHashMap::default();
        for c in &coll.correlations {
            let key = rule_key(&c.name, &c.id, &c.title);
            let idx = corrs.len();
            for ident in
                c.id.iter()
                    .chain(c.name.iter())
                    .chain(std::iter::once(&c.title))
            {
                corr_by_id.entry(ident.clone()).or_insert(idx);
            }
            corrs.push(CorrMeta {
                rule: RuleMeta {
                    alerting: alerting.contains(&key),
                    key,
                    uuid: c.id.clone(),
                    title: c.title.clone(),
                    severity: level_to_severity(c.level),
                    techniques: c
                        .tags
                        .iter()
                        .filter_map(|t| technique_from_tag(t))
                        .collect(),
                    options: rule_options(&c.custom_attributes),
                    parents: Vec::new(),
                    group_window: 0,
                    spec: 0,
                },
                timespan: i64::try_from(c.timespan.seconds).unwrap_or(i64::MAX / 4),
                spec: spec_of(&c.group_by),
                group_by: c.group_by.clone(),
                // Temporal types carry an implicit "all rules seen" count, not a tunable
                // threshold; only the counting types score by how far they passed it.
                threshold: match c.correlation_type {
                    CorrelationType::Temporal | CorrelationType::TemporalOrdered => None,
                    _ => threshold_of(c),
                },
            });
        }
        for (ci, c) in coll.correlations.iter().enumerate() {
            for r in &c.rules {
                if let Some(&d) = det_by_id.get(r) {
                    if let Some(m) = dets.get_mut(d) {
                        m.parents.push(ci);
                    }
                } else if let Some(&p) = corr_by_id.get(r)
                    && let Some(m) = corrs.get_mut(p)
                {
                    m.rule.parents.push(ci);
                }
            }
        }
        // Correlations run natively where their features allow (see `crate::native`); the
        // rest of the collection goes to rsigma. A correlation rsigma evaluates needs the
        // correlations it chains on evaluated by rsigma too.
        let resolve = |r: &str| {
            det_by_id
                .get(r)
                .map(|&d| Input::Det(d))
                .or_else(|| corr_by_id.get(r).map(|&c| Input::Corr(c)))
        };
        let mut native: Vec<Option<NativeCorr>> = coll
            .correlations
            .iter()
            .zip(&corrs)
            .map(|(c, m)| NativeCorr::from_rule(c, m.timespan, resolve))
            .collect();
        loop {
            let mut changed = false;
            for (ci, c) in coll.correlations.iter().enumerate() {
                if native.get(ci).is_some_and(Option::is_some) {
                    continue;
                }
                for r in &c.rules {
                    if let Some(Input::Corr(k)) = resolve(r)
                        && let Some(slot) = native.get_mut(k)
                        && slot.is_some()
                    {
                        *slot = None;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        // Correlations that count the same detection rules over the same timespan and
        // group-by, and take no other correlation as input, hold identical evidence: one
        // of them (the first) keeps it for all.
        let store_of: Vec<usize> = {
            let inputs_of = |ci: usize| -> Vec<usize> {
                let mut v: Vec<usize> = dets
                    .iter()
                    .enumerate()
                    .flat_map(|(d, m)| m.parents.iter().filter(|&&p| p == ci).map(move |_| d))
                    .collect();
                v.sort_unstable();
                v
            };
            let fed_by_corr = |ci: usize| {
                corrs
                    .iter()
                    .any(|c: &CorrMeta| c.rule.parents.contains(&ci))
            };
            let keys: Vec<Option<(Vec<usize>, i64, usize)>> = corrs
                .iter()
                .enumerate()
                .map(|(ci, c)| (!fed_by_corr(ci)).then(|| (inputs_of(ci), c.timespan, c.spec)))
                .collect();
            (0..corrs.len())
                .map(|ci| match keys.get(ci).and_then(Option::as_ref) {
                    Some(k) => keys
                        .iter()
                        .position(|o| o.as_ref() == Some(k))
                        .unwrap_or(ci),
                    None => ci,
                })
                .collect()
        };
        let mut spec_corrs: Vec<Vec<usize>> = vec![Vec::new(); specs.len()];
        let mut slot_pos = Vec::with_capacity(corrs.len());
        for (ci, c) in corrs.iter().enumerate() {
            let list = spec_corrs.get_mut(c.spec);
            slot_pos.push(list.as_ref().map_or(0, |l| l.len()));
            if let Some(l) = list {
                l.push(ci);
            }
        }
        let mut value_fields: Vec<String> = Vec::new();
        let value_slot = native
            .iter()
            .map(|nc| {
                let f = nc.as_ref()?.field()?;
                Some(match value_fields.iter().position(|x| x == f) {
                    Some(i) => i,
                    None => {
                        value_fields.push(f.to_owned());
                        value_fields.len() - 1
                    }
                })
            })
            .collect();
        let mut rsigma_refs = FxHashSet::default();
        let mut for_rsigma = SigmaCollection::new();
        for_rsigma.rules = coll.rules.clone();
        // rsigma copies a rule's tags into every match result; the hunter reads techniques
        // from its own rule table, so the engine's copies go without (a third fewer
        // allocations per match on the benchmark).
        for r in &mut for_rsigma.rules {
            r.tags.clear();
        }
        for_rsigma.filters = coll.filters.clone();
        for (ci, c) in coll.correlations.iter().enumerate() {
            if native.get(ci).is_some_and(Option::is_some) {
                continue;
            }
            for r in &c.rules {
                if let Some(rule) = coll.rules.iter().find(|x| {
                    x.name.as_deref() == Some(r.as_str()) || x.id.as_deref() == Some(r.as_str())
                }) && let Some(id) = &rule.id
                {
                    rsigma_refs.insert(id.clone());
                }
            }
            for_rsigma.correlations.push(c.clone());
        }
        let mut engine = CorrelationEngine::new(rsigma_eval::CorrelationConfig::default());
        engine
            .add_collection(&for_rsigma)
            .map_err(|e| DetectError::Compile(e.to_string()))?;
        let mut privileged = PrivilegedAccounts::default();
        for a in &cfg.privileged_accounts {
            privileged.add(a);
        }
        let stats = HuntStats {
            rules_loaded: alerting.len(),
            ..HuntStats::default()
        };
        Ok(Hunter {
            engine,
            terms: cfg.all_sensitive_terms(),
            cfg: cfg.clone(),
            opts,
            privilege: Box::new(privileged),
            dets,
            det_by_id,
            corrs,
            corr_by_id,
            specs,
            keys: FxHashMap::default(),
            key_buf: String::new(),
            groups: FxHashMap::default(),
            slot_pos,
            spec_corrs,
            native,
            value_fields,
            value_slot,
            value_key: std::hash::RandomState::new(),
            store_of,
            rsigma_refs,
            building: Vec::new(),
            open: FxHashMap::default(),
            seq: 0,
            stats,
            scratch: EventScratch::default(),
        })
    }

    /// Replaces the privileged-account source (the LDAP seam).
    pub fn set_privilege_source(&mut self, source: Box<dyn PrivilegeSource>) {
        self.privilege = source;
    }

    /// Feeds one event. Events should arrive in time order (windows use event time).
    pub fn process(&mut self, ev: &Event) {
        let matched = evaluate(
            &self.engine,
            &self.det_by_id,
            &self.rsigma_refs,
            self.privilege.as_ref(),
            &self.opts,
            ev,
        );
        self.process_matched(ev, matched);
    }

    /// The stateless half of a hunter built from the same rules and configuration: which
    /// rules each event matches, for evaluating events on other threads before
    /// [`Hunter::process_matched`] sees them in order. Privileged accounts come from the
    /// configuration (a source set with `set_privilege_source` is not shared).
    pub fn matcher(
        rules: &RuleSet,
        cfg: &HuntConfig,
        opts: HuntOptions,
    ) -> Result<Matcher, DetectError> {
        let h = Hunter::new(rules, cfg, opts)?;
        let mut privileged = PrivilegedAccounts::default();
        for a in &cfg.privileged_accounts {
            privileged.add(a);
        }
        Ok(Matcher {
            engine: h.engine,
            det_by_id: h.det_by_id,
            rsigma_refs: h.rsigma_refs,
            privileged,
            opts: h.opts,
        })
    }

    /// Feeds one event with what [`Matcher::evaluate`] found for it.
    pub fn process_matched(&mut self, ev: &Event, matched: Matched) {
        self.stats.events_read += 1;
        let Matched {
            dets,
            rsigma,
            privileged,
            skip,
        } = matched;
        match skip {
            Some(Skip::OutOfRange) => return,
            Some(Skip::Noise) => {
                self.stats.events_in_range += 1;
                return;
            }
            None => {}
        }
        self.stats.events_in_range += 1;
        if self.stats.first_event.is_none_or(|f| ev.timestamp < f) {
            self.stats.first_event = Some(ev.timestamp);
        }
        if self.stats.last_event.is_none_or(|l| ev.timestamp > l) {
            self.stats.last_event = Some(ev.timestamp);
        }
        let view = EventView::new(ev, privileged);
        let epoch = ev.timestamp.timestamp();
        // The scratch keeps its buffers from event to event.
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.shared = None;
        scratch.memo.keys.clear();
        scratch.memo.values.clear();
        match rsigma {
            // One of rsigma's own correlations counts this event.
            Some(detections) => {
                let results = self
                    .engine
                    .process_with_detections(&view, detections, epoch);
                for r in &results {
                    if r.is_detection() {
                        let ident = r.header.rule_id.as_ref().unwrap_or(&r.header.rule_title);
                        if let Some(&d) = self.det_by_id.get(ident) {
                            self.on_detection(d, ev, &view, privileged, &mut scratch);
                        }
                    }
                }
                self.fire_all(&mut scratch, ev, privileged);
                for r in &results {
                    if let Some(body) = r.as_correlation() {
                        let ident = r.header.rule_id.as_ref().unwrap_or(&r.header.rule_title);
                        if let Some(&ci) = self.corr_by_id.get(ident) {
                            self.fire(ci, &body.group_key, body.aggregated_value, ev, privileged);
                        }
                    }
                }
            }
            None => {
                for d in dets {
                    self.on_detection(d, ev, &view, privileged, &mut scratch);
                }
                self.fire_all(&mut scratch, ev, privileged);
            }
        }
        self.scratch = scratch;
        if self.stats.events_in_range.is_multiple_of(SWEEP_EVERY) {
            self.sweep(epoch);
        }
    }

    /// The native correlations that fired on this event.
    fn fire_all(&mut self, scratch: &mut EventScratch, ev: &Event, privileged: bool) {
        for (ci, spec, gid, agg) in scratch.fired.drain(..) {
            self.fire_chain(ci, &FireKey::Known { spec, gid }, agg, ev, privileged, 0);
        }
    }

    fn on_detection(
        &mut self,
        d: usize,
        ev: &Event,
        view: &EventView<'_>,
        privileged: bool,
        scratch: &mut EventScratch,
    ) {
        let Some(meta) = self.dets.get(d) else {
            return;
        };
        if meta.parents.is_empty() && !meta.alerting {
            return;
        }
        // One item per event, shared by every rule it matched; one sequence number per
        // detection so per-rule counts stay right.
        let item = scratch
            .shared
            .get_or_insert_with(|| Rc::new(Item::new(ev)))
            .clone();
        self.seq += 1;
        let entry = Entry {
            seq: self.seq,
            epoch: ev.timestamp.timestamp(),
            rule: d,
            item,
        };
        let epoch = entry.epoch;
        let (alerting, group_spec, window) = (meta.alerting, meta.spec, meta.group_window);
        // Keys and values first (interning needs the whole hunter), then the windows and
        // evidence, one slot lookup per group key.
        scratch.plan.clear();
        for k in 0..meta.parents.len() {
            let Some(ci) = self.dets.get(d).and_then(|m| m.parents.get(k).copied()) else {
                continue;
            };
            let Some(c) = self.corrs.get(ci) else {
                continue;
            };
            let (spec, timespan) = (c.spec, c.timespan);
            let keeps_evidence = self.store_of.get(ci) == Some(&ci);
            if !keeps_evidence && !self.native.get(ci).is_some_and(Option::is_some) {
                continue;
            }
            let gid = self.group_key(spec, view, &mut scratch.memo);
            let value = self.field_value(ci, view, &mut scratch.memo);
            scratch.plan.push(Step {
                ci,
                spec,
                gid,
                timespan,
                value,
                keeps_evidence,
            });
        }
        let mut slot: Option<(SlotKey, &mut Box<[Group]>)> = None;
        for st in &scratch.plan {
            let key = (st.spec, st.gid);
            if slot.as_ref().map(|(k, _)| *k) != Some(key) {
                let width = self.spec_corrs.get(st.spec).map_or(0, Vec::len);
                slot = Some((
                    key,
                    self.groups.entry(key).or_insert_with(|| new_slot(width)),
                ));
            }
            let Some(group) = slot
                .as_mut()
                .and_then(|(_, g)| g.get_mut(self.slot_pos.get(st.ci).copied()?))
            else {
                continue;
            };
            let agg = match self.native.get(st.ci).and_then(Option::as_ref) {
                Some(nc) => {
                    let w = group.window.get_or_insert_with(|| nc.new_window());
                    nc.occur(w, Input::Det(d), epoch, st.value)
                }
                None => None,
            };
            if st.keeps_evidence {
                let cutoff = epoch.saturating_sub(st.timespan);
                let q = &mut group.entries;
                while q.front().is_some_and(|f| f.epoch < cutoff) {
                    q.pop_front();
                }
                if q.len() >= MAX_ITEMS_PER_GROUP {
                    // Keep the oldest entry as the window's start (first_seen, first
                    // samples) and drop the next one.
                    q.remove(1);
                }
                q.push_back(entry.clone());
            }
            if let Some(agg) = agg {
                scratch.fired.push((st.ci, st.spec, st.gid, agg));
            }
        }
        if alerting {
            let gid = self.group_key(group_spec, view, &mut scratch.memo);
            let idx = self.episode(RuleRef::Det(d), gid, ev.timestamp, window, |h| {
                group_pairs(&h.specs, group_spec, view)
                    .into_iter()
                    .collect()
            });
            if let Some(b) = self.building.get_mut(idx) {
                b.windows += 1;
                b.aggregated = b.aggregated.max(b.windows as f64);
                b.privileged |= privileged;
                b.add(&entry);
            }
        }
    }

    /// One event of `input` for the native correlation `ci` in group `gid`: the aggregated
    /// value when its condition now holds.
    fn native_occur(
        &mut self,
        ci: usize,
        input: Input,
        gid: u32,
        view: &EventView<'_>,
        epoch: i64,
        memo: &mut Memo,
    ) -> Option<f64> {
        let value = self.field_value(ci, view, memo);
        let Some(Some(nc)) = self.native.get(ci) else {
            return None;
        };
        let group = slot_group_mut(
            &mut self.groups,
            &self.corrs,
            &self.slot_pos,
            &self.spec_corrs,
            ci,
            gid,
        )?;
        let w = group.window.get_or_insert_with(|| nc.new_window());
        nc.occur(w, input, epoch, value)
    }

    /// The event's value of the field native correlation `ci` counts or sums, worked out
    /// once per event for every correlation over the same field.
    fn field_value(&self, ci: usize, view: &EventView<'_>, memo: &mut Memo) -> Option<FieldValue> {
        let slot = self.value_slot.get(ci).copied().flatten()?;
        if let Some(Some(v)) = memo.values.get(slot) {
            return *v;
        }
        let raw = self.value_fields.get(slot).and_then(|f| view.get_field(f));
        let value = raw
            .as_ref()
            .and_then(|v| v.as_str())
            .map(|text| FieldValue::new(&text, &self.value_key));
        if memo.values.len() <= slot {
            memo.values.resize(slot + 1, None);
        }
        if let Some(m) = memo.values.get_mut(slot) {
            *m = Some(value);
        }
        value
    }

    /// The interned key of the event's values for group-by spec `spec`, computed once per
    /// event (without allocating once the entity is known).
    fn group_key(&mut self, spec: usize, view: &EventView<'_>, memo: &mut Memo) -> u32 {
        if let Some(Some(gid)) = memo.keys.get(spec) {
            return *gid;
        }
        let mut key = std::mem::take(&mut self.key_buf);
        key.clear();
        for f in self.specs.get(spec).map(Vec::as_slice).unwrap_or_default() {
            let raw = view.get_field(f);
            match raw.as_ref().and_then(|v| v.as_str()) {
                Some(v) => key.push_str(&v),
                None => key.push('\u{0}'),
            }
            key.push('\u{1f}');
        }
        let gid = self.intern(&key);
        self.key_buf = key;
        if memo.keys.len() <= spec {
            memo.keys.resize(spec + 1, None);
        }
        if let Some(slot) = memo.keys.get_mut(spec) {
            *slot = Some(gid);
        }
        gid
    }

    fn intern(&mut self, key: &str) -> u32 {
        if let Some(&id) = self.keys.get(key) {
            return id;
        }
        let id = u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
        self.keys.insert(key.into(), id);
        id
    }

    /// The state of correlation `ci` for group `gid`, if it has any.
    fn group(&self, ci: usize, gid: u32) -> Option<&Group> {
        slot_group(&self.groups, &self.corrs, &self.slot_pos, ci, gid)
    }

    /// The state of correlation `ci` for group `gid`, created when missing.
    fn group_mut(&mut self, ci: usize, gid: u32) -> Option<&mut Group> {
        slot_group_mut(
            &mut self.groups,
            &self.corrs,
            &self.slot_pos,
            &self.spec_corrs,
            ci,
            gid,
        )
    }

    /// The open alert for (rule, group), or a new one when the last hit is older than
    /// the merge window. `group` is only called for a new alert.
    fn episode(
        &mut self,
        rule: RuleRef,
        gid: u32,
        ts: DateTime<FixedOffset>,
        window: i64,
        group: impl FnOnce(&Self) -> BTreeMap<String, String>,
    ) -> usize {
        let k = (rule, gid);
        let epoch = ts.timestamp();
        let reuse = self.open.get(&k).copied().filter(|&i| {
            self.building
                .get(i)
                .is_some_and(|b| epoch - b.last_epoch <= b.merge_window)
        });
        let idx = match reuse {
            Some(i) => i,
            None => {
                let g = group(self);
                self.building.push(Building::new(rule, g, ts, window));
                let i = self.building.len() - 1;
                self.open.insert(k, i);
                i
            }
        };
        if let Some(b) = self.building.get_mut(idx) {
            b.last_epoch = b.last_epoch.max(epoch);
        }
        idx
    }

    /// A correlation fired (from rsigma or natively) for `pairs`.
    fn fire(
        &mut self,
        ci: usize,
        pairs: &[(String, String)],
        agg: f64,
        ev: &Event,
        privileged: bool,
    ) {
        self.fire_chain(ci, &FireKey::Pairs(pairs), agg, ev, privileged, 0);
    }

    /// `fire`, then hands the firing to the native correlations that chain on `ci`.
    fn fire_chain(
        &mut self,
        ci: usize,
        key: &FireKey<'_>,
        agg: f64,
        ev: &Event,
        privileged: bool,
        depth: usize,
    ) {
        self.fire_one(ci, key, agg, ev, privileged);
        // Rule files could reference each other in a loop; real chains are 2-3 deep.
        if depth >= 8 {
            return;
        }
        let parents = match self.corrs.get(ci) {
            Some(c) => c.rule.parents.clone(),
            None => return,
        };
        let view = EventView::new(ev, privileged);
        let epoch = ev.timestamp.timestamp();
        let mut memo = Memo::default();
        for p in parents {
            if !self.native.get(p).is_some_and(Option::is_some) {
                continue;
            }
            let Some(spec) = self.corrs.get(p).map(|c| c.spec) else {
                continue;
            };
            let gid = self.group_key(spec, &view, &mut memo);
            if let Some(pagg) = self.native_occur(p, Input::Corr(ci), gid, &view, epoch, &mut memo)
            {
                let key = FireKey::Known { spec, gid };
                self.fire_chain(p, &key, pagg, ev, privileged, depth + 1);
            }
        }
    }

    fn fire_one(&mut self, ci: usize, key: &FireKey<'_>, agg: f64, ev: &Event, privileged: bool) {
        let Some(c) = self.corrs.get(ci) else { return };
        let view = EventView::new(ev, privileged);
        // The pairs are needed now only to key the parents of a chain.
        let built;
        let pairs: Option<&[(String, String)]> = match key {
            FireKey::Pairs(p) => Some(p),
            FireKey::Known { spec, .. } if !c.rule.parents.is_empty() => {
                built = group_pairs(&self.specs, *spec, &view);
                Some(&built)
            }
            FireKey::Known { .. } => None,
        };
        let pairs_or_none = pairs.unwrap_or_default();
        let key_of = |group_by: &[String]| -> String {
            let key: Vec<Option<String>> = group_by
                .iter()
                .map(|f| {
                    pairs_or_none
                        .iter()
                        .find(|(k, _)| k == f)
                        .map(|(_, v)| v.clone())
                })
                .collect();
            key_string(&key)
        };
        let kstr = match key {
            FireKey::Pairs(_) => Some(key_of(&c.group_by)),
            FireKey::Known { .. } => None,
        };
        let parent_keys: Vec<(usize, i64, String)> = c
            .rule
            .parents
            .iter()
            .filter_map(|&p| {
                self.corrs
                    .get(p)
                    .map(|pc| (p, pc.timespan, key_of(&pc.group_by)))
            })
            .collect();
        let (timespan, alerting) = (c.timespan, c.rule.alerting);
        let gid = match (key, kstr) {
            (FireKey::Known { gid, .. }, _) => *gid,
            (_, Some(k)) => self.intern(&k),
            (_, None) => return,
        };
        let epoch = ev.timestamp.timestamp();
        let cutoff = epoch.saturating_sub(timespan);
        // Chained correlations: hand this window's evidence to the parents.
        if !parent_keys.is_empty() {
            let items: Vec<Entry> = self
                .group(self.evidence_of(ci), gid)
                .map(|g| {
                    g.entries
                        .iter()
                        .filter(|i| i.epoch >= cutoff)
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            for (p, ptimespan, pkey) in parent_keys {
                let pcut = epoch.saturating_sub(ptimespan);
                let pgid = self.intern(&pkey);
                let Some(q) = self.group_mut(p, pgid).map(|g| &mut g.entries) else {
                    continue;
                };
                for it in &items {
                    if it.epoch >= pcut && !q.iter().any(|x| x.seq == it.seq) {
                        if q.len() >= MAX_ITEMS_PER_GROUP {
                            q.remove(1);
                        }
                        q.push_back(it.clone());
                    }
                }
                q.make_contiguous().sort_by_key(|i| i.seq);
            }
        }
        if !alerting {
            return;
        }
        let idx = self.episode(
            RuleRef::Corr(ci),
            gid,
            ev.timestamp,
            timespan,
            |h| match key {
                FireKey::Pairs(p) => p.iter().cloned().collect(),
                FireKey::Known { spec, .. } => {
                    group_pairs(&h.specs, *spec, &view).into_iter().collect()
                }
            },
        );
        let Some(b) = self.building.get_mut(idx) else {
            return;
        };
        b.windows += 1;
        b.aggregated = b.aggregated.max(agg);
        b.privileged |= privileged;
        // Only entries not yet in this alert: the window is in sequence order, so walk it
        // from the back. This keeps repeated firings O(new evidence).
        let owner = self.store_of.get(ci).copied().unwrap_or(ci);
        let evidence = slot_group(&self.groups, &self.corrs, &self.slot_pos, owner, gid);
        if let Some(q) = evidence.map(|g| &g.entries) {
            b.truncated |= q.len() >= MAX_ITEMS_PER_GROUP;
            let max_seq = b.max_seq;
            let fresh: Vec<&Entry> = q
                .iter()
                .rev()
                .take_while(|e| e.seq > max_seq && e.epoch >= cutoff)
                .collect();
            for e in fresh.into_iter().rev() {
                b.add(e);
            }
        }
        if b.event_count == 0 {
            b.last = b.last.max(ev.timestamp);
        }
    }

    /// The correlation whose groups keep `ci`'s evidence.
    fn evidence_of(&self, ci: usize) -> usize {
        self.store_of.get(ci).copied().unwrap_or(ci)
    }

    /// Drops evidence groups idle for longer than their window.
    fn sweep(&mut self, now: i64) {
        let (corrs, spec_corrs) = (&self.corrs, &self.spec_corrs);
        self.groups.retain(|(spec, _), slot| {
            let members = spec_corrs.get(*spec).map(Vec::as_slice).unwrap_or_default();
            let mut live = false;
            for (g, ci) in slot.iter_mut().zip(members) {
                let horizon = now.saturating_sub(corrs.get(*ci).map(|c| c.timespan).unwrap_or(0));
                // Evidence and windows wholly older than the timespan can no longer count;
                // dropping them is the same as keeping them to be evicted on the next
                // event.
                if g.entries.back().is_none_or(|last| last.epoch < horizon) {
                    g.entries = VecDeque::new();
                }
                if g.window
                    .as_ref()
                    .and_then(Window::newest)
                    .is_none_or(|t| t < horizon)
                {
                    g.window = None;
                }
                live |= !g.entries.is_empty() || g.window.is_some();
            }
            live
        });
        let building = &self.building;
        self.open.retain(|_, i| {
            building
                .get(*i)
                .is_some_and(|b| now - b.last_epoch <= b.merge_window)
        });
    }

    /// Finishes the hunt: builds, filters and sorts the alerts.
    pub fn finish(self) -> HuntReport {
        let min = self
            .opts
            .min_severity
            .or(self.cfg.min_severity)
            .unwrap_or(Severity::Informational);
        let mut stats = self.stats;
        let mut suppressed: BTreeMap<String, u64> = BTreeMap::new();
        let mut alerts = Vec::new();
        for b in &self.building {
            let alert = build_alert(b, &self.dets, &self.corrs, &self.terms);
            if alert.severity < min {
                stats.below_min_severity += 1;
                continue;
            }
            if let Some(a) = self.cfg.allowed_by(&alert) {
                *suppressed.entry(a.reason.clone()).or_default() += 1;
                continue;
            }
            alerts.push(alert);
        }
        stats.suppressed = suppressed.into_iter().collect();
        alerts.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(a.first_seen.cmp(&b.first_seen))
                .then(a.rule_id.cmp(&b.rule_id))
        });
        HuntReport { alerts, stats }
    }
}

fn build_alert(b: &Building, dets: &[RuleMeta], corrs: &[CorrMeta], terms: &[String]) -> Alert {
    let (meta, threshold, timespan) = match b.rule {
        RuleRef::Det(d) => (dets.get(d), None, None),
        RuleRef::Corr(c) => {
            let cm = corrs.get(c);
            (
                cm.map(|c| &c.rule),
                cm.and_then(|c| c.threshold),
                cm.map(|c| c.timespan),
            )
        }
    };
    let fallback = RuleMeta {
        key: "unknown".into(),
        uuid: None,
        title: "unknown rule".into(),
        severity: Severity::Medium,
        techniques: Vec::new(),
        alerting: true,
        options: RuleOptions::default(),
        parents: Vec::new(),
        group_window: 0,
        spec: 0,
    };
    let meta = meta.unwrap_or(&fallback);
    let (distinct, distinct_counts) = b.distinct_maps();
    let users = distinct.get("users").cloned().unwrap_or_default();
    let user = b
        .group
        .get("user")
        .or(b.group.get("cs-username"))
        .cloned()
        .or_else(|| (users.len() == 1).then(|| users.first().cloned()).flatten());
    let source_ips: Vec<String> = distinct
        .get("source_ips")
        .map(|v| v.iter().take(MAX_VALUES_SHOWN).cloned().collect())
        .unwrap_or_default();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for (d, n) in &b.per_rule {
        if let Some(m) = dets.get(*d) {
            counts.insert(format!("events:{}", m.key), *n);
        }
    }
    for (kind, n) in &distinct_counts {
        counts.insert((*kind).to_owned(), *n);
    }
    counts.insert("failures".into(), b.failures);
    if b.items_sum > 0 {
        counts.insert("rest_items".into(), b.items_sum);
    }
    let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (kind, v) in &distinct {
        values.insert(
            (*kind).to_owned(),
            v.iter().take(MAX_VALUES_SHOWN).cloned().collect(),
        );
    }
    let samples: Vec<SampleRequest> = b
        .first_samples
        .iter()
        .chain(b.last_samples.iter())
        .map(|i| i.sample())
        .collect();
    let mut score = f64::from(meta.severity.base_score());
    if let Some(t) = threshold
        && t > 0.0
    {
        score += ((b.aggregated / t - 1.0) * 10.0).clamp(0.0, 15.0);
    }
    score += (b.windows.saturating_sub(1) as f64).min(5.0);
    if b.privileged {
        score += 10.0;
    }
    let score = score.clamp(0.0, 100.0).round() as u8;
    let per_rule_named: BTreeMap<String, (u64, u64)> = b
        .per_rule
        .iter()
        .filter_map(|(d, n)| {
            let pages = b.per_rule_pages.get(d).map(|s| s.len() as u64).unwrap_or(0);
            dets.get(*d).map(|m| (m.key.clone(), (*n, pages)))
        })
        .collect();
    let facts = AlertFacts {
        title: &meta.title,
        user: user.as_deref(),
        privileged: b.privileged,
        group: &b.group,
        first: b.first,
        last: b.last,
        aggregated: b.aggregated,
        threshold,
        timespan,
        event_count: b.event_count,
        failures: b.failures,
        items_sum: b.items_sum,
        distinct: &distinct,
        distinct_counts: &distinct_counts,
        per_rule: &per_rule_named,
        terms,
        terms_noun: meta.options.terms_noun.as_deref(),
    };
    let summary = render_summary(meta.options.summary.as_deref(), &facts);
    Alert {
        rule_id: meta.key.clone(),
        rule_uuid: meta.uuid.clone(),
        title: meta.title.clone(),
        severity: meta.severity,
        user,
        source_ips,
        first_seen: b.first,
        last_seen: b.last,
        techniques: meta.techniques.clone(),
        score,
        summary,
        group: b.group.clone(),
        privileged: b.privileged,
        episode: None,
        evidence: Evidence {
            event_count: b.event_count,
            aggregated_value: b.aggregated,
            threshold,
            windows: b.windows,
            counts,
            values,
            samples,
            truncated: b.truncated,
        },
    }
}

/// Runs a whole hunt over an iterator of time-ordered events.
pub fn hunt(
    events: impl IntoIterator<Item = Event>,
    cfg: &HuntConfig,
    opts: HuntOptions,
    rules: &RuleSet,
) -> Result<HuntReport, DetectError> {
    let mut h = Hunter::new(rules, cfg, opts)?;
    for ev in events {
        h.process(&ev);
    }
    Ok(h.finish())
}

#[cfg(test)]
mod sync_tests {
    /// The matcher is shared by the threads that evaluate a batch.
    #[test]
    fn matcher_is_shared_and_matches_move_between_threads() {
        fn is_sync<T: Sync + Send>() {}
        is_sync::<super::Matcher>();
        fn is_send<T: Send>() {}
        is_send::<super::Matched>();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confwatch_event::{Action, Origin, SourceFormat};

    fn corr_index(h: &Hunter, key: &str) -> usize {
        h.corrs
            .iter()
            .position(|c| c.rule.key == key)
            .unwrap_or_else(|| panic!("no correlation {key}"))
    }

    #[test]
    fn correlations_with_the_same_inputs_span_and_grouping_share_evidence() {
        let rules = RuleSet::builtin();
        let h = Hunter::new(&rules, &HuntConfig::default(), HuntOptions::default()).unwrap();
        let pages_day = corr_index(&h, "confluence_distinct_pages_day");
        let spaces_day = corr_index(&h, "confluence_distinct_spaces_day");
        let pages_hour = corr_index(&h, "confluence_distinct_pages_hour");
        assert_eq!(
            h.store_of[spaces_day], h.store_of[pages_day],
            "same rule, same day, same user: one evidence store"
        );
        assert_eq!(
            h.store_of[pages_hour], pages_hour,
            "a different timespan keeps its own"
        );
        // A correlation fed by another correlation always keeps its own evidence.
        for (ci, _) in h.corrs.iter().enumerate() {
            if h.corrs.iter().any(|c| c.rule.parents.contains(&ci)) {
                assert_eq!(h.store_of[ci], ci);
            }
        }
    }

    #[test]
    fn item_texts_are_cut_at_a_character_boundary_and_kept_apart() {
        let mut ev = Event::new(
            DateTime::parse_from_rfc3339("2024-03-01T09:00:00+01:00").unwrap(),
            SourceFormat::TomcatAccess,
            Origin {
                file: Arc::from("access.log"),
                line: 7,
            },
        );
        // 511 ASCII bytes then a 2-byte character that straddles the 512-byte cut.
        ev.url = Some(format!("/{}é{}", "a".repeat(510), "b".repeat(100)));
        ev.object.page_id = Some(98_765);
        ev.object.space_key = Some("OPS".into());
        let it = Item::new(&ev);
        let url = it.text(Text::Url).unwrap();
        assert!(
            url.ends_with('…') && url.len() == 511 + '…'.len_utf8(),
            "{}",
            url.len()
        );
        assert_eq!(it.text(Text::Page), Some("98765"));
        assert_eq!(it.text(Text::Space), Some("OPS"));
        assert_eq!(it.text(Text::SearchQuery), None);
        ev.object.page_id = None;
        ev.object.title = Some("Runbook".into());
        assert_eq!(Item::new(&ev).text(Text::Page), Some("OPS/Runbook"));
    }

    #[test]
    fn noise_is_set_aside_with_its_range() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap();
        let mut ev = Event::new(
            at("2024-03-01T09:00:00+01:00"),
            SourceFormat::TomcatAccess,
            Origin {
                file: Arc::from("access.log"),
                line: 1,
            },
        );
        ev.action = Action::Static;
        let all = HuntOptions::default();
        assert_eq!(all.noise_in_range(&ev), Some(true));
        let later = HuntOptions {
            since: Some(at("2024-03-02T00:00:00Z")),
            ..HuntOptions::default()
        };
        assert_eq!(
            later.noise_in_range(&ev),
            Some(false),
            "counted as read, not in range"
        );
        let with_noise = HuntOptions {
            include_noise: true,
            ..HuntOptions::default()
        };
        assert_eq!(
            with_noise.noise_in_range(&ev),
            None,
            "evaluated like any event"
        );
        ev.action = Action::PageView;
        assert_eq!(all.noise_in_range(&ev), None);
    }
}
