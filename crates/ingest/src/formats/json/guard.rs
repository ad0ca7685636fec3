//! Atlassian Guard Detect (formerly Beacon) alerts. The verified shape is Microsoft
//! Sentinel's flattened table row (`alert_id_s`, `actor_accountId_s`, `actor_sessions_s[]`,
//! `detectiontime_d`, …). The raw webhook nests the same data (`alert.id`, `actor.accountId`,
//! `activity.action`, …); that shape is inferred from the Sentinel column names and is
//! **unverified**.

use super::common::{MAX_ITEMS, epoch_ms, instant, set_client, shape, time_error};
use crate::formats::{LineOutcome, ParseCtx};
use crate::time;
use confwatch_event::{Action, AuditDetail, AuditObject, Event, Outcome, SourceFormat};
use serde_json::{Map, Value};

const FORMAT: SourceFormat = SourceFormat::GuardAlert;

/// One alert field: its Sentinel column names, then the raw-webhook paths (unverified).
struct Field {
    flat: &'static [&'static str],
    raw: &'static [&'static [&'static str]],
}

const TIME: Field = Field {
    flat: &["detectiontime_d", "timestamp_d"],
    raw: &[
        &["detectionTime"],
        &["detectiontime"],
        &["timestamp"],
        &["alert", "created"],
        &["created"],
    ],
};
const ALERT_ID: Field = Field {
    flat: &["alert_id_s", "alertId_s", "id_s"],
    raw: &[&["alert", "id"], &["alertId"], &["id"]],
};
const TITLE: Field = Field {
    flat: &["alert_title_s", "alertTitle_s"],
    raw: &[&["alert", "title"], &["alertTitle"], &["title"]],
};
const ALERT_TYPE: Field = Field {
    flat: &["atlassianAlertType_s"],
    raw: &[&["atlassianAlertType"], &["alert", "type"], &["type"]],
};
const ACCOUNT_ID: Field = Field {
    flat: &["actor_accountId_s"],
    raw: &[&["actor", "accountId"]],
};
const ACTOR_NAME: Field = Field {
    flat: &["actor_name_s"],
    raw: &[&["actor", "name"]],
};
const SESSIONS: Field = Field {
    flat: &["actor_sessions_s"],
    raw: &[&["actor", "sessions"]],
};
const SUBJECT_ARI: Field = Field {
    flat: &["activity_subject_ari_s"],
    raw: &[&["activity", "subject", "ari"]],
};
const SUBJECT_ATI: Field = Field {
    flat: &["activity_subject_ati_s"],
    raw: &[&["activity", "subject", "ati"]],
};
const SITE: Field = Field {
    flat: &["alert_site_s"],
    raw: &[&["alert", "site"], &["site"]],
};

/// Fields copied into `audit.attributes` under their first Sentinel column name.
const ATTRIBUTES: &[Field] = &[
    ALERT_ID,
    Field {
        flat: &["alert_url_s", "alertDetailURL_s"],
        raw: &[&["alert", "url"], &["url"]],
    },
    Field {
        flat: &["alert_product_s"],
        raw: &[&["alert", "product"], &["product"]],
    },
    Field {
        flat: &["activity_action_s"],
        raw: &[&["activity", "action"]],
    },
    Field {
        flat: &["activity_subject_containerAri_s"],
        raw: &[&["activity", "subject", "containerAri"]],
    },
    Field {
        flat: &["activity_time_start_t [UTC]", "activity_time_start_t"],
        raw: &[&["activity", "time", "start"]],
    },
    Field {
        flat: &["activity_time_end_t [UTC]", "activity_time_end_t"],
        raw: &[&["activity", "time", "end"]],
    },
    Field {
        flat: &["actor_url_s"],
        raw: &[&["actor", "url"]],
    },
    Field {
        flat: &["atlassianWorkspace_orgId_s"],
        raw: &[&["atlassianWorkspace", "orgId"]],
    },
];

fn path<'a>(v: &'a Value, p: &[&str]) -> Option<&'a Value> {
    p.iter().try_fold(v, |cur, k| cur.get(*k))
}

fn lookup<'a>(v: &'a Value, f: &Field) -> Option<&'a Value> {
    f.flat
        .iter()
        .filter_map(|k| v.get(*k))
        .chain(f.raw.iter().filter_map(|p| path(v, p)))
        .find(|x| !x.is_null())
}

