//! Files, folders and stdin: one page body per file (`.xhtml`, `.html`, `.htm`, `.xml` are
//! storage format; `.md`, `.txt` and anything else given explicitly are plain text).
//! Locations keep the path as given on the command line (relative paths stay relative) and
//! the 1-based line and column in the original file.

use crate::collect::Collector;
use crate::error::ScanError;
use crate::scanner::{BodyFormat, DocResult, Document, Scanner};
use confwatch_event::finding::{ContentType, Location};
use rayon::prelude::*;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Extensions picked up when walking a folder.
pub const FOLDER_EXTENSIONS: [&str; 7] = ["xhtml", "html", "htm", "xml", "md", "txt", "storage"];

/// Files larger than this are skipped with a warning (pages are far smaller).
pub const MAX_FILE_BYTES: u64 = 256 << 20;

/// A file to scan and the command-line argument it came from.
#[derive(Debug, Clone)]
pub struct FileInput {
    pub path: PathBuf,
    /// The argument as given: the "space" files are summarised under.
    pub root: String,
}

/// Lists the files under `arg` (a file is returned as is; a folder is walked, sorted, for
/// the known extensions; `entities.xml` is left to the export reader).
pub fn list_files(arg: &str) -> Result<Vec<FileInput>, ScanError> {
    let p = Path::new(arg);
    let meta = std::fs::metadata(p).map_err(|source| ScanError::Io {
        path: p.to_owned(),
        source,
    })?;
    if meta.is_file() {
        return Ok(vec![FileInput {
            path: p.to_owned(),
            root: arg.to_owned(),
        }]);
    }
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(p).sort_by_file_name() {
        let e = e.map_err(|err| ScanError::Io {
            path: p.to_owned(),
            source: std::io::Error::other(err.to_string()),
        })?;
        if !e.file_type().is_file() {
            continue;
        }
        let name = e.file_name().to_string_lossy().to_ascii_lowercase();
        if name == "entities.xml" {
            continue;
        }
        let ext = Path::new(&name)
            .extension()
            .map(|x| x.to_string_lossy().into_owned())
            .unwrap_or_default();
        if FOLDER_EXTENSIONS.contains(&ext.as_str()) {
            out.push(FileInput {
                path: e.path().to_owned(),
                root: arg.to_owned(),
            });
        }
    }
    Ok(out)
}

fn read_limited(path: &Path) -> Result<String, ScanError> {
    let io = |source| ScanError::Io {
        path: path.to_owned(),
        source,
    };
    let f = std::fs::File::open(path).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    if len > MAX_FILE_BYTES {
        return Err(io(std::io::Error::other(format!(
            "file is {len} bytes, over the {MAX_FILE_BYTES}-byte limit"
        ))));
    }
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    f.take(MAX_FILE_BYTES).read_to_end(&mut buf).map_err(io)?;
    Ok(match String::from_utf8(buf) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

fn file_doc_meta(display: &str) -> Location {
    Location {
        path: Some(display.to_owned()),
        content_type: Some(ContentType::File),
        ..Location::default()
    }
}

/// Scans `files` on all cores and adds the results in input order. Unreadable files are
/// returned as warnings, not errors.
pub fn scan_files(
    scanner: &Scanner,
    files: &[FileInput],
    collector: &mut Collector,
) -> Vec<String> {
    let mut warnings = Vec::new();
    // Chunks keep memory bounded while still feeding every core.
    for chunk in files.chunks(256) {
        let results: Vec<(usize, Result<DocResult, ScanError>)> = chunk
            .par_iter()
            .enumerate()
            .map(|(i, f)| {
                let r = read_limited(&f.path).map(|body| {
                    let display = f.path.to_string_lossy().into_owned();
                    let name = f.path.file_name().map(|n| n.to_string_lossy().into_owned());
                    scanner.scan(&Document {
                        body: &body,
                        format: BodyFormat::from_path(&display),
                        meta: file_doc_meta(&display),
                        file_name: name.as_deref(),
                    })
                });
                (i, r)
            })
            .collect();
        for (i, r) in results {
            let Some(f) = chunk.get(i) else {
                continue;
            };
            match r {
                Ok(res) => {
                    let key = f.path.to_string_lossy().into_owned();
                    collector.add(&scanner.rules, &f.root, None, &key, res);
                }
                Err(e) => warnings.push(e.to_string()),
            }
        }
    }
    warnings
}

/// Scans standard input as one document named `-` (format sniffed from the content).
pub fn scan_reader(
    scanner: &Scanner,
    mut r: impl Read,
    collector: &mut Collector,
) -> Result<(), ScanError> {
    let mut buf = Vec::new();
    r.by_ref()
        .take(MAX_FILE_BYTES)
        .read_to_end(&mut buf)
        .map_err(|source| ScanError::Io {
            path: PathBuf::from("-"),
            source,
        })?;
    let body = String::from_utf8_lossy(&buf);
    let res = scanner.scan(&Document {
        body: &body,
        format: BodyFormat::sniff(&body),
        meta: file_doc_meta("-"),
        file_name: None,
    });
    collector.add(&scanner.rules, "-", None, "-", res);
    Ok(())
}
