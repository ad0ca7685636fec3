//! The action vocabulary: what a request or audit record means for T1213.001 detection.

use serde::{Deserialize, Serialize};

/// What happened, classified once at ingestion.
///
/// Web requests are classified from method, URL and status by the URL classifier in
/// `confwatch-ingest`; audit records from their stable action keys. Serialised in
/// `snake_case` (the value rules match on, e.g. `action: page_view`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    // --- reading content -------------------------------------------------------------
    /// A page view in the browser (`/display/KEY/Title`, `viewpage.action`, `/spaces/KEY/pages/ID`).
    PageView,
    /// A blog post view (`/display/KEY/YYYY/MM/DD/Title`, `/spaces/KEY/blog/...`).
    BlogView,
    /// Page source (`viewpagesrc.action`, `viewstorage.action`).
    PageSource,
    /// Page history list (`viewpreviousversions.action`, `/history`).
    PageHistory,
    /// Version diff (`diffpagesbyversion.action`, `diffpages.action`).
    PageDiff,
    /// Page information (`viewinfo.action`).
    PageInfo,
    /// Attachment file download (`/download/attachments/ID/name`).
    AttachmentDownload,
    /// Attachment listing of a page (`viewpageattachments.action`).
    AttachmentList,
    /// Space overview / home (`/display/KEY`, `/spaces/KEY/overview`, `spaces/viewspace.action`).
    SpaceView,
    /// Listing of pages in a space (`listpages*.action`, `/pages` tree, `/spaces/KEY/pages`).
    SpacePageList,
    /// Site-wide space directory (`spacedirectory/view.action`, `/spaces`).
    SpaceDirectory,
    // --- exports -----------------------------------------------------------------------
    /// Page exported to PDF (`flyingpdf/pdfpageexport.action`).
    PageExportPdf,
    /// Page exported to Word (`exportword`).
    PageExportWord,
    /// Other single-page exports (HTML, XML, CSV of a page or table).
    PageExportOther,
    /// The space export dialog was opened (`exportspacewelcome.action`, choose format).
    SpaceExportStart,
    /// A space export was requested (`doexportspace.action`, `flyingpdf/doflyingpdf.action`).
    SpaceExportRun,
    /// A finished export file was downloaded (`/download/temp/…`, `/download/export/…`).
    SpaceExportDownload,
    /// A whole-site backup/export from the admin console.
    SiteExport,
    // --- search --------------------------------------------------------------------------
    /// Site search page (`dosearchsite.action`, `/search?text=`).
    SiteSearch,
    /// REST/CQL search (`/rest/api/search`, `/rest/api/content/search`, `searchv3`).
    RestSearch,
    /// Quick navigation / autocomplete search as the user types.
    QuickSearch,
    // --- REST reads ---------------------------------------------------------------------
    /// One content item via REST v1 (`/rest/api/content/ID`).
    RestContentRead,
    /// Content list via REST v1 (`/rest/api/content?spaceKey=`, `/child/page`).
    RestContentList,
    /// REST v2 read (`/api/v2/pages/ID`, `/api/v2/spaces/ID/pages`).
    RestV2Read,
    /// REST v2 list.
    RestV2List,
    /// Space listing or metadata via REST (`/rest/api/space`).
    RestSpaceRead,
    /// User or group lookup via REST (`/rest/api/user`, `/rest/api/group`).
    RestUserRead,
    /// Attachment listing via REST (`/child/attachment`).
    RestAttachmentList,
    /// Any other REST call.
    RestOther,
    // --- writing --------------------------------------------------------------------------
    /// Page or blog created/edited/deleted (browser or REST writes).
    ContentEdit,
    /// Attachment uploaded.
    AttachmentUpload,
    // --- identity ------------------------------------------------------------------------
    /// A login attempt (see `outcome`).
    Login,
    /// The login form was shown (not an attempt).
    LoginPage,
    Logout,
    /// An admin used "log in as user" / impersonation.
    Impersonation,
    /// Admin re-authentication (websudo, `authenticate.action`).
    Websudo,
    // --- administration ---------------------------------------------------------------
    /// Admin console pages (`/admin/…`).
    AdminConsole,
    /// Space permission pages or changes.
    PermissionChange,
    /// Users, groups and memberships changed.
    UserManagement,
    /// Global or space settings changed.
    ConfigChange,
    /// App (plugin) installed, enabled or disabled.
    AppChange,
    /// Audit log searched, exported or reconfigured.
    AuditLogAccess,
    /// Content read by an admin through "admin key" / restricted-content access.
    AdminKeyAccess,
    // --- people -------------------------------------------------------------------------
    /// People directory / user profile browsing.
    PeopleDirectory,
    /// Dashboard / home page.
    Dashboard,
    // --- noise --------------------------------------------------------------------------
    /// Background polling (`quickreload`, `mywork` counters, analytics, heartbeat).
    Polling,
    /// Static resources (`/s/…`, `/images/…`, `/download/resources/…`, fonts, css, js).
    Static,
    // --- other -------------------------------------------------------------------------
    /// A third-party alert carried as an event (Guard Detect).
    ExternalAlert,
    /// Exploitation indicators (`/setup/*.action` after setup, OGNL paths).
    ExploitAttempt,
    /// Anything else.
    Other,
}

