//! The classifier's route table as tests: each row is a real-shaped request and everything
//! the classifier must derive from it. Read it as documentation of `docs/url-classes.md`.

use super::{classify, classify_into};
use confwatch_event::Action::{self, *};
use confwatch_event::Outcome::{self, Failure, Success};
use confwatch_event::{Event, RestRead, SourceFormat};
use proptest::prelude::*;

/// Expected REST fields: (body_expanded, limit, start, api_version).
type R = (bool, Option<u32>, Option<u64>, u8);

struct Case {
    m: Option<&'static str>,
    url: &'static str,
    st: Option<u16>,
    act: Action,
    /// `None`: expect `Outcome::from_http_status(st)` (Unknown without a status).
    out: Option<Outcome>,
    key: Option<&'static str>,
    id: Option<u64>,
    title: Option<&'static str>,
    att: Option<&'static str>,
    ver: Option<u32>,
    q: Option<&'static str>,
    rest: Option<R>,
}

const C: Case = Case {
    m: Some("GET"),
    url: "",
    st: Some(200),
    act: Other,
    out: None,
    key: None,
    id: None,
    title: None,
    att: None,
    ver: None,
    q: None,
    rest: None,
};

const POST: Option<&str> = Some("POST");
const V1: R = (false, None, None, 1);
const V2: R = (false, None, None, 2);

