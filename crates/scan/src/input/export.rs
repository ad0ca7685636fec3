//! Confluence space/site XML exports, zipped or unzipped: `entities.xml` streamed with
//! quick-xml in two passes (metadata first: spaces, pages, blog posts, comments, users,
//! attachments; then every `BodyContent`, so each body is scanned with its page, space,
//! version and author known), then the attachment files under
//! `attachments/<containerId>/<attachmentId>/<version>`.
//!
//! Every historical version is scanned: old versions are separate `Page` objects whose
//! `originalVersion` points at the current page, so their findings share the current page
//! id and differ in `version`. Join: `BodyContent.content -> Page -> Page.space -> Space.key`.

use crate::collect::Collector;
use crate::error::ScanError;
use crate::extract::resolve_entity;
use crate::input::attach;
use crate::scanner::{BodyFormat, Document, Scanner};
use confwatch_event::finding::{ContentType, Location};
use quick_xml::events::Event;
use quick_xml::reader::Reader;
use rayon::prelude::*;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Cap on a non-body property value (titles, dates).
const MAX_PROP: usize = 64 * 1024;
/// Cap on one body (larger bodies are truncated and a warning is given).
const MAX_BODY: usize = 64 << 20;
/// Bodies are scanned in batches of about this many bytes, in parallel.
const BATCH_BYTES: usize = 32 << 20;
/// Attachments larger than this are skipped with a warning.
pub const MAX_ATTACHMENT: u64 = 64 << 20;

/// Where an export is.
#[derive(Debug, Clone)]
pub enum ExportSource {
    Zip(PathBuf),
    Folder(PathBuf),
    /// A bare `entities.xml` (no attachments).
    EntitiesFile(PathBuf),
}

/// Recognises an export: a zip holding `entities.xml`, a folder holding it, or the file.
pub fn detect(path: &Path) -> Option<ExportSource> {
    if path.is_dir() {
        return path
            .join("entities.xml")
            .is_file()
            .then(|| ExportSource::Folder(path.to_owned()));
    }
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    if name == "entities.xml" {
        return Some(ExportSource::EntitiesFile(path.to_owned()));
    }
    let mut magic = [0u8; 4];
    let ok = std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok();
    if ok && magic == *b"PK\x03\x04" {
        let f = std::fs::File::open(path).ok()?;
        let z = zip::ZipArchive::new(f).ok()?;
        if z.index_for_name("entities.xml").is_some() {
            return Some(ExportSource::Zip(path.to_owned()));
        }
    }
    None
}

#[derive(Debug, Clone, Default)]
struct Obj {
    class: String,
    id: String,
    props: Vec<(String, Prop)>,
}

#[derive(Debug, Clone)]
enum Prop {
    Text(String),
    Ref { id: String },
}

impl Obj {
    fn text(&self, name: &str) -> Option<&str> {
        self.props.iter().find_map(|(n, p)| match p {
            Prop::Text(t) if n == name => Some(t.as_str()),
            _ => None,
        })
    }
    fn reference(&self, name: &str) -> Option<&str> {
        self.props.iter().find_map(|(n, p)| match p {
            Prop::Ref { id } if n == name => Some(id.as_str()),
            _ => None,
        })
    }
    fn take_text(&mut self, name: &str) -> Option<String> {
        let i = self
            .props
            .iter()
            .position(|(n, p)| n == name && matches!(p, Prop::Text(_)))?;
        match self.props.swap_remove(i).1 {
            Prop::Text(t) => Some(t),
            Prop::Ref { .. } => None,
        }
    }
}

fn attr(e: &quick_xml::events::BytesStart<'_>, key: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == key)
        .map(|a| String::from_utf8_lossy(a.value.as_ref()).into_owned())
}

fn xml_err(path: &Path, position: u64, e: impl std::fmt::Display) -> ScanError {
    ScanError::Xml {
        path: path.to_owned(),
        position,
        message: e.to_string(),
    }
}

