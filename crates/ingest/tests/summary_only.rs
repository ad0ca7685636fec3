//! `--stats` parses in summary-only mode (no URL, referer or classification built); its
//! statistics must equal those of a full read that keeps every event.

use confwatch_ingest::{IngestOptions, Ingestor};
use std::path::PathBuf;

#[test]
fn summary_only_statistics_equal_a_full_read() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
    let ing = Ingestor::new(IngestOptions::default()).unwrap();
    let (inputs, _) = ing.discover(&[root.join("real"), root.join("spray")]);
    assert!(inputs.len() >= 5, "{} inputs", inputs.len());
    let mut compared = 0;
    for input in &inputs {
        let summary = ing.read_input(input, None);
        let mut kept = 0u64;
        let full = ing.read_input(input, Some(&mut |batch| kept += batch.len() as u64));
        let key = |s: &confwatch_ingest::stats::FileStats| {
            (
                s.format,
                s.records,
                s.events,
                s.skipped,
                s.errors,
                s.error_examples.clone(),
                s.users,
                s.first_event,
                s.last_event,
            )
        };
        assert_eq!(key(&summary), key(&full), "{}", input.display);
        assert_eq!(full.events, kept, "{}", input.display);
        compared += usize::from(summary.events > 0);
    }
    assert!(compared >= 5, "only {compared} files had events");
}
