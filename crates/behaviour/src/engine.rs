//! The behaviour engine: per-user day and hour features, baselines per user and per peer
//! group, and explained anomaly alerts.
//!
//! Events arrive in event-time order. Each user's activity is accumulated per server-local
//! day (the date in the offset the log was written in). When the clock passes a day, every
//! user's day of that date is closed *together*: first each is judged against baselines
//! built from earlier days only (own history, the peer group's history, and the group's own
//! shift that same day, so a department-wide surge does not single anyone out); then the day
//! is folded into the baselines. Nothing looks ahead.

use std::cell::RefCell;
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate, Timelike};
use confwatch_event::alert::{Alert, Evidence, Severity};
use confwatch_event::{Action, Event};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use crate::peers::Peers;
use crate::stats::{Ring, Summary, quantile};

/// Tuning of the engine. Defaults are documented in `docs/behaviour.md`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BehaviourConfig {
    /// Active days of history kept per user (ring buffer).
    pub history_days: usize,
    /// Active hours of history kept per user.
    pub history_hours: usize,
    /// Day samples kept per peer group.
    pub group_samples: usize,
    /// A user with fewer earlier active days than this is judged by peers (and by the most
    /// they did so far), not by their own quantiles.
    pub min_own_days: usize,
    /// Earlier active days needed before "spaces outside the usual ones" means anything.
    pub mature_days: u32,
    /// A space counts as usual for a user once visited on this many earlier days.
    pub familiar_days: u32,
    /// Peer samples needed before a group's quantiles are used (else the organisation's).
    pub min_peer_samples: usize,
    /// Silence (days) after which returning activity is a dormant account waking up.
    pub dormant_gap_days: i64,
    /// Multiplier on own p99 (or own maximum while history is short).
    pub own_factor: f64,
    /// Multiplier on the peers' p99.
    pub peer_factor: f64,
    /// Absolute floors: below these a day never alerts, whatever the baselines say.
    pub min_pages_day: f64,
    pub min_pages_hour: f64,
    pub min_downloads_day: f64,
    pub min_exports_day: f64,
    pub min_searches_day: f64,
    pub min_new_spaces: f64,
    pub min_new_space_pages: f64,
    pub min_unusual_pages: f64,
    pub min_unusual_spaces: usize,
    /// Low-and-slow: accumulated excess unfamiliar-space pages (decayed per active day)
    /// that raises an alert once seen on at least `low_slow_min_days` days.
    pub low_slow_threshold: f64,
    pub low_slow_decay: f64,
    pub low_slow_min_days: u32,
    /// Users tracked at most (memory bound); later new users are ignored and counted.
    pub max_users: usize,
    /// Distinct spaces remembered per user.
    pub max_spaces_per_user: usize,
    /// Distinct pages counted exactly per day (beyond: counted as views).
    pub max_pages_per_day: usize,
}

impl Default for BehaviourConfig {
    fn default() -> BehaviourConfig {
        BehaviourConfig {
            history_days: 60,
            history_hours: 720,
            group_samples: 4000,
            min_own_days: 5,
            mature_days: 4,
            familiar_days: 3,
            min_peer_samples: 20,
            dormant_gap_days: 21,
            own_factor: 2.0,
            peer_factor: 1.5,
            min_pages_day: 150.0,
            min_pages_hour: 60.0,
            min_downloads_day: 40.0,
            min_exports_day: 10.0,
            min_searches_day: 40.0,
            min_new_spaces: 6.0,
            min_new_space_pages: 25.0,
            min_unusual_pages: 20.0,
            min_unusual_spaces: 3,
            low_slow_threshold: 40.0,
            low_slow_decay: 0.85,
            low_slow_min_days: 2,
            max_users: 200_000,
            max_spaces_per_user: 512,
            max_pages_per_day: 50_000,
        }
    }
}

/// Day features, by index into [`DayFeatures::v`].
pub mod feature {
    pub const PAGES: usize = 0;
    pub const SPACES: usize = 1;
    pub const NEW_SPACES: usize = 2;
    pub const NEW_SPACE_PAGES: usize = 3;
    pub const UNUSUAL_PAGES: usize = 4;
    pub const SEARCHES: usize = 5;
    pub const DOWNLOADS: usize = 6;
    pub const EXPORTS: usize = 7;
    pub const PAGES_HOUR: usize = 8;
    pub const ACTIVE_HOURS: usize = 9;
    pub const COUNT: usize = 10;
    pub const NAMES: [&str; COUNT] = [
        "distinct_pages",
        "distinct_spaces",
        "first_time_spaces",
        "first_time_space_pages",
        "unusual_space_pages",
        "searches",
        "downloads",
        "exports",
        "max_pages_per_hour",
        "active_hours",
    ];
}
use feature as f;

/// One user's closed day. Features that mean nothing yet (first-time spaces on a user's very
/// first day) are NaN and skipped by the statistics.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DayFeatures {
    pub date: NaiveDate,
    #[serde(with = "nan_array")]
    pub v: [f64; f::COUNT],
}

/// One member-day in a peer group's pool.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Sample {
    #[serde(with = "nan_array")]
    pub v: [f64; f::COUNT],
}

/// JSON has no NaN: features that mean nothing yet are stored as `null`.
mod nan_array {
    use super::f;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &[f64; f::COUNT], s: S) -> Result<S::Ok, S::Error> {
        let o: Vec<Option<f64>> = v.iter().map(|x| (!x.is_nan()).then_some(*x)).collect();
        o.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[f64; f::COUNT], D::Error> {
        let o: Vec<Option<f64>> = Vec::deserialize(d)?;
        let mut out = [f64::NAN; f::COUNT];
        // Older or newer layouts with fewer or more features: keep what matches.
        for (slot, x) in out.iter_mut().zip(o) {
            *slot = x.unwrap_or(f64::NAN);
        }
        Ok(out)
    }
}

/// How a user used one space.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SpaceUse {
    /// Active days with a view in this space.
    pub days: u32,
    /// Page views, all time.
    pub views: u64,
    pub last: Option<NaiveDate>,
}

/// One user's baseline: everything learnt, bounded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserBaseline {
    pub first_active: Option<NaiveDate>,
    pub last_active: Option<NaiveDate>,
    pub active_days: u32,
    pub days: Ring<DayFeatures>,
    /// Distinct pages per active hour.
    pub hourly: Ring<f64>,
    pub spaces: BTreeMap<String, SpaceUse>,
    /// Active-day counts per hour of day and weekday (0 = Monday), server-local.
    pub hours: [u32; 24],
    pub weekdays: [u32; 7],
    /// Source networks (/24, /48) and user agents, with the day last seen.
    pub networks: BTreeMap<String, NaiveDate>,
    pub agents: BTreeMap<String, NaiveDate>,
    /// Low-and-slow accumulator and the days that fed it.
    pub low_slow: f64,
    pub low_slow_days: u32,
}

impl UserBaseline {
    /// An empty baseline.
    pub fn new(cfg: &BehaviourConfig) -> UserBaseline {
        UserBaseline {
            first_active: None,
            last_active: None,
            active_days: 0,
            days: Ring::new(cfg.history_days),
            hourly: Ring::new(cfg.history_hours),
            spaces: BTreeMap::new(),
            hours: [0; 24],
            weekdays: [0; 7],
            networks: BTreeMap::new(),
            agents: BTreeMap::new(),
            low_slow: 0.0,
            low_slow_days: 0,
        }
    }

    /// Robust summary of one feature over the kept days.
    pub fn summary(&self, feature: usize) -> Option<Summary> {
        Summary::of(self.days.iter().filter_map(|d| d.v.get(feature).copied()))
    }

    /// Robust summary of distinct pages per active hour.
    pub fn hourly_summary(&self) -> Option<Summary> {
        Summary::of(self.hourly.iter().copied())
    }