#[rustfmt::skip]
const CASES: &[Case] = &[
    // --- real sample lines (testdata/real/atlassian-docs/conf_access_log.example.log) ------
    Case { url: "/index.action", act: Dashboard, out: Some(Success), ..C },
    Case { url: "/images/icons/profilepics/default.svg", act: Static, ..C },
    Case { url: "/rest/quickreload/latest/2129924?since=1608256850024&_=1608256758069", act: Polling, ..C },

    // --- page, blog and space views ----------------------------------------------------------
    Case { url: "/display/DS/Welcome+to+Confluence", act: PageView, key: Some("DS"), title: Some("Welcome to Confluence"), ..C },
    Case { url: "/display/DS", act: SpaceView, key: Some("DS"), ..C },
    Case { url: "/display/DS/", act: SpaceView, key: Some("DS"), ..C },
    Case { url: "/display/DS/2024/01/31/Quarterly+Results", act: BlogView, key: Some("DS"), title: Some("Quarterly Results"), ..C },
    Case { url: "/display/DS/2024/01/31", act: BlogView, key: Some("DS"), ..C },
    Case { url: "/display/~jsmith", act: PeopleDirectory, key: Some("~jsmith"), ..C },
    Case { url: "/display/%7Ejsmith", act: PeopleDirectory, key: Some("~jsmith"), ..C },
    Case { url: "/display/~jsmith/My+Notes", act: PageView, key: Some("~jsmith"), title: Some("My Notes"), ..C },
    Case { url: "/display/HR/Salary%20Bands%3A%202024", act: PageView, key: Some("HR"), title: Some("Salary Bands: 2024"), ..C },
    Case { url: "/pages/viewpage.action?pageId=2129924", act: PageView, id: Some(2129924), ..C },
    Case { url: "/pages/viewpage.action?spaceKey=HR&title=Salary+Bands%202024", act: PageView, key: Some("HR"), title: Some("Salary Bands 2024"), ..C },
    Case { url: "/pages/viewpage.action?pageId=65601&pageVersion=3", act: PageView, id: Some(65601), ver: Some(3), ..C },
    Case { url: "/pages/viewpage.action?pageId=12x", act: PageView, ..C },
    Case { url: "/pages/viewpage.action;jsessionid=0A1B2C?pageId=9", act: PageView, id: Some(9), ..C },
    Case { url: "/pages/viewpage.action?pageId=9#comment-4", act: PageView, id: Some(9), ..C },
    Case { url: "/spaces/ENG/pages/123456/Release+Notes", act: PageView, key: Some("ENG"), id: Some(123456), title: Some("Release Notes"), ..C },
    Case { url: "/wiki/spaces/ENG/pages/98307/Runbook+Prod", act: PageView, key: Some("ENG"), id: Some(98307), title: Some("Runbook Prod"), ..C },
    Case { url: "/wiki/spaces/ENG/pages/98307", act: PageView, key: Some("ENG"), id: Some(98307), ..C },
    Case { url: "/wiki/spaces/MKT/blog/2024/01/31/1234567/Launch+Plan", act: BlogView, key: Some("MKT"), id: Some(1234567), title: Some("Launch Plan"), ..C },
    Case { url: "/x/AbCd", act: PageView, ..C },
    Case { url: "/wiki/x/AbCd", act: PageView, ..C },
    Case { url: "/spaces/viewspace.action?key=HR", act: SpaceView, key: Some("HR"), ..C },
    Case { url: "/spaces/HR/overview", act: SpaceView, key: Some("HR"), ..C },
    Case { url: "/wiki/spaces/HR/overview?homepageId=123", act: SpaceView, key: Some("HR"), ..C },
    Case { url: "/wiki/spaces/HR", act: SpaceView, key: Some("HR"), ..C },
    Case { url: "/pages/viewrecentblogposts.action?key=MKT", act: BlogView, key: Some("MKT"), ..C },
    Case { url: "/collector/pages.action?key=ENG", act: SpacePageList, key: Some("ENG"), ..C },
    Case { url: "/pages/listpages-dirview.action?key=ENG", act: SpacePageList, key: Some("ENG"), ..C },
    Case { url: "/wiki/spaces/ENG/pages", act: SpacePageList, key: Some("ENG"), ..C },
    Case { url: "/plugins/pagetree/naturalchildren.action?decorator=none&excerpt=false&sort=position&hasRoot=true&pageId=123&treeId=0", act: SpacePageList, id: Some(123), ..C },
    Case { url: "/spacedirectory/view.action", act: SpaceDirectory, ..C },
    Case { url: "/wiki/spaces", act: SpaceDirectory, ..C },

    // --- context path and absolute URLs (AccessLogFilter) -----------------------------------
    Case { url: "/confluence/display/DS/Welcome", act: PageView, key: Some("DS"), title: Some("Welcome"), ..C },
    Case { url: "/confluence/pages/viewpage.action?pageId=42", act: PageView, id: Some(42), ..C },
    Case { url: "/confluence/download/attachments/42/a.docx", act: AttachmentDownload, id: Some(42), att: Some("a.docx"), ..C },
    Case { url: "/kb/rest/api/content/42", act: RestContentRead, id: Some(42), rest: Some(V1), ..C },
    Case { m: None, url: "https://pandapedia.example.com/display/HOME/home", st: None, act: PageView, key: Some("HOME"), title: Some("home"), ..C },
    Case { m: None, url: "https://wiki.example.com:8443/confluence/pages/viewpage.action?pageId=7", st: None, act: PageView, id: Some(7), ..C },
    Case { url: "HTTP://wiki.example.com", act: Dashboard, ..C },

    // --- source, history, diffs, info ----------------------------------------------------------
    Case { url: "/plugins/viewsource/viewpagesrc.action?pageId=2129924", act: PageSource, id: Some(2129924), ..C },
    Case { url: "/pages/viewpagesrc.action?pageId=5", act: PageSource, id: Some(5), ..C },
    Case { url: "/plugins/viewstorage/viewpagestorage.action?pageId=5", act: PageSource, id: Some(5), ..C },
    Case { url: "/pages/viewpreviousversions.action?pageId=5", act: PageHistory, id: Some(5), ..C },
    Case { url: "/spaces/ENG/history/123", act: PageHistory, key: Some("ENG"), id: Some(123), ..C },
    Case { url: "/wiki/spaces/ENG/history/123", act: PageHistory, key: Some("ENG"), id: Some(123), ..C },
    Case { url: "/pages/diffpagesbyversion.action?pageId=5&selectedPageVersions=1&selectedPageVersions=2", act: PageDiff, id: Some(5), ver: Some(2), ..C },
    Case { url: "/pages/diffpages.action?pageId=5&originalId=4", act: PageDiff, id: Some(5), ..C },
    Case { url: "/pages/viewinfo.action?pageId=5", act: PageInfo, id: Some(5), ..C },

    // --- attachments ----------------------------------------------------------------------------
    Case { url: "/download/attachments/2129924/file%20name.pdf?version=1&modificationDate=1608256758069&api=v2", act: AttachmentDownload, id: Some(2129924), att: Some("file name.pdf"), ver: Some(1), ..C },
    Case { url: "/wiki/download/attachments/98307/Budget+2024.xlsx?version=3", act: AttachmentDownload, id: Some(98307), att: Some("Budget+2024.xlsx"), ver: Some(3), ..C },
    Case { url: "/download/attachments/123/diagram.png?version=1&modificationDate=1&api=v2", act: AttachmentDownload, id: Some(123), att: Some("diagram.png"), ver: Some(1), ..C },
    Case { url: "/download/attachments/123/r%C3%A9sum%C3%A9.pdf", st: Some(404), act: AttachmentDownload, id: Some(123), att: Some("résumé.pdf"), ..C },
    Case { url: "/download/thumbnails/123/diagram.png?version=1", act: Static, ..C },
    Case { url: "/pages/viewpageattachments.action?pageId=123", act: AttachmentList, id: Some(123), ..C },
    Case { url: "/download/all_attachments?pageId=123", act: AttachmentDownload, id: Some(123), ..C },
    Case { url: "/spaces/listattachmentsforspace.action?key=HR", act: AttachmentList, key: Some("HR"), ..C },

    // --- exports ----------------------------------------------------------------------------------
    Case { url: "/spaces/flyingpdf/pdfpageexport.action?pageId=123", act: PageExportPdf, id: Some(123), ..C },
    Case { url: "/exportword?pageId=123", act: PageExportWord, id: Some(123), ..C },
    Case { url: "/wiki/exportword?pageId=123", act: PageExportWord, id: Some(123), ..C },
    Case { url: "/spaces/exportspacewelcome.action?key=HR", act: SpaceExportStart, key: Some("HR"), ..C },
    Case { url: "/spaces/exportspacehtml.action?key=HR", act: SpaceExportStart, key: Some("HR"), ..C },
    Case { url: "/spaces/exportspacexml.action?key=HR", act: SpaceExportStart, key: Some("HR"), ..C },
    Case { url: "/spaces/exportspacecsv.action?key=HR", act: SpaceExportStart, key: Some("HR"), ..C },
    Case { url: "/spaces/flyingpdf/flyingpdf.action?key=HR", act: SpaceExportStart, key: Some("HR"), ..C },
    Case { m: POST, url: "/spaces/doexportspace.action?key=HR", act: SpaceExportRun, key: Some("HR"), ..C },
    Case { m: POST, url: "/spaces/flyingpdf/doflyingpdf.action?key=HR", act: SpaceExportRun, key: Some("HR"), ..C },
    Case { url: "/download/temp/Confluence-space-export-103022-101.html.zip", act: SpaceExportDownload, att: Some("Confluence-space-export-103022-101.html.zip"), ..C },
    Case { url: "/download/temp/pdfexport-20240131-310124-1035-22/HR-v1-310124-1035-23.pdf?contentType=application/pdf", act: SpaceExportDownload, att: Some("HR-v1-310124-1035-23.pdf"), ..C },
    Case { url: "/download/export/HR-export.xml.zip", act: SpaceExportDownload, att: Some("HR-export.xml.zip"), ..C },
    Case { url: "/rest/api/longtask/3c9f0e2a-1b2c", act: Polling, rest: Some(V1), ..C },
    Case { url: "/admin/backup.action", act: SiteExport, ..C },
    Case { m: POST, url: "/admin/dobackup.action", st: Some(302), act: SiteExport, ..C },

    // --- search -----------------------------------------------------------------------------------
    Case { url: "/dosearchsite.action?queryString=pass%20word&where=conf_all", act: SiteSearch, q: Some("pass word"), ..C },
    Case { url: "/dosearchsite.action?queryString=aws+secret&where=HR", act: SiteSearch, key: Some("HR"), q: Some("aws secret"), ..C },
    Case { url: "/search/searchsite.action?queryString=vpn", act: SiteSearch, q: Some("vpn"), ..C },
    Case { url: "/wiki/search?text=aws+keys", act: SiteSearch, q: Some("aws keys"), ..C },
    Case { url: "/dosearchsite.action?queryString=", act: SiteSearch, ..C },
    Case { url: "/dosearchsite.action?cql=siteSearch+~+%22aws%20key%22+and+space+%3D+%22HR%22", act: SiteSearch, q: Some("aws key"), ..C },
    Case { url: "/rest/api/search?cql=siteSearch+~+%22password%22&limit=50", act: RestSearch, q: Some("password"), rest: Some((false, Some(50), None, 1)), ..C },
    Case { url: "/rest/api/content/search?cql=siteSearch+~+%22password%22", act: RestSearch, q: Some("password"), rest: Some(V1), ..C },
    Case { url: "/rest/api/content/search?cql=space%3DHR%20and%20type%3Dpage&expand=body.storage&limit=100&start=100", act: RestSearch, q: Some("space=HR and type=page"), rest: Some((true, Some(100), Some(100), 1)), ..C },
    Case { url: "/rest/api/search?cql=text~%22api%20token%22%20and%20title~%22prod%22", act: RestSearch, q: Some("api token prod"), rest: Some(V1), ..C },
    Case { url: "/wiki/rest/api/search?cql=type%3Dpage&limit=25", act: RestSearch, q: Some("type=page"), rest: Some((false, Some(25), None, 1)), ..C },
    Case { url: "/rest/searchv3/1.0/search?queryString=secret&type=page", act: RestSearch, q: Some("secret"), ..C },
    Case { url: "/rest/quicknav/1/search?query=passw", act: QuickSearch, q: Some("passw"), ..C },
    Case { url: "/rest/prototype/1/search?query=pass", act: QuickSearch, q: Some("pass"), ..C },
    Case { url: "/rest/prototype/1/search/site.json?query=pass", act: RestSearch, q: Some("pass"), ..C },
    Case { url: "/rest/api/search/user?cql=user.fullname~jo", act: RestUserRead, rest: Some(V1), ..C },

    // --- REST v1 reads ------------------------------------------------------------------------
    Case { url: "/rest/api/content/123?expand=body.storage,version", act: RestContentRead, id: Some(123), rest: Some((true, None, None, 1)), ..C },
    Case { url: "/rest/api/content/123", act: RestContentRead, id: Some(123), rest: Some(V1), ..C },
    Case { url: "/rest/api/content/123?expand=body.anonymous_export_view", act: RestContentRead, id: Some(123), rest: Some((true, None, None, 1)), ..C },
    Case { url: "/rest/api/content/123?expand=space%2Cbody.atlas_doc_format", act: RestContentRead, id: Some(123), rest: Some((true, None, None, 1)), ..C },
    Case { url: "/rest/api/content/123?status=historical&version=2", act: RestContentRead, id: Some(123), ver: Some(2), rest: Some(V1), ..C },
    Case { url: "/rest/api/content/abc", act: RestContentRead, rest: Some(V1), ..C },
    Case { url: "/rest/api/content?spaceKey=HR&expand=body.storage&limit=100&start=200", act: RestContentList, key: Some("HR"), rest: Some((true, Some(100), Some(200), 1)), ..C },
    Case { url: "/rest/api/content?limit=99999999999", act: RestContentList, rest: Some((false, Some(u32::MAX), None, 1)), ..C },
    Case { url: "/rest/api/content/123/child/page?expand=body.view", act: RestContentList, id: Some(123), rest: Some((true, None, None, 1)), ..C },
    Case { url: "/rest/api/content/123/descendant/page?limit=1000", act: RestContentList, id: Some(123), rest: Some((false, Some(1000), None, 1)), ..C },
    Case { url: "/rest/api/content/scan?spaceKey=HR&limit=250&cursor=raNDoMsTRiNg", act: RestContentList, key: Some("HR"), rest: Some((false, Some(250), None, 1)), ..C },
    Case { url: "/rest/api/content/123/child/attachment", act: RestAttachmentList, id: Some(123), rest: Some(V1), ..C },
    Case { url: "/wiki/rest/api/content/123/child/attachment/att456/download", act: AttachmentDownload, id: Some(123), rest: Some(V1), ..C },
    Case { url: "/rest/api/content/123/history", act: RestContentRead, id: Some(123), rest: Some(V1), ..C },
    Case { url: "/rest/api/content/123/version/4", act: RestContentRead, id: Some(123), ver: Some(4), rest: Some(V1), ..C },
    Case { url: "/rest/api/space", act: RestSpaceRead, rest: Some(V1), ..C },
    Case { url: "/rest/api/space/HR", act: RestSpaceRead, key: Some("HR"), rest: Some(V1), ..C },
    Case { url: "/rest/api/space/~jsmith", act: RestSpaceRead, key: Some("~jsmith"), rest: Some(V1), ..C },
    Case { url: "/rest/api/space/HR/content?expand=body.export_view", act: RestContentList, key: Some("HR"), rest: Some((true, None, None, 1)), ..C },
    Case { url: "/rest/api/user?username=admin", act: RestUserRead, rest: Some(V1), ..C },
    Case { url: "/rest/api/group", act: RestUserRead, rest: Some(V1), ..C },
    Case { url: "/rest/api/group/confluence-administrators/member?limit=200", act: RestUserRead, rest: Some((false, Some(200), None, 1)), ..C },
    Case { url: "/rest/api/audit?startDate=1", act: AuditLogAccess, rest: Some(V1), ..C },

    // --- REST writes ---------------------------------------------------------------------------
    Case { m: Some("PUT"), url: "/rest/api/content/123", act: ContentEdit, id: Some(123), rest: Some(V1), ..C },
    Case { m: POST, url: "/rest/api/content", act: ContentEdit, rest: Some(V1), ..C },
    Case { m: Some("DELETE"), url: "/rest/api/content/123", st: Some(204), act: ContentEdit, id: Some(123), rest: Some(V1), ..C },
    Case { m: POST, url: "/rest/api/content/123/child/attachment", act: AttachmentUpload, id: Some(123), rest: Some(V1), ..C },
    Case { m: POST, url: "/rest/api/content/123/child/attachment/456/data", act: AttachmentUpload, id: Some(123), rest: Some(V1), ..C },
    Case { m: Some("PUT"), url: "/rest/api/content/123/restriction", act: PermissionChange, id: Some(123), rest: Some(V1), ..C },

    // --- REST v2 (Cloud) -----------------------------------------------------------------------
    Case { url: "/wiki/api/v2/pages/123?body-format=storage", act: RestV2Read, id: Some(123), rest: Some((true, None, None, 2)), ..C },
    Case { url: "/wiki/api/v2/spaces/99/pages?limit=250&body-format=atlas_doc_format&cursor=eyJpZCI6IjEifQ", act: RestV2List, rest: Some((true, Some(250), Some(1), 2)), ..C },
    Case { url: "/wiki/api/v2/blogposts", act: RestV2List, rest: Some(V2), ..C },
    Case { url: "/api/v2/blogposts/77?body-format=view", act: RestV2Read, id: Some(77), rest: Some((true, None, None, 2)), ..C },
    Case { url: "/wiki/api/v2/pages?space-id=99&limit=50", act: RestV2List, rest: Some((false, Some(50), None, 2)), ..C },
    Case { url: "/wiki/api/v2/pages/123/children", act: RestV2List, id: Some(123), rest: Some(V2), ..C },
    Case { url: "/wiki/api/v2/pages/123/attachments", act: RestAttachmentList, id: Some(123), rest: Some(V2), ..C },
    Case { url: "/wiki/api/v2/spaces", act: RestSpaceRead, rest: Some(V2), ..C },
    Case { m: Some("PUT"), url: "/wiki/api/v2/pages/123", act: ContentEdit, id: Some(123), rest: Some(V2), ..C },

    // --- login, logout, websudo, SSO ---------------------------------------------------------
    Case { m: POST, url: "/dologin.action", st: Some(302), act: Login, out: Some(Success), ..C },
    Case { m: POST, url: "/dologin.action", st: Some(303), act: Login, out: Some(Success), ..C },
    Case { m: POST, url: "/dologin.action", st: Some(200), act: Login, out: Some(Failure), ..C },
    Case { m: POST, url: "/dologin.action", st: Some(401), act: Login, out: Some(Failure), ..C },
    Case { m: POST, url: "/confluence/dologin.action", st: Some(302), act: Login, out: Some(Success), ..C },
    Case { m: POST, url: "/dologin.action", st: None, act: Login, out: Some(Outcome::Unknown), ..C },
    Case { url: "/dologin.action", act: LoginPage, ..C },
    Case { url: "/login.action?os_destination=%2Findex.action&permissionViolation=true", act: LoginPage, out: Some(Success), ..C },
    Case { url: "/logout.action", st: Some(302), act: Logout, ..C },
    Case { url: "/authenticate.action?destination=/admin/viewgeneralconfig.action", act: Websudo, ..C },
    Case { m: POST, url: "/doauthenticate.action", st: Some(302), act: Websudo, out: Some(Success), ..C },
    Case { m: POST, url: "/doauthenticate.action", st: Some(200), act: Websudo, out: Some(Failure), ..C },
    Case { m: POST, url: "/rest/gadget/1.0/login", st: Some(200), act: Login, out: Some(Outcome::Unknown), ..C },
    Case { m: POST, url: "/rest/gadget/1.0/login", st: Some(401), act: Login, out: Some(Failure), ..C },
    Case { url: "/plugins/servlet/samlsso?redirectTo=%2F", st: Some(302), act: LoginPage, out: Some(Outcome::Unknown), ..C },
    Case { m: POST, url: "/plugins/servlet/samlsso", st: Some(302), act: Login, out: Some(Outcome::Unknown), ..C },
    Case { m: POST, url: "/plugins/servlet/samlconsumer", st: Some(302), act: Login, out: Some(Outcome::Unknown), ..C },

    // --- administration, permissions, apps ---------------------------------------------------
    Case { url: "/admin/viewgeneralconfig.action", act: AdminConsole, ..C },
    Case { m: POST, url: "/admin/doeditgeneralconfig.action", st: Some(302), act: ConfigChange, ..C },
    Case { url: "/admin/users/browseusers.action", act: AdminConsole, ..C },
    Case { m: POST, url: "/admin/users/docreateuser.action", act: UserManagement, ..C },
    Case { url: "/admin/permissions/globalpermissions.action", act: AdminConsole, ..C },
    Case { m: POST, url: "/admin/permissions/doeditglobalpermissions.action", act: PermissionChange, ..C },
    Case { m: None, url: "/admin/permissions/doeditglobalpermissions.action", st: None, act: PermissionChange, ..C },
    Case { url: "/spaces/spacepermissions.action?key=HR", act: AdminConsole, key: Some("HR"), ..C },
    Case { url: "/spaces/editspacepermissions.action?key=HR", act: AdminConsole, key: Some("HR"), ..C },
    Case { m: POST, url: "/spaces/doeditspacepermissions.action?key=HR", act: PermissionChange, key: Some("HR"), ..C },
    Case { url: "/plugins/servlet/upm", act: AdminConsole, ..C },
    Case { m: POST, url: "/plugins/servlet/upm/upload?token=1", act: AppChange, ..C },
    Case { m: POST, url: "/rest/plugins/1.0/?token=-123", act: AppChange, ..C },
    Case { url: "/rest/plugins/1.0/installed-marketplace", act: AdminConsole, ..C },
    Case { url: "/plugins/servlet/audit", act: AuditLogAccess, ..C },
    Case { url: "/rest/auditing/1.0/events?limit=1000", act: AuditLogAccess, ..C },

    // --- exploitation indicators ----------------------------------------------------------------
    Case { url: "/setup/setupadministrator.action", act: ExploitAttempt, ..C },
    Case { m: POST, url: "/json/setup-restore.action?synchronous=true", act: ExploitAttempt, ..C },
    Case { url: "/server-info.action?bootstrapStatusProvider.applicationConfig.setupComplete=false", act: ExploitAttempt, ..C },
    Case { url: "/server-info.action", act: Other, ..C },
    Case { m: POST, url: "/template/aui/text-inline.vm", act: ExploitAttempt, ..C },
    Case { url: "/%24%7B%40java.lang.Runtime%40getRuntime%28%29.exec%28%22id%22%29%7D/", st: Some(302), act: ExploitAttempt, ..C },
    Case { url: "/s/..;/WEB-INF/web.xml", st: Some(404), act: ExploitAttempt, ..C },
    Case { url: "/${(#a=@org.apache.commons.io.IOUtils@toString(@java.lang.Runtime@getRuntime().exec(\"id\").getInputStream()))}/", st: Some(302), act: ExploitAttempt, ..C },
    Case { url: "/download/attachments/1/../../../etc/passwd", st: Some(400), act: ExploitAttempt, ..C },
    Case { url: "/WEB-INF/web.xml", st: Some(404), act: ExploitAttempt, ..C },
    Case { url: "/download/attachments/1/v1..2.txt", act: AttachmentDownload, id: Some(1), att: Some("v1..2.txt"), ..C },

    // --- content writes ------------------------------------------------------------------------
    Case { url: "/pages/createpage.action?spaceKey=HR", act: ContentEdit, key: Some("HR"), ..C },
    Case { url: "/pages/editpage.action?pageId=5", act: ContentEdit, id: Some(5), ..C },
    Case { m: POST, url: "/pages/doeditpage.action?pageId=5", st: Some(302), act: ContentEdit, id: Some(5), ..C },
    Case { m: POST, url: "/pages/docreatepage.action", act: ContentEdit, ..C },
    Case { url: "/pages/removepage.action?pageId=5", act: ContentEdit, id: Some(5), ..C },
    Case { m: POST, url: "/pages/doattachfile.action?pageId=5", act: AttachmentUpload, id: Some(5), ..C },
    Case { url: "/wiki/spaces/HR/pages/edit-v2/123", act: ContentEdit, key: Some("HR"), id: Some(123), ..C },
    Case { url: "/plugins/servlet/confluence/editor/draft", act: ContentEdit, ..C },

    // --- people and home -----------------------------------------------------------------------
    Case { url: "/browsepeople.action", act: PeopleDirectory, ..C },
    Case { url: "/users/viewuserprofile.action?username=jsmith", act: PeopleDirectory, ..C },
    Case { url: "/wiki/people/5b10ac8d82e05b22cc7d4ef5", act: PeopleDirectory, ..C },
    Case { url: "/dashboard.action", act: Dashboard, ..C },
    Case { url: "/", act: Dashboard, ..C },
    Case { url: "/wiki", act: Dashboard, ..C },
    Case { url: "/wiki/home", act: Dashboard, ..C },
    Case { url: "/confluence/", act: Dashboard, ..C },

    // --- noise: static resources ----------------------------------------------------------------
    Case { url: "/s/en_GB/8703/4c1f/_/download/batch/com.atlassian.auiplugin:ajs/com.atlassian.auiplugin:ajs.js", act: Static, ..C },
    Case { url: "/wiki/s/-1234/6452/_/styles/colors.css", act: Static, ..C },
    Case { url: "/download/resources/com.atlassian.confluence.plugins:x/icon.svg", act: Static, ..C },
    Case { url: "/download/batch/confluence.web.resources:ajs/confluence.web.resources:ajs.js", act: Static, ..C },
    Case { url: "/download/contextbatch/css/main/batch.css", act: Static, ..C },
    Case { url: "/favicon.ico", st: Some(304), act: Static, ..C },
    Case { url: "/styles/colors.css?spaceKey=HR", act: Static, ..C },
    Case { url: "/includes/js/ajs.js", act: Static, ..C },
    Case { url: "/plugins/servlet/confluence/placeholder/macro?definition=e3t0b2N9fQ", act: Static, ..C },
    Case { url: "/some/random/thing.WOFF2", act: Static, ..C },

    // --- noise: background polling ---------------------------------------------------------------
    Case { url: "/plugins/servlet/streams?maxResults=10", act: Polling, ..C },
    Case { url: "/synchrony/v1/bayeux-sync1", act: Polling, ..C },
    Case { url: "/rest/mywork/latest/status/notification/count", act: Polling, ..C },
    Case { m: POST, url: "/rest/analytics/1.0/publish/bulk", act: Polling, ..C },
    Case { m: POST, url: "/rest/webResources/1.0/resources", act: Polling, ..C },
    Case { url: "/rest/troubleshooting/1.0/check/", act: Polling, ..C },
    Case { url: "/rest/nps/1.0/config", act: Polling, ..C },
    Case { url: "/rest/highlighting/1.0/panel-items", act: Polling, ..C },
    Case { url: "/rest/likes/1.0/content/123/likes", act: Polling, ..C },
    Case { m: POST, url: "/rest/likes/1.0/content/123/likes", act: RestOther, ..C },
    Case { url: "/rest/shortcuts/latest/shortcuts/8703/abc", act: Polling, ..C },
    Case { url: "/rest/helptips/1.0/tips", act: Polling, ..C },
    Case { url: "/plugins/servlet/notifications-miniview", act: Polling, ..C },
    Case { url: "/rest/experimental/search?cql=x", act: Polling, ..C },
    Case { m: POST, url: "/json/startheartbeatactivity.action", act: Polling, ..C },
    Case { url: "/rest/synchrony-interop/enabled", act: Polling, ..C },
    Case { url: "/status", act: Polling, ..C },

    // --- everything else ---------------------------------------------------------------------------
    Case { url: "/rest/foo/1.0/bar", act: RestOther, ..C },
    Case { url: "/rest/api/contentbody/convert/view", act: RestOther, rest: Some(V1), ..C },
    Case { url: "/foo/bar", st: Some(404), act: Other, ..C },
    Case { url: "-", st: Some(400), act: Other, ..C },
    Case { m: Some("OPTIONS"), url: "*", act: Other, ..C },
    Case { url: "", st: None, act: Other, ..C },
];

