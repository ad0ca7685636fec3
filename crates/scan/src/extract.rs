//! Text extraction from Confluence storage format (XHTML with `ac:`/`ri:` elements).
//!
//! Owns turning a page body into the text the rules read, and mapping every byte of that text
//! back to the body: macros (`ac:structured-macro`, their `ac:parameter`s written as
//! `name: value` lines, `ac:plain-text-body` CDATA kept line for line), tables kept as rows
//! (cells separated by a tab, and available as a [`Table`] with its header row), entities
//! decoded (XML and the HTML named entities editors write), links to shares kept as
//! attribute text. Parsing uses quick-xml in a tolerant mode; when the body is not
//! well-formed, the rest of it is appended as raw text so nothing goes unscanned.

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use std::borrow::Cow;

/// Maps a range of extracted text to a range of the source body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub text_start: usize,
    pub text_end: usize,
    pub src_start: usize,
    pub src_end: usize,
    /// Index into [`Extracted::contexts`]; 0 means "running text".
    pub context: u32,
    /// True when the text came from a markup attribute (a link target): never entropy-tested.
    pub attribute: bool,
}

/// One table cell: its text and where that text starts in [`Extracted::text`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub text_start: usize,
    pub header: bool,
}

/// A table as rows of cells. `rows[0]` is the header row when [`Table::has_header`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// A table has a header row when its first row is made of `th` cells, or (as many
    /// hand-made tables do) when no cell of the first row looks like data (`:`/digits only).
    pub fn has_header(&self) -> bool {
        self.rows
            .first()
            .is_some_and(|r| !r.is_empty() && r.iter().all(|c| c.header))
    }
}

/// The text of a body with its maps back to the source.
#[derive(Debug, Clone, Default)]
pub struct Extracted {
    pub text: String,
    pub spans: Vec<Span>,
    /// Contexts (`macro:code`, `table:r2c3[Password]`), index 0 is running text. Table cells
    /// are kept as numbers and labelled only when a hit asks ([`Extracted::context_at`]):
    /// a page has hundreds of cells and few hits.
    pub contexts: Vec<Context>,
    pub tables: Vec<Table>,
    /// Names of the macros in the body, in order of appearance.
    pub macros: Vec<String>,
    /// Link targets (`a@href`, `ri:url@ri:value`).
    pub links: Vec<String>,
    /// True when the body was not well-formed and part of it was taken as raw text.
    pub malformed: bool,
}

/// Where a piece of text sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Context {
    /// A ready label (`macro:code`, `macro:x/param:y`, `attr:href`); empty for running text.
    Label(String),
    /// A table cell, 1-based, with the text range (in [`Extracted::text`]) of its column's
    /// header cell when there is one.
    Cell {
        row: usize,
        col: usize,
        header: Option<(usize, usize)>,
    },
}

/// Upper bound on nesting we track; deeper elements are treated as running text.
const MAX_DEPTH: usize = 4096;
/// Upper bound on tables kept per body (their text is still scanned beyond it).
const MAX_TABLES: usize = 10_000;

impl Extracted {
    /// A plain-text body: the text is the source, byte for byte.
    pub fn plain(text: &str) -> Extracted {
        Extracted {
            text: text.to_owned(),
            spans: vec![Span {
                text_start: 0,
                text_end: text.len(),
                src_start: 0,
                src_end: text.len(),
                context: 0,
                attribute: false,
            }],
            contexts: vec![Context::Label(String::new())],
            ..Extracted::default()
        }
    }

