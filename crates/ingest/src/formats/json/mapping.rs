//! Audit action keys → [`Action`]: the mapping tables for every audit format, written as
//! data so they double as documentation (`docs/formats.md` lists the same tables).
//!
//! Each format is looked up in three steps: an exact table of keys seen in real samples or
//! documented, then ordered key fragments (the first fragment found in the key wins; these
//! cover keys that are documented but were never seen, so they are heuristics), then the
//! record's category. Anything left is [`Action::Other`].

use confwatch_event::{Action, Outcome};

/// Data Center `actionI18nKey` values, exact. All but the `.removed` permission keys were
/// seen in real samples (`testdata/real/elastic-integrations`).
pub const DC_EXACT: &[(&str, Action)] = &[
    (
        "audit.logging.summary.space.permission.added",
        Action::PermissionChange,
    ),
    (
        "audit.logging.summary.space.permission.removed",
        Action::PermissionChange,
    ),
    (
        "audit.logging.summary.global.permission.added",
        Action::PermissionChange,
    ),
    (
        "audit.logging.summary.global.permission.removed",
        Action::PermissionChange,
    ),
    ("audit.logging.summary.user.created", Action::UserManagement),
    (
        "audit.logging.summary.group.created",
        Action::UserManagement,
    ),
    (
        "audit.logging.summary.group.membership.added",
        Action::UserManagement,
    ),
    (
        "audit.logging.summary.directory.added",
        Action::UserManagement,
    ),
    ("audit.logging.summary.plugin.enabled", Action::AppChange),
    (
        "audit.logging.summary.global.settings.edited",
        Action::ConfigChange,
    ),
    // An import writes content; it is not an export, so export rules must not see it.
    ("audit.logging.summary.space.import", Action::ContentEdit),
    (
        "atlassian.audit.event.action.audit.search",
        Action::AuditLogAccess,
    ),
    (
        "atlassian.audit.event.action.audit.config.updated",
        Action::AuditLogAccess,
    ),
];

/// Fragments of Data Center keys not in [`DC_EXACT`], in priority order. Unverified: the
/// End-user-activity and Security keys (login, export, page view) were never seen.
pub const DC_FRAGMENTS: &[(&str, Action)] = &[
    (
        "atlassian.audit.event.action.audit.",
        Action::AuditLogAccess,
    ),
    ("websudo", Action::Websudo),
    ("impersonat", Action::Impersonation),
    ("logout", Action::Logout),
    ("login", Action::Login),
    ("authenticat", Action::Login),
    ("admin.key", Action::AdminKeyAccess),
    ("adminkey", Action::AdminKeyAccess),
    ("backup", Action::SiteExport),
    ("site.export", Action::SiteExport),
    (".export", Action::SpaceExportRun),
    (".import", Action::ContentEdit),
    ("permission", Action::PermissionChange),
    ("restriction", Action::PermissionChange),
    (".user.", Action::UserManagement),
    (".group.", Action::UserManagement),
    (".directory.", Action::UserManagement),
    (".membership.", Action::UserManagement),
    (".plugin.", Action::AppChange),
    (".app.", Action::AppChange),
    ("settings", Action::ConfigChange),
    ("config", Action::ConfigChange),
    (".search", Action::SiteSearch),
    ("space.view", Action::SpaceView),
    ("blog.view", Action::BlogView),
    (".viewed", Action::PageView),
    ("attachment.upload", Action::AttachmentUpload),
    ("attachment.created", Action::AttachmentUpload),
    (".page.", Action::ContentEdit),
    (".blog", Action::ContentEdit),
    (".comment.", Action::ContentEdit),
    (".attachment.", Action::ContentEdit),
    (".space.", Action::ConfigChange),
];

/// Data Center `categoryI18nKey` values (seen in samples) for keys nothing above matched.
pub const DC_CATEGORIES: &[(&str, Action)] = &[
    (
        "audit.logging.category.permissions",
        Action::PermissionChange,
    ),
    (
        "audit.logging.category.user.management",
        Action::UserManagement,
    ),
    ("audit.logging.category.admin", Action::ConfigChange),
    ("audit.logging.category.plugins", Action::AppChange),
    (
        "atlassian.audit.event.category.audit",
        Action::AuditLogAccess,
    ),
];

/// Data Center coverage areas (`auditType.area`, file format only), the last resort.
pub const DC_AREAS: &[(&str, Action)] = &[
    ("PERMISSIONS", Action::PermissionChange),
    ("USER_MANAGEMENT", Action::UserManagement),
    ("GLOBAL_CONFIG_AND_ADMINISTRATION", Action::ConfigChange),
    ("LOCAL_CONFIG_AND_ADMINISTRATION", Action::ConfigChange),
    ("AUDIT_LOG", Action::AuditLogAccess),
];

