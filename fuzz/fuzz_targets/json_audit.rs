//! Fuzz target: arbitrary bytes → JSON → every audit parser. Checks that no input panics and
//! that results keep their invariants (an event carries the format asked for and an audit
//! detail; non-audit formats are always refused).
#![no_main]

use confwatch_event::SourceFormat;
use confwatch_ingest::formats::{LineOutcome, ParseCtx, json};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let mut ctx = ParseCtx::new(Arc::from("fuzz"));
    ctx.set_line(1);
    if let Some(o) = v.as_object() {
        for k in o.keys() {
            let _ = json::envelope_key(k);
        }
    }
    let detected = json::detect_record(&v);
    for f in SourceFormat::ALL {
        let out = json::parse_record(f, &v, &mut ctx);
        let audit_format = !matches!(
            f,
            SourceFormat::TomcatAccess | SourceFormat::AccessLogFilter | SourceFormat::SecurityLog
        );
        match out {
            LineOutcome::Event(ev) => {
                assert!(audit_format, "{f} must refuse JSON");
                assert_eq!(ev.format, f);
                assert!(ev.audit.is_some(), "audit events carry an AuditDetail");
            }
            LineOutcome::Error(_) | LineOutcome::Skip => {}
        }
    }
    // Detection never claims a non-audit format.
    assert!(!matches!(
        detected,
        Some(
            SourceFormat::TomcatAccess | SourceFormat::AccessLogFilter | SourceFormat::SecurityLog
        )
    ));
});
