//! The login join: pairs a `DefaultLoginManager` line of `atlassian-confluence-security.log`
//! (user name, outcome, Tomcat thread; no client address) with the access-log request of the
//! same login (`POST /dologin.action`: client address, user agent, thread; no user name on a
//! failure), so one login attempt becomes ONE event carrying both the user and the client.
//!
//! Without it a password spray is invisible (no single Data Center log names the account
//! *and* the address of a failed login) and every login is counted twice.
//!
//! The join is a streaming adapter over the time-ordered stream ([`crate::Ingestor::ordered`]):
//! - **Pairing**: an access-log login ([`SourceFormat::TomcatAccess`] or
//!   [`SourceFormat::AccessLogFilter`], [`Action::Login`]) and a security-log login
//!   ([`SourceFormat::SecurityLog`], [`Action::Login`]) pair when they ran on the same thread
//!   name of the same node and the security line falls inside the request:
//!   `access.ts - tolerance <= security.ts <= access.ts + duration + tolerance` (Tomcat stamps
//!   a request when it starts, in whole seconds; the security line is written while it runs).
//!   Either may come first. Among several, the earliest unpaired one wins (a thread serves
//!   one request at a time). Two user names that differ never pair.
//! - **Survivor**: the access-log event, with the security line's user name and outcome
//!   (which says success/failure explicitly; the access log only infers it from the status).
//!   Its time and `origin` stay those of the access line; the model has no second origin, so
//!   the security line is not referenced ([`LoginJoinStats::joined`] counts the merges).
//! - **Unpaired** events of either kind leave unchanged. Everything else passes through.
//! - **Node**: cluster nodes reuse thread names, so by default events pair only when their
//!   files' folders match after dropping generic log-folder names (`logs`, `tomcat-logs`,
//!   `application-logs`, …). [`NodeScope::Anywhere`] pairs across folders, for one node whose
//!   two logs were collected from unrelated places.
//! - **Bounded**: only unpaired login events are waited for, each until the stream is past
//!   the last instant a partner could have; events behind one wait with it so the output
//!   stays in input order. At most [`LoginJoinOptions::max_pending`] events are held; beyond
//!   that the oldest leaves unpaired. The delay is at most `max_request_ms + tolerance_ms` of
//!   event time. Time order in means time order out (merged events keep the access time).

use confwatch_event::{Action, Event, Outcome, SourceFormat};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::sync::Arc;

/// Which files may hold the two halves of one login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NodeScope {
    /// Same folder after generic log-folder names are dropped (one folder per node).
    #[default]
    SameFolder,
    /// Any files: one node whose access and security logs were collected apart. Wrong for a
    /// cluster, whose nodes reuse thread names.
    Anywhere,
}

/// Tuning of [`join_logins`]. `Default` suits Confluence's own layouts.
#[derive(Debug, Clone)]
pub struct LoginJoinOptions {
    /// Clock slack either side of the request (covers whole-second access stamps).
    pub tolerance_ms: i64,
    /// Longest request time trusted from `%D`; a login request taking longer is treated
    /// as taking this long.
    pub max_request_ms: i64,
    /// Most events held back at once.
    pub max_pending: usize,
    pub node_scope: NodeScope,
    /// Whether security-log logins may come at all. When false, an access-log login has
    /// nothing to wait for and leaves at once (counted unpaired), so the stream is never
    /// held back: for a stream without security-log logins the output and statistics are
    /// those of `true`, at less cost. (Should one come anyway, it can only pair with a later
    /// access login it overlaps, which it cannot in a time-ordered stream.) Set it from
    /// [`crate::merge::Ordered::may_yield_security_logins`], as
    /// [`crate::merge::Ordered::join_logins`] does.
    pub security_logins: bool,
}

impl Default for LoginJoinOptions {
    fn default() -> LoginJoinOptions {
        LoginJoinOptions {
            tolerance_ms: 3_000,
            max_request_ms: 30_000,
            max_pending: 100_000,
            node_scope: NodeScope::SameFolder,
            security_logins: true,
        }
    }
}

/// What the join did, for statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoginJoinStats {
    /// Pairs merged into one event (the security-log event of each was absorbed).
    pub joined: u64,
    /// Access-log logins that left unpaired.
    pub access_unpaired: u64,
    /// Security-log logins that left unpaired.
    pub security_unpaired: u64,
    /// Events released early because [`LoginJoinOptions::max_pending`] was reached.
    pub forced: u64,
}

/// Wraps a time-ordered event stream with the login join (see the module docs).
pub fn join_logins<I: Iterator<Item = Event>>(events: I, opts: LoginJoinOptions) -> LoginJoin<I> {
    LoginJoin::new(events, opts)
}