    /// A plain-text account of the baseline, for `confwatch baseline show`.
    pub fn describe(&self, user: &str) -> String {
        use std::fmt::Write;
        let mut o = String::new();
        let d = |x: Option<NaiveDate>| x.map_or("-".to_string(), |d| d.to_string());
        let _ = writeln!(o, "user            {user}");
        let _ = writeln!(
            o,
            "active days     {} (first {}, last {}; {} kept)",
            self.active_days,
            d(self.first_active),
            d(self.last_active),
            self.days.len()
        );
        let _ = writeln!(o, "\nper active day  median     p90     p99     max");
        for (i, name) in f::NAMES.iter().enumerate() {
            if let Some(s) = self.summary(i) {
                let _ = writeln!(
                    o,
                    "  {name:<26}{:>7.1} {:>7.1} {:>7.1} {:>7.0}",
                    s.median, s.p90, s.p99, s.max
                );
            }
        }
        if let Some(s) = self.hourly_summary() {
            let _ = writeln!(
                o,
                "  {:<26}{:>7.1} {:>7.1} {:>7.1} {:>7.0}",
                "pages_per_active_hour", s.median, s.p90, s.p99, s.max
            );
        }
        let mut spaces: Vec<(&String, &SpaceUse)> = self.spaces.iter().collect();
        spaces.sort_by(|a, b| b.1.views.cmp(&a.1.views).then_with(|| a.0.cmp(b.0)));
        let _ = writeln!(o, "\nspaces ({} known; most read first)", spaces.len());
        for (k, u) in spaces.iter().take(15) {
            let _ = writeln!(
                o,
                "  {k:<20} {:>6} views on {:>3} days, last {}",
                u.views,
                u.days,
                d(u.last)
            );
        }
        let hours: Vec<String> = self
            .hours
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(h, n)| format!("{h:02}h:{n}"))
            .collect();
        let _ = writeln!(o, "\nactive hours    {}", hours.join(" "));
        let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        let wd: Vec<String> = self
            .weekdays
            .iter()
            .zip(names)
            .filter(|(n, _)| **n > 0)
            .map(|(n, d)| format!("{d}:{n}"))
            .collect();
        let _ = writeln!(o, "weekdays        {}", wd.join(" "));
        for (title, map) in [("networks", &self.networks), ("user agents", &self.agents)] {
            let _ = writeln!(o, "{title:<16}{}", map.len());
            for (k, last) in map {
                let _ = writeln!(o, "  {k} (last {last})");
            }
        }
        if self.low_slow > 0.0 {
            let _ = writeln!(
                o,
                "low-and-slow    accumulated excess {:.0} over {} day(s)",
                self.low_slow, self.low_slow_days
            );
        }
        o
    }

    /// The space read most, for co-access peer grouping.
    fn top_space(&self) -> Option<&str> {
        self.spaces
            .iter()
            .max_by(|a, b| a.1.views.cmp(&b.1.views).then_with(|| b.0.cmp(a.0)))
            .map(|(k, _)| k.as_str())
    }
}

/// A peer group's pooled history (one sample per member-day).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupBaseline {
    pub days: Ring<Sample>,
    pub hourly: Ring<f64>,
}

impl GroupBaseline {
    fn new(cfg: &BehaviourConfig) -> GroupBaseline {
        GroupBaseline {
            days: Ring::new(cfg.group_samples),
            hourly: Ring::new(cfg.group_samples.saturating_mul(4)),
        }
    }

    pub fn summary(&self, feature: usize) -> Option<Summary> {
        Summary::of(self.days.iter().filter_map(|d| d.v.get(feature).copied()))
    }
}

/// Everything the engine learnt: what the state store saves and loads.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EngineState {
    pub users: BTreeMap<String, UserBaseline>,
    pub groups: BTreeMap<String, GroupBaseline>,
    /// The last day closed.
    pub last_day: Option<NaiveDate>,
}

/// What one run of the engine produced.
#[derive(Debug, Clone, Default)]
pub struct BehaviourReport {
    pub alerts: Vec<Alert>,
    /// User-days judged (closed) in this run.
    pub user_days: u64,
    /// Events of users not tracked because `max_users` was reached.
    pub dropped_events: u64,
    /// Events dated before days already closed (earlier runs), ignored.
    pub stale_events: u64,
    /// The learnt state, to save for the next run.
    pub state: EngineState,
}

/// Key of a page within a day: its id, else a hash of space and title.
fn page_key(ev: &Event) -> Option<u64> {
    if let Some(id) = ev.object.page_id {
        return Some(id);
    }
    let title = ev.object.title.as_ref()?;
    let mut h = DefaultHasher::new();
    ev.object.space_key.hash(&mut h);
    title.hash(&mut h);
    Some(h.finish() | (1 << 63))
}

fn is_page_read(a: Action) -> bool {
    matches!(
        a,
        Action::PageView
            | Action::BlogView
            | Action::PageSource
            | Action::PageHistory
            | Action::PageDiff
            | Action::PageInfo
            | Action::RestContentRead
            | Action::RestV2Read
            | Action::AdminKeyAccess
    )
}

fn is_export(a: Action) -> bool {
    matches!(
        a,
        Action::PageExportPdf
            | Action::PageExportWord
            | Action::PageExportOther
            | Action::SpaceExportRun
            | Action::SiteExport
    )
}

/// `/24` for IPv4, `/48` for IPv6.
pub fn network_of(ip: IpAddr) -> String {
    net_text(net_key(ip))
}

/// The network of an address as one integer (one key per text [`network_of`] gives), so
/// the per-event path compares numbers and formats only when the day closes. IPv4 prefixes
/// use the low 24 bits; IPv6 ones set bit 63 above three 16-bit segments.
fn net_key(ip: IpAddr) -> u64 {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            u64::from(a) << 16 | u64::from(b) << 8 | u64::from(c)
        }
        IpAddr::V6(v6) => {
            let [a, b, c, ..] = v6.segments();
            1 << 63 | u64::from(a) << 32 | u64::from(b) << 16 | u64::from(c)
        }
    }
}

/// The text of a [`net_key`].
fn net_text(k: u64) -> String {
    // Truncating casts pick the octets or segments packed by `net_key`.
    if k & (1 << 63) == 0 {
        format!("{}.{}.{}.0/24", (k >> 16) as u8, (k >> 8) as u8, k as u8)
    } else {
        format!(
            "{:x}:{:x}:{:x}::/48",
            (k >> 32) as u16,
            (k >> 16) as u16,
            k as u16
        )
    }
}

/// A user agent as remembered: its first `MAX_AGENT_LEN` characters.
fn agent_key(ua: &str) -> &str {
    // At most MAX_AGENT_LEN bytes is at most that many characters: nothing to cut.
    if ua.len() <= MAX_AGENT_LEN {
        return ua;
    }
    match ua.char_indices().nth(MAX_AGENT_LEN) {
        Some((i, _)) => ua.get(..i).unwrap_or(ua),
        None => ua,
    }
}

const MAX_NETWORKS: usize = 32;
const MAX_AGENTS: usize = 16;
const MAX_AGENT_LEN: usize = 256;
const MAX_DAY_SPACES: usize = 4096;
const MAX_DAY_IPS: usize = 8;

/// One user's open day.
///
/// Per event only numbers are hashed or compared (FxHash; no iteration order of these
/// maps reaches the output unsorted). Addresses, networks and user agents are kept raw in
/// arrival order and turned into text once, by [`DayAcc::seal`], when the day closes.
#[derive(Debug)]
struct DayAcc {
    date: NaiveDate,
    first: DateTime<FixedOffset>,
    last: DateTime<FixedOffset>,
    /// The day's distinct pages, each with the number of the hour (`hour_seq`) it was last
    /// counted in: one probe per view serves the day's and the hour's distinct counts.
    pages: FxHashMap<u64, u32>,
    extra_views: u64,
    /// Page views per space, with the first and last view.
    spaces: FxHashMap<Box<str>, (u64, DateTime<FixedOffset>, DateTime<FixedOffset>)>,
    searches: u64,
    downloads: u64,
    exports: u64,
    /// Current hour (hours since the epoch in the event's offset) and its distinct pages.
    hour: Option<i64>,
    /// The hour's distinct pages are those of `pages` stamped `hour_seq`, plus (once the
    /// day's set is full) those in `hour_overflow`; `hour_distinct` counts them.
    hour_seq: u32,
    hour_distinct: usize,
    hour_overflow: FxHashSet<u64>,
    hour_extra: u64,
    hour_first: Option<DateTime<FixedOffset>>,
    hour_last: Option<DateTime<FixedOffset>>,
    hour_counts: Vec<f64>,
    /// Busiest hour: pages, first and last view.
    max_hour: (
        f64,
        Option<DateTime<FixedOffset>>,
        Option<DateTime<FixedOffset>>,
    ),
    hours_active: [bool; 24],
    /// The first `MAX_NETWORKS` distinct networks ([`net_key`]), `MAX_DAY_IPS` addresses
    /// and `MAX_AGENTS` user agents (distinct by [`agent_key`]), in arrival order.
    net_seen: Vec<u64>,
    ip_seen: Vec<IpAddr>,
    agent_seen: Vec<Arc<str>>,
    last_ip: Option<IpAddr>,
    /// Index in `agent_seen` of the previous event's agent, if it was kept.
    last_agent: Option<usize>,
    /// Filled by [`DayAcc::seal`]: the sets above as text, sorted.
    networks: BTreeSet<String>,
    agents: BTreeSet<String>,
    ips: BTreeSet<String>,
}

