//! Attachment text extraction: plain text and markup files, Office Open XML (`.docx`,
//! `.xlsx` rebuilt as tables so "User | Password" columns are seen, `.pptx`), Visio
//! `.vsdx`, draw.io diagrams (plain or compressed `<diagram>` content), and PDF text (with
//! the `pdf` feature, through `pdf-extract`, size-capped and guarded against its panics).
//! Binary formats we cannot read yield nothing.

use crate::scanner::BodyFormat;
use quick_xml::events::Event;
use quick_xml::reader::Reader;
use std::io::{Cursor, Read};
use std::sync::atomic::{AtomicU64, Ordering};

/// Text taken from an attachment (or one member of an archive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Archive member (`word/document.xml`) when the attachment is a container.
    pub member: Option<String>,
    pub text: String,
    pub format: BodyFormat,
}

/// Cap on text or decompressed member size (zip bombs).
const MAX_MEMBER: u64 = 64 << 20;

/// Largest PDF handed to the extractor (parsing keeps the whole document in memory).
pub const MAX_PDF: usize = 32 << 20;

/// PDFs that could not be read (parse error, encrypted, panic in the extractor, too large)
/// since the process started; the CLI reports it.
static PDF_FAILURES: AtomicU64 = AtomicU64::new(0);

/// How many PDF attachments could not be read so far.
pub fn pdf_failures() -> u64 {
    PDF_FAILURES.load(Ordering::Relaxed)
}

/// Why an attachment yielded no text although its format is known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachError {
    #[error("PDF of {size} bytes is over the {MAX_PDF}-byte limit")]
    PdfTooLarge { size: usize },
    #[error("PDF not readable: {0}")]
    Pdf(String),
    #[error("PDF extractor panicked on this file")]
    PdfPanic,
}

/// Extracts the scannable text of an attachment named `name`; unreadable PDFs are counted
/// (see [`pdf_failures`]) and yield nothing.
pub fn extract(name: &str, data: &[u8]) -> Vec<Part> {
    extract_checked(name, data).unwrap_or_default()
}

/// Like [`extract`], saying why a PDF yielded nothing.
pub fn extract_checked(name: &str, data: &[u8]) -> Result<Vec<Part>, AttachError> {
    if data.starts_with(b"%PDF-") {
        return pdf(data)
            .map(|text| {
                vec![Part {
                    member: None,
                    text,
                    format: BodyFormat::Plain,
                }]
            })
            .inspect_err(|_| {
                PDF_FAILURES.fetch_add(1, Ordering::Relaxed);
            });
    }
    Ok(extract_other(&name.to_ascii_lowercase(), data))
}

/// PDF text, capped at [`MAX_MEMBER`] bytes.
#[cfg(feature = "pdf")]
fn pdf(data: &[u8]) -> Result<String, AttachError> {
    if data.len() > MAX_PDF {
        return Err(AttachError::PdfTooLarge { size: data.len() });
    }
    // pdf-extract (and lopdf below it) can panic on malformed input; a bad attachment
    // must cost one warning, not the scan.
    let mut text = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(data))
        .map_err(|_| AttachError::PdfPanic)?
        .map_err(|e| AttachError::Pdf(e.to_string()))?;
    if text.len() > MAX_MEMBER as usize {
        let mut cut = MAX_MEMBER as usize;
        while cut > 0 && !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    Ok(text)
}

#[cfg(not(feature = "pdf"))]
fn pdf(_data: &[u8]) -> Result<String, AttachError> {
    Err(AttachError::Pdf(
        "built without the `pdf` feature".to_owned(),
    ))
}

fn extract_other(lower: &str, data: &[u8]) -> Vec<Part> {
    if data.starts_with(b"PK\x03\x04") {
        return ooxml(data);
    }
    if lower.ends_with(".drawio") || lower.ends_with(".dio") || starts_with_mxfile(data) {
        let t = drawio_text(data);
        return vec![Part {
            member: None,
            text: t,
            format: BodyFormat::Plain,
        }];
    }
    if looks_textual(data) {
        let text = String::from_utf8_lossy(data).into_owned();
        let format = BodyFormat::from_path(lower);
        return vec![Part {
            member: None,
            text,
            format,
        }];
    }
    Vec::new()
}

fn starts_with_mxfile(data: &[u8]) -> bool {
    let head = data.get(..data.len().min(512)).unwrap_or(&[]);
    memchr::memmem::find(head, b"<mxfile").is_some()
}

/// Text when there is no NUL byte in the first 8 KiB and most bytes are printable.
fn looks_textual(data: &[u8]) -> bool {
    let head = data.get(..data.len().min(8192)).unwrap_or(&[]);
    if head.is_empty() || head.contains(&0) {
        return false;
    }
    let printable = head
        .iter()
        .filter(|&&b| b >= 0x20 || matches!(b, b'\n' | b'\r' | b'\t'))
        .count();
    printable * 100 >= head.len() * 95
}

