//! Helpers shared by the crate's tests.

/// The ingestion benchmark's 100 MB log (`bench/out/access-100mb.log`, made by the bench
/// scripts), for the ignored timing tests; `None` (with a note) when it was not generated.
pub(crate) fn bench_log() -> Option<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../bench/out/access-100mb.log"
    );
    match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(_) => {
            eprintln!("{path} not found; skipped");
            None
        }
    }
}