fn text<'a>(v: &'a Value, f: &Field) -> Option<&'a str> {
    f.flat
        .iter()
        .filter_map(|k| v.get(*k))
        .chain(f.raw.iter().filter_map(|p| path(v, p)))
        .filter_map(Value::as_str)
        .map(str::trim)
        .find(|s| !s.is_empty())
}

/// True for a Sentinel row (its distinctive columns) or a raw alert (`alert` + `actor`).
pub(super) fn looks_like(o: &Map<String, Value>) -> bool {
    [
        "atlassianAlertType_s",
        "alert_id_s",
        "alertId_s",
        "atlassianAlertType",
    ]
    .iter()
    .any(|k| o.contains_key(*k))
        || (o
            .get("alert")
            .is_some_and(|a| a.get("id").is_some() || a.get("title").is_some())
            && o.get("actor").is_some_and(Value::is_object))
}

pub(super) fn parse(v: &Value, ctx: &mut ParseCtx) -> LineOutcome {
    if !v.is_object() {
        return shape(FORMAT, "not a JSON object");
    }
    let ts = match instant(lookup(v, &TIME)) {
        Ok(t) => t,
        Err(e) => return time_error(FORMAT, "detectiontime_d", e),
    };
    let title = text(v, &TITLE);
    let Some(action_key) = text(v, &ALERT_TYPE)
        .or(title)
        .or_else(|| text(v, &ALERT_ID))
    else {
        return shape(FORMAT, "no alert type, title or id");
    };

    let mut ev = Event::new(ts, FORMAT, ctx.origin());
    ev.action = Action::ExternalAlert;
    // An alert reports activity; whether that activity succeeded is not stated.
    ev.outcome = Outcome::Unknown;
    let mut detail = AuditDetail {
        action_key: action_key.to_owned(),
        message: title.map(str::to_owned),
        category: Some("Guard Detect alert".to_owned()),
        // The site URL carries an `atlOrigin` tracking parameter; keep the base only.
        system: text(v, &SITE).map(|s| s.split('?').next().unwrap_or_default().to_owned()),
        ..AuditDetail::default()
    };

    let account = text(v, &ACCOUNT_ID);
    ev.user = account.map(|a| ctx.intern(a));
    ev.user_id = account.map(|a| ctx.intern(a));
    if let Some(name) = text(v, &ACTOR_NAME) {
        detail
            .attributes
            .push(("actor display name".to_owned(), name.to_owned()));
    }
    set_session(&mut ev, lookup(v, &SESSIONS), ctx);

    for f in ATTRIBUTES {
        let val = lookup(v, f).and_then(|x| match x {
            Value::String(s) => Some(s.trim().to_owned()),
            Value::Number(_) => epoch_ms(x)
                .and_then(time::from_epoch_ms)
                .map(|t| t.to_rfc3339()),
            _ => None,
        });
        if let (Some(name), Some(val)) = (f.flat.first(), val)
            && !val.is_empty()
        {
            detail.attributes.push(((*name).to_owned(), val));
        }
    }
    if let Some(ari) = text(v, &SUBJECT_ARI) {
        detail.objects.push(AuditObject {
            kind: text(v, &SUBJECT_ATI).unwrap_or_default().to_owned(),
            name: ari.to_owned(),
            id: None,
        });
    }
    ev.audit = Some(Box::new(detail));
    LineOutcome::Event(Box::new(ev))
}

/// Client address and user agent from the actor's first session that has an address.
/// Sentinel may store the array as a JSON string, so both are accepted.
fn set_session(ev: &mut Event, sessions: Option<&Value>, ctx: &mut ParseCtx) {
    let parsed;
    let list: &[Value] = match sessions {
        Some(Value::Array(a)) => a,
        Some(Value::String(s)) => {
            parsed = serde_json::from_str::<Vec<Value>>(s).unwrap_or_default();
            &parsed
        }
        _ => return,
    };
    let session = list.iter().take(MAX_ITEMS).find(|s| {
        s.get("ipAddress")
            .and_then(Value::as_str)
            .is_some_and(|ip| !ip.trim().is_empty())
    });
    if let Some(s) = session {
        if let Some(ip) = s.get("ipAddress").and_then(Value::as_str) {
            set_client(ev, ip, ctx);
        }
        if let Some(ua) = s
            .get("userAgent")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            ev.user_agent = Some(ctx.intern(ua));
        }
    }
}