impl DayAcc {
    fn new(date: NaiveDate, t: DateTime<FixedOffset>) -> DayAcc {
        DayAcc {
            date,
            first: t,
            last: t,
            pages: FxHashMap::default(),
            extra_views: 0,
            spaces: FxHashMap::default(),
            searches: 0,
            downloads: 0,
            exports: 0,
            hour: None,
            hour_seq: 0,
            hour_distinct: 0,
            hour_overflow: FxHashSet::default(),
            hour_extra: 0,
            hour_first: None,
            hour_last: None,
            hour_counts: Vec::new(),
            max_hour: (0.0, None, None),
            hours_active: [false; 24],
            net_seen: Vec::new(),
            ip_seen: Vec::new(),
            agent_seen: Vec::new(),
            last_ip: None,
            last_agent: None,
            networks: BTreeSet::new(),
            agents: BTreeSet::new(),
            ips: BTreeSet::new(),
        }
    }

    /// Turns the day's networks, addresses and agents into the text the baselines and
    /// alerts hold (once per user-day instead of once per event).
    fn seal(&mut self) {
        self.networks = self.net_seen.iter().map(|k| net_text(*k)).collect();
        self.ips = self.ip_seen.iter().map(IpAddr::to_string).collect();
        self.agents = self
            .agent_seen
            .iter()
            .map(|a| agent_key(a).to_string())
            .collect();
    }

    fn close_hour(&mut self) {
        if self.hour.take().is_some() {
            let n = self.hour_distinct as f64 + self.hour_extra as f64;
            if n > 0.0 {
                self.hour_counts.push(n);
            }
            if n > self.max_hour.0 {
                self.max_hour = (n, self.hour_first, self.hour_last);
            }
            // A new stamp empties the hour's set without touching the day's.
            self.hour_seq = self.hour_seq.wrapping_add(1);
            self.hour_distinct = 0;
            self.hour_overflow.clear();
            self.hour_extra = 0;
            self.hour_first = None;
            self.hour_last = None;
        }
    }

    fn pages(&self) -> f64 {
        self.pages.len() as f64 + self.extra_views as f64
    }
}

/// What a day is judged against for one feature.
#[derive(Debug, Clone, Copy, Default)]
struct Bound {
    value: f64,
    own: Option<f64>,
    peer: Option<f64>,
    bound: f64,
}

/// The streaming behaviour engine.
pub struct BehaviourEngine {
    cfg: BehaviourConfig,
    peers: Peers,
    state: EngineState,
    /// Open days, and each user's slot in `open`. The index holds the events' own
    /// (interned) names and small values, so the lookup per event stays in cache; closing
    /// sorts by user, so no hash order reaches the output.
    open: Vec<(Arc<str>, DayAcc)>,
    open_index: FxHashMap<Arc<str>, usize>,
    clock: Option<NaiveDate>,
    alerts: Vec<Alert>,
    user_days: u64,
    dropped_events: u64,
    stale_events: u64,
    /// Peer quantiles of the date being judged (cleared before each date).
    cache: RefCell<HashMap<(String, usize, u32), Option<f64>>>,
    privileged: HashSet<String>,
    /// Open days of users not yet in the state (for the `max_users` cap).
    open_new: usize,
}

impl BehaviourEngine {
    /// A fresh engine with no history.
    pub fn new(cfg: BehaviourConfig, peers: Peers) -> BehaviourEngine {
        BehaviourEngine::with_state(cfg, peers, EngineState::default())
    }

    /// An engine that continues from state saved by an earlier run.
    pub fn with_state(cfg: BehaviourConfig, peers: Peers, state: EngineState) -> BehaviourEngine {
        BehaviourEngine {
            cfg,
            peers,
            state,
            open: Vec::new(),
            open_index: FxHashMap::default(),
            clock: None,
            alerts: Vec::new(),
            user_days: 0,
            dropped_events: 0,
            stale_events: 0,
            cache: RefCell::new(HashMap::new()),
            privileged: HashSet::new(),
            open_new: 0,
        }
    }

    /// Marks privileged accounts (administrators): their anomaly alerts say so and score
    /// higher, as the rules' alerts do.
    pub fn set_privileged<I: IntoIterator<Item = String>>(&mut self, names: I) {
        self.privileged = names.into_iter().collect();
    }

    /// The learnt state so far (closed days only).
    pub fn state(&self) -> &EngineState {
        &self.state
    }

    /// Earlier active days of `user` (closed days), newest last.
    pub fn active_dates(&self, user: &str) -> Vec<NaiveDate> {
        self.state
            .users
            .get(user)
            .map(|u| u.days.iter().map(|d| d.date).collect())
            .unwrap_or_default()
    }

    /// Feeds one event (in event-time order).
    pub fn observe(&mut self, ev: &Event) {
        let Some(name) = &ev.user else {
            return;
        };
        let user: &str = name;
        if ev.is_noise() {
            return;
        }
        let date = ev.timestamp.date_naive();
        if self.state.last_day.is_some_and(|d| date <= d) {
            self.stale_events += 1;
            return;
        }
        match self.clock {
            Some(c) if date > c => {
                self.close_before(date);
                self.clock = Some(date);
            }
            None => self.clock = Some(date),
            _ => {}
        }
        let max_pages = self.cfg.max_pages_per_day;
        // One lookup for the common case: the user's day is already open.
        if let Some(&i) = self.open_index.get(user)
            && let Some((_, acc)) = self.open.get_mut(i)
        {
            add_event(acc, ev, max_pages);
            return;
        }
        // Users known plus users new today (not yet in the state) stay within the cap.
        let known = self.state.users.contains_key(user);
        if !known && self.state.users.len() + self.open_new >= self.cfg.max_users {
            self.dropped_events += 1;
            return;
        }
        if !known {
            self.open_new += 1;
        }
        let mut acc = DayAcc::new(date, ev.timestamp);
        add_event(&mut acc, ev, max_pages);
        self.open_index.insert(Arc::clone(name), self.open.len());
        self.open.push((Arc::clone(name), acc));
    }

    /// Closes every open day dated before `date`, judging them together.
    fn close_before(&mut self, date: NaiveDate) {
        let mut by_date: BTreeMap<NaiveDate, Vec<(String, DayAcc)>> = BTreeMap::new();
        let (closing, open): (Vec<_>, Vec<_>) = std::mem::take(&mut self.open)
            .into_iter()
            .partition(|(_, a)| a.date < date);
        self.open = open;
        self.open_index.clear();
        for (i, (u, _)) in self.open.iter().enumerate() {
            self.open_index.insert(Arc::clone(u), i);
        }
        for (u, acc) in closing {
            by_date
                .entry(acc.date)
                .or_default()
                .push((u.to_string(), acc));
        }
        for (d, mut days) in by_date {
            days.sort_by(|a, b| a.0.cmp(&b.0));
            self.close_days(d, days);
        }
        self.open_new = self
            .open
            .iter()
            .filter(|(u, _)| !self.state.users.contains_key(&**u))
            .count();
    }

    fn group_of(&self, user: &str) -> String {
        if let Some(g) = self.peers.group_of(user) {
            return format!("dept:{g}");
        }
        match self.state.users.get(user).and_then(|u| u.top_space()) {
            Some(s) => format!("space:{s}"),
            None => "space:(none)".to_string(),
        }
    }

