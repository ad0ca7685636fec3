//! Checksum and structure checks that confirm a match really has a token's format:
//! GitHub/npm CRC32 (base62), JWT headers, base64 `user:password` pairs, IPv4 octets,
//! Data Center personal access tokens. A failed check drops the match.

/// Runs the named check. `None` when the name is unknown (rule loading rejects those).
pub fn check(kind: &str, secret: &str) -> Option<bool> {
    Some(match kind {
        "github-crc32" => base62_crc32(secret),
        "jwt" => jwt(secret),
        "base64-userpass" => base64_userpass(secret),
        "ipv4" => ipv4(secret),
        "atlassian-dc-pat" => dc_pat(secret),
        "base64" => decode_base64(secret).is_some_and(|d| !d.is_empty()),
        _ => return None,
    })
}

/// The check names rule files may use.
pub const KNOWN: [&str; 6] = [
    "github-crc32",
    "jwt",
    "base64-userpass",
    "ipv4",
    "atlassian-dc-pat",
    "base64",
];

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Base62 (0-9A-Za-z) encoding of `n`, left-padded with `0` to 6 characters.
pub fn base62_6(mut n: u32) -> String {
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        if let Some(&c) = BASE62.get((n % 62) as usize) {
            *slot = c;
        }
        n /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// GitHub's token format (and npm's, which copies it): after the `xxx_` prefix, random
/// base62 characters followed by 6 characters that are the base62 CRC32 of those characters.
fn base62_crc32(token: &str) -> bool {
    let Some((_, body)) = token.split_once('_') else {
        return false;
    };
    if body.len() < 7 || !body.is_ascii() {
        return false;
    }
    let (random, sum) = body.split_at(body.len() - 6);
    base62_6(crc32fast::hash(random.as_bytes())) == sum
}

/// Decodes standard or URL-safe base64, padded or not. `None` on any invalid character.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4 + 1);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &b in s.trim_end_matches('=').as_bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'\n' | b'\r' | b' ' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xFF) as u8);
        }
    }
    Some(out)
}

fn jwt(s: &str) -> bool {
    let mut parts = s.split('.');
    let (Some(h), Some(p), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let header = decode_base64(h).unwrap_or_default();
    let payload = decode_base64(p).unwrap_or_default();
    let header = String::from_utf8_lossy(&header);
    header.trim_start().starts_with('{')
        && header.contains("\"alg\"")
        && payload.first() == Some(&b'{')
        && !sig.is_empty()
}

fn base64_userpass(s: &str) -> bool {
    let Some(d) = decode_base64(s) else {
        return false;
    };
    let Ok(t) = std::str::from_utf8(&d) else {
        return false;
    };
    match t.split_once(':') {
        Some((u, p)) => !u.is_empty() && !p.is_empty() && !t.chars().any(char::is_control),
        None => false,
    }
}

fn ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.parse::<u16>().is_ok_and(|n| n <= 255))
}

/// Data Center / Server personal access tokens are base64 of `<numeric id>:<random>`.
fn dc_pat(s: &str) -> bool {
    let Some(d) = decode_base64(s) else {
        return false;
    };
    let digits = d.iter().take_while(|b| b.is_ascii_digit()).count();
    digits >= 6 && d.get(digits) == Some(&b':') && d.len() > digits + 8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make_github(prefix: &str, random: &str) -> String {
        format!(
            "{prefix}_{random}{}",
            base62_6(crc32fast::hash(random.as_bytes()))
        )
    }

    #[test]
    fn github_crc_matches_published_example_format() {
        // 31 zeros -> "4WZ4EQ": the value used in CredSweeper's GitHub check tests.
        assert_eq!(
            base62_6(crc32fast::hash(b"0000000000000000000000000000000")),
            "4WZ4EQ"
        );
        let t = make_github("ghp", "Zq8rT2mXv0LpK7cN4bWy1sHd9fJg3a");
        assert!(check("github-crc32", &t).unwrap());
        let mut bad = t.clone();
        bad.replace_range(5..6, if &t[5..6] == "A" { "B" } else { "A" });
        assert!(!check("github-crc32", &bad).unwrap());
    }

    #[test]
    fn jwt_needs_json_header() {
        let ok = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert!(check("jwt", ok).unwrap());
        assert!(!check("jwt", "eyJub3Rqc29u.eyJ4IjoxfQ.abc").unwrap());
    }

    #[test]
    fn base64_userpass_and_ipv4() {
        assert!(check("base64-userpass", "YWRtaW46UzNjcjN0IQ==").unwrap());
        assert!(!check("base64-userpass", "aGVsbG8gd29ybGQ=").unwrap());
        assert!(check("ipv4", "10.1.2.3").unwrap());
        assert!(!check("ipv4", "10.1.2.300").unwrap());
        assert!(check("nope", "x").is_none());
    }

    #[test]
    fn dc_pat_structure() {
        // base64("123456789012:" + random)
        assert!(
            check(
                "atlassian-dc-pat",
                "MTIzNDU2Nzg5MDEyOmFiY2RlZmdoaWprbG1ub3A="
            )
            .unwrap()
        );
        assert!(!check("atlassian-dc-pat", "aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ=").unwrap());
    }
}
