//! The one URL → action classifier.
//!
//! Owns the meaning of a web request: from method, request target (path + query as logged,
//! or an absolute URL from `AccessLogFilter` lines) and HTTP status it derives the
//! [`Action`], the [`Outcome`], the Confluence object (space key, page id, title, attachment,
//! version), the decoded search text and what a REST read asked for ([`RestRead`]).
//! Every parser calls [`classify_into`]; nothing after ingestion looks at a URL again.
//!
//! Design: the target is split once into at most [`MAX_SEGMENTS`] path segments on the
//! stack and dispatched with slice patterns (`routes`), so a call does no regex work and
//! allocates only for the decoded fields it returns. Data Center (`/display/…`), Cloud
//! (`/wiki/…`) and context-path installs (`/confluence/…`, detected by a known route in
//! the second segment) share the same routes. `docs/url-classes.md` is the user-facing
//! table of routes.

mod query;
mod routes;

#[cfg(test)]
mod tests;

use confwatch_event::{Action, Event, ObjectRef, Outcome, RestRead};
use std::sync::LazyLock;

/// Path segments looked at; deeper paths keep their first segments (no route needs more).
pub const MAX_SEGMENTS: usize = 12;

/// What a web request means, as derived from its method, target and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    pub action: Action,
    pub outcome: Outcome,
    pub object: ObjectRef,
    /// Decoded search text (`queryString=`, `text=`, `query=`, or the CQL's quoted terms).
    pub search_query: Option<String>,
    /// Set for REST API calls (`/rest/api/…` v1, `/api/v2/…` v2).
    pub rest: Option<RestRead>,
}

impl Classification {
    fn new() -> Classification {
        Classification {
            action: Action::Other,
            outcome: Outcome::Unknown,
            object: ObjectRef::default(),
            search_query: None,
            rest: None,
        }
    }
}

/// Fills `action`, `outcome`, `object`, `search_query` and `rest` of a web-request event
/// from its `method`, `url` and `status`. Events without a `url` are left unchanged.
pub fn classify_into(ev: &mut Event) {
    let Some(url) = ev.url.as_deref() else {
        return;
    };
    let c = classify(ev.method.as_deref(), url, ev.status);
    ev.action = c.action;
    ev.outcome = c.outcome;
    ev.object = c.object;
    ev.search_query = c.search_query;
    ev.rest = c.rest;
}

/// Classifies one request. `target` is the path and query as logged, or an absolute
/// `http(s)://host[:port]/…` URL. Never panics; unknown targets give [`Action::Other`]
/// (or [`Action::RestOther`] under `/rest/`).
pub fn classify(method: Option<&str>, target: &str, status: Option<u16>) -> Classification {
    let mut c = Classification::new();
    let raw = target.trim();
    let target = strip_origin(raw);
    // `-`, `*` (OPTIONS) or an empty field: nothing to classify.
    if raw.is_empty() || !(target.is_empty() || target.starts_with(['/', '?'])) {
        c.outcome = routes::OutcomeRule::Http.outcome(status);
        return c;
    }
    // The fragment is never sent by browsers; when present it is noise.
    let target = target.split_once('#').map_or(target, |(t, _)| t);
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let path = strip_path_params(path);

    let mut buf = [""; MAX_SEGMENTS];
    let n = split_segments(path, &mut buf);
    let segs = strip_context(buf.get(..n).unwrap_or(&[]));

    let req = routes::Req {
        method: routes::Method::parse(method),
        segs,
        query,
    };
    let rule = if has_exploit_marker(target) {
        c.action = Action::ExploitAttempt;
        routes::OutcomeRule::Http
    } else {
        routes::route(&req, &mut c)
    };
    c.outcome = rule.outcome(status);
    c
}