/// Folder names that say "logs" rather than which node wrote them.
const GENERIC_FOLDERS: &[&str] = &[
    "logs",
    "log",
    "tomcat-logs",
    "application-logs",
    "tomcat",
    "confluence-logs",
];

/// Files whose node key is remembered; beyond this the cache starts over.
const NODE_CACHE_MAX: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Access,
    Security,
}

/// An unpaired login waiting in the queue.
#[derive(Debug)]
struct Cand {
    kind: Kind,
    key: (Arc<str>, Arc<str>),
    /// After this instant (ms) no partner can arrive.
    deadline: i64,
}

#[derive(Debug)]
struct Slot {
    /// `None` once the event was absorbed into a later partner.
    ev: Option<Event>,
    cand: Option<Cand>,
}

/// Unpaired candidates of one (node, thread), by queue sequence number, oldest first.
#[derive(Debug, Default)]
struct Waiting {
    access: VecDeque<u64>,
    security: VecDeque<u64>,
}

impl Waiting {
    fn of(&mut self, kind: Kind) -> &mut VecDeque<u64> {
        match kind {
            Kind::Access => &mut self.access,
            Kind::Security => &mut self.security,
        }
    }

    fn is_empty(&self) -> bool {
        self.access.is_empty() && self.security.is_empty()
    }
}

/// The join adapter; see [`join_logins`].
pub struct LoginJoin<I> {
    inner: I,
    opts: LoginJoinOptions,
    queue: VecDeque<Slot>,
    /// Sequence number of `queue.front()`.
    base: u64,
    index: FxHashMap<(Arc<str>, Arc<str>), Waiting>,
    nodes: FxHashMap<Arc<str>, Arc<str>>,
    max_seen: i64,
    done: bool,
    stats: LoginJoinStats,
}

impl<I: Iterator<Item = Event>> LoginJoin<I> {
    pub fn new(inner: I, opts: LoginJoinOptions) -> LoginJoin<I> {
        LoginJoin {
            inner,
            opts,
            queue: VecDeque::new(),
            base: 0,
            index: FxHashMap::default(),
            nodes: FxHashMap::default(),
            max_seen: i64::MIN,
            done: false,
            stats: LoginJoinStats::default(),
        }
    }

    /// What the join did so far.
    pub fn stats(&self) -> LoginJoinStats {
        self.stats
    }

    /// The wrapped iterator (e.g. to call `Ordered::finish` after the join is drained).
    pub fn into_inner(self) -> I {
        self.inner
    }

    fn kind_of(ev: &Event) -> Option<Kind> {
        if ev.action != Action::Login || ev.thread.is_none() {
            return None;
        }
        match ev.format {
            SourceFormat::TomcatAccess | SourceFormat::AccessLogFilter => Some(Kind::Access),
            SourceFormat::SecurityLog if ev.outcome != Outcome::Unknown => Some(Kind::Security),
            _ => None,
        }
    }

    /// The request's trusted length for the pairing window.
    fn request_ms(&self, access: &Event) -> i64 {
        let d = access.duration_ms.unwrap_or(0.0);
        // `as` saturates; negative or NaN durations count as zero.
        (d.max(0.0).ceil() as i64).clamp(0, self.opts.max_request_ms.max(0))
    }

    fn fits(&self, access: &Event, security: &Event) -> bool {
        let (a, s) = (access.epoch_ms(), security.epoch_ms());
        let tol = self.opts.tolerance_ms.max(0);
        s >= a.saturating_sub(tol)
            && s <= a
                .saturating_add(self.request_ms(access))
                .saturating_add(tol)
            && users_agree(access, security)
    }

    fn node_of(&mut self, file: &Arc<str>) -> Arc<str> {
        if self.opts.node_scope == NodeScope::Anywhere {
            return Arc::from("");
        }
        if let Some(k) = self.nodes.get(file) {
            return Arc::clone(k);
        }
        if self.nodes.len() >= NODE_CACHE_MAX {
            self.nodes.clear();
        }
        let k: Arc<str> = Arc::from(node_folder(file));
        self.nodes.insert(Arc::clone(file), Arc::clone(&k));
        k
    }

    fn slot_mut(&mut self, seq: u64) -> Option<&mut Slot> {
        let i = usize::try_from(seq.checked_sub(self.base)?).ok()?;
        self.queue.get_mut(i)
    }

    fn slot(&self, seq: u64) -> Option<&Slot> {
        let i = usize::try_from(seq.checked_sub(self.base)?).ok()?;
        self.queue.get(i)
    }

