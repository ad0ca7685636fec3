//! Arbitrary input never panics, and every location maps inside the body.

use confwatch_event::finding::Location;
use confwatch_scan::extract::extract_storage;
use confwatch_scan::{BodyFormat, Document, ScanOptions, Scanner};
use proptest::prelude::*;
use std::sync::OnceLock;

fn scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(|| Scanner::new(ScanOptions::default()).unwrap())
}

/// Fragments of storage format, secrets and junk, glued at random.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<p>".to_owned()),
        Just("</p>".to_owned()),
        Just("<table><tr><th>Password</th></tr><tr><td>".to_owned()),
        Just("</td></tr></table>".to_owned()),
        Just("<ac:structured-macro ac:name=\"code\"><ac:plain-text-body><![CDATA[".to_owned()),
        Just("]]></ac:plain-text-body></ac:structured-macro>".to_owned()),
        Just("&amp;&nbsp;&#x41;&bogus;&".to_owned()),
        Just("password: Summer2024!".to_owned()),
        Just("jdbc:mysql://db/x?user=a&amp;password=P4ss!x".to_owned()),
        Just("-----BEGIN RSA PRIVATE KEY-----\n".to_owned()),
        Just("ä€𝄞\n\t".to_owned()),
        "[ -~]{0,40}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn extraction_and_scanning_never_panic(parts in proptest::collection::vec(fragment(), 0..30)) {
        let body: String = parts.concat();
        let x = extract_storage(&body);
        for off in [0, x.text.len() / 2, x.text.len()] {
            prop_assert!(x.source_offset(off) <= body.len());
        }
        for format in [BodyFormat::Storage, BodyFormat::Plain] {
            let r = scanner().scan(&Document {
                body: &body,
                format,
                meta: Location { path: Some("p".into()), ..Location::default() },
                file_name: None,
            });
            for h in r.hits {
                let off = h.location.offset.unwrap_or(0) as usize;
                prop_assert!(off <= body.len());
                prop_assert!(h.location.line.unwrap_or(1) >= 1);
                prop_assert!(!h.snippet.contains(&h.secret) || h.secret.chars().count() < 5);
            }
        }
    }
}
