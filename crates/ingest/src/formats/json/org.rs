//! Atlassian organization audit events (`/admin/v1/orgs/{id}/events` `data[]` items):
//! `id`, `attributes{time, action, actor{id,name,email}, context[], container[], location?}`,
//! `message{content}`. `location` and `type:"events"` are documented but were not in the
//! real sample.

use super::common::{
    MAX_ITEMS, array, instant, numeric_id, scalar, set_client, shape, text, text_at, time_error,
};
use super::mapping;
use crate::formats::{LineOutcome, ParseCtx};
use confwatch_event::{AuditDetail, AuditObject, Event, SourceFormat};
use serde_json::Value;

const FORMAT: SourceFormat = SourceFormat::OrgAudit;

pub(super) fn parse(v: &Value, ctx: &mut ParseCtx) -> LineOutcome {
    let Some(attrs) = v.get("attributes").filter(|a| a.is_object()) else {
        return shape(FORMAT, "no `attributes` object");
    };
    let ts = match instant(attrs.get("time")) {
        Ok(t) => t,
        Err(e) => return time_error(FORMAT, "attributes.time", e),
    };
    let Some(action) = text(attrs, "action") else {
        return shape(FORMAT, "no `attributes.action`");
    };

    let mut ev = Event::new(ts, FORMAT, ctx.origin());
    ev.action = mapping::org_action(action);
    ev.outcome = mapping::outcome_for(action);
    let mut detail = AuditDetail {
        action_key: action.to_owned(),
        message: text_at(v, &["message", "content"]).map(str::to_owned),
        ..AuditDetail::default()
    };

    if let Some(actor) = attrs.get("actor") {
        ev.user = text(actor, "email")
            .or_else(|| text(actor, "name"))
            .map(|u| ctx.intern(u));
        ev.user_id = text(actor, "id").map(|u| ctx.intern(u));
        if let Some(name) = text(actor, "name") {
            detail
                .attributes
                .push(("actor name".to_owned(), name.to_owned()));
        }
    }
    if let Some(loc) = attrs.get("location") {
        if let Some(ip) = text(loc, "ip") {
            set_client(&mut ev, ip, ctx);
        }
        // The rest of `location` (geo, countryName, city, …) kept as attributes.
        if let Some(map) = loc.as_object() {
            for (k, val) in map
                .iter()
                .filter(|(k, _)| k.as_str() != "ip")
                .take(MAX_ITEMS)
            {
                if let Some(s) = scalar(val) {
                    detail.attributes.push((format!("location.{k}"), s));
                }
            }
        }
    }
    if let Some(id) = text(v, "id") {
        detail
            .attributes
            .push(("event id".to_owned(), id.to_owned()));
    }
    detail.system = array(attrs, "container")
        .iter()
        .find_map(|c| {
            text_at(c, &["attributes", "siteHostName"]).or_else(|| text_at(c, &["links", "alt"]))
        })
        .map(str::to_owned);

    for c in array(attrs, "context").iter().take(MAX_ITEMS) {
        note_context(&mut ev, c);
        let kind = text(c, "type").unwrap_or_default();
        let id = c.get("id").and_then(scalar);
        let name = ["name", "title", "email", "displayName", "key"]
            .iter()
            .find_map(|k| text_at(c, &["attributes", k]))
            .unwrap_or_default();
        if !kind.is_empty() || !name.is_empty() || id.is_some() {
            detail.objects.push(AuditObject {
                kind: kind.to_owned(),
                name: name.to_owned(),
                id,
            });
        }
    }
    ev.audit = Some(Box::new(detail));
    LineOutcome::Event(Box::new(ev))
}

/// Object fields from a context entry whose type names a page, blog post or space.
/// Heuristic: no real Confluence content event of this log was available.
fn note_context(ev: &mut Event, c: &Value) {
    let kind = text(c, "type").unwrap_or_default().to_ascii_lowercase();
    let title =
        text_at(c, &["attributes", "title"]).or_else(|| text_at(c, &["attributes", "name"]));
    if kind.contains("page") || kind.contains("blog") {
        if ev.object.page_id.is_none() {
            ev.object.page_id = numeric_id(text(c, "id"));
        }
        if let Some(t) = title {
            ev.object.title = Some(t.to_owned());
        }
    } else if kind.contains("space") {
        if ev.object.space_key.is_none() {
            ev.object.space_key = text_at(c, &["attributes", "key"])
                .or_else(|| text_at(c, &["attributes", "spaceKey"]))
                .map(str::to_owned);
        }
        if ev.object.title.is_none() {
            ev.object.title = title.map(str::to_owned);
        }
    }
}
