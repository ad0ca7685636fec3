//! MITRE ATT&CK technique ids that confwatch reports, with their names.

/// Data from Information Repositories: Confluence.
pub const T1213_001: &str = "T1213.001";
/// Data from Information Repositories.
pub const T1213: &str = "T1213";
/// Valid Accounts: Domain Accounts.
pub const T1078_002: &str = "T1078.002";
/// Valid Accounts.
pub const T1078: &str = "T1078";
/// Automated Collection.
pub const T1119: &str = "T1119";
/// Brute Force.
pub const T1110: &str = "T1110";
/// Brute Force: Password Spraying.
pub const T1110_003: &str = "T1110.003";
/// Unsecured Credentials.
pub const T1552: &str = "T1552";
/// Account Manipulation.
pub const T1098: &str = "T1098";
/// Exfiltration Over Web Service.
pub const T1567: &str = "T1567";
/// Exploit Public-Facing Application.
pub const T1190: &str = "T1190";
/// Account Discovery.
pub const T1087: &str = "T1087";
/// Impair Defenses.
pub const T1562: &str = "T1562";

/// The technique name for an id, for tables and reports.
pub fn technique_name(id: &str) -> Option<&'static str> {
    Some(match id {
        T1213_001 => "Data from Information Repositories: Confluence",
        T1213 => "Data from Information Repositories",
        T1078_002 => "Valid Accounts: Domain Accounts",
        T1078 => "Valid Accounts",
        T1119 => "Automated Collection",
        T1110 => "Brute Force",
        T1110_003 => "Brute Force: Password Spraying",
        T1552 => "Unsecured Credentials",
        T1098 => "Account Manipulation",
        T1567 => "Exfiltration Over Web Service",
        T1190 => "Exploit Public-Facing Application",
        T1087 => "Account Discovery",
        T1562 => "Impair Defenses",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_ids_have_names() {
        assert_eq!(
            super::technique_name("T1213.001"),
            Some("Data from Information Repositories: Confluence")
        );
        assert_eq!(super::technique_name("T9999"), None);
    }
}
