//! Confluence Cloud product audit records (`/wiki/rest/api/audit` `results[]` items):
//! `author{…accountId…}`, `remoteAddress`, `creationDate` (epoch ms), `summary`, `category`,
//! `affectedObject`, `changedValues[]{name,oldValue,newValue}`, `associatedObjects[]`.

use super::common::{
    MAX_ITEMS, array, audit_object, changed_value, flag, instant, set_client, shape, text,
    time_error,
};
use super::mapping;
use crate::formats::{LineOutcome, ParseCtx};
use confwatch_event::{AuditDetail, Event, SourceFormat};
use serde_json::Value;

const FORMAT: SourceFormat = SourceFormat::CloudAudit;

pub(super) fn parse(v: &Value, ctx: &mut ParseCtx) -> LineOutcome {
    if !v.is_object() {
        return shape(FORMAT, "not a JSON object");
    }
    let ts = match instant(v.get("creationDate")) {
        Ok(t) => t,
        Err(e) => return time_error(FORMAT, "creationDate", e),
    };
    let Some(summary) = text(v, "summary") else {
        return shape(FORMAT, "no `summary`");
    };
    let category = text(v, "category");

    let mut ev = Event::new(ts, FORMAT, ctx.origin());
    ev.action = mapping::cloud_action(summary, category);
    ev.outcome = mapping::outcome_for(summary);
    let mut detail = AuditDetail {
        // Cloud has no i18n key; the English summary is the most stable name it offers.
        action_key: summary.to_owned(),
        action_text: Some(summary.to_owned()),
        category: category.map(str::to_owned),
        message: text(v, "description").map(str::to_owned),
        actor_is_admin: flag(v, "sysAdmin") || flag(v, "superAdmin"),
        ..AuditDetail::default()
    };

    if let Some(author) = v.get("author") {
        // `System` has no username/accountId: no user, which is not an error.
        let account = text(author, "accountId");
        ev.user = text(author, "username").or(account).map(|u| ctx.intern(u));
        ev.user_id = account
            .or_else(|| text(author, "userKey"))
            .map(|u| ctx.intern(u));
        if let Some(display) = text(author, "displayName") {
            detail
                .attributes
                .push(("author display name".to_owned(), display.to_owned()));
        }
    }
    if let Some(addr) = text(v, "remoteAddress") {
        set_client(&mut ev, addr, ctx);
    }

    if let Some(o) = v.get("affectedObject") {
        note_object(&mut ev, o, true);
        detail.objects.extend(audit_object(o, "objectType"));
    }
    for o in array(v, "associatedObjects").iter().take(MAX_ITEMS) {
        note_object(&mut ev, o, false);
        detail.objects.extend(audit_object(o, "objectType"));
    }
    for c in array(v, "changedValues").iter().take(MAX_ITEMS) {
        if let Some(cv) = changed_value(c, &["name"], "oldValue", "newValue") {
            if cv.key.eq_ignore_ascii_case("Space key") && ev.object.space_key.is_none() {
                ev.object.space_key = cv.to.clone().or_else(|| cv.from.clone());
            }
            detail.changes.push(cv);
        }
    }
    ev.audit = Some(Box::new(detail));
    LineOutcome::Event(Box::new(ev))
}

/// Titles from the affected object (a page title wins over a space name) and, failing that,
/// from associated objects.
fn note_object(ev: &mut Event, o: &Value, affected: bool) {
    let Some(name) = text(o, "name") else { return };
    match text(o, "objectType")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("page" | "blogpost" | "blog" | "blog post")
            if affected || ev.object.title.is_none() =>
        {
            ev.object.title = Some(name.to_owned());
        }
        Some("space") if affected && ev.object.title.is_none() => {
            ev.object.title = Some(name.to_owned());
        }
        Some("attachment") if ev.object.attachment.is_none() => {
            ev.object.attachment = Some(name.to_owned());
        }
        _ => {}
    }
}
