//! The Sigma field mapping: a zero-copy view of a [`confwatch_event::Event`] that
//! implements rsigma's [`Event`](rsigma_eval::Event) trait.
//!
//! Rules never see our Rust structs; they see the flat field names listed in
//! [`FIELDS`] (documented in `docs/detections.md`), plus the SigmaHQ `webserver`
//! taxonomy aliases (`c-ip`, `cs-uri-stem`, …) so generic web-server rules run on access
//! logs unchanged. Values borrow from the event wherever the event holds a string.

use confwatch_event::{Action, Event};
use rsigma_eval::EventValue;
use std::borrow::Cow;

/// Every field name the view answers, in documentation order (`docs/detections.md`).
pub const FIELDS: &[&str] = &[
    "timestamp",
    "format",
    "action",
    "action_category",
    "content_retrieval",
    "outcome",
    "user",
    "user_id",
    "anonymous",
    "privileged",
    "client_ip",
    "client_host",
    "client",
    "peer_ip",
    "forwarded_for",
    "user_agent",
    "method",
    "url",
    "url_path",
    "url_query",
    "status",
    "bytes",
    "duration_ms",
    "referer",
    "thread",
    "session_id",
    "space_key",
    "page_id",
    "page_ref",
    "title",
    "attachment",
    "version",
    "search_query",
    "rest.body_expanded",
    "rest.limit",
    "rest.start",
    "rest.api_version",
    "rest.list",
    "rest.items",
    "audit.action_key",
    "audit.action_text",
    "audit.category_key",
    "audit.category",
    "audit.area",
    "audit.level",
    "audit.method",
    "audit.system",
    "audit.message",
    "audit.actor_is_admin",
    "audit.object_names",
    "audit.object_types",
    "audit.changed_keys",
    "audit.attributes.<name>",
    "file",
    "line",
    // SigmaHQ webserver taxonomy aliases.
    "c-ip",
    "c-useragent",
    "cs-method",
    "cs-uri",
    "cs-uri-stem",
    "cs-uri-query",
    "sc-status",
    "sc-bytes",
    "cs-user-agent",
    "cs-referer",
    "cs-username",
    "time-taken",
];

/// Actions whose REST requests return a list (so `rest.items` is the page size).
fn is_list_action(a: Action) -> bool {
    matches!(
        a,
        Action::RestContentList
            | Action::RestV2List
            | Action::RestSearch
            | Action::RestAttachmentList
    )
}

/// How many content items a REST read may have returned: `limit` (default 25) for list
/// and search calls, 1 for single reads; `None` when the event is not a REST read.
pub fn rest_items(ev: &Event) -> Option<u32> {
    ev.rest
        .as_ref()
        .map(|r| r.max_items(is_list_action(ev.action)))
}

/// A page identity for distinct counting: the page id, else `SPACE/Title`, else the title.
pub fn page_ref(ev: &Event) -> Option<String> {
    if let Some(id) = ev.object.page_id {
        return Some(id.to_string());
    }
    match (&ev.object.space_key, &ev.object.title) {
        (Some(k), Some(t)) => Some(format!("{k}/{t}")),
        (None, Some(t)) => Some(t.clone()),
        _ => None,
    }
}

fn split_url(url: &str) -> (&str, Option<&str>) {
    match url.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (url, None),
    }
}

fn s(v: &str) -> EventValue<'_> {
    EventValue::Str(Cow::Borrowed(v))
}

fn owned<'a>(v: String) -> EventValue<'a> {
    EventValue::Str(Cow::Owned(v))
}

/// A borrowed view of one event as rsigma sees it.
#[derive(Debug, Clone, Copy)]
pub struct EventView<'a> {
    pub event: &'a Event,
    /// Whether the acting user is privileged (from the privileged-account list or LDAP),
    /// computed once per event by the caller.
    pub privileged: bool,
}