    /// Judges and folds all users' days of one date.
    fn close_days(&mut self, date: NaiveDate, days: Vec<(String, DayAcc)>) {
        self.cache.borrow_mut().clear();
        let mut closed: Vec<(String, String, DayAcc, [f64; f::COUNT])> = Vec::new();
        for (user, mut acc) in days {
            acc.close_hour();
            acc.seal();
            let group = self.group_of(&user);
            let feats = self.features(&user, &acc);
            closed.push((user, group, acc, feats));
        }
        let shifts = self.group_shifts(&closed);
        let mut new_alerts = Vec::new();
        let mut slow = Vec::with_capacity(closed.len());
        for (user, group, acc, feats) in &closed {
            let shift = shifts.get(group).copied().unwrap_or([1.0; f::COUNT]);
            slow.push(self.judge(user, group, acc, feats, &shift, &mut new_alerts));
        }
        self.alerts.extend(new_alerts);
        for ((user, group, acc, feats), low_slow) in closed.into_iter().zip(slow) {
            self.fold(&user, &group, &acc, feats, low_slow);
        }
        self.state.last_day = Some(self.state.last_day.map_or(date, |d| d.max(date)));
    }

    fn features(&self, user: &str, acc: &DayAcc) -> [f64; f::COUNT] {
        let base = self.state.users.get(user);
        let prior_days = base.map_or(0, |b| b.active_days);
        let mut v = [0.0; f::COUNT];
        v[f::PAGES] = acc.pages();
        v[f::SPACES] = acc.spaces.len() as f64;
        let (mut new_spaces, mut new_pages, mut unusual) = (0.0, 0.0, 0.0);
        for (space, (views, _, _)) in &acc.spaces {
            let known = base.and_then(|b| b.spaces.get(&**space));
            if known.is_none() {
                new_spaces += 1.0;
                new_pages += *views as f64;
            }
            if known.is_none_or(|k| k.days < self.cfg.familiar_days) {
                unusual += *views as f64;
            }
        }
        // Everything is new on a user's first day: not a signal (cold start).
        v[f::NEW_SPACES] = if prior_days == 0 {
            f64::NAN
        } else {
            new_spaces
        };
        v[f::NEW_SPACE_PAGES] = if prior_days == 0 { f64::NAN } else { new_pages };
        v[f::UNUSUAL_PAGES] = if prior_days < self.cfg.mature_days {
            f64::NAN
        } else {
            unusual
        };
        v[f::SEARCHES] = acc.searches as f64;
        v[f::DOWNLOADS] = acc.downloads as f64;
        v[f::EXPORTS] = acc.exports as f64;
        v[f::PAGES_HOUR] = acc.max_hour.0;
        v[f::ACTIVE_HOURS] = acc.hours_active.iter().filter(|h| **h).count() as f64;
        v
    }

    /// Per group and feature: how far the whole group moved today (median over active
    /// members with history of today / own median), at least 1.
    fn group_shifts(
        &self,
        closed: &[(String, String, DayAcc, [f64; f::COUNT])],
    ) -> HashMap<String, [f64; f::COUNT]> {
        let mut ratios: HashMap<&str, Vec<[f64; f::COUNT]>> = HashMap::new();
        for (user, group, _, feats) in closed {
            let Some(b) = self.state.users.get(user) else {
                continue;
            };
            if b.days.len() < 3 {
                continue;
            }
            let mut r = [f64::NAN; f::COUNT];
            for (i, slot) in r.iter_mut().enumerate() {
                let med = b.summary(i).map_or(0.0, |s| s.median).max(1.0);
                if let Some(v) = feats.get(i)
                    && !v.is_nan()
                {
                    *slot = v / med;
                }
            }
            ratios.entry(group.as_str()).or_default().push(r);
        }
        let mut out = HashMap::new();
        for (g, rs) in ratios {
            if rs.len() < 3 {
                continue;
            }
            let mut shift = [1.0; f::COUNT];
            for (i, s) in shift.iter_mut().enumerate() {
                let m = quantile(rs.iter().filter_map(|r| r.get(i).copied()), 0.5);
                *s = m.unwrap_or(1.0).max(1.0);
            }
            out.insert(g.to_string(), shift);
        }
        out
    }

    /// The peer quantile of a feature: the group's, else the organisation's.
    fn peer_quantile(&self, group: &str, feature: usize, q: f64) -> Option<f64> {
        // Pools only change when a date is folded: cache per (group, feature, q) for the
        // date being judged instead of sorting the pool once per user.
        let key = (group.to_string(), feature, (q * 1000.0) as u32);
        if let Some(v) = self.cache.borrow().get(&key) {
            return *v;
        }
        let pick = |g: &GroupBaseline| {
            let vals: Vec<f64> = if feature == HOURLY {
                g.hourly.iter().copied().collect()
            } else {
                g.days
                    .iter()
                    .filter_map(|d| d.v.get(feature).copied())
                    .filter(|x| !x.is_nan())
                    .collect()
            };
            (vals.len() >= self.cfg.min_peer_samples)
                .then(|| quantile(vals, q))
                .flatten()
        };
        let v = self
            .state
            .groups
            .get(group)
            .and_then(pick)
            .or_else(|| self.state.groups.get(ORG).and_then(pick));
        self.cache.borrow_mut().insert(key, v);
        v
    }

    fn peer_hourly_p99(&self, group: &str) -> Option<f64> {
        self.peer_quantile(group, HOURLY, 0.99)
    }

    /// Own bound: p99 with enough history, else the most seen so far (a routine heavy
    /// account sets its own bar from its first day).
    fn own_level(&self, user: &str, feature: usize) -> Option<f64> {
        let b = self.state.users.get(user)?;
        let s = if feature == f::PAGES_HOUR {
            b.hourly_summary()?
        } else {
            b.summary(feature)?
        };
        Some(if b.days.len() >= self.cfg.min_own_days {
            s.p99
        } else {
            s.max
        })
    }

    fn bound(&self, user: &str, group: &str, feature: usize, value: f64, floor: f64) -> Bound {
        let own = self.own_level(user, feature);
        let peer = if feature == f::PAGES_HOUR {
            self.peer_hourly_p99(group)
        } else {
            self.peer_quantile(group, feature, 0.99)
        };
        let bound = floor
            .max(own.map_or(0.0, |o| o * self.cfg.own_factor))
            .max(peer.map_or(0.0, |p| p * self.cfg.peer_factor));
        Bound {
            value,
            own,
            peer,
            bound,
        }
    }