    /// The label of context `id`.
    fn label(&self, id: usize) -> Option<Cow<'_, str>> {
        match self.contexts.get(id)? {
            Context::Label(l) if l.is_empty() => None,
            Context::Label(l) => Some(Cow::Borrowed(l.as_str())),
            Context::Cell { row, col, header } => {
                let h = header
                    .and_then(|(a, b)| self.text.get(a..b))
                    .filter(|h| !h.is_empty());
                Some(Cow::Owned(match h {
                    Some(h) => {
                        format!("table:r{row}c{col}[{}]", crate::text::truncate_chars(h, 40))
                    }
                    None => format!("table:r{row}c{col}"),
                }))
            }
        }
    }

    fn span_index(&self, off: usize) -> Option<usize> {
        let i = self.spans.partition_point(|s| s.text_end <= off);
        self.spans.get(i).and_then(|s| {
            if s.text_start <= off {
                Some(i)
            } else if i > 0 {
                Some(i - 1)
            } else {
                None
            }
        })
    }

    /// The byte offset in the source of the byte `off` of the extracted text.
    pub fn source_offset(&self, off: usize) -> usize {
        match self.span_index(off).and_then(|i| self.spans.get(i)) {
            Some(s) => {
                let delta = off.saturating_sub(s.text_start);
                (s.src_start + delta).min(s.src_end.max(s.src_start))
            }
            None => 0,
        }
    }

    /// The context label at `off`, if any.
    pub fn context_at(&self, off: usize) -> Option<Cow<'_, str>> {
        let s = self.span_index(off).and_then(|i| self.spans.get(i))?;
        if s.text_start > off || off >= s.text_end.max(s.text_start + 1) {
            return None;
        }
        self.label(s.context as usize)
    }

    /// Whether the text at `off` came from a markup attribute.
    pub fn is_attribute(&self, off: usize) -> bool {
        self.span_index(off)
            .and_then(|i| self.spans.get(i))
            .is_some_and(|s| s.attribute && s.text_start <= off && off < s.text_end)
    }
}

#[derive(Default)]
struct TableBuilder {
    table: Table,
    row_count: usize,
    cell_col: usize,
    cell: Option<(usize, bool)>,
}

/// An open element: where its name starts in [`State::names`], the context it pushed.
struct Open {
    name_start: usize,
    pushed: Option<u32>,
}

struct State {
    out: Extracted,
    /// Stack of open elements. Their lower-cased names sit end to end in `names` (one
    /// buffer instead of an allocation per element).
    stack: Vec<Open>,
    names: Vec<u8>,
    ctx_stack: Vec<u32>,
    macro_names: Vec<String>,
    tables: Vec<TableBuilder>,
}

impl State {
    fn ctx(&self) -> u32 {
        self.ctx_stack.last().copied().unwrap_or(0)
    }

    fn push_ctx(&mut self, label: Context) -> u32 {
        let id = u32::try_from(self.out.contexts.len()).unwrap_or(u32::MAX);
        self.out.contexts.push(label);
        self.ctx_stack.push(id);
        id
    }

    fn append(&mut self, s: &str, src_start: usize, src_end: usize, attribute: bool) {
        if s.is_empty() {
            return;
        }
        let text_start = self.out.text.len();
        self.out.text.push_str(s);
        let context = self.ctx();
        self.out.spans.push(Span {
            text_start,
            text_end: self.out.text.len(),
            src_start,
            src_end,
            context,
            attribute,
        });
    }

    fn newline(&mut self, src: usize) {
        if !self.out.text.is_empty() && !self.out.text.ends_with('\n') {
            self.append("\n", src, src, false);
        }
    }

    fn separator(&mut self, sep: &str, src: usize) {
        if !self.out.text.is_empty() && !self.out.text.ends_with(['\n', '\t']) {
            self.append(sep, src, src, false);
        }
    }
}

fn is_block(name: &[u8]) -> bool {
    matches!(
        name,
        b"p" | b"div"
            | b"br"
            | b"li"
            | b"ul"
            | b"ol"
            | b"h1"
            | b"h2"
            | b"h3"
            | b"h4"
            | b"h5"
            | b"h6"
            | b"pre"
            | b"blockquote"
            | b"hr"
            | b"table"
            | b"tbody"
            | b"thead"
            | b"tr"
            | b"dt"
            | b"dd"
            | b"ac:structured-macro"
            | b"ac:macro"
            | b"ac:plain-text-body"
            | b"ac:rich-text-body"
            | b"ac:parameter"
            | b"ac:task"
            | b"ac:layout-section"
            | b"ac:layout-cell"
    )
}

