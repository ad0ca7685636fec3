//! False-positive filters on candidate secret values: placeholders, template variables,
//! code references, and (for generic password rules) values that do not look like a
//! password at all.

/// Values documentation uses instead of a real secret.
const PLACEHOLDER_WORDS: &[&str] = &[
    "password",
    "passwort",
    "kennwort",
    "secret",
    "geheim",
    "changeit",
    "xxx",
    "xxxx",
    "redacted",
    "removed",
    "hidden",
    "masked",
    "none",
    "null",
    "nil",
    "undefined",
    "empty",
    "n/a",
    "na",
    "tbd",
    "todo",
    "required",
    "optional",
    "example",
    "sample",
    "dummy",
    "placeholder",
    "yourpassword",
    "your_password",
    "your-password",
    "mypassword",
    "my_password",
    "mot_de_passe",
    "motdepasse",
    "contraseña",
    "contrasena",
    "token",
    "your_token",
    "yourtoken",
    "apikey",
    "api_key",
    "your_api_key",
    "string",
    "value",
    "pass",
    "pwd",
    "true",
    "false",
    "see",
    "below",
    "above",
    "here",
    "same",
    "unknown",
    "***",
    "passw0rd_here",
    "<password>",
    "enter",
    "your",
    "new",
    "old",
    "current",
    "default",
];

/// True for values that are obviously not a real secret.
pub fn is_placeholder(v: &str) -> bool {
    let t = v.trim().trim_matches(|c| matches!(c, '"' | '\'' | '`'));
    if t.is_empty() {
        return true;
    }
    let lower = t.to_lowercase();
    if PLACEHOLDER_WORDS.contains(&lower.as_str()) {
        return true;
    }
    // Template and variable syntaxes: ${X}, {{x}}, %(x)s, %X%, $X, <x>, [x], @x@
    let b = t.as_bytes();
    let first = b.first().copied().unwrap_or(b' ');
    let last = b.last().copied().unwrap_or(b' ');
    if matches!(first, b'%' | b'<' | b'[' | b'{' | b'@' | b'#')
        && matches!(last, b'}' | b'%' | b'>' | b']' | b'@' | b')')
    {
        return true;
    }
    // $NAME, ${NAME}, $(cmd) are variables; `$2y$10$...` hashes are not.
    if first == b'$' {
        let rest = t.get(1..).unwrap_or("");
        if rest.starts_with('{')
            || rest.starts_with('(')
            || (!rest.is_empty()
                && rest.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
                && rest
                    .bytes()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_'))
        {
            return true;
        }
    }
    if t.contains("{{") || t.contains("${") || t.contains("<%") {
        return true;
    }
    // One repeated character: ********, xxxxxxx, 0000000
    let mut chars = t.chars();
    if let Some(c0) = chars.next()
        && t.chars().count() >= 3
        && chars.all(|c| c == c0 || c == '-' || c == '*')
    {
        return true;
    }
    if lower.contains("example") || lower.contains("placeholder") || lower.contains("xxxxx") {
        return true;
    }
    if lower.starts_with("your_") || lower.starts_with("your-") || lower.starts_with("<your") {
        return true;
    }
    false
}

/// For generic rules: a value after "password:" must look like a password, not a word of
/// prose or a code reference.
pub fn plausible_password(v: &str) -> bool {
    let t = v.trim();
    let n = t.chars().count();
    if !(4..=128).contains(&n) || is_placeholder(t) {
        return false;
    }
    // Code: getPassword(), config.password, os.environ["X"], process.env.X
    if t.contains('(') || t.contains(')') {
        return false;
    }
    let lower = t.to_ascii_lowercase();
    if lower.starts_with("env.")
        || lower.starts_with("process.env")
        || lower.starts_with("os.environ")
        || lower.starts_with("this.")
        || lower.starts_with("self.")
        || lower.starts_with("config.")
        || lower.starts_with("settings.")
        || lower.starts_with("http://")
        || lower.starts_with("https://")
    {
        return false;
    }
    let has_digit = t.chars().any(|c| c.is_ascii_digit());
    let has_symbol = t.chars().any(|c| !c.is_alphanumeric());
    let has_upper_inside = t.chars().skip(1).any(char::is_uppercase);
    let has_lower = t.chars().any(char::is_lowercase);
    // A lone word ("required", "Passwort") is prose; require some mix.
    let classes = [has_digit, has_symbol, has_upper_inside && has_lower]
        .iter()
        .filter(|&&x| x)
        .count();
    if classes == 0 {
        return false;
    }
    // All digits and short: a port, a count, a year.
    if t.chars().all(|c| c.is_ascii_digit()) && n < 8 {
        return false;
    }
    // Dotted identifiers like a.b.c with only lowercase letters are references.
    if t.contains('.')
        && t.chars()
            .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')
    {
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        for p in [
            "${DB_PASSWORD}",
            "$DB_PASS",
            "{{ vault_pw }}",
            "<password>",
            "********",
            "xxxxxxxx",
            "your_password",
            "changeit",
            "%PASSWORD%",
            "EXAMPLEKEY",
            "null",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        for r in [
            "Summer2024!",
            "hunter22",
            "Tr0ub4dor&3",
            "$2y$10$abcdefghijk",
        ] {
            assert!(!is_placeholder(r), "{r}");
        }
    }

    #[test]
    fn plausible_passwords() {
        for p in [
            "Summer2024!",
            "hunter22",
            "Geheim#77",
            "Sol3il!Paris",
            "corgiBattery",
        ] {
            assert!(plausible_password(p), "{p}");
        }
        for n in [
            "required",
            "getPassword()",
            "config.password",
            "1234",
            "and",
            "Passwort",
            "https://example.org",
        ] {
            assert!(!plausible_password(n), "{n}");
        }
    }
}