    fn judge(
        &self,
        user: &str,
        group: &str,
        acc: &DayAcc,
        feats: &[f64; f::COUNT],
        shift: &[f64; f::COUNT],
        out: &mut Vec<Alert>,
    ) -> (f64, u32) {
        let base = self.state.users.get(user);
        let mut low_slow = (0.0, 0);
        // Nothing to compare with yet (the very first day of a run without state).
        let org_ready = self
            .state
            .groups
            .get(ORG)
            .is_some_and(|g| g.days.len() >= self.cfg.min_peer_samples);
        if !org_ready {
            return low_slow;
        }
        let adj = |i: usize| {
            let v = feats.get(i).copied().unwrap_or(f64::NAN);
            v / shift.get(i).copied().unwrap_or(1.0)
        };
        let ctx = Context::new(self, user, base, acc, feats, shift, group);
        let c = &self.cfg;

        // Volume per day and per hour, downloads, exports, searches.
        let volume: [(usize, f64, &str, &str, &str); 5] = [
            (
                f::PAGES,
                c.min_pages_day,
                "uba_distinct_pages_day",
                "distinct pages in one day",
                "Unusual reading volume in one day",
            ),
            (
                f::PAGES_HOUR,
                c.min_pages_hour,
                "uba_distinct_pages_hour",
                "distinct pages in 1 h",
                "Unusual reading volume in one hour",
            ),
            (
                f::DOWNLOADS,
                c.min_downloads_day,
                "uba_downloads_day",
                "attachment downloads in one day",
                "Unusual number of attachment downloads",
            ),
            (
                f::EXPORTS,
                c.min_exports_day,
                "uba_exports_day",
                "exports in one day",
                "Unusual number of exports",
            ),
            (
                f::SEARCHES,
                c.min_searches_day,
                "uba_searches_day",
                "searches in one day",
                "Unusual number of searches",
            ),
        ];
        for (i, floor, rule, what, title) in volume {
            let v = adj(i);
            if v.is_nan() {
                continue;
            }
            let b = self.bound(user, group, i, v, floor);
            if v > b.bound {
                let (first, last) = if i == f::PAGES_HOUR {
                    (
                        acc.max_hour.1.unwrap_or(acc.first),
                        acc.max_hour.2.unwrap_or(acc.last),
                    )
                } else {
                    (acc.first, acc.last)
                };
                out.push(ctx.alert(rule, title, what, i, b, first, last, Severity::Medium));
            }
        }

        // Reading in spaces never visited before (dormant accounts waking up read widely).
        let ns = adj(f::NEW_SPACES);
        let np = adj(f::NEW_SPACE_PAGES);
        if !ns.is_nan() && !np.is_nan() {
            let b = self.bound(user, group, f::NEW_SPACES, ns, c.min_new_spaces);
            if ns >= b.bound && np >= c.min_new_space_pages {
                let (first, last) = ctx.span_where(|k| !ctx.known(k));
                out.push(ctx.alert(
                    "uba_first_time_spaces_day",
                    "Reading across many spaces never visited before",
                    "spaces never visited before in one day",
                    f::NEW_SPACES,
                    b,
                    first,
                    last,
                    Severity::High,
                ));
            }
        }

        // Dormant account waking up.
        if let Some(last) = base.and_then(|b| b.last_active) {
            let gap = (acc.date - last).num_days();
            let reads = feats.get(f::PAGES).copied().unwrap_or(0.0);
            if gap >= c.dormant_gap_days && (reads >= 20.0 || ns >= 3.0) {
                let b = Bound {
                    value: gap as f64,
                    own: None,
                    peer: None,
                    bound: c.dormant_gap_days as f64,
                };
                let mut a = ctx.alert(
                    "uba_dormant_account",
                    "Dormant account active again and reading",
                    "days of silence before today",
                    f::PAGES,
                    b,
                    acc.first,
                    acc.last,
                    Severity::High,
                );
                a.summary = format!(
                    "{user} was silent for {gap} days (last active {last}) and today read {reads:.0} pages; {}",
                    ctx.context_text(f::PAGES)
                );
                out.push(a);
            }
        }

        // Share of reading outside the usual spaces, and its low-and-slow accumulation.
        let up = adj(f::UNUSUAL_PAGES);
        if !up.is_nan() {
            let b = self.bound(user, group, f::UNUSUAL_PAGES, up, c.min_unusual_pages);
            let unusual_spaces = ctx.unusual_spaces().len();
            if up >= b.bound && unusual_spaces >= c.min_unusual_spaces {
                let (first, last) = ctx.span_where(|k| !ctx.familiar(k));
                out.push(ctx.alert(
                    "uba_unfamiliar_spaces_day",
                    "Reading concentrated outside the user's usual spaces",
                    "page views outside the usual spaces in one day",
                    f::UNUSUAL_PAGES,
                    b,
                    first,
                    last,
                    Severity::Medium,
                ));
            }
            let allowance = self
                .peer_quantile(group, f::UNUSUAL_PAGES, 0.9)
                .unwrap_or(0.0)
                // Own median, not p99: the first day of a slow campaign is in the history
                // by the second, and must not raise the allowance.
                .max(
                    base.and_then(|b| b.summary(f::UNUSUAL_PAGES))
                        .map_or(0.0, |s| s.median),
                )
                .max(5.0);
            let excess = (up - allowance).max(0.0);
            let prev = base.map_or(0.0, |b| b.low_slow);
            let prev_days = base.map_or(0, |b| b.low_slow_days);
            let acc_val = prev * c.low_slow_decay + excess;
            let days = if excess > 0.0 { prev_days + 1 } else { 0 };
            low_slow = (acc_val, days);
            if excess > 0.0
                && days >= c.low_slow_min_days
                && acc_val >= c.low_slow_threshold
                && unusual_spaces >= c.min_unusual_spaces
            {
                let b = Bound {
                    value: acc_val,
                    own: None,
                    peer: None,
                    bound: c.low_slow_threshold,
                };
                let (first, last) = ctx.span_where(|k| !ctx.familiar(k));
                let mut a = ctx.alert(
                    "uba_low_and_slow",
                    "Sustained reading outside the usual spaces over several days",
                    "accumulated excess page views outside the usual spaces",
                    f::UNUSUAL_PAGES,
                    b,
                    first,
                    last,
                    Severity::High,
                );
                a.summary = format!(
                    "{user}: {days} consecutive active days of reading outside the usual spaces ({up:.0} views today, allowance {allowance:.0}; accumulated excess {acc_val:.0}); {}",
                    ctx.context_text(f::UNUSUAL_PAGES)
                );
                out.push(a);
            }
        }
        low_slow
    }

    fn fold(
        &mut self,
        user: &str,
        group: &str,
        acc: &DayAcc,
        feats: [f64; f::COUNT],
        low_slow: (f64, u32),
    ) {
        self.user_days += 1;
        let cfg = self.cfg.clone();
        let b = self
            .state
            .users
            .entry(user.to_string())
            .or_insert_with(|| UserBaseline::new(&cfg));
        (b.low_slow, b.low_slow_days) = low_slow;
        b.first_active.get_or_insert(acc.date);
        b.last_active = Some(acc.date);
        b.active_days = b.active_days.saturating_add(1);
        b.days.push(DayFeatures {
            date: acc.date,
            v: feats,
        });
        for n in &acc.hour_counts {
            b.hourly.push(*n);
        }
        // In name order: which space is forgotten at the cap must not depend on hashing.
        let mut spaces: Vec<_> = acc.spaces.iter().collect();
        spaces.sort_unstable_by(|x, y| x.0.cmp(y.0));
        for (space, (views, _, _)) in spaces {
            let space: &str = space;
            if !b.spaces.contains_key(space) && b.spaces.len() >= cfg.max_spaces_per_user {
                // Forget the least-used space to stay bounded.
                if let Some(k) = b
                    .spaces
                    .iter()
                    .min_by_key(|(_, u)| (u.days, u.views))
                    .map(|(k, _)| k.clone())
                {
                    b.spaces.remove(&k);
                }
            }
            let e = b.spaces.entry(space.to_string()).or_default();
            e.days = e.days.saturating_add(1);
            e.views = e.views.saturating_add(*views);
            e.last = Some(acc.date);
        }
        for (h, on) in acc.hours_active.iter().enumerate() {
            if *on && let Some(slot) = b.hours.get_mut(h) {
                *slot = slot.saturating_add(1);
            }
        }
        let wd = acc.date.weekday_index();
        if let Some(slot) = b.weekdays.get_mut(wd) {
            *slot = slot.saturating_add(1);
        }
        remember(&mut b.networks, &acc.networks, acc.date, MAX_NETWORKS);
        remember(&mut b.agents, &acc.agents, acc.date, MAX_AGENTS);
        let hourly = acc.hour_counts.clone();
        for g in [group, ORG] {
            let gb = self
                .state
                .groups
                .entry(g.to_string())
                .or_insert_with(|| GroupBaseline::new(&cfg));
            gb.days.push(Sample { v: feats });
            for n in &hourly {
                gb.hourly.push(*n);
            }
        }
    }

    /// Closes every open day and returns the alerts and the learnt state.
    pub fn finish(mut self) -> BehaviourReport {
        if let Some(c) = self.clock
            && let Some(next) = c.succ_opt()
        {
            self.close_before(next);
        }
        let mut alerts = self.alerts;
        alerts.sort_by(|a, b| {
            a.first_seen
                .cmp(&b.first_seen)
                .then_with(|| a.user.cmp(&b.user))
                .then_with(|| a.rule_id.cmp(&b.rule_id))
        });
        BehaviourReport {
            alerts,
            user_days: self.user_days,
            dropped_events: self.dropped_events,
            stale_events: self.stale_events,
            state: self.state,
        }
    }
}