/// Streams the `<object>`s of an entities.xml, calling `on_obj` for each object whose class
/// `want` accepts. `body_prop` names the one property kept beyond [`MAX_PROP`].
fn stream_objects<R: BufRead>(
    r: R,
    path: &Path,
    want: &dyn Fn(&str) -> bool,
    body_prop: Option<&str>,
    on_obj: &mut dyn FnMut(Obj) -> Result<(), ScanError>,
) -> Result<(), ScanError> {
    let mut reader = Reader::from_reader(r);
    reader.config_mut().trim_text(false);
    let mut buf = Vec::new();
    let mut skip = Vec::new();
    let mut obj: Option<Obj> = None;
    // (property name, is reference, value, cap)
    let mut prop: Option<(String, bool, String, usize)> = None;
    let mut in_object_id = false;
    loop {
        buf.clear();
        let pos = reader.buffer_position();
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| xml_err(path, pos, e))?;
        match ev {
            Event::Eof => break,
            Event::Start(e) => {
                let name = e.name();
                match name.as_ref() {
                    b"object" if obj.is_none() => {
                        let class = attr(&e, b"class").unwrap_or_default();
                        if want(&class) {
                            obj = Some(Obj {
                                class,
                                ..Obj::default()
                            });
                        } else {
                            skip.clear();
                            let end = e.to_end().into_owned();
                            reader
                                .read_to_end_into(end.name(), &mut skip)
                                .map_err(|err| xml_err(path, pos, err))?;
                        }
                    }
                    b"collection" if obj.is_some() && prop.is_none() => {
                        skip.clear();
                        let end = e.to_end().into_owned();
                        reader
                            .read_to_end_into(end.name(), &mut skip)
                            .map_err(|err| xml_err(path, pos, err))?;
                    }
                    b"property" if obj.is_some() => {
                        let n = attr(&e, b"name").unwrap_or_default();
                        let is_ref = attr(&e, b"class").is_some();
                        let cap = if body_prop == Some(n.as_str()) {
                            MAX_BODY
                        } else {
                            MAX_PROP
                        };
                        prop = Some((n, is_ref, String::new(), cap));
                    }
                    b"id" if obj.is_some() && prop.is_none() => in_object_id = true,
                    _ => {}
                }
            }
            Event::Empty(e) => {
                if e.name().as_ref() == b"property"
                    && let Some(o) = obj.as_mut()
                {
                    let n = attr(&e, b"name").unwrap_or_default();
                    o.props.push((n, Prop::Text(String::new())));
                }
            }
            Event::Text(t) => {
                let s = String::from_utf8_lossy(t.as_ref());
                push_text(&mut prop, &mut obj, in_object_id, &s);
            }
            Event::CData(c) => {
                let s = String::from_utf8_lossy(c.as_ref());
                push_text(&mut prop, &mut obj, in_object_id, &s);
            }
            Event::GeneralRef(g) => {
                let n = String::from_utf8_lossy(g.as_ref());
                let s = resolve_entity(&n).unwrap_or_else(|| format!("&{n};"));
                push_text(&mut prop, &mut obj, in_object_id, &s);
            }
            Event::End(e) => match e.name().as_ref() {
                b"property" => {
                    if let (Some((n, is_ref, v, _)), Some(o)) = (prop.take(), obj.as_mut()) {
                        let p = if is_ref {
                            Prop::Ref {
                                id: v.trim().to_owned(),
                            }
                        } else {
                            Prop::Text(v)
                        };
                        o.props.push((n, p));
                    }
                }
                b"id" => in_object_id = false,
                b"object" if prop.is_none() => {
                    if let Some(o) = obj.take() {
                        on_obj(o)?;
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
    Ok(())
}

fn push_text(
    prop: &mut Option<(String, bool, String, usize)>,
    obj: &mut Option<Obj>,
    in_object_id: bool,
    s: &str,
) {
    if let Some((_, _, v, cap)) = prop.as_mut() {
        if v.len() < *cap {
            let room = *cap - v.len();
            v.push_str(crate::text::truncate_chars(s, room));
        }
    } else if in_object_id && let Some(o) = obj.as_mut() {
        o.id.push_str(s.trim());
    }
}

#[derive(Debug, Clone, Default)]
struct ContentMeta {
    class: String,
    title: Option<String>,
    version: Option<u32>,
    status: Option<String>,
    space: Option<String>,
    original: Option<String>,
    container: Option<String>,
    modifier: Option<String>,
    modified: Option<String>,
}

#[derive(Debug, Default)]
struct Meta {
    spaces: HashMap<String, (String, Option<String>)>,
    contents: HashMap<String, ContentMeta>,
    users: HashMap<String, String>,
}

const CONTENT_CLASSES: [&str; 5] = [
    "Page",
    "BlogPost",
    "Comment",
    "Attachment",
    "SpaceDescription",
];

fn collect_meta<R: BufRead>(r: R, path: &Path) -> Result<Meta, ScanError> {
    let mut meta = Meta::default();
    let want = |c: &str| c == "Space" || c == "ConfluenceUserImpl" || CONTENT_CLASSES.contains(&c);
    stream_objects(r, path, &want, None, &mut |o: Obj| {
        match o.class.as_str() {
            "Space" => {
                let key = o.text("key").unwrap_or("").to_owned();
                let name = o.text("name").map(str::to_owned);
                meta.spaces.insert(o.id.clone(), (key, name));
            }
            "ConfluenceUserImpl" => {
                if let Some(n) = o.text("name") {
                    meta.users.insert(o.id.clone(), n.to_owned());
                }
            }
            _ => {
                let cm = ContentMeta {
                    class: o.class.clone(),
                    title: o.text("title").map(str::to_owned),
                    version: o.text("version").and_then(|v| v.trim().parse().ok()),
                    status: o.text("contentStatus").map(str::to_owned),
                    space: o.reference("space").map(str::to_owned),
                    original: o.reference("originalVersion").map(str::to_owned),
                    container: o.reference("containerContent").map(str::to_owned),
                    modifier: o
                        .reference("lastModifier")
                        .or_else(|| o.reference("creator"))
                        .map(str::to_owned),
                    modified: o.text("lastModificationDate").map(str::to_owned),
                };
                meta.contents.insert(o.id.clone(), cm);
            }
        }
        Ok(())
    })?;
    Ok(meta)
}

/// What a body or attachment belongs to, resolved through the metadata.
struct Resolved {
    location: Location,
    page_key: String,
    space_key: String,
    space_name: Option<String>,
}

impl Meta {
    fn current_id<'a>(&'a self, id: &'a str) -> &'a str {
        self.contents
            .get(id)
            .and_then(|c| c.original.as_deref())
            .unwrap_or(id)
    }

    fn space_of(&self, id: &str, depth: u8) -> Option<&str> {
        let c = self.contents.get(id)?;
        if let Some(s) = c.space.as_deref() {
            return Some(s);
        }
        if depth > 4 {
            return None;
        }
        let next = c.container.as_deref().or(c.original.as_deref())?;
        self.space_of(next, depth + 1)
    }

    fn resolve(&self, content_id: &str) -> Resolved {
        let c = self.contents.get(content_id).cloned().unwrap_or_default();
        let current = self.current_id(content_id).to_owned();
        let space_id = self.space_of(content_id, 0).map(str::to_owned);
        let (space_key, space_name) = space_id
            .and_then(|s| self.spaces.get(&s).cloned())
            .unwrap_or_else(|| ("(no space)".to_owned(), None));
        let content_type = match c.class.as_str() {
            "Page" => Some(ContentType::Page),
            "BlogPost" => Some(ContentType::BlogPost),
            "Comment" => Some(ContentType::Comment),
            "Attachment" => Some(ContentType::Attachment),
            _ => None,
        };
        let title = match content_type {
            Some(ContentType::Comment) => {
                let on = c
                    .container
                    .as_deref()
                    .and_then(|p| self.contents.get(self.current_id(p)))
                    .and_then(|p| p.title.clone())
                    .unwrap_or_default();
                Some(format!("Comment on {on}"))
            }
            None if c.class == "SpaceDescription" => Some("Space description".to_owned()),
            _ => c.title.clone(),
        };
        let author = c
            .modifier
            .as_deref()
            .map(|k| self.users.get(k).cloned().unwrap_or_else(|| k.to_owned()));
        let link = match content_type {
            Some(ContentType::Page | ContentType::BlogPost) => {
                Some(format!("/pages/viewpage.action?pageId={current}"))
            }
            Some(ContentType::Comment) => c.container.as_deref().map(|p| {
                format!(
                    "/pages/viewpage.action?pageId={}#comment-{current}",
                    self.current_id(p)
                )
            }),
            _ => None,
        };
        let page_key = match content_type {
            Some(ContentType::Comment) => current.clone(),
            _ => current.clone(),
        };
        Resolved {
            location: Location {
                space_key: Some(space_key.clone()),
                space_name: space_name.clone(),
                page_id: Some(current),
                content_type,
                title,
                version: c.version,
                status: c.status.clone(),
                author,
                last_modified: c.modified.clone(),
                link,
                ..Location::default()
            },
            page_key,
            space_key,
            space_name,
        }
    }
}

struct Pending {
    body: String,
    format: BodyFormat,
    res: Resolved,
    file_name: Option<String>,
}

fn flush(scanner: &Scanner, batch: &mut Vec<Pending>, collector: &mut Collector) {
    let results: Vec<_> = batch
        .par_iter()
        .map(|p| {
            scanner.scan(&Document {
                body: &p.body,
                format: p.format,
                meta: p.res.location.clone(),
                file_name: p.file_name.as_deref(),
            })
        })
        .collect();
    for (p, r) in batch.iter().zip(results) {
        collector.add(
            &scanner.rules,
            &p.res.space_key,
            p.res.space_name.as_deref(),
            &p.res.page_key,
            r,
        );
    }
    batch.clear();
}

fn scan_bodies<R: BufRead>(
    r: R,
    path: &Path,
    meta: &Meta,
    scanner: &Scanner,
    collector: &mut Collector,
) -> Result<(), ScanError> {
    let mut batch: Vec<Pending> = Vec::new();
    let mut bytes = 0usize;
    stream_objects(
        r,
        path,
        &|c| c == "BodyContent",
        Some("body"),
        &mut |mut o: Obj| {
            let Some(content) = o.reference("content").map(str::to_owned) else {
                return Ok(());
            };
            let body_type = o.text("bodyType").map(|t| t.trim().to_owned());
            let Some(body) = o.take_text("body") else {
                return Ok(());
            };
            if body.trim().is_empty() {
                return Ok(());
            }
            // bodyType 2 is XHTML storage format; 0/1 (legacy raw / wiki markup) are text.
            let format = if body_type.as_deref() == Some("2") {
                BodyFormat::Storage
            } else {
                BodyFormat::Plain
            };
            bytes += body.len();
            batch.push(Pending {
                body,
                format,
                res: meta.resolve(&content),
                file_name: None,
            });
            if bytes >= BATCH_BYTES {
                flush(scanner, &mut batch, collector);
                bytes = 0;
            }
            Ok(())
        },
    )?;
    flush(scanner, &mut batch, collector);
    Ok(())
}

/// Parses `attachments/<containerId>/<attachmentId>/<version>`.
fn attachment_ids(rel: &str) -> Option<(String, String, Option<u32>)> {
    let mut it = rel.trim_start_matches('/').split('/');
    if it.next()? != "attachments" {
        return None;
    }
    let container = it.next()?.to_owned();
    let att = it.next()?.to_owned();
    let version = it.next().and_then(|v| v.parse().ok());
    Some((container, att, version))
}

fn scan_attachment(
    scanner: &Scanner,
    meta: &Meta,
    rel: &str,
    data: &[u8],
    batch: &mut Vec<Pending>,
) {
    let Some((container, att, version)) = attachment_ids(rel) else {
        return;
    };
    let mut res = if meta.contents.contains_key(&att) {
        meta.resolve(&att)
    } else {
        let mut r = meta.resolve(&container);
        r.location.content_type = Some(ContentType::Attachment);
        r
    };
    let title = meta
        .contents
        .get(&att)
        .and_then(|c| c.title.clone())
        .unwrap_or_else(|| rel.to_owned());
    // Attachments count under their page.
    if let Some(c) = meta.contents.get(&att).and_then(|c| c.container.clone()) {
        let page = meta.resolve(&c);
        res.page_key = page.page_key;
        res.location.page_id = page.location.page_id;
        res.location.title = page.location.title;
        res.location.link = page.location.link;
    }
    res.location.content_type = Some(ContentType::Attachment);
    if version.is_some() {
        res.location.version = version;
    }
    let _ = scanner;
    for part in attach::extract(&title, data) {
        let mut r = Resolved {
            location: res.location.clone(),
            page_key: res.page_key.clone(),
            space_key: res.space_key.clone(),
            space_name: res.space_name.clone(),
        };
        r.location.attachment = Some(match &part.member {
            Some(m) => format!("{title}!{m}"),
            None => title.clone(),
        });
        batch.push(Pending {
            body: part.text,
            format: part.format,
            res: r,
            file_name: Some(title.clone()),
        });
    }
}

/// Scans an export. Returns warnings (unreadable attachments, oversized files).
pub fn scan_export(
    scanner: &Scanner,
    src: &ExportSource,
    collector: &mut Collector,
) -> Result<Vec<String>, ScanError> {
    let mut warnings = Vec::new();
    match src {
        ExportSource::EntitiesFile(p) | ExportSource::Folder(p) => {
            let entities = match src {
                ExportSource::Folder(_) => p.join("entities.xml"),
                _ => p.clone(),
            };
            let open = || {
                std::fs::File::open(&entities)
                    .map(|f| BufReader::with_capacity(1 << 20, f))
                    .map_err(|source| ScanError::Io {
                        path: entities.clone(),
                        source,
                    })
            };
            let meta = collect_meta(open()?, &entities)?;
            scan_bodies(open()?, &entities, &meta, scanner, collector)?;
            if let ExportSource::Folder(root) = src {
                let dir = root.join("attachments");
                let mut batch = Vec::new();
                for e in walkdir::WalkDir::new(&dir)
                    .sort_by_file_name()
                    .into_iter()
                    .flatten()
                {
                    if !e.file_type().is_file() {
                        continue;
                    }
                    let rel = e
                        .path()
                        .strip_prefix(root)
                        .map(|r| r.to_string_lossy().replace('\\', "/"))
                        .unwrap_or_default();
                    match read_capped(e.path()) {
                        Ok(data) => scan_attachment(scanner, &meta, &rel, &data, &mut batch),
                        Err(w) => warnings.push(w),
                    }
                    if batch.len() >= 64 {
                        flush(scanner, &mut batch, collector);
                    }
                }
                flush(scanner, &mut batch, collector);
            }
        }
        ExportSource::Zip(p) => {
            let zerr = |e: zip::result::ZipError| ScanError::Zip {
                path: p.clone(),
                message: e.to_string(),
            };
            let f = std::fs::File::open(p).map_err(|source| ScanError::Io {
                path: p.clone(),
                source,
            })?;
            let mut z = zip::ZipArchive::new(f).map_err(zerr)?;
            let entities = p.join("entities.xml");
            let meta = {
                let e = z.by_name("entities.xml").map_err(zerr)?;
                collect_meta(BufReader::with_capacity(1 << 20, e), &entities)?
            };
            {
                let e = z.by_name("entities.xml").map_err(zerr)?;
                scan_bodies(
                    BufReader::with_capacity(1 << 20, e),
                    &entities,
                    &meta,
                    scanner,
                    collector,
                )?;
            }
            let mut batch = Vec::new();
            for i in 0..z.len() {
                let mut f = match z.by_index(i) {
                    Ok(f) => f,
                    Err(e) => {
                        warnings.push(format!("{}: entry {i}: {e}", p.display()));
                        continue;
                    }
                };
                let name = f.name().to_owned();
                if !f.is_file() || !name.starts_with("attachments/") {
                    continue;
                }
                if f.size() > MAX_ATTACHMENT {
                    warnings.push(format!(
                        "{}!{name}: {} bytes, over the attachment limit; skipped",
                        p.display(),
                        f.size()
                    ));
                    continue;
                }
                let mut data = Vec::new();
                if let Err(e) = f.by_ref().take(MAX_ATTACHMENT).read_to_end(&mut data) {
                    warnings.push(format!("{}!{name}: {e}", p.display()));
                    continue;
                }
                scan_attachment(scanner, &meta, &name, &data, &mut batch);
                if batch.len() >= 64 {
                    flush(scanner, &mut batch, collector);
                }
            }
            flush(scanner, &mut batch, collector);
        }
    }
    Ok(warnings)
}

fn read_capped(p: &Path) -> Result<Vec<u8>, String> {
    let len = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    if len > MAX_ATTACHMENT {
        return Err(format!(
            "{}: {len} bytes, over the attachment limit; skipped",
            p.display()
        ));
    }
    std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))
}
