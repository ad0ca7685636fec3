//! docs/scan.md lists every rule and every category.

use confwatch_scan::{ScanOptions, Scanner};

#[test]
fn docs_list_every_rule_and_category() {
    let doc = include_str!("../../../docs/scan.md");
    let s = Scanner::new(ScanOptions::default()).unwrap();
    for r in &s.rules.rules {
        assert!(
            doc.contains(&format!("| `{}` |", r.def.id)),
            "docs/scan.md does not list rule {} (run bench/scan/tools/rules_table.py)",
            r.def.id
        );
    }
    for c in confwatch_event::finding::Category::ALL {
        assert!(doc.contains(&format!("`{}`", c.as_str())), "{c}");
    }
}
