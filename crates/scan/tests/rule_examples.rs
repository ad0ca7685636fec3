//! Every rule's positive examples must be reported and its negative examples must not.

use confwatch_scan::{ScanOptions, Scanner};

#[test]
fn every_rule_example_behaves() {
    let s = Scanner::new(ScanOptions::default()).unwrap();
    let failures = s.check_examples();
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn at_least_80_secret_types_with_examples() {
    let s = Scanner::new(ScanOptions::default()).unwrap();
    let secret_rules: Vec<_> = s
        .rules
        .rules
        .iter()
        .filter(|r| r.kind == confwatch_event::finding::FindingKind::Secret)
        .collect();
    assert!(secret_rules.len() >= 80, "{}", secret_rules.len());
    for r in &s.rules.rules {
        assert!(
            !r.def.positives.is_empty(),
            "{} has no positive example",
            r.def.id
        );
        assert!(
            !r.def.negatives.is_empty(),
            "{} has no negative example",
            r.def.id
        );
    }
}
