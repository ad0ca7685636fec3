//! Fuzzes the whole reading path on one input: decompression sniffing, format sniffing,
//! chunking, every line parser and the JSON document streamer.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::io::Write;
use std::sync::OnceLock;

fn ingestor() -> &'static confwatch_ingest::Ingestor {
    static ING: OnceLock<confwatch_ingest::Ingestor> = OnceLock::new();
    ING.get_or_init(|| {
        let opts = confwatch_ingest::IngestOptions {
            max_line_len: 4096,
            chunk_size: 1024,
            ..Default::default()
        };
        match confwatch_ingest::Ingestor::new(opts) {
            Ok(i) => i,
            Err(e) => panic!("presets must compile: {e}"),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok((path, mut file)) = tempfile_in_tmp() else { return };
    if file.write_all(data).is_err() {
        return;
    }
    drop(file);
    let (inputs, _) = ingestor().discover(std::slice::from_ref(&path));
    for input in &inputs {
        let _stats = ingestor().read_input(input, None);
    }
    let _ = std::fs::remove_file(&path);
});

fn tempfile_in_tmp() -> std::io::Result<(std::path::PathBuf, std::fs::File)> {
    let path = std::env::temp_dir().join(format!("confwatch-fuzz-{}", std::process::id()));
    let file = std::fs::File::create(&path)?;
    Ok((path, file))
}