    /// Removes `seq` from the waiting list of `key`/`kind`.
    fn unindex(&mut self, key: &(Arc<str>, Arc<str>), kind: Kind, seq: u64) {
        if let Some(w) = self.index.get_mut(key) {
            let list = w.of(kind);
            if let Some(pos) = list.iter().position(|s| *s == seq) {
                list.remove(pos);
            }
            if w.is_empty() {
                self.index.remove(key);
            }
        }
    }

    /// The oldest waiting partner of `ev` (of the other kind), if any.
    fn find_partner(&self, key: &(Arc<str>, Arc<str>), kind: Kind, ev: &Event) -> Option<u64> {
        let w = self.index.get(key)?;
        let list = match kind {
            Kind::Access => &w.security,
            Kind::Security => &w.access,
        };
        list.iter().copied().find(|seq| {
            self.slot(*seq)
                .and_then(|s| s.ev.as_ref())
                .is_some_and(|other| match kind {
                    Kind::Access => self.fits(ev, other),
                    Kind::Security => self.fits(other, ev),
                })
        })
    }

    /// Takes one input event; returns it when it can leave at once.
    fn accept(&mut self, ev: Event) -> Option<Event> {
        self.max_seen = self.max_seen.max(ev.epoch_ms());
        let kind = match Self::kind_of(&ev) {
            // No partner can come: unpaired at once, as it would leave after its wait.
            Some(Kind::Access) if !self.opts.security_logins => {
                self.stats.access_unpaired += 1;
                None
            }
            k => k,
        };
        let Some(kind) = kind else {
            if self.queue.is_empty() {
                return Some(ev);
            }
            self.push(ev, None);
            return None;
        };
        let node = self.node_of(&ev.origin.file);
        let thread = ev.thread.clone().unwrap_or_else(|| Arc::from(""));
        let key = (node, thread);
        match self.find_partner(&key, kind, &ev) {
            Some(seq) => {
                let other_kind = match kind {
                    Kind::Access => Kind::Security,
                    Kind::Security => Kind::Access,
                };
                self.unindex(&key, other_kind, seq);
                self.stats.joined += 1;
                match kind {
                    Kind::Security => {
                        // The waiting access event absorbs this one in place.
                        if let Some(slot) = self.slot_mut(seq) {
                            slot.cand = None;
                            if let Some(access) = slot.ev.as_mut() {
                                absorb(access, ev);
                            }
                        }
                        None
                    }
                    Kind::Access => {
                        // This access event absorbs the waiting security event and goes to the
                        // back: it is the latest event seen, so order holds.
                        let mut access = ev;
                        if let Some(sec) = self.slot_mut(seq).and_then(|s| {
                            s.cand = None;
                            s.ev.take()
                        }) {
                            absorb(&mut access, sec);
                        }
                        self.push(access, None);
                        None
                    }
                }
            }
            None => {
                let t = ev.epoch_ms();
                let tol = self.opts.tolerance_ms.max(0);
                let deadline = match kind {
                    Kind::Access => t.saturating_add(self.request_ms(&ev)).saturating_add(tol),
                    Kind::Security => t.saturating_add(tol),
                };
                let seq = self.base + self.queue.len() as u64;
                self.index
                    .entry(key.clone())
                    .or_default()
                    .of(kind)
                    .push_back(seq);
                self.push(
                    ev,
                    Some(Cand {
                        kind,
                        key,
                        deadline,
                    }),
                );
                None
            }
        }
    }

    fn push(&mut self, ev: Event, cand: Option<Cand>) {
        self.queue.push_back(Slot { ev: Some(ev), cand });
    }

    /// Pops the front slot, unindexing it; `None` when it was absorbed.
    fn pop_front(&mut self) -> Option<Option<Event>> {
        let slot = self.queue.pop_front()?;
        let seq = self.base;
        self.base += 1;
        if let Some(c) = slot.cand {
            self.unindex(&c.key, c.kind, seq);
            match c.kind {
                Kind::Access => self.stats.access_unpaired += 1,
                Kind::Security => self.stats.security_unpaired += 1,
            }
        }
        Some(slot.ev)
    }

    /// The next event that may leave now.
    fn release(&mut self) -> Option<Event> {
        loop {
            let front = self.queue.front()?;
            if let Some(c) = &front.cand
                && !self.done
                && c.deadline >= self.max_seen
            {
                // A partner may still come; wait unless the buffer is full.
                if self.queue.len() <= self.opts.max_pending {
                    return None;
                }
                self.stats.forced += 1;
            }
            if let Some(Some(ev)) = self.pop_front() {
                return Some(ev);
            }
        }
    }
}

impl<I: Iterator<Item = Event>> Iterator for LoginJoin<I> {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(ev) = self.release() {
                return Some(ev);
            }
            if self.done {
                return None;
            }
            match self.inner.next() {
                Some(ev) => {
                    if let Some(out) = self.accept(ev) {
                        return Some(out);
                    }
                }
                None => self.done = true,
            }
        }
    }
}

