//! Finding inputs (files, folders walked recursively, `-` for stdin) and opening them with
//! transparent decompression chosen by magic bytes, not by file name.

use crate::IngestError;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// One input to read.
#[derive(Debug, Clone)]
pub struct Input {
    /// The name shown to users and stamped on events: the path as given (relative paths kept),
    /// or `<stdin>`.
    pub display: Arc<str>,
    pub kind: InputKind,
    /// True when the user named this file; false when it was found by walking a folder
    /// (unrecognised files found by walking are skipped, not errors).
    pub explicit: bool,
    /// Size on disk (compressed size for compressed files), for progress.
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputKind {
    File(PathBuf),
    Stdin,
}

/// Compression detected from the first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
    Bzip2,
}

impl Compression {
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else if head.len() >= 4 && head.starts_with(b"BZh") && head[3].is_ascii_digit() {
            Compression::Bzip2
        } else {
            Compression::None
        }
    }

    pub fn name(self) -> Option<&'static str> {
        match self {
            Compression::None => None,
            Compression::Gzip => Some("gzip"),
            Compression::Zstd => Some("zstd"),
            Compression::Bzip2 => Some("bzip2"),
        }
    }
}

/// A file found while walking a folder that was not read, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub display: String,
    pub reason: String,
}

/// Expands paths: files as given, folders recursively (sorted, hidden files and our own
/// documentation files skipped), `-` as stdin. Unreadable paths are returned as errors so
/// the run can go on with the rest.
pub fn discover(paths: &[PathBuf]) -> (Vec<Input>, Vec<(String, IngestError)>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            inputs.push(Input {
                display: Arc::from("<stdin>"),
                kind: InputKind::Stdin,
                explicit: true,
                size: 0,
            });
            continue;
        }
        let display = p.display().to_string();
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => walk_dir(p, &mut inputs, &mut errors),
            Ok(m) => inputs.push(Input {
                display: Arc::from(display.as_str()),
                kind: InputKind::File(p.clone()),
                explicit: true,
                size: m.len(),
            }),
            Err(e) => errors.push((
                display.clone(),
                IngestError::Open {
                    path: display,
                    source: e,
                },
            )),
        }
    }
    (inputs, errors)
}

fn walk_dir(root: &Path, inputs: &mut Vec<Input>, errors: &mut Vec<(String, IngestError)>) {
    let walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walker {
        match entry {
            Ok(e) if e.file_type().is_file() => {
                let size = e.metadata().map(|m| m.len()).unwrap_or(0);
                let display = e.path().display().to_string();
                inputs.push(Input {
                    display: Arc::from(display.as_str()),
                    kind: InputKind::File(e.into_path()),
                    explicit: false,
                    size,
                });
            }
            Ok(_) => {}
            Err(e) => {
                let display = e
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                let source = e
                    .into_io_error()
                    .unwrap_or_else(|| io::Error::other("filesystem loop"));
                errors.push((
                    display.clone(),
                    IngestError::Open {
                        path: display,
                        source,
                    },
                ));
            }
        }
    }
}

/// Counts bytes pulled from the underlying (possibly compressed) stream, for progress bars.
pub struct CountingReader<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Opens an input for reading, decompressing as its magic bytes say. `progress` counts raw
/// bytes read from disk or stdin.
pub fn open(
    input: &Input,
    progress: Arc<AtomicU64>,
) -> Result<(Box<dyn Read + Send>, Compression), IngestError> {
    let raw: Box<dyn Read + Send> = match &input.kind {
        InputKind::File(p) => Box::new(File::open(p).map_err(|e| IngestError::Open {
            path: input.display.to_string(),
            source: e,
        })?),
        InputKind::Stdin => Box::new(io::stdin()),
    };
    let mut buffered = BufReader::with_capacity(
        256 * 1024,
        CountingReader {
            inner: raw,
            counter: progress,
        },
    );
    let head = buffered.fill_buf().map_err(|e| IngestError::Read {
        path: input.display.to_string(),
        source: e,
    })?;
    let compression = Compression::sniff(head);
    let reader: Box<dyn Read + Send> = match compression {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buffered).map_err(
            |e| IngestError::Read {
                path: input.display.to_string(),
                source: e,
            },
        )?),
        Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(buffered)),
    };
    Ok((reader, compression))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn sniffs_compression_by_magic() {
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(
            Compression::sniff(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Compression::Zstd
        );
        assert_eq!(Compression::sniff(b"BZh91AY"), Compression::Bzip2);
        assert_eq!(Compression::sniff(b"[18/Dec/2020"), Compression::None);
        assert_eq!(Compression::sniff(b"BZhx"), Compression::None);
    }

    fn read_all(input: &Input) -> (Vec<u8>, Compression) {
        let (mut r, c) = open(input, Arc::new(AtomicU64::new(0))).expect("open");
        let mut out = Vec::new();
        r.read_to_end(&mut out).expect("read");
        (out, c)
    }

    #[test]
    fn opens_every_compression() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = b"line one\nline two\n";
        let gz = dir.path().join("a.log.gz");
        let mut e = flate2::write::GzEncoder::new(
            File::create(&gz).expect("c"),
            flate2::Compression::default(),
        );
        e.write_all(text).expect("w");
        e.finish().expect("f");
        let zs = dir.path().join("b.zst");
        std::fs::write(&zs, zstd::encode_all(&text[..], 3).expect("zstd")).expect("w");
        let bz = dir.path().join("c.bz2");
        let mut b = bzip2::write::BzEncoder::new(
            File::create(&bz).expect("c"),
            bzip2::Compression::default(),
        );
        b.write_all(text).expect("w");
        b.finish().expect("f");
        let (inputs, errors) = discover(&[dir.path().to_path_buf()]);
        assert!(errors.is_empty());
        assert_eq!(inputs.len(), 3);
        let got: Vec<_> = inputs.iter().map(read_all).collect();
        assert_eq!(got[0], (text.to_vec(), Compression::Gzip));
        assert_eq!(got[1], (text.to_vec(), Compression::Zstd));
        assert_eq!(got[2], (text.to_vec(), Compression::Bzip2));
        assert!(inputs.iter().all(|i| !i.explicit));
    }

    #[test]
    fn missing_path_is_an_error_not_a_stop() {
        let (inputs, errors) = discover(&[PathBuf::from("/nonexistent/x.log"), PathBuf::from("-")]);
        assert_eq!(inputs.len(), 1);
        assert_eq!(inputs[0].kind, InputKind::Stdin);
        assert_eq!(errors.len(), 1);
    }
}
