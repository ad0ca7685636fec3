//! Tests over every real audit sample in `testdata/real/` plus shape and robustness cases.
//! Records are split out here with serde_json (the container reader lives elsewhere).

use super::*;
use crate::formats::ParseError;
use confwatch_event::{Action, Event, Outcome};
use serde_json::json;
use std::sync::Arc;

fn real(rel: &str) -> String {
    let p = format!("{}/../../testdata/real/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn json_lines(rel: &str) -> Vec<Value> {
    real(rel)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Detects and parses every record, failing the test on any error; returns the events.
fn parse_all(records: &[Value], want: SourceFormat) -> Vec<Event> {
    let mut ctx = ParseCtx::new(Arc::from("sample"));
    records
        .iter()
        .enumerate()
        .map(|(i, v)| {
            ctx.set_line(i as u64 + 1);
            assert_eq!(detect_record(v), Some(want), "record {}", i + 1);
            match parse_record(want, v, &mut ctx) {
                LineOutcome::Event(e) => *e,
                other => panic!("record {}: {other:?}", i + 1),
            }
        })
        .collect()
}

fn count(evs: &[Event], a: Action) -> usize {
    evs.iter().filter(|e| e.action == a).count()
}

fn detail(e: &Event) -> &confwatch_event::AuditDetail {
    e.audit.as_deref().expect("audit detail")
}

#[test]
fn dc_audit_file_sample() {
    let evs = parse_all(
        &json_lines("elastic-integrations/test-audit.log"),
        SourceFormat::DcAuditFile,
    );
    assert_eq!(evs.len(), 7);
    assert_eq!(count(&evs, Action::AuditLogAccess), 3);
    assert_eq!(count(&evs, Action::UserManagement), 3);
    assert_eq!(count(&evs, Action::ConfigChange), 1);
    assert!(
        evs.iter()
            .all(|e| e.outcome == Outcome::Success && e.format == SourceFormat::DcAuditFile)
    );

    // Line 4, the example in confluence-formats.md §4.2.
    let e = &evs[3];
    assert_eq!(e.origin.line, 4);
    assert_eq!(e.user.as_deref(), Some("test.user"));
    assert_eq!(
        e.user_id.as_deref(),
        Some("2c9580827d4a06e8017d4a07c3e10000")
    );
    assert_eq!(
        e.client_ip.map(|i| i.to_string()).as_deref(),
        Some("81.2.69.143")
    );
    assert_eq!(
        e.utc().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "2021-11-22T23:50:13.842Z"
    );
    assert_eq!(e.action, Action::UserManagement);
    let d = detail(e);
    assert_eq!(d.action_key, "audit.logging.summary.user.created");
    assert_eq!(d.action_text.as_deref(), Some("User created"));
    assert_eq!(
        d.category_key.as_deref(),
        Some("audit.logging.category.user.management")
    );
    assert_eq!(d.category.as_deref(), Some("Users and groups"));
    assert_eq!(d.area.as_deref(), Some("USER_MANAGEMENT"));
    assert_eq!(d.level.as_deref(), Some("BASE"));
    assert_eq!(d.method.as_deref(), Some("Browser"));
    assert_eq!(d.system.as_deref(), Some("http://confluence.internal:8090"));
    assert_eq!(d.objects.len(), 1);
    assert_eq!(d.objects[0].kind, "User");
    assert_eq!(d.objects[0].name, "Another User");
    assert_eq!(
        d.objects[0].id.as_deref(),
        Some("2c9580827d4a06e8017d4a0e9dda0001")
    );
    assert_eq!(d.changes.len(), 4);
    assert_eq!(d.changes[2].key, "Username");
    assert_eq!(d.changes[2].from, None);
    assert_eq!(d.changes[2].to.as_deref(), Some("another.user"));

    // Line 1: audit-log search with its extra attributes.
    let d = detail(&evs[0]);
    assert_eq!(evs[0].action, Action::AuditLogAccess);
    assert_eq!(d.attributes.len(), 4);
    assert_eq!(
        d.attributes[1],
        ("Results returned".to_owned(), "57".to_owned())
    );

    // Line 3: a change with both old and new value.
    let d = detail(&evs[2]);
    assert_eq!(d.changes[1].key, "Site title");
    assert_eq!(d.changes[1].from.as_deref(), Some("Confluence"));
    assert_eq!(d.changes[1].to.as_deref(), Some("Confluence Test"));
}

#[test]
fn dc_audit_rest_sample() {
    let evs = parse_all(
        &json_lines("elastic-integrations/test-audit-api.log"),
        SourceFormat::DcAuditRest,
    );
    assert_eq!(evs.len(), 16);
    assert_eq!(count(&evs, Action::AuditLogAccess), 9);
    assert_eq!(count(&evs, Action::PermissionChange), 7);
    for e in &evs {
        // `author.name` is the display name; the login comes from `author.uri`.
        assert_eq!(e.user.as_deref(), Some("admin"));
        assert_eq!(
            e.user_id.as_deref(),
            Some("2c9680837d4a3682017d4a375a280000")
        );
        assert!(
            detail(e)
                .attributes
                .contains(&("author display name".to_owned(), "test user".to_owned()))
        );
        assert_eq!(detail(e).area, None);
    }
    assert_eq!(evs[0].timestamp.timestamp_millis(), 1_637_628_276_398);

    let p = evs
        .iter()
        .find(|e| e.action == Action::PermissionChange)
        .unwrap();
    let d = detail(p);
    assert_eq!(d.action_key, "audit.logging.summary.space.permission.added");
    assert_eq!(p.object.space_key.as_deref(), Some("ASDF"));
    assert_eq!(p.object.title.as_deref(), Some("asdf"));
    assert_eq!(d.objects.len(), 2);
    assert_eq!(d.objects[1].id.as_deref(), Some("98306"));
    assert!(
        d.changes
            .iter()
            .any(|c| c.key == "Type" && c.to.as_deref() == Some("SETPAGEPERMISSIONS"))
    );
}

#[test]
fn cloud_audit_sample() {
    let text = real("elastic-integrations/test-audit-cloud.log");
    assert_eq!(
        text.matches('\n').count(),
        36,
        "no trailing newline upstream"
    );
    let evs = parse_all(
        &json_lines("elastic-integrations/test-audit-cloud.log"),
        SourceFormat::CloudAudit,
    );
    assert_eq!(evs.len(), 37);
    assert_eq!(count(&evs, Action::UserManagement), 27);
    assert_eq!(count(&evs, Action::ConfigChange), 9);
    assert_eq!(count(&evs, Action::ContentEdit), 1);

    let archived = evs
        .iter()
        .find(|e| detail(e).action_key == "Page archived")
        .unwrap();
    assert_eq!(archived.timestamp.timestamp_millis(), 1_637_073_322_812);
    assert_eq!(
        archived.user.as_deref(),
        Some("e6dd7842c44d594c024fc7129c1e4e49")
    );
    assert_eq!(
        archived.user_id.as_deref(),
        Some("e6dd7842c44d594c024fc7129c1e4e49")
    );
    assert_eq!(
        archived.client_ip.map(|i| i.to_string()).as_deref(),
        Some("81.2.69.143")
    );
    assert_eq!(
        archived.object.title.as_deref(),
        Some("KB Articles to be Approved")
    );
    let d = detail(archived);
    assert_eq!(d.category.as_deref(), Some("Page"));
    assert_eq!(d.objects.len(), 3);
    assert_eq!(d.changes[0].from.as_deref(), Some("current"));
    assert_eq!(d.changes[0].to.as_deref(), Some("archived"));
    assert!(!d.actor_is_admin);

    // `System` has no account: no user, and not an error.
    let system = evs.iter().filter(|e| e.user.is_none()).count();
    assert!(system > 0);
    assert!(evs.iter().filter(|e| e.user.is_none()).all(|e| {
        detail(e)
            .attributes
            .contains(&("author display name".to_owned(), "System".to_owned()))
    }));

    let created = evs
        .iter()
        .find(|e| detail(e).action_key == "Space created")
        .unwrap();
    assert!(created.object.space_key.is_some());
    assert_eq!(created.action, Action::ConfigChange);
}

#[test]
fn org_audit_sample() {
    let v: Value =
        serde_json::from_str(&real("panther-analysis/user_logged_in_as_user.test-1.json")).unwrap();
    let evs = parse_all(&[v], SourceFormat::OrgAudit);
    let e = &evs[0];
    assert_eq!(e.action, Action::Impersonation);
    assert_eq!(e.outcome, Outcome::Success);
    assert_eq!(e.user.as_deref(), Some("example.admin@example.com"));
    assert_eq!(e.user_id.as_deref(), Some("1234567890abcdefghijklmn"));
    assert_eq!(e.timestamp.timestamp_millis(), 1_671_064_515_890);
    assert_eq!(e.client_ip, None);
    let d = detail(e);
    assert_eq!(d.action_key, "user_logged_in_as_user");
    assert_eq!(
        d.message.as_deref(),
        Some("Logged in as example.user@example.io")
    );
    assert_eq!(d.system.as_deref(), Some("https://example.atlassian.net"));
    assert_eq!(d.objects.len(), 1);
    assert_eq!(d.objects[0].kind, "users");
    assert_eq!(d.objects[0].name, "example.user@example.io");
}

#[test]
fn org_audit_with_location() {
    let v = json!({"id":"e1","type":"events","attributes":{"time":"2024-01-02T03:04:05Z","action":"user_login",
        "actor":{"id":"a1","name":"A","email":"a@example.com"},
        "location":{"ip":"2001:db8::7","countryName":"Germany"}}});
    let evs = parse_all(&[v], SourceFormat::OrgAudit);
    assert_eq!(evs[0].action, Action::Login);
    assert_eq!(
        evs[0].client_ip.map(|i| i.to_string()).as_deref(),
        Some("2001:db8::7")
    );
    assert!(
        detail(&evs[0])
            .attributes
            .contains(&("location.countryName".to_owned(), "Germany".to_owned()))
    );
}

#[test]
fn guard_alert_sample() {
    let v: Value = serde_json::from_str(&real("azure-sentinel/AtlassianBeacon.json")).unwrap();
    let records = v.as_array().unwrap().clone();
    let evs = parse_all(&records, SourceFormat::GuardAlert);
    assert_eq!(evs.len(), 3);
    let e = &evs[0];
    assert_eq!(e.action, Action::ExternalAlert);
    assert_eq!(e.timestamp.timestamp_millis(), 1_700_713_286_385);
    assert_eq!(e.user.as_deref(), Some("6269be83c72f140069fb9215"));
    assert_eq!(
        e.client_ip.map(|i| i.to_string()).as_deref(),
        Some("1.1.1.1")
    );
    assert!(
        e.user_agent
            .as_deref()
            .is_some_and(|u| u.starts_with("Mozilla/5.0"))
    );
    let d = detail(e);
    assert_eq!(d.action_key, "beacon:create:test");
    assert_eq!(
        d.message.as_deref(),
        Some("[SAMPLE] High number of Confluence spaces exported")
    );
    assert_eq!(d.system.as_deref(), Some("https://test.atlassian.net"));
    assert!(
        d.attributes
            .contains(&("activity_action_s".to_owned(), "READ".to_owned()))
    );
    assert!(
        d.attributes
            .contains(&("alert_product_s".to_owned(), "CONFLUENCE".to_owned()))
    );
    assert_eq!(d.objects[0].kind, "ati:cloud:confluence:space");
}

#[test]
fn guard_alert_raw_shape_unverified() {
    let v = json!({"alert":{"id":"x1","title":"Spaces exported","product":"CONFLUENCE"},
        "atlassianAlertType":"confluence:space:export","detectionTime":"2023-11-23T05:21:26.385Z",
        "actor":{"accountId":"acc1","name":"Test","sessions":[{"ipAddress":"","userAgent":"x"},{"ipAddress":"10.1.1.1","userAgent":"curl/8"}]},
        "activity":{"action":"READ","subject":{"ari":"ari:x","ati":"ati:y"}}});
    let evs = parse_all(&[v], SourceFormat::GuardAlert);
    assert_eq!(evs[0].user.as_deref(), Some("acc1"));
    assert_eq!(
        evs[0].client_ip.map(|i| i.to_string()).as_deref(),
        Some("10.1.1.1")
    );
    assert_eq!(evs[0].user_agent.as_deref(), Some("curl/8"));
    assert_eq!(detail(&evs[0]).action_key, "confluence:space:export");
    assert!(
        detail(&evs[0])
            .attributes
            .contains(&("alert_id_s".to_owned(), "x1".to_owned()))
    );
}

#[test]
fn envelopes_and_other_products_are_not_records() {
    for rel in [
        "elastic-integrations/test-audit-api-empty.log",
        "elastic-integrations/test-audit-cloud-empty.log",
    ] {
        let v: Value = serde_json::from_str(&real(rel)).unwrap();
        assert_eq!(detect_record(&v), None, "{rel}");
    }
    assert_eq!(envelope_key("entities"), Some(SourceFormat::DcAuditRest));
    assert_eq!(envelope_key("results"), Some(SourceFormat::CloudAudit));
    assert_eq!(envelope_key("data"), Some(SourceFormat::OrgAudit));
    assert_eq!(envelope_key("items"), None);

    let cloudtrail = json!({"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a"},
        "eventTime":"2023-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject",
        "awsRegion":"us-east-1","sourceIPAddress":"1.2.3.4","requestParameters":{"bucketName":"b"}});
    let github = json!({"@timestamp":1_606_929_874_512_i64,"action":"team.add_member","actor":"octocat",
        "created_at":1_606_929_874_512_i64,"org":"octo-org","team":"octo-org/a-team","user":"monalisa"});
    let okta = json!({"actor":{"id":"x","type":"User"},"eventType":"user.session.start",
        "published":"2023-01-01T00:00:00Z","outcome":{"result":"SUCCESS"},"client":{"ipAddress":"1.2.3.4"}});
    let jsonapi_other = json!({"type":"events","id":"1","attributes":{"title":"x"}});
    for v in [
        cloudtrail,
        github,
        okta,
        jsonapi_other,
        json!([1, 2]),
        json!("x"),
        json!(null),
        json!({}),
    ] {
        assert_eq!(detect_record(&v), None, "{v}");
    }
}

#[test]
fn wrong_shapes_are_errors() {
    let mut ctx = ParseCtx::new(Arc::from("t"));
    let is_shape = |o: &LineOutcome| matches!(o, LineOutcome::Error(ParseError::Shape { .. }));
    let is_bad_ts = |o: &LineOutcome| matches!(o, LineOutcome::Error(ParseError::BadTimestamp(_)));

    let no_ts = json!({"auditType":{"actionI18nKey":"a.b"},"author":{"name":"x"}});
    assert!(is_shape(&parse_record(
        SourceFormat::DcAuditFile,
        &no_ts,
        &mut ctx
    )));
    let bad_ts = json!({"type":{"actionI18nKey":"a.b"},"timestamp":"not a time"});
    assert!(is_bad_ts(&parse_record(
        SourceFormat::DcAuditRest,
        &bad_ts,
        &mut ctx
    )));
    let no_key = json!({"auditType":{"area":"X"},"timestamp":{"epochSecond":1,"nano":0}});
    assert!(is_shape(&parse_record(
        SourceFormat::DcAuditFile,
        &no_key,
        &mut ctx
    )));
    let cloud_no_date = json!({"summary":"User created","author":{}});
    assert!(is_shape(&parse_record(
        SourceFormat::CloudAudit,
        &cloud_no_date,
        &mut ctx
    )));
    let cloud_no_summary = json!({"creationDate": 1});
    assert!(is_shape(&parse_record(
        SourceFormat::CloudAudit,
        &cloud_no_summary,
        &mut ctx
    )));
    let org_no_time = json!({"attributes":{"action":"user_login"}});
    assert!(is_shape(&parse_record(
        SourceFormat::OrgAudit,
        &org_no_time,
        &mut ctx
    )));
    let guard_no_time = json!({"alert_id_s":"1","alert_title_s":"t"});
    assert!(is_shape(&parse_record(
        SourceFormat::GuardAlert,
        &guard_no_time,
        &mut ctx
    )));
    for f in SourceFormat::ALL {
        for v in [json!(null), json!(7), json!("s"), json!([]), json!({})] {
            assert!(
                matches!(parse_record(f, &v, &mut ctx), LineOutcome::Error(_)),
                "{f} {v}"
            );
        }
    }
}

#[test]
fn anonymous_dc_author_has_no_user() {
    let v = json!({"auditType":{"actionI18nKey":"audit.logging.summary.space.import"},
        "author":{"id":"-2","name":"Anonymous","type":"user"},"timestamp":{"epochSecond":1_637_625_013,"nano":0}});
    let evs = parse_all(&[v], SourceFormat::DcAuditFile);
    assert_eq!(evs[0].user, None);
    assert_eq!(evs[0].user_id.as_deref(), Some("-2"));
    assert_eq!(evs[0].action, Action::ContentEdit);
}

/// Every real record with each top-level key removed or replaced by a value of another type
/// must parse as an event or an error under every format, never panic.
#[test]
fn mutated_real_records_never_panic() {
    let mut records = Vec::new();
    for rel in [
        "elastic-integrations/test-audit.log",
        "elastic-integrations/test-audit-api.log",
        "elastic-integrations/test-audit-cloud.log",
    ] {
        records.extend(json_lines(rel).into_iter().take(3));
    }
    records.push(
        serde_json::from_str(&real("panther-analysis/user_logged_in_as_user.test-1.json")).unwrap(),
    );
    let beacon: Value = serde_json::from_str(&real("azure-sentinel/AtlassianBeacon.json")).unwrap();
    records.push(beacon[0].clone());

    let replacements = [
        json!(null),
        json!(-1),
        json!(1e300),
        json!("x"),
        json!([{}]),
        json!({"a": []}),
    ];
    let mut ctx = ParseCtx::new(Arc::from("t"));
    let mut n = 0;
    for rec in &records {
        let obj = rec.as_object().unwrap();
        for key in obj.keys() {
            let mut variants = vec![];
            let mut removed = obj.clone();
            removed.remove(key);
            variants.push(Value::Object(removed));
            for r in &replacements {
                let mut m = obj.clone();
                m.insert(key.clone(), r.clone());
                variants.push(Value::Object(m));
            }
            for v in &variants {
                let _ = detect_record(v);
                for f in SourceFormat::ALL {
                    let _ = parse_record(f, v, &mut ctx);
                    n += 1;
                }
            }
        }
    }
    assert!(n > 1000);
}
