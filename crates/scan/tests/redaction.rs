//! Snippets never show a secret, even one found by another rule on the same line.

use confwatch_event::finding::Location;
use confwatch_scan::{BodyFormat, Collector, Document, IgnoreList, ScanOptions, Scanner};

fn scan(text: &str, show: bool) -> confwatch_scan::Report {
    let opts = ScanOptions {
        show_secrets: show,
        ..ScanOptions::default()
    };
    let s = Scanner::new(opts.clone()).unwrap();
    let mut c = Collector::new(opts, IgnoreList::default());
    let r = s.scan(&Document {
        body: text,
        format: BodyFormat::sniff(text),
        meta: Location {
            path: Some("x.txt".into()),
            ..Location::default()
        },
        file_name: None,
    });
    c.add(&s.rules, "x", None, "x.txt", r);
    c.finish()
}

#[test]
fn neighbouring_secrets_are_redacted_in_every_snippet() {
    let line = "jdbc:postgresql://db01.corp:5432/app?user=app&password=Pg-Secr3t! and 10.1.2.3";
    let r = scan(line, false);
    assert!(r.findings.len() >= 3, "{:#?}", r.findings);
    for f in &r.findings {
        assert!(
            !f.snippet.contains("Pg-Secr3t!"),
            "{}: {}",
            f.rule_id,
            f.snippet
        );
        assert!(f.secret.is_none());
    }
    let shown = scan(line, true);
    let jdbc = shown
        .findings
        .iter()
        .find(|f| f.rule_id == "jdbc-url-password")
        .unwrap();
    assert_eq!(jdbc.secret.as_deref(), Some("Pg-Secr3t!"));
    assert!(jdbc.snippet.contains("Pg-Secr3t!"));
}

#[test]
fn same_secret_in_many_places_is_one_finding() {
    let text = "token glpat-Zq8rT2mXv0LpK7cN4bWy\nagain glpat-Zq8rT2mXv0LpK7cN4bWy\n";
    let r = scan(text, false);
    assert_eq!(r.findings.len(), 1);
    assert_eq!(r.findings[0].occurrences, 2);
    let lines: Vec<_> = r.findings[0].locations.iter().map(|l| l.line).collect();
    assert_eq!(lines, vec![Some(1), Some(2)]);
}