/// Coarse grouping of actions, mirroring ECS `event.category` loosely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionCategory {
    Read,
    Export,
    Search,
    Api,
    Write,
    Authentication,
    Admin,
    Noise,
    Other,
}

impl Action {
    /// Every action, in declaration order (for docs and tests).
    pub const ALL: &'static [Action] = &[
        Action::PageView,
        Action::BlogView,
        Action::PageSource,
        Action::PageHistory,
        Action::PageDiff,
        Action::PageInfo,
        Action::AttachmentDownload,
        Action::AttachmentList,
        Action::SpaceView,
        Action::SpacePageList,
        Action::SpaceDirectory,
        Action::PageExportPdf,
        Action::PageExportWord,
        Action::PageExportOther,
        Action::SpaceExportStart,
        Action::SpaceExportRun,
        Action::SpaceExportDownload,
        Action::SiteExport,
        Action::SiteSearch,
        Action::RestSearch,
        Action::QuickSearch,
        Action::RestContentRead,
        Action::RestContentList,
        Action::RestV2Read,
        Action::RestV2List,
        Action::RestSpaceRead,
        Action::RestUserRead,
        Action::RestAttachmentList,
        Action::RestOther,
        Action::ContentEdit,
        Action::AttachmentUpload,
        Action::Login,
        Action::LoginPage,
        Action::Logout,
        Action::Impersonation,
        Action::Websudo,
        Action::AdminConsole,
        Action::PermissionChange,
        Action::UserManagement,
        Action::ConfigChange,
        Action::AppChange,
        Action::AuditLogAccess,
        Action::AdminKeyAccess,
        Action::PeopleDirectory,
        Action::Dashboard,
        Action::Polling,
        Action::Static,
        Action::ExternalAlert,
        Action::ExploitAttempt,
        Action::Other,
    ];

    /// The `snake_case` name used in JSON and rules.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::PageView => "page_view",
            Action::BlogView => "blog_view",
            Action::PageSource => "page_source",
            Action::PageHistory => "page_history",
            Action::PageDiff => "page_diff",
            Action::PageInfo => "page_info",
            Action::AttachmentDownload => "attachment_download",
            Action::AttachmentList => "attachment_list",
            Action::SpaceView => "space_view",
            Action::SpacePageList => "space_page_list",
            Action::SpaceDirectory => "space_directory",
            Action::PageExportPdf => "page_export_pdf",
            Action::PageExportWord => "page_export_word",
            Action::PageExportOther => "page_export_other",
            Action::SpaceExportStart => "space_export_start",
            Action::SpaceExportRun => "space_export_run",
            Action::SpaceExportDownload => "space_export_download",
            Action::SiteExport => "site_export",
            Action::SiteSearch => "site_search",
            Action::RestSearch => "rest_search",
            Action::QuickSearch => "quick_search",
            Action::RestContentRead => "rest_content_read",
            Action::RestContentList => "rest_content_list",
            Action::RestV2Read => "rest_v2_read",
            Action::RestV2List => "rest_v2_list",
            Action::RestSpaceRead => "rest_space_read",
            Action::RestUserRead => "rest_user_read",
            Action::RestAttachmentList => "rest_attachment_list",
            Action::RestOther => "rest_other",
            Action::ContentEdit => "content_edit",
            Action::AttachmentUpload => "attachment_upload",
            Action::Login => "login",
            Action::LoginPage => "login_page",
            Action::Logout => "logout",
            Action::Impersonation => "impersonation",
            Action::Websudo => "websudo",
            Action::AdminConsole => "admin_console",
            Action::PermissionChange => "permission_change",
            Action::UserManagement => "user_management",
            Action::ConfigChange => "config_change",
            Action::AppChange => "app_change",
            Action::AuditLogAccess => "audit_log_access",
            Action::AdminKeyAccess => "admin_key_access",
            Action::PeopleDirectory => "people_directory",
            Action::Dashboard => "dashboard",
            Action::Polling => "polling",
            Action::Static => "static",
            Action::ExternalAlert => "external_alert",
            Action::ExploitAttempt => "exploit_attempt",
            Action::Other => "other",
        }
    }

    /// Parses the `snake_case` name.
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.as_str() == name)
    }

    pub fn category(self) -> ActionCategory {
        use Action::*;
        match self {
            PageView | BlogView | PageSource | PageHistory | PageDiff | PageInfo
            | AttachmentDownload | AttachmentList | SpaceView | SpacePageList | SpaceDirectory
            | AdminKeyAccess => ActionCategory::Read,
            PageExportPdf | PageExportWord | PageExportOther | SpaceExportStart
            | SpaceExportRun | SpaceExportDownload | SiteExport => ActionCategory::Export,
            SiteSearch | RestSearch | QuickSearch => ActionCategory::Search,
            RestContentRead | RestContentList | RestV2Read | RestV2List | RestSpaceRead
            | RestUserRead | RestAttachmentList | RestOther => ActionCategory::Api,
            ContentEdit | AttachmentUpload => ActionCategory::Write,
            Login | LoginPage | Logout | Impersonation | Websudo => ActionCategory::Authentication,
            AdminConsole | PermissionChange | UserManagement | ConfigChange | AppChange
            | AuditLogAccess => ActionCategory::Admin,
            Polling | Static => ActionCategory::Noise,
            PeopleDirectory | Dashboard | ExternalAlert | ExploitAttempt | Other => {
                ActionCategory::Other
            }
        }
    }

    /// Requests that say nothing about user intent.
    pub fn is_noise(self) -> bool {
        self.category() == ActionCategory::Noise
    }

    /// Actions that return page or attachment content to the caller (a "retrieval").
    pub fn is_content_retrieval(self) -> bool {
        use Action::*;
        matches!(
            self,
            PageView
                | BlogView
                | PageSource
                | PageHistory
                | PageDiff
                | AttachmentDownload
                | PageExportPdf
                | PageExportWord
                | PageExportOther
                | SpaceExportDownload
                | RestContentRead
                | RestContentList
                | RestV2Read
                | RestV2List
                | AdminKeyAccess
        )
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for &a in Action::ALL {
            assert_eq!(Action::from_name(a.as_str()), Some(a));
            let json = serde_json::to_string(&a).expect("serialise action");
            assert_eq!(json, format!("\"{}\"", a.as_str()));
        }
    }

    #[test]
    fn noise_is_only_static_and_polling() {
        let noisy: Vec<_> = Action::ALL.iter().filter(|a| a.is_noise()).collect();
        assert_eq!(noisy, vec![&Action::Polling, &Action::Static]);
    }
}