fn attr_value(e: &BytesStart<'_>, key: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == key)
        .map(|a| {
            let raw = String::from_utf8_lossy(a.value.as_ref()).into_owned();
            decode_entities(&raw)
        })
}

/// Decodes XML and common HTML entity references in `s`; unknown references stay as written.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(rest.get(..p).unwrap_or(""));
        let tail = rest.get(p..).unwrap_or("");
        let end = tail.get(1..).and_then(|t| t.find(';')).filter(|&e| e < 12);
        match end.and_then(|e| tail.get(1..e + 1).map(|name| (e, name))) {
            Some((e, name)) => match resolve_entity(name) {
                Some(c) => {
                    out.push_str(&c);
                    rest = tail.get(e + 2..).unwrap_or("");
                }
                None => {
                    out.push('&');
                    rest = tail.get(1..).unwrap_or("");
                }
            },
            None => {
                out.push('&');
                rest = tail.get(1..).unwrap_or("");
            }
        }
    }
    out.push_str(rest);
    out
}

/// Resolves an entity name (without `&` and `;`).
pub fn resolve_entity(name: &str) -> Option<String> {
    if let Some(num) = name.strip_prefix('#') {
        let code = if let Some(hex) = num.strip_prefix(['x', 'X']) {
            u32::from_str_radix(hex, 16).ok()?
        } else {
            num.parse::<u32>().ok()?
        };
        return char::from_u32(code).map(|c| c.to_string());
    }
    let s = match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        "nbsp" | "ensp" | "emsp" | "thinsp" => " ",
        "shy" | "zwj" | "zwnj" => "",
        "ndash" => "\u{2013}",
        "mdash" => "\u{2014}",
        "hellip" => "\u{2026}",
        "lsquo" => "\u{2018}",
        "rsquo" => "\u{2019}",
        "ldquo" => "\u{201C}",
        "rdquo" => "\u{201D}",
        "laquo" => "\u{00AB}",
        "raquo" => "\u{00BB}",
        "bull" => "\u{2022}",
        "middot" => "\u{00B7}",
        "copy" => "\u{00A9}",
        "reg" => "\u{00AE}",
        "trade" => "\u{2122}",
        "deg" => "\u{00B0}",
        "euro" => "\u{20AC}",
        "pound" => "\u{00A3}",
        "sect" => "\u{00A7}",
        "times" => "\u{00D7}",
        "auml" => "ä",
        "ouml" => "ö",
        "uuml" => "ü",
        "Auml" => "Ä",
        "Ouml" => "Ö",
        "Uuml" => "Ü",
        "szlig" => "ß",
        "eacute" => "é",
        "egrave" => "è",
        "ecirc" => "ê",
        "Eacute" => "É",
        "agrave" => "à",
        "acirc" => "â",
        "aacute" => "á",
        "iacute" => "í",
        "oacute" => "ó",
        "uacute" => "ú",
        "ccedil" => "ç",
        "ntilde" => "ñ",
        "Ntilde" => "Ñ",
        "iquest" => "¿",
        "iexcl" => "¡",
        "ocirc" => "ô",
        "icirc" => "î",
        "ucirc" => "û",
        "oelig" => "œ",
        _ => return None,
    };
    Some(s.to_owned())
}