impl<'a> EventView<'a> {
    pub fn new(event: &'a Event, privileged: bool) -> EventView<'a> {
        EventView { event, privileged }
    }

    fn field(&self, path: &str) -> Option<EventValue<'_>> {
        let ev = self.event;
        let int = |n: u64| EventValue::Int(i64::try_from(n).unwrap_or(i64::MAX));
        Some(match path {
            "timestamp" | "@timestamp" => owned(ev.timestamp.to_rfc3339()),
            "format" => s(ev.format.id()),
            "action" => s(ev.action.as_str()),
            "action_category" => owned(
                serde_json::to_value(ev.action.category())
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
            ),
            "content_retrieval" => EventValue::Bool(ev.action.is_content_retrieval()),
            "outcome" => s(ev.outcome.as_str()),
            "user" => s(ev.user.as_deref()?),
            // Confluence writes `anonymous` in X-AUSERNAME for anonymous requests, and SigmaHQ
            // rules match on that.
            "cs-username" => s(ev.user.as_deref().unwrap_or("anonymous")),
            "user_id" => s(ev.user_id.as_deref()?),
            "anonymous" => EventValue::Bool(ev.user.is_none()),
            "privileged" => EventValue::Bool(self.privileged),
            "client_ip" => owned(ev.client_ip?.to_string()),
            "client_host" => s(ev.client_host.as_deref()?),
            "client" | "c-ip" => owned(ev.client()?),
            "peer_ip" => owned(ev.peer_ip?.to_string()),
            "forwarded_for" => s(ev.forwarded_for.as_deref()?),
            "user_agent" | "cs-user-agent" | "c-useragent" => s(ev.user_agent.as_deref()?),
            "method" | "cs-method" => s(ev.method.as_deref()?),
            // SigmaHQ's webserver rules use `cs-uri-query` for the whole request target
            // (path and query), so it is the URL, not only the part after `?`.
            "url" | "cs-uri" | "cs-uri-query" => s(ev.url.as_deref()?),
            "url_path" | "cs-uri-stem" => s(split_url(ev.url.as_deref()?).0),
            "url_query" => s(split_url(ev.url.as_deref()?).1?),
            "status" | "sc-status" => EventValue::Int(i64::from(ev.status?)),
            "bytes" | "sc-bytes" => int(ev.bytes?),
            "duration_ms" | "time-taken" => EventValue::Float(ev.duration_ms?),
            "referer" | "cs-referer" => s(ev.referer.as_deref()?),
            "thread" => s(ev.thread.as_deref()?),
            "session_id" => s(ev.session_id.as_deref()?),
            "space_key" => s(ev.object.space_key.as_deref()?),
            "page_id" => int(ev.object.page_id?),
            "page_ref" => owned(page_ref(ev)?),
            "title" => s(ev.object.title.as_deref()?),
            "attachment" => s(ev.object.attachment.as_deref()?),
            "version" => EventValue::Int(i64::from(ev.object.version?)),
            "search_query" => s(ev.search_query.as_deref()?),
            "file" => s(&ev.origin.file),
            "line" => int(ev.origin.line),
            _ => {
                if let Some(rest) = path.strip_prefix("rest.") {
                    return self.rest_field(rest);
                }
                if let Some(audit) = path.strip_prefix("audit.") {
                    return self.audit_field(audit);
                }
                return None;
            }
        })
    }

    fn rest_field(&self, name: &str) -> Option<EventValue<'_>> {
        let ev = self.event;
        let r = ev.rest.as_ref()?;
        Some(match name {
            "body_expanded" => EventValue::Bool(r.body_expanded),
            "limit" => EventValue::Int(i64::from(r.limit?)),
            "start" => EventValue::Int(i64::try_from(r.start?).unwrap_or(i64::MAX)),
            "api_version" => EventValue::Int(i64::from(r.api_version)),
            "list" => EventValue::Bool(is_list_action(ev.action)),
            "items" => EventValue::Int(i64::from(rest_items(ev)?)),
            _ => return None,
        })
    }

    fn audit_field(&self, name: &str) -> Option<EventValue<'_>> {
        let a = self.event.audit.as_deref()?;
        Some(match name {
            "action_key" => s(&a.action_key),
            "action_text" => s(a.action_text.as_deref()?),
            "category_key" => s(a.category_key.as_deref()?),
            "category" => s(a.category.as_deref()?),
            "area" => s(a.area.as_deref()?),
            "level" => s(a.level.as_deref()?),
            "method" => s(a.method.as_deref()?),
            "system" => s(a.system.as_deref()?),
            "message" => s(a.message.as_deref()?),
            "actor_is_admin" => EventValue::Bool(a.actor_is_admin),
            "object_names" => EventValue::Array(a.objects.iter().map(|o| s(&o.name)).collect()),
            "object_types" => EventValue::Array(a.objects.iter().map(|o| s(&o.kind)).collect()),
            "changed_keys" => EventValue::Array(a.changes.iter().map(|c| s(&c.key)).collect()),
            _ => {
                let key = name.strip_prefix("attributes.")?;
                let (_, v) = a.attributes.iter().find(|(k, _)| k == key)?;
                s(v)
            }
        })
    }

    /// Calls `visit` with every free-text string of the event (for Sigma keyword rules).
    fn visit_strings(&self, visit: &mut dyn FnMut(&str)) {
        let ev = self.event;
        let opts: [Option<&str>; 9] = [
            ev.user.as_deref(),
            ev.user_agent.as_deref(),
            ev.method.as_deref(),
            ev.url.as_deref(),
            ev.referer.as_deref(),
            ev.search_query.as_deref(),
            ev.object.title.as_deref(),
            ev.object.attachment.as_deref(),
            ev.object.space_key.as_deref(),
        ];
        for v in opts.into_iter().flatten() {
            visit(v);
        }
        if let Some(a) = ev.audit.as_deref() {
            visit(&a.action_key);
            for v in [a.action_text.as_deref(), a.message.as_deref()]
                .into_iter()
                .flatten()
            {
                visit(v);
            }
            for o in &a.objects {
                visit(&o.name);
            }
        }
    }
}