fn check(case: &Case) -> Result<(), String> {
    let got = classify(case.m, case.url, case.st);
    let want_out = case.out.unwrap_or(match case.st {
        Some(s) => Outcome::from_http_status(s),
        None => Outcome::Unknown,
    });
    let want_rest = case
        .rest
        .map(|(body_expanded, limit, start, api_version)| RestRead {
            body_expanded,
            limit,
            start,
            api_version,
        });
    let o = &got.object;
    let fields = [
        (
            "action",
            format!("{:?}", got.action),
            format!("{:?}", case.act),
        ),
        (
            "outcome",
            format!("{:?}", got.outcome),
            format!("{want_out:?}"),
        ),
        (
            "space_key",
            format!("{:?}", o.space_key),
            format!("{:?}", case.key.map(str::to_owned)),
        ),
        (
            "page_id",
            format!("{:?}", o.page_id),
            format!("{:?}", case.id),
        ),
        (
            "title",
            format!("{:?}", o.title),
            format!("{:?}", case.title.map(str::to_owned)),
        ),
        (
            "attachment",
            format!("{:?}", o.attachment),
            format!("{:?}", case.att.map(str::to_owned)),
        ),
        (
            "version",
            format!("{:?}", o.version),
            format!("{:?}", case.ver),
        ),
        (
            "search_query",
            format!("{:?}", got.search_query),
            format!("{:?}", case.q.map(str::to_owned)),
        ),
        ("rest", format!("{:?}", got.rest), format!("{want_rest:?}")),
    ];
    let bad: Vec<String> = fields
        .iter()
        .filter(|(_, g, w)| g != w)
        .map(|(n, g, w)| format!("{n}: got {g}, want {w}"))
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{:?} {:?} {:?}: {}",
            case.m,
            case.url,
            case.st,
            bad.join("; ")
        ))
    }
}

