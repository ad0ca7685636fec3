//! Space exports: the real Confluence 8.5.6 entities.xml, and a synthetic export zip (built
//! here) with page history, a comment, a blog post and attachments (text, docx, xlsx, drawio).

use confwatch_event::finding::{ContentType, Severity};
use confwatch_scan::input::export::{ExportSource, detect, scan_export};
use confwatch_scan::{Collector, IgnoreList, Report, ScanOptions, Scanner};
use std::io::Write;
use std::path::{Path, PathBuf};

const REAL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/real/xwiki-contrib-confluence/confluence8.5.6/entities.xml"
);

fn scan(src: &ExportSource) -> (Report, Vec<String>) {
    let s = Scanner::new(ScanOptions::default()).unwrap();
    let mut c = Collector::new(ScanOptions::default(), IgnoreList::default());
    let w = scan_export(&s, src, &mut c).unwrap();
    (c.finish(), w)
}

#[test]
fn real_entities_xml_scans_clean_with_space_profile() {
    let src = detect(Path::new(REAL)).expect("entities.xml is recognised");
    let (r, w) = scan(&src);
    assert!(w.is_empty(), "{w:?}");
    // 9 BodyContent objects, one of them empty.
    assert_eq!(r.documents, 8);
    assert_eq!(r.malformed, 0);
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    let ht = r
        .spaces
        .iter()
        .find(|s| s.space_key == "HT")
        .expect("space HT");
    assert_eq!(ht.space_name.as_deref(), Some("Home Test"));
    // Pages 98361, 98371, 98380, 98381, 1048578, comments 98370, 1048579, space description
    assert!(ht.pages >= 6, "{ht:?}");
}

#[test]
fn real_entities_xml_with_planted_secret_resolves_page_space_author() {
    let text = std::fs::read_to_string(REAL).unwrap();
    let planted = text.replacen(
        "<![CDATA[Some content]]>",
        "<![CDATA[<p>Some content</p><table><tbody><tr><th>User</th><th>Password</th></tr><tr><td>admin</td><td>Winter2024!</td></tr></tbody></table>]]>",
        1,
    );
    assert_ne!(planted, text);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("entities.xml"), planted).unwrap();
    let src = detect(dir.path()).expect("folder export is recognised");
    assert!(matches!(src, ExportSource::Folder(_)));
    let (r, _) = scan(&src);
    assert_eq!(r.findings.len(), 1, "{:#?}", r.findings);
    let f = &r.findings[0];
    assert_eq!(f.rule_id, "table-password-column");
    assert!(!f.snippet.contains("Winter2024!"));
    let l = &f.locations[0];
    assert_eq!(l.space_key.as_deref(), Some("HT"));
    assert_eq!(l.page_id.as_deref(), Some("98371"));
    assert_eq!(l.title.as_deref(), Some("2024-04-22 Meeting notes"));
    assert_eq!(l.version, Some(1));
    assert_eq!(l.author.as_deref(), Some("admin"));
    assert_eq!(l.content_type, Some(ContentType::Page));
    assert_eq!(
        l.context.as_deref(),
        Some("table:r2c2[Password] (user admin)")
    );
    assert!(l.offset.is_some());
    let ht = &r.spaces[0];
    assert_eq!(ht.space_key, "HT");
    assert_eq!(ht.secrets, 1);
    assert!(ht.sensitivity >= Severity::High);
}

fn obj_page(id: u64, title: &str, version: u32, status: &str, original: Option<u64>) -> String {
    let orig = original
        .map(|o| format!("<property name=\"originalVersion\" class=\"Page\" package=\"com.atlassian.confluence.pages\"><id name=\"id\">{o}</id></property>"))
        .unwrap_or_default();
    format!(
        "<object class=\"Page\" package=\"com.atlassian.confluence.pages\"><id name=\"id\">{id}</id><property name=\"title\"><![CDATA[{title}]]></property><property name=\"version\">{version}</property><property name=\"contentStatus\">{status}</property><property name=\"lastModificationDate\">2025-01-0{version} 10:00:00.000</property><property name=\"lastModifier\" class=\"ConfluenceUserImpl\" package=\"com.atlassian.confluence.user\"><id name=\"key\">u1</id></property><property name=\"space\" class=\"Space\" package=\"com.atlassian.confluence.spaces\"><id name=\"id\">7</id></property>{orig}<collection name=\"contentProperties\" class=\"java.util.Collection\"><element class=\"ContentProperty\" package=\"com.atlassian.confluence.content\"><id name=\"id\">1</id></element></collection></object>\n"
    )
}