/// Fills `buf` with the first non-empty `/`-separated segments of `path`; returns how many.
/// A plain byte loop: paths are short, and `str::split` cost more per call than the scan.
fn split_segments<'a>(path: &'a str, buf: &mut [&'a str; MAX_SEGMENTS]) -> usize {
    let mut n = 0;
    let mut start = 0;
    let bytes = path.as_bytes();
    let ends = bytes
        .iter()
        .enumerate()
        .filter_map(|(i, &c)| (c == b'/').then_some(i))
        .chain([bytes.len()]);
    for end in ends {
        if end > start {
            let Some(slot) = buf.get_mut(n) else {
                break;
            };
            *slot = path.get(start..end).unwrap_or("");
            n += 1;
        }
        start = end + 1;
    }
    n
}

/// Removes `scheme://authority` from absolute URLs; other targets are returned unchanged.
fn strip_origin(t: &str) -> &str {
    for scheme in ["http://", "https://"] {
        let matches = t
            .get(..scheme.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(scheme));
        if matches {
            let rest = t.get(scheme.len()..).unwrap_or("");
            return match rest.find(['/', '?', '#']) {
                Some(i) => rest.get(i..).unwrap_or(""),
                None => "",
            };
        }
    }
    t
}

/// Drops a `;jsessionid=…` path parameter (Tomcat URL rewriting).
fn strip_path_params(path: &str) -> &str {
    // `str::find` with a string pattern builds a two-way searcher on every call; almost no
    // path has a `;`, so looking for that byte first costs one `memchr`.
    let b = path.as_bytes();
    let at = memchr::memchr_iter(b';', b)
        .find(|&i| b.get(i..).is_some_and(|r| r.starts_with(b";jsessionid=")));
    match at {
        Some(i) => path.get(..i).unwrap_or(path),
        None => path,
    }
}

/// First path segments that are Confluence routes (used to recognise a context path).
fn is_known_root(seg: &str) -> bool {
    matches!(
        seg,
        "display"
            | "pages"
            | "spaces"
            | "rest"
            | "api"
            | "download"
            | "s"
            | "images"
            | "styles"
            | "includes"
            | "admin"
            | "plugins"
            | "x"
            | "json"
            | "setup"
            | "template"
            | "users"
            | "people"
            | "search"
            | "collector"
            | "synchrony"
            | "synchrony-proxy"
            | "spacedirectory"
            | "exportword"
            | "status"
            | "favicon.ico"
            | "labels"
            | "label"
    ) || seg.ends_with(".action")
}

/// Removes a Cloud `/wiki` prefix or an installation context path (`/confluence/…`).
fn strip_context<'a>(segs: &'a [&'a str]) -> &'a [&'a str] {
    match segs {
        ["wiki", rest @ ..] => rest,
        // The bare context root redirects to the dashboard.
        ["confluence"] => &[],
        [first, second, rest @ ..] if !is_known_root(first) && is_known_root(second) => {
            segs.get(1..).unwrap_or(rest)
        }
        _ => segs,
    }
}

/// Injection or traversal markers that no browser produces: OGNL `${` (CVE-2022-26134 and
/// relatives, raw or percent-encoded), Tomcat `..;/` bypasses, `/../` and `WEB-INF` probes.
/// One pass over the candidate bytes: this runs on every line.
fn has_exploit_marker(target: &str) -> bool {
    static WEB_INF: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new("WEB-INF"));
    let b = target.as_bytes();
    let at = |i: usize| b.get(i).copied();
    let hit = memchr::memchr3_iter(b'$', b'.', b'%', b).any(|i| match at(i) {
        Some(b'$') => at(i + 1) == Some(b'{'),
        Some(b'.') => {
            at(i + 1) == Some(b'.')
                && (at(i + 2) == Some(b';')
                    || (at(i + 2) == Some(b'/') && i.checked_sub(1).and_then(at) == Some(b'/')))
        }
        _ => b
            .get(i + 1..i + 6)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"24%7b")),
    });
    hit || WEB_INF.find(b).is_some()
}