#[test]
fn route_table() {
    assert!(CASES.len() >= 100, "table has {} rows", CASES.len());
    let failures: Vec<String> = CASES.iter().filter_map(|c| check(c).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn table_covers_every_web_action() {
    // Actions that only audit records or external alerts produce.
    let not_from_urls = [
        Impersonation,
        AdminKeyAccess,
        ExternalAlert,
        PageExportOther,
    ];
    for a in Action::ALL {
        if not_from_urls.contains(a) {
            continue;
        }
        assert!(CASES.iter().any(|c| c.act == *a), "no table row for {a}");
    }
}

/// The request lines of the real sample files, located by their `HTTP/1.x` token.
fn real_requests(text: &str) -> Vec<(String, String, u16)> {
    text.lines()
        .filter_map(|line| {
            let t: Vec<&str> = line.split_whitespace().collect();
            let p = t.iter().position(|s| s.starts_with("HTTP/"))?;
            let status = t.get(p + 1)?.parse().ok()?;
            Some((t.get(p - 2)?.to_string(), t.get(p - 1)?.to_string(), status))
        })
        .collect()
}

#[test]
fn real_access_logs_classify_into_events() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/real/");
    let atl = std::fs::read_to_string(format!("{root}atlassian-docs/conf_access_log.example.log"))
        .unwrap();
    let reqs = real_requests(&atl);
    assert_eq!(reqs.len(), 3);
    let ts = chrono::DateTime::parse_from_rfc3339("2020-12-18T12:57:26+11:00").unwrap();
    let actions: Vec<Action> = reqs
        .iter()
        .map(|(m, u, s)| {
            let origin = confwatch_event::Origin {
                file: "conf_access_log.example.log".into(),
                line: 1,
            };
            let mut ev = Event::new(ts, SourceFormat::TomcatAccess, origin);
            ev.method = Some(m.as_str().into());
            ev.url = Some(u.clone());
            ev.status = Some(*s);
            classify_into(&mut ev);
            assert_eq!(ev.outcome, Success);
            ev.action
        })
        .collect();
    assert_eq!(actions, [Dashboard, Static, Polling]);

    let plaso =
        std::fs::read_to_string(format!("{root}plaso/confluence_access_post7.11.log")).unwrap();
    let reqs = real_requests(&plaso);
    assert_eq!(reqs.len(), 1);
    assert!(
        reqs.iter()
            .all(|(m, u, s)| classify(Some(m), u, Some(*s)).action == Dashboard)
    );
}

#[test]
fn classify_into_leaves_events_without_url_alone() {
    let ts = chrono::DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z").unwrap();
    let origin = confwatch_event::Origin {
        file: "x".into(),
        line: 1,
    };
    let mut ev = Event::new(ts, SourceFormat::SecurityLog, origin);
    ev.action = Login;
    ev.outcome = Success;
    classify_into(&mut ev);
    assert_eq!((ev.action, ev.outcome), (Login, Success));
}

/// Rough speed check in whatever profile the tests run (debug is ~10x slower than release).
#[test]
#[ignore = "timing; run with --ignored"]
fn timing() {
    let start = std::time::Instant::now();
    let mut n = 0u64;
    for _ in 0..2000 {
        for c in CASES {
            std::hint::black_box(classify(c.m, c.url, c.st));
            n += 1;
        }
    }
    eprintln!("{:?} per URL", start.elapsed() / u32::try_from(n).unwrap());
}

/// Speed on real-shaped requests: the first 100,000 lines of the ingestion benchmark's log
/// (`bench/out/access-100mb.log`, made by the bench scripts), best of five passes.
#[test]
#[ignore = "timing; run with --ignored --release after generating the benchmark log"]
fn timing_bench_log() {
    let Some(text) = crate::test_support::bench_log() else {
        return;
    };
    // `[time zone] user thread ip METHOD URL PROTO STATUS ...`
    let reqs: Vec<(String, String, Option<u16>)> = text
        .lines()
        .take(100_000)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            Some((
                f.get(5)?.to_string(),
                f.get(6)?.to_string(),
                f.get(8)?.parse().ok(),
            ))
        })
        .collect();
    let mut best = std::time::Duration::MAX;
    for _ in 0..5 {
        let start = std::time::Instant::now();
        for (m, u, st) in &reqs {
            std::hint::black_box(classify(Some(m), u, *st));
        }
        best = best.min(start.elapsed());
    }
    eprintln!("{:?} per URL", best / u32::try_from(reqs.len()).unwrap());
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_input(m in proptest::option::of(".{0,8}"), url in ".{0,200}", st in proptest::option::of(any::<u16>())) {
        let c = classify(m.as_deref(), &url, st);
        // Deterministic: the same input classifies the same way.
        prop_assert_eq!(c, classify(m.as_deref(), &url, st));
    }

    #[test]
    fn never_panics_on_route_shaped_input(
        prefix in prop::sample::select(vec![
            "/display/", "/pages/viewpage.action?pageId=", "/spaces/", "/wiki/spaces/K/pages/",
            "/download/attachments/", "/rest/api/content/", "/rest/api/search?cql=",
            "/wiki/api/v2/pages/", "/confluence/", "https://h", "/dosearchsite.action?queryString=",
            "/download/temp/", "/admin/", "/plugins/servlet/",
        ]),
        tail in "[a-zA-Z0-9/%+~?&=.;#${}\"' -]{0,80}",
    ) {
        let url = format!("{prefix}{tail}");
        let _ = classify(Some("GET"), &url, Some(200));
        let _ = classify(Some("POST"), &url, None);
        let _ = classify(None, &url, Some(302));
    }
}

