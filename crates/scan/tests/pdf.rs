//! PDF attachment text: a PDF built here byte by byte (uncompressed and FlateDecode content
//! streams, standard Helvetica font) with planted secrets is read and scanned; broken and
//! truncated PDFs yield nothing, are counted, and never take the scan down (the extractor's
//! panics are caught).

#![cfg(feature = "pdf")]

use confwatch_event::finding::Location;
use confwatch_scan::input::attach::{self, AttachError, MAX_PDF};
use confwatch_scan::{BodyFormat, Collector, Document, IgnoreList, ScanOptions, Scanner};
use std::io::Write;

const GL_TOKEN: &str = "glpat-Zq8rT2mXv0LpK7cN4bWy";

/// A one-page PDF 1.4 showing `lines` in Helvetica; content stream deflated when `flate`.
fn make_pdf(lines: &[&str], flate: bool) -> Vec<u8> {
    let mut ops = String::from("BT /F1 12 Tf 72 720 Td 14 TL\n");
    for l in lines {
        let esc = l
            .replace('\\', "\\\\")
            .replace('(', "\\(")
            .replace(')', "\\)");
        ops.push_str(&format!("({esc}) Tj T*\n"));
    }
    ops.push_str("ET");
    let (content, filter) = if flate {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(ops.as_bytes()).unwrap();
        (e.finish().unwrap(), " /Filter /FlateDecode")
    } else {
        (ops.into_bytes(), "")
    };
    let mut stream = format!("<< /Length {}{filter} >>\nstream\n", content.len()).into_bytes();
    stream.extend_from_slice(&content);
    stream.extend_from_slice(b"\nendstream");
    let objs: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_vec(),
        stream,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(o);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objs.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn scan_parts(name: &str, data: &[u8]) -> Vec<String> {
    let scanner = Scanner::new(ScanOptions::default()).unwrap();
    let mut c = Collector::new(ScanOptions::default(), IgnoreList::default());
    for p in attach::extract(name, data) {
        assert_eq!(p.format, BodyFormat::Plain);
        let r = scanner.scan(&Document {
            body: &p.text,
            format: p.format,
            meta: Location {
                space_key: Some("OPS".into()),
                page_id: Some("1".into()),
                attachment: Some(name.into()),
                ..Location::default()
            },
            file_name: Some(name),
        });
        c.add(&scanner.rules, "OPS", None, "1", r);
    }
    let mut ids: Vec<String> = c.finish().findings.into_iter().map(|f| f.rule_id).collect();
    ids.sort();
    ids
}

#[test]
fn planted_secrets_in_pdf_text_are_found() {
    for flate in [false, true] {
        let pdf = make_pdf(
            &[
                "Build server access",
                "db password: Pdf-S3cret!2025",
                &format!("CI token {GL_TOKEN}"),
            ],
            flate,
        );
        let parts = attach::extract_checked("runbook.pdf", &pdf).unwrap();
        assert_eq!(parts.len(), 1);
        assert!(parts[0].text.contains(GL_TOKEN), "{:?}", parts[0].text);
        assert!(parts[0].text.contains("db password: Pdf-S3cret!2025"));
        let ids = scan_parts("runbook.pdf", &pdf);
        assert!(
            ids.contains(&"gitlab-pat".to_owned()),
            "flate={flate}: {ids:?}"
        );
        assert!(
            ids.contains(&"generic-password".to_owned()),
            "flate={flate}: {ids:?}"
        );
    }
}

#[test]
fn broken_truncated_and_oversized_pdfs_yield_nothing_and_are_counted() {
    let before = attach::pdf_failures();
    let garbage = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF";
    assert!(matches!(
        attach::extract_checked("x.pdf", garbage),
        Err(AttachError::Pdf(_) | AttachError::PdfPanic)
    ));
    // Every truncation of a valid PDF: no panic escapes, no text invented.
    let pdf = make_pdf(&[&format!("token {GL_TOKEN}")], true);
    let mut failed = 0u64;
    for cut in (9..pdf.len()).step_by(13) {
        match attach::extract_checked("cut.pdf", &pdf[..cut]) {
            // lopdf rebuilds a lost cross-reference table, so some cuts still read.
            Ok(_) => {}
            Err(_) => failed += 1,
        }
    }
    assert!(failed > 0);
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(MAX_PDF + 1, b' ');
    assert_eq!(
        attach::extract_checked("big.pdf", &big),
        Err(AttachError::PdfTooLarge { size: MAX_PDF + 1 })
    );
    assert!(attach::extract("big.pdf", &big).is_empty());
    // Other tests may run PDFs in parallel: at least ours were counted.
    assert!(attach::pdf_failures() >= before + 2 + failed);
}