/// Extracts the text of a storage-format body.
pub fn extract_storage(src: &str) -> Extracted {
    let mut reader = Reader::from_str(src);
    {
        let cfg = reader.config_mut();
        cfg.check_end_names = false;
        cfg.allow_unmatched_ends = true;
        cfg.allow_dangling_amp = true;
        cfg.check_comments = false;
        cfg.expand_empty_elements = false;
        cfg.trim_text(false);
    }
    let mut st = State {
        out: Extracted {
            // Text is at most about the body's size; spans come every few dozen bytes.
            text: String::with_capacity(src.len()),
            spans: Vec::with_capacity(src.len() / 32),
            contexts: vec![Context::Label(String::new())],
            ..Extracted::default()
        },
        stack: Vec::new(),
        names: Vec::new(),
        ctx_stack: Vec::new(),
        macro_names: Vec::new(),
        tables: Vec::new(),
    };
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let ev = match reader.read_event() {
            Ok(ev) => ev,
            Err(_) => {
                // Not well-formed: keep what we have and scan the rest as raw text.
                st.out.malformed = true;
                st.newline(before);
                let rest = src.get(before.min(src.len())..).unwrap_or("");
                st.append(rest, before, src.len(), false);
                break;
            }
        };
        let after = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        match ev {
            Event::Eof => break,
            Event::Start(e) => on_start(&mut st, &e, before, false),
            Event::Empty(e) => on_start(&mut st, &e, before, true),
            Event::End(e) => on_end(&mut st, e.name().as_ref(), before),
            Event::Text(t) => {
                // Text is the source slice itself (the body is already a &str, so no second
                // UTF-8 validation); fall back to a lossy copy if positions ever disagree.
                match src.get(before..after).filter(|s| s.len() == t.len()) {
                    Some(s) => st.append(s, before, after, false),
                    None => st.append(&String::from_utf8_lossy(t.as_ref()), before, after, false),
                }
            }
            Event::CData(c) => {
                // CDATA content starts after `<![CDATA[` and ends before `]]>`.
                let (a, b) = (before + 9, after.saturating_sub(3));
                match src.get(a..b).filter(|s| s.len() == c.len()) {
                    Some(s) => st.append(s, a, b, false),
                    None => st.append(&String::from_utf8_lossy(c.as_ref()), a, b, false),
                }
            }
            Event::GeneralRef(r) => {
                let name = String::from_utf8_lossy(r.as_ref());
                match resolve_entity(&name) {
                    Some(s) => st.append(&s, before, after, false),
                    None => st.append(&format!("&{name};"), before, after, false),
                }
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    // Close tables left open by a truncated body.
    while let Some(tb) = st.tables.pop() {
        if st.out.tables.len() < MAX_TABLES {
            st.out.tables.push(tb.table);
        }
    }
    st.out.macros = st.macro_names;
    st.out
}

fn on_start(st: &mut State, e: &BytesStart<'_>, pos: usize, empty: bool) {
    let raw = e.name();
    let name: Cow<'_, [u8]> = if raw.as_ref().iter().any(u8::is_ascii_uppercase) {
        Cow::Owned(raw.as_ref().to_ascii_lowercase())
    } else {
        Cow::Borrowed(raw.as_ref())
    };
    let mut pushed: Option<u32> = None;
    if is_block(&name) {
        st.newline(pos);
    }
    match name.as_ref() {
        b"ac:structured-macro" | b"ac:macro" => {
            let m = attr_value(e, b"ac:name").unwrap_or_else(|| "unknown".to_owned());
            st.macro_names.push(m.clone());
            if !empty {
                pushed = Some(st.push_ctx(Context::Label(format!("macro:{m}"))));
            }
        }
        b"ac:parameter" => {
            let p = attr_value(e, b"ac:name").unwrap_or_default();
            let parent = st.out.label(st.ctx() as usize).unwrap_or_default();
            if !empty {
                let label = format!("{parent}/param:{p}");
                pushed = Some(st.push_ctx(Context::Label(label)));
            }
            if !p.is_empty() {
                // Written as "name: value" so config-style rules see the pair.
                st.append(&format!("{p}: "), pos, pos, false);
            }
        }
        b"table" if !empty => {
            st.tables.push(TableBuilder::default());
        }
        b"tr" if !empty => {
            if let Some(tb) = st.tables.last_mut() {
                tb.table.rows.push(Vec::new());
                tb.row_count += 1;
                tb.cell_col = 0;
            }
        }
        b"td" | b"th" if !empty => {
            st.separator("\t", pos);
            let header = name.as_ref() == b"th";
            let start = st.out.text.len();
            let label = st.tables.last_mut().map(|tb| {
                tb.cell_col += 1;
                tb.cell = Some((start, header));
                let hdr = tb
                    .table
                    .rows
                    .first()
                    .filter(|_| tb.row_count > 1)
                    .and_then(|r| r.get(tb.cell_col - 1))
                    .filter(|c| c.header || tb.row_count > 1)
                    .filter(|c| !c.text.is_empty())
                    .map(|c| (c.text_start, c.text_start + c.text.len()));
                Context::Cell {
                    row: tb.row_count,
                    col: tb.cell_col,
                    header: hdr,
                }
            });
            if let Some(l) = label {
                pushed = Some(st.push_ctx(l));
            }
        }
        b"a" => {
            if let Some(h) = attr_value(e, b"href") {
                link_target(st, h, pos);
            }
        }
        b"ri:url" => {
            if let Some(h) = attr_value(e, b"ri:value") {
                link_target(st, h, pos);
            }
        }
        _ => {}
    }
    if empty {
        if is_block(&name) {
            st.newline(pos);
        }
        return;
    }
    if st.stack.len() < MAX_DEPTH {
        let name_start = st.names.len();
        st.names.extend_from_slice(&name);
        st.stack.push(Open { name_start, pushed });
    } else if pushed.is_some() {
        st.ctx_stack.pop();
    }
}

/// Link targets that point at shares or carry credentials are scanned as attribute text.
fn link_target(st: &mut State, href: String, pos: usize) {
    let lower = href.to_ascii_lowercase();
    let interesting = href.starts_with("\\\\")
        || lower.starts_with("file:")
        || lower.starts_with("smb:")
        || lower.starts_with("nfs:")
        || lower.starts_with("afp:")
        || (lower.contains("://") && href.contains('@'));
    if interesting {
        st.separator(" ", pos);
        let label_id = st.push_ctx(Context::Label("attr:href".to_owned()));
        let _ = label_id;
        st.append(&href, pos, pos, true);
        st.ctx_stack.pop();
        st.append(" ", pos, pos, false);
    }
    if st.out.links.len() < 100_000 {
        st.out.links.push(href);
    }
}

fn on_end(st: &mut State, raw: &[u8], pos: usize) {
    // Pop to the matching element (tolerates unclosed inner elements).
    let mut end = st.names.len();
    let mut idx = None;
    for (i, o) in st.stack.iter().enumerate().rev() {
        if st
            .names
            .get(o.name_start..end)
            .is_some_and(|n| n.eq_ignore_ascii_case(raw))
        {
            idx = Some(i);
            break;
        }
        end = o.name_start;
    }
    let Some(idx) = idx else {
        return;
    };
    while st.stack.len() > idx {
        let Some(o) = st.stack.pop() else {
            break;
        };
        if o.pushed.is_some() {
            st.ctx_stack.pop();
        }
        // The name moves to a stack buffer (closing needs `st` mutably); every name closing
        // acts on is short, a longer one closes as "no special element".
        let mut buf = [0u8; 32];
        let n = st.names.get(o.name_start..).unwrap_or(&[]);
        let len = match buf.get_mut(..n.len()) {
            Some(dst) => {
                dst.copy_from_slice(n);
                n.len()
            }
            None => 0,
        };
        st.names.truncate(o.name_start);
        close_element(st, buf.get(..len).unwrap_or(&[]), pos);
    }
}

fn close_element(st: &mut State, name: &[u8], pos: usize) {
    match name {
        b"td" | b"th" => {
            if let Some(tb) = st.tables.last_mut()
                && let Some((start, header)) = tb.cell.take()
            {
                let raw = st.out.text.get(start..).unwrap_or("");
                let lead = raw.len() - raw.trim_start().len();
                let text = raw.trim().to_owned();
                if let Some(row) = tb.table.rows.last_mut() {
                    row.push(Cell {
                        text,
                        text_start: start + lead,
                        header,
                    });
                }
            }
        }
        b"table" => {
            if let Some(tb) = st.tables.pop()
                && st.out.tables.len() < MAX_TABLES
            {
                st.out.tables.push(tb.table);
            }
        }
        _ => {}
    }
    if is_block(name) {
        st.newline(pos);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_macro_cdata_is_kept_line_for_line() {
        let src = "<p>Intro</p><ac:structured-macro ac:name=\"code\"><ac:parameter ac:name=\"language\">bash</ac:parameter><ac:plain-text-body><![CDATA[export A=1\nexport PASSWORD=hunter22]]></ac:plain-text-body></ac:structured-macro>";
        let x = extract_storage(src);
        assert!(x.text.contains("Intro\n"), "{:?}", x.text);
        assert!(x.text.contains("language: bash\n"), "{:?}", x.text);
        assert!(x.text.contains("export A=1\nexport PASSWORD=hunter22"));
        let off = x.text.find("hunter22").unwrap();
        let src_off = x.source_offset(off);
        assert_eq!(&src[src_off..src_off + 8], "hunter22");
        assert_eq!(x.context_at(off).as_deref(), Some("macro:code"));
        assert_eq!(x.macros, vec!["code".to_owned()]);
    }

    #[test]
    fn entities_are_decoded_and_mapped() {
        let src = "<p>jdbc:mysql://db/x?user=a&amp;password=S3cr&eacute;t!&nbsp;end</p>";
        let x = extract_storage(src);
        assert!(
            x.text.contains("user=a&password=S3cré t!") || x.text.contains("S3crét! end"),
            "{:?}",
            x.text
        );
        let off = x.text.find("password").unwrap();
        let so = x.source_offset(off);
        assert_eq!(&src[so..so + 8], "password");
    }

    #[test]
    fn tables_keep_rows_and_headers() {
        let src = "<table><tbody><tr><th>Host</th><th>User</th><th>Password</th></tr><tr><td>db1</td><td>admin</td><td>Winter2024!</td></tr></tbody></table>";
        let x = extract_storage(src);
        assert_eq!(x.tables.len(), 1);
        let t = &x.tables[0];
        assert!(t.has_header());
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[1][2].text, "Winter2024!");
        assert_eq!(
            &x.text[t.rows[1][2].text_start..t.rows[1][2].text_start + 11],
            "Winter2024!"
        );
        assert!(
            x.text
                .contains("Host\tUser\tPassword\ndb1\tadmin\tWinter2024!")
        );
        let off = x.text.find("Winter").unwrap();
        assert_eq!(x.context_at(off).as_deref(), Some("table:r2c3[Password]"));
    }

    #[test]
    fn attributes_are_not_text_except_share_links() {
        let src = "<p><ac:link><ri:user ri:account-id=\"5b10ac8d82e05b22cc7d4ef5\" /></ac:link> see <a href=\"file://fs01/finance\">share</a></p>";
        let x = extract_storage(src);
        assert!(!x.text.contains("5b10ac8d82e05b22cc7d4ef5"));
        let off = x.text.find("file://fs01/finance").unwrap();
        assert!(x.is_attribute(off));
        assert!(!x.is_attribute(x.text.find("see").unwrap()));
    }

    #[test]
    fn malformed_bodies_are_still_scanned() {
        let src = "<p>ok</p><p attr=\"unterminated>token ghp_x</p>";
        let x = extract_storage(src);
        assert!(x.text.contains("ok"));
        assert!(x.text.contains("ghp_x"), "{:?}", x.text);
    }
}