/// Cloud `summary` values, compared in lower case. Seen in samples except where marked.
pub const CLOUD_EXACT: &[(&str, Action)] = &[
    ("space exported", Action::SpaceExportRun), // documented, not seen
    ("space permission added", Action::PermissionChange),
    ("space permission removed", Action::PermissionChange), // not seen
    ("user added to group", Action::UserManagement),
    ("user removed from group", Action::UserManagement), // not seen
    ("user created", Action::UserManagement),
    ("user deactivated", Action::UserManagement),
    ("user details updated", Action::UserManagement),
    ("group created", Action::UserManagement),
    ("group deleted", Action::UserManagement), // not seen
    ("space created", Action::ConfigChange),
    ("space configuration updated", Action::ConfigChange),
    ("space logo uploaded", Action::ConfigChange),
    ("global configuration updated", Action::ConfigChange), // not seen
    ("page archived", Action::ContentEdit),
];

/// Fragments of lower-cased Cloud summaries, in priority order (heuristic).
pub const CLOUD_FRAGMENTS: &[(&str, Action)] = &[
    ("admin key", Action::AdminKeyAccess),
    ("audit log", Action::AuditLogAccess),
    ("backup", Action::SiteExport),
    ("site export", Action::SiteExport),
    ("export", Action::SpaceExportRun),
    ("import", Action::ContentEdit),
    ("permission", Action::PermissionChange),
    ("restriction", Action::PermissionChange),
    ("user", Action::UserManagement),
    ("group", Action::UserManagement),
    ("add-on", Action::AppChange),
    ("plugin", Action::AppChange),
    ("app ", Action::AppChange),
    ("configuration", Action::ConfigChange),
    ("settings", Action::ConfigChange),
    ("page", Action::ContentEdit),
    ("blog", Action::ContentEdit),
    ("comment", Action::ContentEdit),
    ("attachment", Action::ContentEdit),
    ("space", Action::ConfigChange),
];

/// Cloud `category` values (lower case), for summaries nothing above matched.
pub const CLOUD_CATEGORIES: &[(&str, Action)] = &[
    ("permissions", Action::PermissionChange),
    ("users and groups", Action::UserManagement),
    ("spaces", Action::ConfigChange),
    ("page", Action::ContentEdit),
    ("blog", Action::ContentEdit),
    ("apps", Action::AppChange),
];

/// Organization audit `attributes.action` values, exact. `user_logged_in_as_user` was seen
/// in a real sample; the rest are named in public detection content.
pub const ORG_EXACT: &[(&str, Action)] = &[
    ("user_logged_in_as_user", Action::Impersonation),
    ("user_login", Action::Login),
    ("user_logout", Action::Logout),
    ("user_created", Action::UserManagement),
    ("twosv_disabled_for_user", Action::UserManagement),
    ("group_created", Action::UserManagement),
    ("group_deleted", Action::UserManagement),
    ("user_granted_role", Action::UserManagement),
    ("user_revoked_role", Action::UserManagement),
    ("added_org_admin", Action::UserManagement),
    ("group_granted_admin_access", Action::UserManagement),
];

/// Fragments of organization actions, in priority order. Heuristic: the Confluence
/// page-view and export action names were never seen.
pub const ORG_FRAGMENTS: &[(&str, Action)] = &[
    ("logged_in_as", Action::Impersonation),
    ("impersonat", Action::Impersonation),
    ("logout", Action::Logout),
    ("login", Action::Login),
    ("logged_in", Action::Login),
    ("audit_log", Action::AuditLogAccess),
    ("page_export", Action::PageExportOther),
    ("export", Action::SpaceExportRun),
    ("search", Action::SiteSearch),
    ("space_viewed", Action::SpaceView),
    ("blog_viewed", Action::BlogView),
    ("blogpost_viewed", Action::BlogView),
    ("_viewed", Action::PageView),
    ("permission", Action::PermissionChange),
    ("restriction", Action::PermissionChange),
    ("role", Action::UserManagement),
    ("admin", Action::UserManagement),
    ("user_", Action::UserManagement),
    ("_user", Action::UserManagement),
    ("group_", Action::UserManagement),
    ("_group", Action::UserManagement),
    ("app_", Action::AppChange),
    ("policy", Action::ConfigChange),
    ("setting", Action::ConfigChange),
    ("page_", Action::ContentEdit),
    ("blogpost_", Action::ContentEdit),
    ("comment_", Action::ContentEdit),
];

/// Key fragments that mark a failed action (case-insensitive).
pub const FAILURE_MARKERS: &[&str] = &["fail", "denied", "rejected"];

fn exact(key: &str, table: &[(&str, Action)]) -> Option<Action> {
    table.iter().find(|(k, _)| *k == key).map(|(_, a)| *a)
}

fn fragment(key: &str, table: &[(&str, Action)]) -> Option<Action> {
    table.iter().find(|(k, _)| key.contains(k)).map(|(_, a)| *a)
}

