//! Guards spreadsheet cells against formula injection (CWE-1236): a cell that a spreadsheet
//! would evaluate as a formula gets a leading apostrophe, as OWASP recommends.

/// Returns `cell` made safe to open in Excel, LibreOffice or Google Sheets.
pub fn guard_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'|' | b'%') => {
            std::borrow::Cow::Owned(format!("'{cell}"))
        }
        _ => std::borrow::Cow::Borrowed(cell),
    }
}

/// One CSV cell: guarded against formula injection, then quoted when it holds a comma, a
/// quote or a line break (RFC 4180).
pub fn csv_cell(s: &str) -> String {
    let g = guard_cell(s);
    if g.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", g.replace('"', "\"\""))
    } else {
        g.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::{csv_cell, guard_cell};

    #[test]
    fn cells_are_guarded_then_quoted() {
        assert_eq!(csv_cell("=1+1"), "'=1+1");
        assert_eq!(csv_cell("a,\"b\""), "\"a,\"\"b\"\"\"");
        assert_eq!(csv_cell("plain"), "plain");
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(
            guard_cell("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(guard_cell("+1+cmd|' /C calc'!A0"), "'+1+cmd|' /C calc'!A0");
        assert_eq!(guard_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(guard_cell("-2+3"), "'-2+3");
        assert_eq!(guard_cell("\tx"), "'\tx");
    }

    #[test]
    fn plain_text_is_unchanged() {
        assert_eq!(guard_cell("alice"), "alice");
        assert_eq!(guard_cell(""), "");
        assert_eq!(guard_cell("10.0.0.1"), "10.0.0.1");
    }
}
