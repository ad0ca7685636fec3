//! Fuzzes the time-ordered path on two inputs made from one byte string (split in the
//! middle, like two cluster nodes): the k-way merge, the reorder buffer and the login join,
//! and checks that `ordered_filtered` yields exactly what `ordered` yields minus the events
//! its filter rejects.
#![no_main]
use confwatch_event::Event;
use confwatch_ingest::{IngestOptions, Ingestor};
use libfuzzer_sys::fuzz_target;
use std::io::Write;
use std::sync::{Arc, OnceLock};

fn ingestor() -> &'static Arc<Ingestor> {
    static ING: OnceLock<Arc<Ingestor>> = OnceLock::new();
    ING.get_or_init(|| {
        let opts = IngestOptions {
            max_line_len: 4096,
            chunk_size: 512,
            ..Default::default()
        };
        match Ingestor::new(opts) {
            Ok(i) => Arc::new(i),
            Err(e) => panic!("presets must compile: {e}"),
        }
    })
}

/// What identifies an event in the comparison: where it came from and when.
fn key(ev: &Event) -> (String, u64, i64) {
    (ev.origin.file.to_string(), ev.origin.line, ev.epoch_ms())
}

fn keep(ev: &Event) -> bool {
    ev.origin.line % 3 != 0
}

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("confwatch-fuzz-ordered-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let (a, b) = data.split_at(data.len() / 2);
    let paths: Vec<std::path::PathBuf> = ["node1.log", "node2.log"]
        .iter()
        .map(|n| dir.join(n))
        .collect();
    for (p, part) in paths.iter().zip([a, b]) {
        let Ok(mut f) = std::fs::File::create(p) else {
            return;
        };
        if f.write_all(part).is_err() {
            return;
        }
    }
    let ing = ingestor();
    let (inputs, _) = ing.discover(&paths);
    let all: Vec<(String, u64, i64)> = ing
        .ordered(inputs.clone())
        .filter(|e| keep(e))
        .map(|e| key(&e))
        .collect();
    let kept: Vec<(String, u64, i64)> = ing
        .ordered_filtered(inputs.clone(), Arc::new(keep))
        .map(|e| key(&e))
        .collect();
    assert_eq!(
        all, kept,
        "ordered_filtered must yield ordered minus the rejected events"
    );
    let mut ordered = ing.ordered(inputs);
    let _joined = ordered.join_logins(Default::default()).count();
    let _ = std::fs::remove_dir_all(&dir);
});