/// The action of a Data Center record from `actionI18nKey`, `categoryI18nKey` and `area`.
pub fn dc_action(key: &str, category_key: Option<&str>, area: Option<&str>) -> Action {
    let lower = key.to_ascii_lowercase();
    exact(&lower, DC_EXACT)
        .or_else(|| fragment(&lower, DC_FRAGMENTS))
        .or_else(|| category_key.and_then(|c| exact(c, DC_CATEGORIES)))
        .or_else(|| area.and_then(|a| exact(a, DC_AREAS)))
        .unwrap_or(Action::Other)
}

/// The action of a Cloud record from its `summary` and `category`.
pub fn cloud_action(summary: &str, category: Option<&str>) -> Action {
    let lower = summary.to_lowercase();
    exact(&lower, CLOUD_EXACT)
        .or_else(|| fragment(&lower, CLOUD_FRAGMENTS))
        .or_else(|| category.and_then(|c| exact(&c.to_lowercase(), CLOUD_CATEGORIES)))
        .unwrap_or(Action::Other)
}

/// The action of an organization audit event from `attributes.action`.
pub fn org_action(action: &str) -> Action {
    let lower = action.to_ascii_lowercase();
    exact(&lower, ORG_EXACT)
        .or_else(|| fragment(&lower, ORG_FRAGMENTS))
        .unwrap_or(Action::Other)
}

/// `Failure` when the key says the action failed, else `Success` (audit records describe
/// things that happened).
pub fn outcome_for(key: &str) -> Outcome {
    let lower = key.to_lowercase();
    if FAILURE_MARKERS.iter().any(|m| lower.contains(m)) {
        Outcome::Failure
    } else {
        Outcome::Success
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dc_keys() {
        for (key, want) in [
            (
                "audit.logging.summary.space.permission.added",
                Action::PermissionChange,
            ),
            (
                "audit.logging.summary.global.permission.removed",
                Action::PermissionChange,
            ),
            (
                "audit.logging.summary.group.membership.added",
                Action::UserManagement,
            ),
            ("audit.logging.summary.plugin.enabled", Action::AppChange),
            ("audit.logging.summary.plugin.disabled", Action::AppChange),
            (
                "audit.logging.summary.global.settings.edited",
                Action::ConfigChange,
            ),
            (
                "atlassian.audit.event.action.audit.search",
                Action::AuditLogAccess,
            ),
            (
                "atlassian.audit.event.action.audit.export",
                Action::AuditLogAccess,
            ),
            ("audit.logging.summary.space.export", Action::SpaceExportRun),
            (
                "audit.logging.summary.space.export.xml",
                Action::SpaceExportRun,
            ),
            ("audit.logging.summary.site.export", Action::SiteExport),
            ("audit.logging.summary.backup.created", Action::SiteExport),
            ("audit.logging.summary.space.import", Action::ContentEdit),
            ("audit.logging.summary.user.login.failed", Action::Login),
            (
                "audit.logging.summary.websudo.authenticated",
                Action::Websudo,
            ),
            (
                "audit.logging.summary.space.config.updated",
                Action::ConfigChange,
            ),
            ("something.entirely.new", Action::Other),
        ] {
            assert_eq!(dc_action(key, None, None), want, "{key}");
        }
        assert_eq!(
            dc_action("x.y", Some("audit.logging.category.permissions"), None),
            Action::PermissionChange
        );
        assert_eq!(
            dc_action("x.y", None, Some("USER_MANAGEMENT")),
            Action::UserManagement
        );
    }

    #[test]
    fn cloud_summaries() {
        for (s, want) in [
            ("Space exported", Action::SpaceExportRun),
            ("Space permission removed", Action::PermissionChange),
            ("User added to group", Action::UserManagement),
            ("Group created", Action::UserManagement),
            ("Page archived", Action::ContentEdit),
            ("Page viewed with admin key", Action::AdminKeyAccess),
            ("Space logo uploaded", Action::ConfigChange),
            ("Global configuration updated", Action::ConfigChange),
            ("Something else", Action::Other),
        ] {
            assert_eq!(cloud_action(s, None), want, "{s}");
        }
        assert_eq!(
            cloud_action("Mystery", Some("Permissions")),
            Action::PermissionChange
        );
    }

    #[test]
    fn org_actions() {
        for (s, want) in [
            ("user_logged_in_as_user", Action::Impersonation),
            ("user_login", Action::Login),
            ("user_logout", Action::Logout),
            ("group_granted_admin_access", Action::UserManagement),
            ("confluence_page_viewed", Action::PageView),
            ("confluence_space_exported", Action::SpaceExportRun),
            ("api_token_used", Action::Other),
        ] {
            assert_eq!(org_action(s), want, "{s}");
        }
    }

    #[test]
    fn outcomes() {
        assert_eq!(
            outcome_for("audit.logging.summary.user.login.failed"),
            Outcome::Failure
        );
        assert_eq!(outcome_for("user_login"), Outcome::Success);
        assert_eq!(outcome_for("Login FAILED"), Outcome::Failure);
    }
}
