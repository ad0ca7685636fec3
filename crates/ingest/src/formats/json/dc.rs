//! Data Center audit records: the `*.audit.log` file (`auditType`, `timestamp{epochSecond,
//! nano}`) and the `/rest/auditing/1.0/events` entity (`type`, ISO `timestamp`, author `uri`).
//! Both shapes are accepted under either format so a mislabelled source still parses.

use super::common::{
    MAX_ITEMS, array, audit_object, changed_value, instant, numeric_id, scalar_of, set_client,
    shape, text, time_error,
};
use super::mapping;
use crate::formats::{LineOutcome, ParseCtx};
use confwatch_event::{AuditDetail, Event, SourceFormat};
use percent_encoding::percent_decode_str;
use serde_json::Value;

/// DC `author.id` of the anonymous user (setup-wizard and bootstrap actions).
const ANONYMOUS_ID: &str = "-2";

pub(super) fn parse(format: SourceFormat, v: &Value, ctx: &mut ParseCtx) -> LineOutcome {
    if !v.is_object() {
        return shape(format, "not a JSON object");
    }
    let Some(ty) = v
        .get("auditType")
        .or_else(|| v.get("type"))
        .filter(|t| t.is_object())
    else {
        return shape(format, "no `auditType`/`type` object");
    };
    let ts = match instant(v.get("timestamp")) {
        Ok(t) => t,
        Err(e) => return time_error(format, "timestamp", e),
    };
    let Some(action_key) = text(ty, "actionI18nKey").or_else(|| text(ty, "action")) else {
        return shape(format, "no `actionI18nKey` or `action` in the audit type");
    };

    let mut ev = Event::new(ts, format, ctx.origin());
    let mut detail = AuditDetail {
        action_key: action_key.to_owned(),
        action_text: text(ty, "action").map(str::to_owned),
        category_key: text(ty, "categoryI18nKey").map(str::to_owned),
        category: text(ty, "category").map(str::to_owned),
        area: text(ty, "area").map(str::to_owned),
        level: text(ty, "level").map(str::to_owned),
        method: text(v, "method").map(str::to_owned),
        system: text(v, "system").map(str::to_owned),
        ..AuditDetail::default()
    };
    ev.action = mapping::dc_action(
        action_key,
        detail.category_key.as_deref(),
        detail.area.as_deref(),
    );
    ev.outcome = mapping::outcome_for(action_key);

    if let Some(author) = v.get("author") {
        set_author(&mut ev, &mut detail, author, ctx);
    }
    if let Some(src) = text(v, "source") {
        set_client(&mut ev, src, ctx);
    }

    for o in array(v, "affectedObjects").iter().take(MAX_ITEMS) {
        note_object(&mut ev, o);
        detail.objects.extend(audit_object(o, "type"));
    }
    for c in array(v, "changedValues").iter().take(MAX_ITEMS) {
        if let Some(cv) = changed_value(c, &["key", "i18nKey"], "from", "to") {
            if matches!(cv.key.as_str(), "Space" | "Space key") && ev.object.space_key.is_none() {
                ev.object.space_key = cv.to.clone().or_else(|| cv.from.clone());
            }
            detail.changes.push(cv);
        }
    }
    for a in array(v, "extraAttributes").iter().take(MAX_ITEMS) {
        if let Some(name) = text(a, "name").or_else(|| text(a, "nameI18nKey")) {
            detail
                .attributes
                .push((name.to_owned(), scalar_of(a, "value").unwrap_or_default()));
        }
    }
    ev.audit = Some(Box::new(detail));
    LineOutcome::Event(Box::new(ev))
}

/// User fields from `author`. The file's `author.name` is the login name; the REST
/// entity's is the display name and the login name is only in `uri` (`…?username=admin`).
fn set_author(ev: &mut Event, detail: &mut AuditDetail, author: &Value, ctx: &mut ParseCtx) {
    let id = text(author, "id");
    let name = text(author, "name");
    let from_uri = text(author, "uri").and_then(username_from_uri);
    if let (Some(login), Some(display)) = (&from_uri, name)
        && login != display
    {
        detail
            .attributes
            .push(("author display name".to_owned(), display.to_owned()));
    }
    if id != Some(ANONYMOUS_ID) {
        ev.user = match from_uri {
            Some(u) => Some(ctx.intern(&u)),
            None => name.map(|n| ctx.intern(n)),
        };
    }
    ev.user_id = id.map(|i| ctx.intern(i));
}

/// The `username=` query parameter of a DC user URI, decoded.
fn username_from_uri(uri: &str) -> Option<String> {
    let query = uri.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or_default();
    let raw = query.split('&').find_map(|p| p.strip_prefix("username="))?;
    let plus_decoded = raw.replace('+', " ");
    let decoded = percent_decode_str(&plus_decoded).decode_utf8_lossy();
    let decoded = decoded.trim();
    (!decoded.is_empty()).then(|| decoded.to_owned())
}

/// Fills `ev.object` from one affected object: pages and blog posts give id and title, a
/// space gives its title and, through the REST `uri` (`…/display/KEY`), its key.
fn note_object(ev: &mut Event, o: &Value) {
    let kind = text(o, "type").unwrap_or_default().to_ascii_lowercase();
    let name = text(o, "name");
    match kind.as_str() {
        "page" | "blog" | "blogpost" | "blog post" | "attachment" => {
            if kind == "attachment" {
                if ev.object.attachment.is_none() {
                    ev.object.attachment = name.map(str::to_owned);
                }
                return;
            }
            if ev.object.page_id.is_none() {
                ev.object.page_id = numeric_id(text(o, "id"));
            }
            // A page title is more specific than a space name, so it replaces one.
            if let Some(n) = name {
                ev.object.title = Some(n.to_owned());
            }
        }
        "space" => {
            if ev.object.title.is_none() {
                ev.object.title = name.map(str::to_owned);
            }
            if ev.object.space_key.is_none() {
                ev.object.space_key = text(o, "uri").and_then(space_key_from_uri);
            }
        }
        _ => {}
    }
}

/// `KEY` from `…/display/KEY` or `…/spaces/KEY…`.
fn space_key_from_uri(uri: &str) -> Option<String> {
    let path = uri.split(['?', '#']).next().unwrap_or_default();
    let mut parts = path.split('/');
    while let Some(p) = parts.next() {
        if p == "display" || p == "spaces" {
            return parts.next().filter(|k| !k.is_empty()).map(str::to_owned);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_from_uris() {
        assert_eq!(
            username_from_uri("http://c:8090/admin/users/viewuser.action?username=admin")
                .as_deref(),
            Some("admin")
        );
        assert_eq!(
            username_from_uri("http://c/x?a=1&username=j%C3%B6rg.k").as_deref(),
            Some("jörg.k")
        );
        assert_eq!(username_from_uri("http://c/x?username=").as_deref(), None);
        assert_eq!(username_from_uri("http://c/x").as_deref(), None);
    }

    #[test]
    fn space_keys_from_uris() {
        assert_eq!(
            space_key_from_uri("http://c:8090/display/ASDF").as_deref(),
            Some("ASDF")
        );
        assert_eq!(
            space_key_from_uri("http://c/spaces/DOC/overview").as_deref(),
            Some("DOC")
        );
        assert_eq!(
            space_key_from_uri("http://c/admin/x.action").as_deref(),
            None
        );
    }
}