/// True unless both name a user and the names differ (ignoring ASCII case, as Confluence
/// user names are case-insensitive).
fn users_agree(access: &Event, security: &Event) -> bool {
    match (&access.user, &security.user) {
        (Some(a), Some(s)) => a.eq_ignore_ascii_case(s),
        _ => true,
    }
}

/// Puts what the security line knows into the access event.
fn absorb(access: &mut Event, security: Event) {
    if security.user.is_some() {
        access.user = security.user;
    }
    if access.user_id.is_none() {
        access.user_id = security.user_id;
    }
    // The security log names the outcome; the access log infers it from the status.
    if security.outcome != Outcome::Unknown {
        access.outcome = security.outcome;
    }
}

/// The folder that identifies a file's node: its parent, without trailing generic log-folder
/// names (`case/node1/tomcat-logs/x.log` and `case/node1/application-logs/y.log` → `case/node1`).
pub fn node_folder(file: &str) -> &str {
    let mut dir = match file.rfind(['/', '\\']) {
        Some(i) => file.get(..i).unwrap_or(""),
        None => "",
    };
    loop {
        let (parent, name) = match dir.rfind(['/', '\\']) {
            Some(i) => (dir.get(..i).unwrap_or(""), dir.get(i + 1..).unwrap_or("")),
            None => ("", dir),
        };
        if name.is_empty() || !GENERIC_FOLDERS.iter().any(|g| g.eq_ignore_ascii_case(name)) {
            return dir;
        }
        dir = parent;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, FixedOffset, TimeZone};
    use confwatch_event::Origin;
    use proptest::prelude::*;
    use std::net::IpAddr;

    const T0: i64 = 1_772_438_400_000; // 2026-03-02T08:00:00Z

    fn at(ms: i64) -> DateTime<FixedOffset> {
        FixedOffset::east_opt(0)
            .unwrap()
            .timestamp_millis_opt(T0 + ms)
            .unwrap()
    }

    fn access(ms: i64, file: &str, line: u64, thread: &str, ip: &str, status: u16) -> Event {
        let mut e = Event::new(
            at(ms),
            SourceFormat::TomcatAccess,
            Origin {
                file: Arc::from(file),
                line,
            },
        );
        e.action = Action::Login;
        e.outcome = Outcome::from_http_status(status);
        e.status = Some(status);
        e.method = Some(Arc::from("POST"));
        e.url = Some("/dologin.action".into());
        e.thread = Some(Arc::from(thread));
        e.client_ip = Some(ip.parse::<IpAddr>().unwrap());
        e.user_agent = Some(Arc::from("python-requests/2.31"));
        e.duration_ms = Some(120.0);
        e
    }

    fn security(ms: i64, file: &str, line: u64, thread: &str, user: &str, ok: bool) -> Event {
        let mut e = Event::new(
            at(ms),
            SourceFormat::SecurityLog,
            Origin {
                file: Arc::from(file),
                line,
            },
        );
        e.action = Action::Login;
        e.outcome = if ok {
            Outcome::Success
        } else {
            Outcome::Failure
        };
        e.thread = Some(Arc::from(thread));
        e.user = Some(Arc::from(user));
        e
    }

    fn view(ms: i64, file: &str, line: u64) -> Event {
        let mut e = Event::new(
            at(ms),
            SourceFormat::TomcatAccess,
            Origin {
                file: Arc::from(file),
                line,
            },
        );
        e.action = Action::PageView;
        e.thread = Some(Arc::from("http-nio-8090-exec-5"));
        e
    }

    fn run(events: Vec<Event>, opts: LoginJoinOptions) -> (Vec<Event>, LoginJoinStats) {
        let mut j = join_logins(events.into_iter(), opts);
        let out: Vec<Event> = j.by_ref().collect();
        (out, j.stats())
    }

    const ACC: &str = "case/node1/conf_access_log.2026-03-02.log";
    const SEC: &str = "case/node1/atlassian-confluence-security.log";

    #[test]
    fn access_then_security_become_one_login() {
        let (out, st) = run(
            vec![
                view(0, ACC, 1),
                access(1_000, ACC, 2, "http-nio-8090-exec-5", "198.51.100.7", 200),
                view(1_100, ACC, 3),
                security(1_080, SEC, 9, "http-nio-8090-exec-5", "alice", false),
                view(2_000, ACC, 4),
            ],
            LoginJoinOptions::default(),
        );
        assert_eq!(st.joined, 1);
        assert_eq!(out.len(), 4);
        let login = &out[1];
        assert_eq!(login.format, SourceFormat::TomcatAccess);
        assert_eq!(login.user.as_deref(), Some("alice"));
        assert_eq!(login.client().as_deref(), Some("198.51.100.7"));
        assert_eq!(login.outcome, Outcome::Failure);
        assert_eq!(login.user_agent.as_deref(), Some("python-requests/2.31"));
        assert_eq!(login.origin.to_string(), format!("{ACC}:2"));
        assert_eq!(login.timestamp, at(1_000));
        assert_eq!(
            out.iter().map(|e| e.origin.line).collect::<Vec<_>>(),
            vec![1, 2, 3, 4]
        );
    }

    #[test]
    fn security_first_then_access_also_pair() {
        // A security line stamped before its access line (clock slack) still pairs, and the
        // survivor leaves at the access line's place in time.
        let (out, st) = run(
            vec![
                security(500, SEC, 1, "exec-1", "bob", true),
                view(600, ACC, 1),
                access(1_000, ACC, 2, "exec-1", "10.0.0.12", 302),
                view(1_200, ACC, 3),
            ],
            LoginJoinOptions::default(),
        );
        assert_eq!(st.joined, 1);
        let lines: Vec<_> = out.iter().map(|e| (e.format, e.origin.line)).collect();
        assert_eq!(
            lines,
            vec![
                (SourceFormat::TomcatAccess, 1),
                (SourceFormat::TomcatAccess, 2),
                (SourceFormat::TomcatAccess, 3)
            ]
        );
        assert_eq!(out[1].user.as_deref(), Some("bob"));
        assert_eq!(out[1].outcome, Outcome::Success);
    }

    #[test]
    fn other_thread_late_line_or_other_user_do_not_pair() {
        let (out, st) = run(
            vec![
                access(0, ACC, 1, "exec-1", "10.0.0.1", 200),
                security(100, SEC, 1, "exec-2", "a", false),
                // Far outside request time + tolerance.
                access(10_000, ACC, 2, "exec-3", "10.0.0.1", 200),
                security(60_000, SEC, 2, "exec-3", "b", false),
            ],
            LoginJoinOptions::default(),
        );
        assert_eq!(st.joined, 0);
        assert_eq!(out.len(), 4);
        assert_eq!((st.access_unpaired, st.security_unpaired), (2, 2));
        // Unpaired events leave unchanged.
        assert_eq!(out[0].user, None);
        assert_eq!(out[1].format, SourceFormat::SecurityLog);

        // A successful login names its user in both logs; differing names never pair.
        let mut a = access(0, ACC, 1, "exec-1", "10.0.0.1", 302);
        a.user = Some(Arc::from("carol"));
        let (out, st) = run(
            vec![a, security(50, SEC, 1, "exec-1", "dave", true)],
            LoginJoinOptions::default(),
        );
        assert_eq!((st.joined, out.len()), (0, 2));
        // Same name in another case does pair.
        let mut a = access(0, ACC, 1, "exec-1", "10.0.0.1", 302);
        a.user = Some(Arc::from("Carol"));
        let (out, st) = run(
            vec![a, security(50, SEC, 1, "exec-1", "carol", true)],
            LoginJoinOptions::default(),
        );
        assert_eq!((st.joined, out.len()), (1, 1));
    }

    #[test]
    fn long_requests_widen_the_window_up_to_the_cap() {
        let mut a = access(0, ACC, 1, "exec-1", "10.0.0.1", 200);
        a.duration_ms = Some(9_000.0);
        let (_, st) = run(
            vec![a.clone(), security(11_000, SEC, 1, "exec-1", "x", false)],
            LoginJoinOptions::default(),
        );
        assert_eq!(st.joined, 1);
        let opts = LoginJoinOptions {
            max_request_ms: 1_000,
            ..LoginJoinOptions::default()
        };
        let (_, st) = run(
            vec![a, security(11_000, SEC, 1, "exec-1", "x", false)],
            opts,
        );
        assert_eq!(st.joined, 0);
    }

    #[test]
    fn cluster_nodes_with_the_same_thread_pair_within_their_node() {
        let acc2 = "case/node2/conf_access_log.2026-03-02.log";
        let sec2 = "case/node2/atlassian-confluence-security.log";
        let t = "http-nio-8090-exec-5";
        let (out, st) = run(
            vec![
                access(0, ACC, 1, t, "198.51.100.1", 200),
                access(0, acc2, 1, t, "198.51.100.2", 200),
                // Node 2's line comes first; the earliest waiting access (node 1) must not win.
                security(200, sec2, 1, t, "on-node2", false),
                security(300, SEC, 1, t, "on-node1", false),
            ],
            LoginJoinOptions::default(),
        );
        assert_eq!((st.joined, out.len()), (2, 2));
        let by_ip: Vec<_> = out
            .iter()
            .map(|e| (e.client().unwrap(), e.user.as_deref().unwrap().to_string()))
            .collect();
        assert_eq!(
            by_ip,
            vec![
                ("198.51.100.1".to_string(), "on-node1".to_string()),
                ("198.51.100.2".to_string(), "on-node2".to_string())
            ]
        );

        // Logs of one node collected from unrelated folders pair only with `Anywhere`.
        let far = "/opt/atlassian/confluence/logs/conf_access_log.2026-03-02.log";
        let near =
            "/var/atlassian/application-data/confluence/logs/atlassian-confluence-security.log";
        let evs = vec![
            access(0, far, 1, t, "198.51.100.1", 200),
            security(100, near, 1, t, "u", false),
        ];
        let (_, st) = run(evs.clone(), LoginJoinOptions::default());
        assert_eq!(st.joined, 0);
        let anywhere = LoginJoinOptions {
            node_scope: NodeScope::Anywhere,
            ..LoginJoinOptions::default()
        };
        let (out, st) = run(evs, anywhere);
        assert_eq!((st.joined, out.len()), (1, 1));
    }

    #[test]
    fn node_folders() {
        assert_eq!(node_folder("case/node1/tomcat-logs/a.log"), "case/node1");
        assert_eq!(
            node_folder("case/node1/application-logs/b.log"),
            "case/node1"
        );
        assert_eq!(node_folder("case/node1/a.log"), "case/node1");
        assert_eq!(node_folder("/var/x/logs/a.log"), "/var/x");
        assert_eq!(
            node_folder("C:\\case\\node2\\logs\\a.log"),
            "C:\\case\\node2"
        );
        assert_eq!(node_folder("a.log"), "");
        assert_eq!(node_folder("logs/a.log"), "");
        assert_eq!(node_folder("<stdin>"), "");
    }

    #[test]
    fn the_buffer_is_capped_and_other_events_are_not_held_needlessly() {
        // With nothing waiting, an event leaves as soon as it is read.
        let mut j = join_logins(
            vec![view(0, ACC, 1), view(1, ACC, 2)].into_iter(),
            LoginJoinOptions::default(),
        );
        assert_eq!(j.next().map(|e| e.origin.line), Some(1));

        // A waiting login holds later events only until its window has passed.
        let evs = vec![
            access(0, ACC, 1, "exec-1", "10.0.0.1", 200),
            view(1_000, ACC, 2),
            view(3_200, ACC, 3), // past 0 + 120 ms + 3 s: releases the login
            view(3_300, ACC, 4),
        ];
        let mut it = evs.into_iter();
        let seen = std::cell::Cell::new(0);
        let counting = std::iter::from_fn(|| {
            seen.set(seen.get() + 1);
            it.next()
        });
        let mut j = join_logins(counting, LoginJoinOptions::default());
        assert_eq!(j.next().map(|e| e.origin.line), Some(1));
        assert_eq!(seen.get(), 3);
        assert_eq!(j.next().map(|e| e.origin.line), Some(2));
        assert_eq!(j.next().map(|e| e.origin.line), Some(3));
        assert_eq!(seen.get(), 3);

        // A full buffer lets the oldest go unpaired.
        let opts = LoginJoinOptions {
            max_pending: 3,
            ..LoginJoinOptions::default()
        };
        let evs: Vec<Event> = (0..10)
            .map(|i| access(i, ACC, i as u64, &format!("exec-{i}"), "10.0.0.1", 200))
            .collect();
        let mut j = join_logins(evs.into_iter(), opts);
        let mut max_held = 0;
        let mut n = 0;
        while let Some(_e) = j.next() {
            max_held = max_held.max(j.queue.len());
            n += 1;
        }
        assert_eq!(n, 10);
        assert!(max_held <= 3, "{max_held}");
        assert!(j.stats().forced >= 6, "{:?}", j.stats());
    }

    #[test]
    fn without_security_logs_nothing_waits_and_nothing_changes() {
        let evs: Vec<Event> = (0..40)
            .map(|i| {
                if i % 3 == 0 {
                    access(i * 500, ACC, i as u64, "exec-1", "10.0.0.1", 401)
                } else {
                    view(i * 500, ACC, i as u64)
                }
            })
            .collect();
        let (want, want_stats) = run(evs.clone(), LoginJoinOptions::default());
        assert_eq!(want_stats.access_unpaired, 14);
        let fast = LoginJoinOptions {
            security_logins: false,
            ..LoginJoinOptions::default()
        };
        let mut j = join_logins(evs.into_iter(), fast);
        let mut got = Vec::new();
        while let Some(e) = j.next() {
            assert!(j.queue.is_empty());
            got.push(e);
        }
        assert_eq!(got, want);
        assert_eq!(j.stats(), want_stats);
    }

    #[test]
    fn audit_failed_logins_pass_through_untouched() {
        let mut e = Event::new(
            at(0),
            SourceFormat::DcAuditFile,
            Origin {
                file: Arc::from("case/node1/x.audit.log"),
                line: 1,
            },
        );
        e.action = Action::Login;
        e.outcome = Outcome::Failure;
        e.user = Some(Arc::from("alice"));
        e.client_ip = Some("198.51.100.7".parse().unwrap());
        e.thread = Some(Arc::from("exec-1"));
        let (out, st) = run(
            vec![e.clone(), security(10, SEC, 1, "exec-1", "alice", false)],
            LoginJoinOptions::default(),
        );
        assert_eq!(st.joined, 0);
        assert_eq!(out[0], e);
    }

    /// Real parsers, real file names, the time-ordered merge: the joined stream carries user
    /// and client on each failed login, and a DC audit failed login keeps both as parsed.
    #[test]
    fn parsed_files_through_the_ordered_merge() {
        let dir = tempfile::tempdir().unwrap();
        let node = dir.path().join("node1");
        std::fs::create_dir_all(&node).unwrap();
        let mut access = String::new();
        let mut sec = String::new();
        for i in 0..6u32 {
            // Installer pattern: %t %{X-AUSERNAME}o %I %h %r %s %Dms %b %{Referer}i %{User-Agent}i
            access.push_str(&format!(
                "[02/Mar/2026:09:00:{:02} +0100] - http-nio-8090-exec-{} 198.51.100.7 POST /dologin.action HTTP/1.1 200 {}ms 5120 https://wiki.corp.example/login.action python-requests/2.31.0\n",
                i * 5,
                i % 2 + 1,
                80 + i
            ));
            sec.push_str(&format!(
                "2026-03-02 09:00:{:02},{:03} DEBUG [http-nio-8090-exec-{}] [impl.security.login.DefaultLoginManager] onFailedLoginAttempt Failed login attempt for user 'user{i}'\n",
                i * 5,
                40 + i,
                i % 2 + 1
            ));
        }
        std::fs::write(node.join("conf_access_log.2026-03-02.log"), access).unwrap();
        std::fs::write(node.join("atlassian-confluence-security.log"), sec).unwrap();
        std::fs::write(
            node.join("confluence.audit.log"),
            r#"{"affectedObjects":[],"auditType":{"action":"Login failed","actionI18nKey":"audit.logging.summary.user.login.failed","area":"SECURITY","category":"Security","categoryI18nKey":"atlassian.audit.event.category.security","level":"BASE"},"author":{"id":"2c9580827d4a06e8017d4a07c3e10000","name":"mallory","type":"user"},"changedValues":[],"extraAttributes":[],"method":"Browser","source":"203.0.113.9","system":"http://confluence.internal:8090","timestamp":{"epochSecond":1772438500,"nano":0},"version":"1.0"}"#.to_owned() + "\n",
        )
        .unwrap();
        let ing = Arc::new(
            crate::Ingestor::new(crate::IngestOptions {
                local_offset: FixedOffset::east_opt(3600).unwrap(),
                ..crate::IngestOptions::default()
            })
            .unwrap(),
        );
        let (inputs, failed) = ing.discover(&[dir.path().to_path_buf()]);
        assert!(failed.is_empty());
        let mut ordered = ing.ordered(inputs);
        let mut j = join_logins(ordered.by_ref(), LoginJoinOptions::default());
        let out: Vec<Event> = j.by_ref().collect();
        let st = j.stats();
        drop(j);
        assert_eq!(ordered.finish().errors, 0);
        assert_eq!(st.joined, 6, "{st:?} {out:#?}");
        assert_eq!(out.len(), 7);
        let fails: Vec<(String, String)> = out
            .iter()
            .filter(|e| e.action == Action::Login && e.outcome == Outcome::Failure)
            .map(|e| (e.user.as_deref().unwrap().to_owned(), e.client().unwrap()))
            .collect();
        let mut want: Vec<(String, String)> = (0..6)
            .map(|i| (format!("user{i}"), "198.51.100.7".to_owned()))
            .collect();
        want.push(("mallory".into(), "203.0.113.9".into()));
        let mut got = fails.clone();
        got.sort();
        want.sort();
        assert_eq!(got, want);
        assert!(out.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
        assert!(
            out.iter()
                .filter(|e| e.format == SourceFormat::TomcatAccess)
                .all(|e| e.origin.file.ends_with("conf_access_log.2026-03-02.log"))
        );
    }

    /// The checked-in sample (testdata/spray): every login pairs within its node.
    #[test]
    fn spray_sample_joins_within_each_node() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/spray");
        let ing = Arc::new(
            crate::Ingestor::new(crate::IngestOptions {
                local_offset: FixedOffset::east_opt(3600).unwrap(),
                ..crate::IngestOptions::default()
            })
            .unwrap(),
        );
        let (inputs, failed) = ing.discover(&[root]);
        assert!(failed.is_empty());
        let mut j = join_logins(ing.ordered(inputs), LoginJoinOptions::default());
        let out: Vec<Event> = j.by_ref().collect();
        assert_eq!(j.stats().joined, 13, "{:?}", j.stats());
        assert_eq!(
            (j.stats().access_unpaired, j.stats().security_unpaired),
            (0, 0)
        );
        let mut sprayed: Vec<&str> = out
            .iter()
            .filter(|e| e.client().as_deref() == Some("198.51.100.7"))
            .filter_map(|e| e.user.as_deref())
            .collect();
        sprayed.sort_unstable();
        assert_eq!(
            sprayed,
            [
                "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"
            ]
        );
        assert!(
            out.iter()
                .filter(|e| e.action == Action::Login && e.origin.file.contains("node2"))
                .all(|e| e.user.as_deref() == Some("carol")
                    && e.client().as_deref() == Some("203.0.113.20"))
        );
    }

    /// One generated input event: kind (0 other, 1 access login, 2 security login), time
    /// step, thread, node, user.
    fn arb_events() -> impl Strategy<Value = Vec<(u8, i64, u8, u8, u8)>> {
        proptest::collection::vec((0u8..3, 0i64..2_500, 0u8..3, 0u8..2, 0u8..4), 0..120)
    }

    fn build(spec: &[(u8, i64, u8, u8, u8)]) -> Vec<Event> {
        let mut t = 0;
        spec.iter()
            .enumerate()
            .map(|(i, (kind, step, thread, node, user))| {
                t += step;
                let line = i as u64 + 1;
                let thread = format!("exec-{thread}");
                let acc = format!("n{node}/conf_access_log.log");
                let sec = format!("n{node}/atlassian-confluence-security.log");
                match kind {
                    0 => view(t, &acc, line),
                    1 => {
                        let mut e = access(t, &acc, line, &thread, "10.0.0.1", 200);
                        if *user == 3 {
                            e.user = Some(Arc::from("u1"));
                        }
                        e
                    }
                    _ => security(t, &sec, line, &thread, &format!("u{user}"), false),
                }
            })
            .collect()
    }

    proptest! {
        #[test]
        fn order_kept_nothing_lost_or_duplicated(
            spec in arb_events(),
            cap in 1usize..50,
            anywhere in any::<bool>(),
        ) {
            let input = build(&spec);
            let opts = LoginJoinOptions {
                max_pending: cap,
                node_scope: if anywhere { NodeScope::Anywhere } else { NodeScope::SameFolder },
                ..LoginJoinOptions::default()
            };
            let mut j = join_logins(input.clone().into_iter(), opts);
            let mut out = Vec::new();
            while let Some(e) = j.next() {
                // Bounded: never more than the cap (plus the event being placed) held.
                prop_assert!(j.queue.len() <= cap + 1);
                out.push(e);
            }
            let st = j.stats();
            // Time order in, time order out.
            prop_assert!(out.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
            // Exactly one security event absorbed per join; every other event leaves once.
            prop_assert_eq!(out.len() as u64 + st.joined, input.len() as u64);
            let mut lines: Vec<u64> = out.iter().map(|e| e.origin.line).collect();
            lines.sort_unstable();
            lines.dedup();
            prop_assert_eq!(lines.len(), out.len());
            let absorbed: Vec<&Event> = input
                .iter()
                .filter(|e| !out.iter().any(|o| o.origin == e.origin))
                .collect();
            prop_assert_eq!(absorbed.len() as u64, st.joined);
            prop_assert!(absorbed.iter().all(|e| e.format == SourceFormat::SecurityLog));
            // Non-login events are untouched; joined access events carry a security user.
            for o in &out {
                let orig = input.iter().find(|e| e.origin == o.origin).unwrap();
                if o.action != Action::Login {
                    prop_assert_eq!(o, orig);
                }
            }
            // A joined access event names a user; one never joined is as it came.
            let joined_access = out
                .iter()
                .filter(|o| o.format == SourceFormat::TomcatAccess && o.action == Action::Login)
                .filter(|o| input.iter().find(|e| e.origin == o.origin) != Some(*o))
                .count() as u64;
            prop_assert!(joined_access <= st.joined);
            prop_assert_eq!(
                2 * st.joined + st.access_unpaired + st.security_unpaired,
                input.iter().filter(|e| e.action == Action::Login).count() as u64
            );
        }
    }
}
