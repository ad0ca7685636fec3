//! The built-in pack loads without errors and every rule's own tests pass.

use confwatch_detect::RuleSet;
use confwatch_detect::testing::run_rule_tests;

#[test]
fn builtin_pack_loads_cleanly() {
    let set = RuleSet::builtin();
    assert!(set.errors.is_empty(), "{:#?}", set.errors);
    let rules = set.rules();
    assert!(rules.len() >= 17, "{}", rules.len());
    for r in &rules {
        assert!(
            r.techniques.iter().any(|t| t.starts_with('T')),
            "{} has no ATT&CK id",
            r.name
        );
        assert!(r.description.is_some(), "{} has no description", r.name);
        assert!(
            !r.falsepositives.is_empty(),
            "{} has no falsepositives",
            r.name
        );
        assert!(r.uuid.is_some(), "{} has no id", r.name);
    }
}

#[test]
fn builtin_rule_tests_pass() {
    let set = RuleSet::builtin();
    let results = run_rule_tests(&set, true);
    let failed: Vec<_> = results.iter().filter(|r| !r.passed).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(results.len() >= 34, "{}", results.len());
}