/// The organisation-wide pool every user also feeds.
pub const ORG: &str = "*";

/// `n` with the singular or plural noun, for summaries ("1 active day", "2 active days").
fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Cache key standing for the pooled pages-per-hour samples.
const HOURLY: usize = usize::MAX;

trait WeekdayIndex {
    fn weekday_index(&self) -> usize;
}

impl WeekdayIndex for NaiveDate {
    fn weekday_index(&self) -> usize {
        use chrono::Datelike;
        self.weekday().num_days_from_monday() as usize
    }
}

fn remember(
    map: &mut BTreeMap<String, NaiveDate>,
    seen: &BTreeSet<String>,
    date: NaiveDate,
    cap: usize,
) {
    for s in seen {
        if !map.contains_key(s)
            && map.len() >= cap
            && let Some(k) = map.iter().min_by_key(|(_, d)| **d).map(|(k, _)| k.clone())
        {
            map.remove(&k);
        }
        map.insert(s.clone(), date);
    }
}

/// Keeps the first `MAX_AGENTS` distinct agents of the day. Agents are interned by the
/// readers, so a pointer comparison usually settles it without reading the text.
fn note_agent(acc: &mut DayAcc, ua: &Arc<str>) {
    let same = |a: &Arc<str>| Arc::ptr_eq(a, ua) || **a == **ua;
    if let Some(a) = acc.last_agent.and_then(|i| acc.agent_seen.get(i))
        && same(a)
    {
        return;
    }
    if let Some(i) = acc.agent_seen.iter().position(same) {
        acc.last_agent = Some(i);
        return;
    }
    let key = agent_key(ua);
    if let Some(i) = acc.agent_seen.iter().position(|a| agent_key(a) == key) {
        // Differs only beyond the remembered length: the same agent.
        acc.last_agent = Some(i);
        return;
    }
    if acc.agent_seen.len() < MAX_AGENTS {
        acc.last_agent = Some(acc.agent_seen.len());
        acc.agent_seen.push(Arc::clone(ua));
    } else {
        acc.last_agent = None;
    }
}

/// Counts one view of page `k` in the day's and the hour's distinct pages. Each set holds
/// at most `max_pages`; once one is full, every further view counts as an extra view.
fn count_page(acc: &mut DayAcc, k: u64, max_pages: usize) {
    let day_full = acc.pages.len() >= max_pages;
    let hour_full = acc.hour_distinct >= max_pages;
    if day_full {
        acc.extra_views += 1;
    }
    let seq = acc.hour_seq;
    let in_hour = match acc.pages.get_mut(&k) {
        Some(stamp) => {
            let was = *stamp == seq;
            if !was && !hour_full {
                *stamp = seq;
            }
            was
        }
        None if !day_full => {
            // Not in the hour's set either when that is full: stamp an older hour.
            let stamp = if hour_full { seq.wrapping_sub(1) } else { seq };
            acc.pages.insert(k, stamp);
            false
        }
        // Only pages outside the day's set are kept here, so the two never overlap.
        None => {
            if hour_full {
                true
            } else {
                !acc.hour_overflow.insert(k)
            }
        }
    };
    if hour_full {
        acc.hour_extra += 1;
    } else if !in_hour {
        acc.hour_distinct += 1;
    }
}

fn add_event(acc: &mut DayAcc, ev: &Event, max_pages: usize) {
    let t = ev.timestamp;
    acc.first = acc.first.min(t);
    acc.last = acc.last.max(t);
    let hour_of_day = t.hour() as usize;
    if let Some(h) = acc.hours_active.get_mut(hour_of_day) {
        *h = true;
    }
    let hour_key = t.timestamp().div_euclid(3600);
    if acc.hour != Some(hour_key) {
        acc.close_hour();
        acc.hour = Some(hour_key);
    }
    // Many events repeat the previous address: skip the scans then.
    if let Some(ip) = ev.client_ip
        && acc.last_ip != Some(ip)
    {
        acc.last_ip = Some(ip);
        if acc.net_seen.len() < MAX_NETWORKS {
            let k = net_key(ip);
            if !acc.net_seen.contains(&k) {
                acc.net_seen.push(k);
            }
        }
        if acc.ip_seen.len() < MAX_DAY_IPS && !acc.ip_seen.contains(&ip) {
            acc.ip_seen.push(ip);
        }
    }
    if let Some(ua) = &ev.user_agent {
        note_agent(acc, ua);
    }
    let a = ev.action;
    let mut views: u64 = 0;
    if is_page_read(a) {
        if let Some(k) = page_key(ev) {
            count_page(acc, k, max_pages);
            views = 1;
        }
    } else if matches!(a, Action::RestContentList | Action::RestV2List)
        && let Some(r) = &ev.rest
        && r.body_expanded
    {
        // A list call with bodies returns whole pages: count what it may have returned.
        let n = u64::from(r.max_items(true));
        acc.extra_views += n;
        acc.hour_extra += n;
        views = n;
    }
    if views > 0 {
        acc.hour_first.get_or_insert(t);
        acc.hour_last = Some(t);
    }
    match a {
        Action::SiteSearch | Action::RestSearch => acc.searches += 1,
        Action::AttachmentDownload => acc.downloads += 1,
        _ if is_export(a) => acc.exports += 1,
        _ => {}
    }
    if (views > 0 || a == Action::AttachmentDownload || is_export(a))
        && let Some(space) = ev.object.space_key.as_deref()
    {
        let n = views.max(1);
        let open = acc.spaces.len() < MAX_DAY_SPACES;
        match acc.spaces.get_mut(space) {
            Some(e) => {
                e.0 += n;
                e.1 = e.1.min(t);
                e.2 = e.2.max(t);
            }
            None if open => {
                acc.spaces.insert(Box::from(space), (n, t, t));
            }
            None => {}
        }
    }
}

/// Everything an alert about one user-day needs to explain itself.
struct Context<'a> {
    user: &'a str,
    group: &'a str,
    base: Option<&'a UserBaseline>,
    acc: &'a DayAcc,
    feats: &'a [f64; f::COUNT],
    shift: &'a [f64; f::COUNT],
    familiar_days: u32,
    privileged: bool,
}