fn read_member<R: Read>(r: R) -> Option<String> {
    let mut buf = Vec::new();
    r.take(MAX_MEMBER).read_to_end(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// Office Open XML and Visio: reads the members that hold document text.
fn ooxml(data: &[u8]) -> Vec<Part> {
    let Ok(mut z) = zip::ZipArchive::new(Cursor::new(data)) else {
        return Vec::new();
    };
    let names: Vec<String> = z.file_names().map(str::to_owned).collect();
    let mut parts = Vec::new();
    // Spreadsheets: shared strings first, then each sheet rebuilt as a storage-format table.
    let shared: Vec<String> = match z.by_name("xl/sharedStrings.xml") {
        Ok(f) => read_member(f)
            .map(|x| shared_strings(&x))
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let mut sorted = names.clone();
    sorted.sort();
    for n in sorted {
        let is_sheet = n.starts_with("xl/worksheets/") && n.ends_with(".xml");
        let is_text = (n.starts_with("word/")
            && (n.ends_with("document.xml")
                || n.contains("header")
                || n.contains("footer")
                || n.ends_with("comments.xml")
                || n.ends_with("footnotes.xml")))
            || (n.starts_with("ppt/slides/") && n.ends_with(".xml"))
            || (n.starts_with("ppt/notesSlides/") && n.ends_with(".xml"))
            || (n.starts_with("visio/pages/") && n.ends_with(".xml"));
        if !is_sheet && !is_text {
            continue;
        }
        let Some(xml) = z.by_name(&n).ok().and_then(read_member) else {
            continue;
        };
        if is_sheet {
            parts.push(Part {
                member: Some(n),
                text: sheet_as_table(&xml, &shared),
                format: BodyFormat::Storage,
            });
        } else {
            parts.push(Part {
                member: Some(n),
                text: office_text(&xml),
                format: BodyFormat::Plain,
            });
        }
    }
    parts
}

fn local(name: &[u8]) -> &[u8] {
    match memchr::memrchr(b':', name) {
        Some(i) => name.get(i + 1..).unwrap_or(name),
        None => name,
    }
}

/// Text of WordprocessingML / DrawingML / Visio XML: `t` (and Visio `Text`) runs, with
/// paragraphs and rows as new lines and table cells separated by tabs.
pub fn office_text(xml: &str) -> String {
    let mut r = Reader::from_str(xml);
    r.config_mut().trim_text(false);
    let mut out = String::new();
    let mut in_text = 0u32;
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) => match local(e.name().as_ref()) {
                b"t" | b"Text" | b"instrText" => in_text += 1,
                b"tc" if !out.ends_with(['\n', '\t']) && !out.is_empty() => out.push('\t'),
                _ => {}
            },
            Ok(Event::End(e)) => match local(e.name().as_ref()) {
                b"t" | b"Text" | b"instrText" => in_text = in_text.saturating_sub(1),
                b"p" | b"tr" | b"br" => out.push('\n'),
                _ => {}
            },
            Ok(Event::Empty(e)) => {
                if matches!(local(e.name().as_ref()), b"br" | b"cr" | b"tab") {
                    out.push('\n');
                }
            }
            Ok(Event::Text(t)) if in_text > 0 => out.push_str(&String::from_utf8_lossy(t.as_ref())),
            Ok(Event::CData(t)) if in_text > 0 => {
                out.push_str(&String::from_utf8_lossy(t.as_ref()))
            }
            Ok(Event::GeneralRef(g)) if in_text > 0 => {
                let n = String::from_utf8_lossy(g.as_ref());
                out.push_str(&crate::extract::resolve_entity(&n).unwrap_or_default());
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    out
}

fn shared_strings(xml: &str) -> Vec<String> {
    let mut r = Reader::from_str(xml);
    r.config_mut().trim_text(false);
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_t = false;
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) if local(e.name().as_ref()) == b"t" => in_t = true,
            Ok(Event::End(e)) => match local(e.name().as_ref()) {
                b"t" => in_t = false,
                b"si" if out.len() < 10_000_000 => out.push(std::mem::take(&mut cur)),
                _ => {}
            },
            Ok(Event::Text(t)) if in_t => cur.push_str(&String::from_utf8_lossy(t.as_ref())),
            Ok(Event::GeneralRef(g)) if in_t => {
                let n = String::from_utf8_lossy(g.as_ref());
                cur.push_str(&crate::extract::resolve_entity(&n).unwrap_or_default());
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A worksheet as a storage-format table; the first row is the header row.
fn sheet_as_table(xml: &str, shared: &[String]) -> String {
    let mut r = Reader::from_str(xml);
    r.config_mut().trim_text(false);
    let mut out = String::from("<table><tbody>");
    let mut row_n = 0usize;
    let mut cell_type: Option<String> = None;
    let mut in_v = false;
    let mut val = String::new();
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) => match local(e.name().as_ref()) {
                b"row" => {
                    row_n += 1;
                    out.push_str("<tr>");
                }
                b"c" => {
                    cell_type = e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == b"t")
                        .map(|a| String::from_utf8_lossy(a.value.as_ref()).into_owned());
                    val.clear();
                }
                b"v" | b"t" => in_v = true,
                _ => {}
            },
            Ok(Event::End(e)) => match local(e.name().as_ref()) {
                b"row" => out.push_str("</tr>"),
                b"v" | b"t" => in_v = false,
                b"c" => {
                    let text = if cell_type.as_deref() == Some("s") {
                        val.trim()
                            .parse::<usize>()
                            .ok()
                            .and_then(|i| shared.get(i))
                            .cloned()
                            .unwrap_or_default()
                    } else {
                        val.clone()
                    };
                    let tag = if row_n == 1 { "th" } else { "td" };
                    out.push_str(&format!("<{tag}>{}</{tag}>", esc(&text)));
                }
                _ => {}
            },
            Ok(Event::Text(t)) if in_v => val.push_str(&String::from_utf8_lossy(t.as_ref())),
            Ok(Event::GeneralRef(g)) if in_v => {
                let n = String::from_utf8_lossy(g.as_ref());
                val.push_str(&crate::extract::resolve_entity(&n).unwrap_or_default());
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
        if out.len() > MAX_MEMBER as usize {
            break;
        }
    }
    out.push_str("</tbody></table>");
    out
}

/// Labels of a draw.io diagram (`value`/`label` attributes, HTML stripped), one per line.
/// Compressed diagrams (base64 of raw deflate of URL-encoded XML) are expanded.
pub fn drawio_text(data: &[u8]) -> String {
    let xml = String::from_utf8_lossy(data);
    let mut out = String::new();
    labels(&xml, &mut out, 0);
    out
}

fn labels(xml: &str, out: &mut String, depth: u8) {
    let mut r = Reader::from_str(xml);
    r.config_mut().trim_text(true);
    let mut in_diagram = false;
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                if e.name().as_ref() == b"diagram" {
                    in_diagram = true;
                }
                for a in e.attributes().flatten() {
                    if matches!(a.key.as_ref(), b"value" | b"label" | b"tooltip" | b"link") {
                        let raw = String::from_utf8_lossy(a.value.as_ref());
                        let v = crate::extract::decode_entities(&raw);
                        let t = strip_tags(&v);
                        if !t.trim().is_empty() {
                            out.push_str(t.trim());
                            out.push('\n');
                        }
                    }
                }
            }
            Ok(Event::End(e)) if e.name().as_ref() == b"diagram" => in_diagram = false,
            Ok(Event::Text(t)) if in_diagram && depth < 2 => {
                let s = String::from_utf8_lossy(t.as_ref()).trim().to_owned();
                if let Some(inner) = inflate_diagram(&s) {
                    labels(&inner, out, depth + 1);
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
}

fn inflate_diagram(s: &str) -> Option<String> {
    let raw = crate::validate::decode_base64(s)?;
    let mut d = flate2::read::DeflateDecoder::new(raw.as_slice()).take(MAX_MEMBER);
    let mut buf = Vec::new();
    d.read_to_end(&mut buf).ok()?;
    let url = String::from_utf8_lossy(&buf);
    Some(percent_decode(&url))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%'
            && let (Some(h), Some(l)) = (b.get(i + 1), b.get(i + 2))
            && let (Some(h), Some(l)) = ((*h as char).to_digit(16), (*l as char).to_digit(16))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawio_plain_and_compressed() {
        let plain = br#"<mxfile><diagram name="p"><mxGraphModel><root><mxCell id="2" value="&lt;b&gt;db01&lt;/b&gt; 10.1.2.3" /></root></mxGraphModel></diagram></mxfile>"#;
        let t = drawio_text(plain);
        assert!(t.contains("db01"), "{t}");
        assert!(t.contains("10.1.2.3"));
        // Compressed: base64(deflate_raw(urlencode(xml)))
        use std::io::Write;
        let inner = "%3CmxGraphModel%3E%3Croot%3E%3CmxCell%20value%3D%22pw%3A%20Hidden%2342%22%2F%3E%3C%2Froot%3E%3C%2FmxGraphModel%3E";
        let mut enc =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(inner.as_bytes()).unwrap();
        let z = enc.finish().unwrap();
        let b64 = base64_encode(&z);
        let doc = format!("<mxfile><diagram id=\"x\">{b64}</diagram></mxfile>");
        let t = drawio_text(doc.as_bytes());
        assert!(t.contains("pw: Hidden#42"), "{t}");
    }

    pub(crate) fn base64_encode(d: &[u8]) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut s = String::new();
        for c in d.chunks(3) {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for i in 0..4 {
                if i <= c.len() {
                    s.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    s.push('=');
                }
            }
        }
        s
    }

    #[test]
    fn binary_is_skipped_text_is_kept() {
        assert!(extract("x.bin", &[0, 1, 2, 3, 0, 0]).is_empty());
        let p = extract("notes.txt", b"root password: Adm1n#2024");
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].format, BodyFormat::Plain);
    }
}