fn obj_body(id: u64, class: &str, content: u64, body: &str) -> String {
    format!(
        "<object class=\"BodyContent\" package=\"com.atlassian.confluence.core\"><id name=\"id\">{id}</id><property name=\"body\"><![CDATA[{body}]]></property><property name=\"bodyType\">2</property><property name=\"content\" class=\"{class}\" package=\"com.atlassian.confluence.pages\"><id name=\"id\">{content}</id></property></object>\n"
    )
}

fn zip_bytes(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (n, d) in files {
        w.start_file(*n, opts).unwrap();
        w.write_all(d).unwrap();
    }
    w.finish().unwrap().into_inner()
}

const GH_LIKE: &str = "glpat-Zq8rT2mXv0LpK7cN4bWy";

fn synthetic_export() -> (tempfile::TempDir, PathBuf) {
    let mut e = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<hibernate-generic datetime=\"'2025-03-07 20:18:37.247'\">\n",
    );
    e.push_str("<object class=\"Space\" package=\"com.atlassian.confluence.spaces\"><id name=\"id\">7</id><property name=\"name\"><![CDATA[Operations]]></property><property name=\"key\"><![CDATA[OPS]]></property></object>\n");
    e.push_str("<object class=\"ConfluenceUserImpl\" package=\"com.atlassian.confluence.user\"><id name=\"key\">u1</id><property name=\"name\"><![CDATA[jsmith]]></property></object>\n");
    // Bodies first: the reader must not depend on object order.
    let secret_line = format!("<p>CI token: {GH_LIKE}</p>");
    e.push_str(&obj_body(
        501,
        "Page",
        100,
        &format!("<p>v3 cleaned up</p>{secret_line}"),
    ));
    e.push_str(&obj_body(
        502,
        "Page",
        101,
        &format!("<p>v1</p>{secret_line}"),
    ));
    e.push_str(&obj_body(
        503,
        "Page",
        102,
        &format!("<p>v2</p>{secret_line}"),
    ));
    e.push_str(&obj_page(100, "Build server runbook", 3, "current", None));
    e.push_str(&obj_page(
        101,
        "Build server runbook",
        1,
        "historical",
        Some(100),
    ));
    e.push_str(&obj_page(
        102,
        "Build server runbook",
        2,
        "historical",
        Some(100),
    ));
    e.push_str("<object class=\"Comment\" package=\"com.atlassian.confluence.pages\"><id name=\"id\">300</id><property name=\"version\">1</property><property name=\"containerContent\" class=\"Page\" package=\"com.atlassian.confluence.pages\"><id name=\"id\">100</id></property></object>\n");
    e.push_str(&obj_body(
        504,
        "Comment",
        300,
        "<p>Das Passwort lautet: Geheim#4711</p>",
    ));
    e.push_str("<object class=\"BlogPost\" package=\"com.atlassian.confluence.pages\"><id name=\"id\">400</id><property name=\"title\"><![CDATA[Release notes]]></property><property name=\"version\">1</property><property name=\"space\" class=\"Space\" package=\"com.atlassian.confluence.spaces\"><id name=\"id\">7</id></property></object>\n");
    e.push_str(&obj_body(
        505,
        "BlogPost",
        400,
        "<p>jdbc:postgresql://db01/app?user=app&amp;password=Pg-Rel3ase!</p>",
    ));
    for (id, title) in [
        (601, "creds.txt"),
        (602, "setup.docx"),
        (603, "accounts.xlsx"),
        (604, "network.drawio"),
    ] {
        e.push_str(&format!("<object class=\"Attachment\" package=\"com.atlassian.confluence.pages\"><id name=\"id\">{id}</id><property name=\"title\"><![CDATA[{title}]]></property><property name=\"version\">1</property><property name=\"containerContent\" class=\"Page\" package=\"com.atlassian.confluence.pages\"><id name=\"id\">100</id></property><property name=\"space\" class=\"Space\" package=\"com.atlassian.confluence.spaces\"><id name=\"id\">7</id></property></object>\n"));
    }
    e.push_str("</hibernate-generic>\n");

    let docx = zip_bytes(&[(
        "word/document.xml",
        br#"<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>Service account</w:t></w:r></w:p><w:p><w:r><w:t>password: Sv</w:t></w:r><w:r><w:t>c-Acc0unt!</w:t></w:r></w:p></w:body></w:document>"#,
    )]);
    let xlsx = zip_bytes(&[
        (
            "xl/sharedStrings.xml",
            br#"<sst><si><t>Host</t></si><si><t>User</t></si><si><t>Password</t></si><si><t>db01</t></si><si><t>sa</t></si><si><t>Xl$x-Pass9</t></si></sst>"#,
        ),
        (
            "xl/worksheets/sheet1.xml",
            br#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row><row r="2"><c r="A2" t="s"><v>3</v></c><c r="B2" t="s"><v>4</v></c><c r="C2" t="s"><v>5</v></c></row></sheetData></worksheet>"#,
        ),
    ]);
    let drawio = br#"<mxfile><diagram name="net"><mxGraphModel><root><mxCell id="2" value="fileserver \\fs01.corp\finance$" /></root></mxGraphModel></diagram></mxfile>"#;
    let zip = zip_bytes(&[
        ("entities.xml", e.as_bytes()),
        (
            "exportDescriptor.properties",
            b"exportType=space\nspaceKey=OPS\n",
        ),
        ("attachments/100/601/1", b"root password: R00t-Att4ch!\n"),
        ("attachments/100/602/1", &docx),
        ("attachments/100/603/1", &xlsx),
        ("attachments/100/604/1", drawio),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("OPS-export.zip");
    std::fs::write(&p, zip).unwrap();
    (dir, p)
}

#[test]
fn synthetic_export_zip_history_comments_blog_attachments() {
    let (_d, p) = synthetic_export();
    let src = detect(&p).expect("zip export recognised");
    assert!(matches!(src, ExportSource::Zip(_)));
    let (r, w) = scan(&src);
    assert!(w.is_empty(), "{w:?}");
    let by_rule = |id: &str| {
        r.findings
            .iter()
            .filter(|f| f.rule_id == id)
            .collect::<Vec<_>>()
    };

    // One token in three versions: one finding, three locations, same page id, versions 1..3.
    let gl = by_rule("gitlab-pat");
    assert_eq!(gl.len(), 1, "{:#?}", r.findings);
    let mut versions: Vec<u32> = gl[0].locations.iter().filter_map(|l| l.version).collect();
    versions.sort();
    assert_eq!(versions, vec![1, 2, 3]);
    assert!(
        gl[0]
            .locations
            .iter()
            .all(|l| l.page_id.as_deref() == Some("100"))
    );
    assert!(
        gl[0]
            .locations
            .iter()
            .all(|l| l.author.as_deref() == Some("jsmith"))
    );
    assert_eq!(gl[0].occurrences, 3);

    // Comment (German prose), blog post (JDBC with &amp;).
    let pw = r
        .findings
        .iter()
        .find(|f| f.locations[0].content_type == Some(ContentType::Comment))
        .expect("comment finding");
    assert_eq!(pw.rule_id, "generic-password");
    assert_eq!(
        pw.locations[0].title.as_deref(),
        Some("Comment on Build server runbook")
    );
    let jdbc = by_rule("jdbc-url-password");
    assert_eq!(jdbc.len(), 1);
    assert_eq!(
        jdbc[0].locations[0].content_type,
        Some(ContentType::BlogPost)
    );

    // Attachments: text, docx (split runs joined), xlsx (password column), drawio (UNC).
    let att: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.locations[0].content_type == Some(ContentType::Attachment))
        .map(|f| {
            (
                f.rule_id.as_str(),
                f.locations[0].attachment.clone().unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        att.iter()
            .any(|(r, a)| *r == "generic-password" && a == "creds.txt"),
        "{att:?}"
    );
    assert!(att.iter().any(|(r, a)| *r == "generic-password" && a.starts_with("setup.docx!word/document.xml")), "{att:?}");
    assert!(
        att.iter().any(|(r, a)| *r == "table-password-column"
            && a.starts_with("accounts.xlsx!xl/worksheets/sheet1.xml")),
        "{att:?}"
    );
    assert!(
        att.iter()
            .any(|(r, a)| *r == "unc-path" && a == "network.drawio"),
        "{att:?}"
    );

    let ops = r.spaces.iter().find(|s| s.space_key == "OPS").unwrap();
    assert_eq!(ops.space_name.as_deref(), Some("Operations"));
    assert!(ops.secrets >= 6, "{ops:?}");
    assert!(
        ops.categories
            .contains_key(&confwatch_event::finding::Category::Credentials)
    );
}

#[test]
fn unzipped_export_folder_scans_attachments_too() {
    let (_d, p) = synthetic_export();
    let dir = tempfile::tempdir().unwrap();
    let mut z = zip::ZipArchive::new(std::fs::File::open(&p).unwrap()).unwrap();
    z.extract(dir.path()).unwrap();
    let src = detect(dir.path()).unwrap();
    let (r, _) = scan(&src);
    assert!(r.findings.iter().any(|f| f.rule_id == "unc-path"));
    assert!(r.findings.iter().any(|f| f.rule_id == "gitlab-pat"));
}