fn value_to_json(v: &EventValue<'_>) -> serde_json::Value {
    v.to_json()
}

impl rsigma_eval::Event for EventView<'_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        self.field(path)
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        let mut hit = false;
        self.visit_strings(&mut |v| {
            if !hit && pred(v) {
                hit = true;
            }
        });
        hit
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        let mut out = Vec::new();
        self.visit_strings(&mut |v| out.push(Cow::Owned(v.to_owned())));
        out
    }

    fn visit_string_values(&self, visit: &mut dyn FnMut(&str)) {
        self.visit_strings(visit)
    }

    fn to_json(&self) -> serde_json::Value {
        // Only used by rsigma's optional event-storing modes and explain output; the hunt
        // path does not call it.
        let mut map = serde_json::Map::new();
        for name in FIELDS {
            if name.contains('<') {
                continue;
            }
            if let Some(v) = self.field(name) {
                map.insert((*name).to_owned(), value_to_json(&v));
            }
        }
        if let Some(a) = self.event.audit.as_deref() {
            for (k, v) in &a.attributes {
                map.insert(
                    format!("audit.attributes.{k}"),
                    serde_json::Value::String(v.clone()),
                );
            }
        }
        serde_json::Value::Object(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confwatch_event::{Origin, RestRead, SourceFormat};
    use rsigma_eval::Event as _;
    use std::sync::Arc;

    fn ev() -> Event {
        let ts = chrono::DateTime::parse_from_rfc3339("2026-03-01T10:00:00+01:00").unwrap();
        let mut e = Event::new(
            ts,
            SourceFormat::TomcatAccess,
            Origin {
                file: Arc::from("access.log"),
                line: 7,
            },
        );
        e.action = Action::RestContentList;
        e.user = Some(Arc::from("jdoe"));
        e.client_ip = Some("10.1.2.3".parse().unwrap());
        e.url = Some("/rest/api/content?spaceKey=OPS&expand=body.storage&limit=100".into());
        e.status = Some(200);
        e.rest = Some(RestRead {
            body_expanded: true,
            limit: Some(100),
            start: None,
            api_version: 1,
        });
        e
    }

    #[test]
    fn documented_fields_and_aliases_resolve() {
        let e = ev();
        let v = EventView::new(&e, true);
        assert_eq!(v.get_field("user").unwrap().as_str().unwrap(), "jdoe");
        assert_eq!(
            v.get_field("cs-username").unwrap().as_str().unwrap(),
            "jdoe"
        );
        assert_eq!(v.get_field("c-ip").unwrap().as_str().unwrap(), "10.1.2.3");
        assert_eq!(
            v.get_field("cs-uri-stem").unwrap().as_str().unwrap(),
            "/rest/api/content"
        );
        assert_eq!(
            v.get_field("url_query").unwrap().as_str().unwrap(),
            "spaceKey=OPS&expand=body.storage&limit=100"
        );
        assert_eq!(
            v.get_field("cs-uri-query").unwrap().as_str().unwrap(),
            "/rest/api/content?spaceKey=OPS&expand=body.storage&limit=100"
        );
        assert_eq!(v.get_field("sc-status").unwrap().as_i64(), Some(200));
        assert_eq!(v.get_field("rest.items").unwrap().as_i64(), Some(100));
        assert_eq!(
            v.get_field("rest.body_expanded").unwrap().as_bool(),
            Some(true)
        );
        assert_eq!(v.get_field("privileged").unwrap().as_bool(), Some(true));
        assert_eq!(
            v.get_field("action").unwrap().as_str().unwrap(),
            "rest_content_list"
        );
        assert_eq!(
            v.get_field("action_category").unwrap().as_str().unwrap(),
            "api"
        );
        assert_eq!(v.get_field("file").unwrap().as_str().unwrap(), "access.log");
        assert!(v.get_field("search_query").is_none());
        assert!(v.get_field("audit.action_key").is_none());
        assert!(v.get_field("nonsense").is_none());
    }

    #[test]
    fn single_rest_read_counts_one_item() {
        let mut e = ev();
        e.action = Action::RestContentRead;
        assert_eq!(rest_items(&e), Some(1));
        e.rest = None;
        assert_eq!(rest_items(&e), None);
    }

    #[test]
    fn to_json_carries_mapped_fields() {
        let e = ev();
        let j = EventView::new(&e, false).to_json();
        assert_eq!(j["user"], "jdoe");
        assert_eq!(j["rest.items"], 100);
        assert_eq!(j["privileged"], false);
    }
}