impl<'a> Context<'a> {
    fn new(
        engine: &BehaviourEngine,
        user: &'a str,
        base: Option<&'a UserBaseline>,
        acc: &'a DayAcc,
        feats: &'a [f64; f::COUNT],
        shift: &'a [f64; f::COUNT],
        group: &'a str,
    ) -> Context<'a> {
        Context {
            user,
            group,
            base,
            acc,
            feats,
            shift,
            familiar_days: engine.cfg.familiar_days,
            privileged: engine.privileged.contains(user),
        }
    }

    fn known(&self, space: &str) -> bool {
        self.base.is_some_and(|b| b.spaces.contains_key(space))
    }

    fn familiar(&self, space: &str) -> bool {
        self.base
            .and_then(|b| b.spaces.get(space))
            .is_some_and(|s| s.days >= self.familiar_days)
    }

    fn new_spaces(&self) -> Vec<&str> {
        if self.base.is_none() {
            return Vec::new();
        }
        let mut v: Vec<&str> = self
            .acc
            .spaces
            .keys()
            .map(|k| &**k)
            .filter(|s| !self.known(s))
            .collect();
        v.sort_unstable();
        v
    }

    fn unusual_spaces(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .acc
            .spaces
            .keys()
            .map(|k| &**k)
            .filter(|s| !self.familiar(s))
            .collect();
        v.sort_unstable();
        v
    }

    /// First and last view in the spaces matching `pred` (the whole day if none).
    fn span_where(
        &self,
        pred: impl Fn(&str) -> bool,
    ) -> (DateTime<FixedOffset>, DateTime<FixedOffset>) {
        let mut span: Option<(DateTime<FixedOffset>, DateTime<FixedOffset>)> = None;
        for (s, (_, a, b)) in &self.acc.spaces {
            if pred(s) {
                span = Some(match span {
                    Some((x, y)) => (x.min(*a), y.max(*b)),
                    None => (*a, *b),
                });
            }
        }
        span.unwrap_or((self.acc.first, self.acc.last))
    }

    fn new_networks(&self) -> Vec<&str> {
        let Some(b) = self.base else {
            return Vec::new();
        };
        self.acc
            .networks
            .iter()
            .map(String::as_str)
            .filter(|n| !b.networks.contains_key(*n))
            .collect()
    }

    fn new_agents(&self) -> Vec<&str> {
        let Some(b) = self.base else {
            return Vec::new();
        };
        self.acc
            .agents
            .iter()
            .map(String::as_str)
            .filter(|n| !b.agents.contains_key(*n))
            .collect()
    }

    /// The day's other signals, as a clause; the signal the alert itself is about
    /// (`feature`) is not repeated.
    fn context_text(&self, feature: usize) -> String {
        let mut parts = Vec::new();
        let ns = self.new_spaces();
        if !ns.is_empty() && feature != f::NEW_SPACES {
            parts.push(format!(
                "{} never visited before",
                counted(ns.len(), "space", "spaces")
            ));
        }
        let nn = self.new_networks();
        if !nn.is_empty() {
            parts.push(format!("new network {}", nn.join(", ")));
        }
        if !self.new_agents().is_empty() {
            parts.push("a user agent never used before".to_string());
        }
        let pages_shift = self.shift.get(f::PAGES).copied().unwrap_or(1.0);
        if pages_shift > 1.2 {
            parts.push(format!(
                "peer group read x{pages_shift:.1} its usual that day (adjusted for)"
            ));
        }
        match self.base.map_or(0, |b| b.active_days) {
            0 => parts.push("first active day: judged against peers only".to_string()),
            n if n < 5 => parts.push(counted(
                n as usize,
                "earlier active day",
                "earlier active days",
            )),
            _ => {}
        }
        if parts.is_empty() {
            "no other unusual signal".to_string()
        } else {
            parts.join("; ")
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn alert(
        &self,
        rule: &str,
        title: &str,
        what: &str,
        feature: usize,
        b: Bound,
        first: DateTime<FixedOffset>,
        last: DateTime<FixedOffset>,
        severity: Severity,
    ) -> Alert {
        let fmt = |x: Option<f64>| x.map_or("n/a".to_string(), |v| format!("{v:.0}"));
        let summary = format!(
            "{} {what} by {}; own p99 {}; peers' p99 {}; {}",
            fmt(Some(b.value)),
            self.user,
            fmt(b.own),
            fmt(b.peer),
            self.context_text(feature)
        );
        let ratio = if b.bound > 0.0 {
            b.value / b.bound
        } else {
            1.0
        };
        let bonus = if self.privileged { 10.0 } else { 0.0 };
        let score = (f64::from(severity.base_score()) + 10.0 * ratio.max(1.0).log2() + bonus)
            .clamp(0.0, 95.0) as u8;
        let mut counts = BTreeMap::new();
        for (i, name) in f::NAMES.iter().enumerate() {
            if let Some(v) = self.feats.get(i)
                && !v.is_nan()
            {
                counts.insert((*name).to_string(), *v as u64);
            }
        }
        let mut values = BTreeMap::new();
        let cap = |v: Vec<&str>| v.into_iter().take(20).map(str::to_string).collect();
        let ns = self.new_spaces();
        if !ns.is_empty() {
            values.insert("first_time_spaces".to_string(), cap(ns));
        }
        let us = self.unusual_spaces();
        if !us.is_empty() && feature == f::UNUSUAL_PAGES {
            values.insert("unusual_spaces".to_string(), cap(us));
        }
        let nn = self.new_networks();
        if !nn.is_empty() {
            values.insert("new_networks".to_string(), cap(nn));
        }
        let na = self.new_agents();
        if !na.is_empty() {
            values.insert("new_user_agents".to_string(), cap(na));
        }
        values.insert("peer_group".to_string(), vec![self.group.to_string()]);
        let mut group = BTreeMap::new();
        group.insert("user".to_string(), self.user.to_string());
        Alert {
            rule_id: rule.to_string(),
            rule_uuid: None,
            title: title.to_string(),
            severity,
            user: Some(self.user.to_string()),
            source_ips: self.acc.ips.iter().cloned().collect(),
            first_seen: first,
            last_seen: last,
            techniques: vec!["T1213.001".to_string()],
            score,
            summary,
            group,
            privileged: self.privileged,
            episode: None,
            evidence: Evidence {
                event_count: self.feats.get(f::PAGES).copied().unwrap_or(0.0) as u64,
                aggregated_value: b.value,
                threshold: Some(b.bound),
                windows: 1,
                counts,
                values,
                samples: Vec::new(),
                truncated: false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use confwatch_event::{Origin, SourceFormat};
    use std::sync::Arc;

    fn view(user: &str, t: DateTime<FixedOffset>, space: &str, page: u64) -> Event {
        let mut ev = Event::new(
            t,
            SourceFormat::TomcatAccess,
            Origin {
                file: Arc::from("test"),
                line: 1,
            },
        );
        ev.user = Some(Arc::from(user));
        ev.action = Action::PageView;
        ev.object.space_key = Some(space.to_string());
        ev.object.page_id = Some(page);
        ev.client_ip = "10.20.1.5".parse().ok();
        ev
    }

    /// 30 people in one department read `pages` pages a day in their usual spaces; on
    /// `extra` days, user u0 also reads `wide` pages spread over 8 never-visited spaces.
    fn run(
        cfg: BehaviourConfig,
        days: i64,
        pages_on: impl Fn(i64) -> u64,
        wide_on: Option<i64>,
    ) -> BehaviourReport {
        let mut csv = String::from("user,department\n");
        for u in 0..30 {
            csv.push_str(&format!("u{u},finance\n"));
        }
        let peers = Peers::from_csv(&csv).unwrap();
        let mut e = BehaviourEngine::new(cfg, peers);
        e.set_privileged(["u0".to_string()]);
        let tz = FixedOffset::east_opt(3600).unwrap();
        let start = tz.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
        for d in 0..days {
            let n = pages_on(d);
            for i in 0..n {
                for u in 0..30u64 {
                    let t = start + Duration::days(d) + Duration::minutes(i as i64 * 3);
                    let space = ["FIN", "FINOPS", "COMPANY"][(i % 3) as usize];
                    e.observe(&view(&format!("u{u}"), t, space, 1000 + (i + u) % 40 + i));
                }
            }
            if wide_on == Some(d) {
                for i in 0..48u64 {
                    let t = start
                        + Duration::days(d)
                        + Duration::hours(6)
                        + Duration::minutes(i as i64);
                    let space = format!("OTHER{}", i % 8);
                    e.observe(&view("u0", t, &space, 50_000 + i));
                }
            }
        }
        e.finish()
    }

    #[test]
    fn team_surge_raises_nothing() {
        // Day 10: the whole department reads three times its usual volume. With a low
        // floor, one person doing this alone is flagged; the whole group is not.
        let cfg = BehaviourConfig {
            min_pages_day: 15.0,
            ..BehaviourConfig::default()
        };
        let r = run(cfg.clone(), 12, |d| if d == 10 { 30 } else { 10 }, None);
        assert!(r.alerts.is_empty(), "{:#?}", r.alerts);
        assert_eq!(r.user_days, 30 * 12);
        let mut e = BehaviourEngine::with_state(cfg, Peers::none(), r.state);
        let tz = FixedOffset::east_opt(3600).unwrap();
        let start = tz.with_ymd_and_hms(2026, 3, 16, 9, 0, 0).unwrap();
        for i in 0..80u64 {
            e.observe(&view(
                "u5",
                start + Duration::minutes(i as i64 * 3),
                "FIN",
                1000 + i,
            ));
        }
        let alone = e.finish();
        assert!(
            alone
                .alerts
                .iter()
                .any(|a| a.rule_id == "uba_distinct_pages_day"),
            "{:#?}",
            alone.alerts
        );
    }

    #[test]
    fn counted_nouns_agree_with_their_number() {
        let days = |n| counted(n, "earlier active day", "earlier active days");
        assert_eq!(days(1), "1 earlier active day");
        assert_eq!(days(4), "4 earlier active days");
        assert_eq!(counted(0, "space", "spaces"), "0 spaces");
    }

    #[test]
    fn wide_reading_in_new_spaces_is_explained() {
        let r = run(BehaviourConfig::default(), 12, |_| 10, Some(10));
        let a = r
            .alerts
            .iter()
            .find(|a| a.rule_id == "uba_first_time_spaces_day")
            .expect("alert");
        assert_eq!(a.user.as_deref(), Some("u0"));
        assert!(a.privileged);
        assert!(
            a.summary.contains("8 spaces never visited before"),
            "{}",
            a.summary
        );
        // The alert's own signal is not repeated among the day's other signals.
        assert_eq!(
            a.summary.matches("never visited before").count(),
            1,
            "{}",
            a.summary
        );
        assert!(a.summary.contains("peers' p99"), "{}", a.summary);
        // The alert spans the unusual reading, not the whole day.
        assert_eq!(a.first_seen.format("%H:%M").to_string(), "15:00");
        assert!(r.alerts.iter().all(|a| a.user.as_deref() == Some("u0")));
        // Baselines remember the spaces now, and say so.
        assert!(r.state.users["u0"].spaces.contains_key("OTHER3"));
        let text = r.state.users["u0"].describe("u0");
        assert!(text.contains("active days     12"), "{text}");
        assert!(text.contains("OTHER3"), "{text}");
        assert!(text.contains("distinct_pages"), "{text}");
    }

    #[test]
    fn low_and_slow_accumulates_below_the_daily_bound() {
        // 30 people read 10 pages a day for 10 days; then u0 adds 18 views a day in three
        // spaces new each day: below the daily bound (20), but sustained.
        let mut csv = String::from("user,department\n");
        for u in 0..30 {
            csv.push_str(&format!("u{u},finance\n"));
        }
        let mut e =
            BehaviourEngine::new(BehaviourConfig::default(), Peers::from_csv(&csv).unwrap());
        let tz = FixedOffset::east_opt(3600).unwrap();
        let start = tz.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
        for d in 0..15i64 {
            for u in 0..30u64 {
                for i in 0..10u64 {
                    let t = start + Duration::days(d) + Duration::minutes(i as i64 * 3);
                    e.observe(&view(&format!("u{u}"), t, "FIN", 1000 + i));
                }
            }
            if d >= 10 {
                for i in 0..18u64 {
                    let t = start
                        + Duration::days(d)
                        + Duration::hours(5)
                        + Duration::minutes(i as i64);
                    let space = format!("D{d}S{}", i % 3);
                    e.observe(&view("u0", t, &space, 90_000 + d as u64 * 100 + i));
                }
            }
        }
        let r = e.finish();
        let rules: Vec<&str> = r.alerts.iter().map(|a| a.rule_id.as_str()).collect();
        assert!(!rules.contains(&"uba_unfamiliar_spaces_day"), "{rules:?}");
        let slow: Vec<&Alert> = r
            .alerts
            .iter()
            .filter(|a| a.rule_id == "uba_low_and_slow")
            .collect();
        assert!(!slow.is_empty(), "{rules:?}");
        assert!(slow.iter().all(|a| a.user.as_deref() == Some("u0")));
        assert!(
            slow[0].summary.contains("consecutive active days"),
            "{}",
            slow[0].summary
        );
    }

    #[test]
    fn users_beyond_the_cap_are_counted_not_tracked() {
        let cfg = BehaviourConfig {
            max_users: 10,
            ..BehaviourConfig::default()
        };
        let r = run(cfg, 2, |_| 1, None);
        assert_eq!(r.state.users.len(), 10);
        assert_eq!(r.dropped_events, 2 * 20);
    }

    #[test]
    fn network_keys_format_as_before() {
        // The text each network had when it was formatted per event.
        for (ip, text) in [
            ("10.147.162.249", "10.147.162.0/24"),
            ("0.0.0.1", "0.0.0.0/24"),
            ("255.254.253.252", "255.254.253.0/24"),
            ("2001:db8:abcd:12::1", "2001:db8:abcd::/48"),
            ("::ffff:1.2.3.4", "0:0:0::/48"),
            ("ffff:ffff:ffff:ffff::", "ffff:ffff:ffff::/48"),
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(network_of(ip), text);
        }
        let a: IpAddr = "10.1.2.3".parse().unwrap();
        let b: IpAddr = "10.1.3.3".parse().unwrap();
        assert_ne!(net_key(a), net_key(b));
    }

    #[test]
    fn day_keeps_first_distinct_addresses_networks_and_agents() {
        let tz = FixedOffset::east_opt(0).unwrap();
        let t = tz.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
        let mut acc = DayAcc::new(t.date_naive(), t);
        let long_a: String = "é".repeat(MAX_AGENT_LEN) + "-one";
        let long_b: String = "é".repeat(MAX_AGENT_LEN) + "-two";
        let mut agents: Vec<String> = vec![long_a.clone(), long_b, long_a];
        agents.extend((0..30).map(|i| format!("agent/{i:02}")));
        for (i, ua) in agents.iter().enumerate() {
            let mut ev = view("u", t, "FIN", 1);
            // 40 addresses in 20 networks, revisited: only the first 8 and 32 are kept.
            ev.client_ip = format!("10.0.{}.{}", (i % 20) * 3, i % 40).parse().ok();
            ev.user_agent = Some(Arc::from(ua.as_str()));
            add_event(&mut acc, &ev, 100);
        }
        acc.seal();
        // Agents equal in their first 256 characters are one agent, cut to that length.
        assert_eq!(acc.agents.len(), MAX_AGENTS);
        assert!(acc.agents.contains(&"é".repeat(MAX_AGENT_LEN)));
        assert!(acc.agents.contains("agent/14"));
        assert!(!acc.agents.contains("agent/15"));
        assert_eq!(acc.networks.len(), 20);
        assert!(acc.networks.contains("10.0.57.0/24"));
        // Sorted as text, as alerts list them.
        let ips: Vec<&str> = acc.ips.iter().map(String::as_str).collect();
        assert_eq!(
            ips,
            [
                "10.0.0.0",
                "10.0.12.4",
                "10.0.15.5",
                "10.0.18.6",
                "10.0.21.7",
                "10.0.3.1",
                "10.0.6.2",
                "10.0.9.3"
            ]
        );
    }

    #[test]
    fn one_page_map_counts_as_a_day_set_and_an_hour_set_would() {
        // Reference: separate day and hour sets, each capped, as the counts are defined.
        let tz = FixedOffset::east_opt(0).unwrap();
        let t = tz.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
        for max in [1, 3, 5, 1000] {
            let mut acc = DayAcc::new(t.date_naive(), t);
            let (mut day, mut hour) = (HashSet::new(), HashSet::new());
            let (mut extra, mut hour_extra, mut hours) = (0u64, 0u64, Vec::new());
            let mut x: u64 = 7;
            for i in 0..400u64 {
                if i % 50 == 0 {
                    acc.hour = Some(i as i64);
                    if i > 0 {
                        hours.push(hour.len() as f64 + hour_extra as f64);
                        hour.clear();
                        hour_extra = 0;
                    }
                }
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let k = (x >> 33) % 12;
                if day.len() < max {
                    day.insert(k);
                } else {
                    extra += 1;
                }
                if hour.len() < max {
                    hour.insert(k);
                } else {
                    hour_extra += 1;
                }
                count_page(&mut acc, k, max);
                if i % 50 == 49 {
                    acc.close_hour();
                }
            }
            hours.push(hour.len() as f64 + hour_extra as f64);
            assert_eq!(acc.pages(), day.len() as f64 + extra as f64, "max {max}");
            let mut want = hours.clone();
            want.retain(|n| *n > 0.0);
            assert_eq!(acc.hour_counts, want, "max {max}");
        }
    }

    #[test]
    fn stale_days_are_ignored_on_resume() {
        let r = run(BehaviourConfig::default(), 3, |_| 5, None);
        let mut e = BehaviourEngine::with_state(BehaviourConfig::default(), Peers::none(), r.state);
        let tz = FixedOffset::east_opt(3600).unwrap();
        let t = tz.with_ymd_and_hms(2026, 3, 3, 9, 0, 0).unwrap();
        e.observe(&view("u1", t, "FIN", 1));
        let r2 = e.finish();
        assert_eq!(r2.stale_events, 1);
        assert_eq!(r2.user_days, 0);
    }
}