/// The straightforward forms the fast helpers replaced, kept as the specification.
mod reference {
    pub fn params<'a>(query: &'a str, key: &str) -> Vec<&'a str> {
        query
            .split('&')
            .filter_map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                let k = k.strip_prefix("amp;").unwrap_or(k);
                (k == key).then_some(v)
            })
            .collect()
    }

    pub fn segments(path: &str) -> Vec<&str> {
        path.split('/')
            .filter(|s| !s.is_empty())
            .take(super::super::MAX_SEGMENTS)
            .collect()
    }

    pub fn strip_path_params(path: &str) -> &str {
        match path.find(";jsessionid=") {
            Some(i) => &path[..i],
            None => path,
        }
    }
}

proptest! {
    #[test]
    fn params_match_the_reference(
        q in "[a-zA-Z&=;%+]{0,60}",
        key in prop::sample::select(vec!["", "a", "amp", "pageId", "key", "x", "amp;a"]),
    ) {
        // Keys never hold `=`; `amp;a` checks a key that itself starts with the escape.
        let got: Vec<&str> = super::query::params(&q, key).collect();
        prop_assert_eq!(got, reference::params(&q, key));
    }

    #[test]
    fn segments_match_the_reference(path in "[a-z/;.]{0,80}") {
        let mut buf = [""; super::MAX_SEGMENTS];
        let n = super::split_segments(&path, &mut buf);
        prop_assert_eq!(buf[..n].to_vec(), reference::segments(&path));
        prop_assert_eq!(super::strip_path_params(&path), reference::strip_path_params(&path));
    }

    #[test]
    fn jsessionid_is_stripped_like_the_reference(
        a in "[a-z/;=]{0,20}", b in "[a-z/;=]{0,20}", twice in any::<bool>(),
    ) {
        let path = if twice { format!("{a};jsessionid={b};jsessionid=x") } else { format!("{a};jsessionid={b}") };
        prop_assert_eq!(super::strip_path_params(&path), reference::strip_path_params(&path));
    }
}
