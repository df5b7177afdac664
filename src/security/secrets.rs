//! Secrets by kind: vendor token families (prefix, alphabet and length, modelled on the
//! families of broad public rule sets such as gitleaks'), passwords in connection strings,
//! and random-looking keys by entropy. `find` locates them in free text (a skill's markdown
//! and resources, agents, commands, plugin sources); the rules ask `shape` of one value.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

/// A credential found in a text: where it is and what kind it is. The value itself is never
/// kept or shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secret {
    /// Byte range of the credential in the text.
    pub range: Range<usize>,
    /// What it looks like, for messages ("a GitHub token").
    pub kind: &'static str,
}

/// The token families: a pattern (ASCII only, matched at a word boundary) and its kind.
/// Each family's alphabet and minimum length keep prose and identifiers from matching.
const FAMILIES: &[(&str, &str)] = &[
    (r"gh[pousr]_[A-Za-z0-9]{20,255}", "a GitHub token"),
    (
        r"github_pat_[A-Za-z0-9_]{22,255}",
        "a GitHub fine-grained token",
    ),
    (
        r"gl(?:pat|dt|rt|ptt|cbt|imt|ft|oas|soat|agent)-[A-Za-z0-9_-]{20,}",
        "a GitLab token",
    ),
    (r"xox[abprsce]-[A-Za-z0-9-]{10,}", "a Slack token"),
    (r"xapp-[0-9]-[A-Za-z0-9-]{20,}", "a Slack app token"),
    (
        r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{20,}",
        "a Slack webhook URL",
    ),
    (
        r"(?:A3T[A-Z0-9]|AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASCA|ABIA|ACCA)[A-Z0-9]{16}",
        "an AWS access key id",
    ),
    (
        r"(?i:aws)[A-Za-z0-9_.-]{0,20}(?i:secret)[A-Za-z0-9_.-]{0,20}[\x22\x27]?[ \t]*[:=][ \t]*[\x22\x27]?[A-Za-z0-9/+]{40}",
        "an AWS secret access key",
    ),
    (r"AIza[0-9A-Za-z_-]{35}", "a Google API key"),
    (r"ya29\.[0-9A-Za-z_-]{20,}", "a Google OAuth access token"),
    (r"GOCSPX-[0-9A-Za-z_-]{28}", "a Google OAuth client secret"),
    (r"sk-ant-[A-Za-z0-9_-]{20,}", "an Anthropic API key"),
    (r"sk-[A-Za-z0-9_-]{20,}", "an API secret key (sk-…)"),
    (r"npm_[A-Za-z0-9]{36}", "an npm token"),
    (r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}", "a PyPI token"),
    (
        r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,99}",
        "a Stripe secret key",
    ),
    (r"SK[0-9a-f]{32}", "a Twilio API key"),
    (
        r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}",
        "a SendGrid API key",
    ),
    (r"hf_[A-Za-z0-9]{30,}", "a Hugging Face token"),
    (r"dapi[a-f0-9]{32}(?:-[0-9])?", "a Databricks token"),
    (r"do[opr]_v1_[a-f0-9]{64}", "a DigitalOcean token"),
    (r"shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}", "a Shopify token"),
    (r"ATATT3[A-Za-z0-9_=-]{50,}", "an Atlassian API token"),
    (r"lin_api_[A-Za-z0-9]{40}", "a Linear API key"),
    (
        r"(?:secret_[A-Za-z0-9]{43}|ntn_[A-Za-z0-9]{40,})",
        "a Notion token",
    ),
    (r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}", "a Postman API key"),
    (
        r"(?:glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,}={0,2})",
        "a Grafana token",
    ),
    (
        r"(?:sntrys_eyJ[A-Za-z0-9+/=_-]{50,}|sntryu_[a-f0-9]{64})",
        "a Sentry token",
    ),
    (
        r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}",
        "a Doppler token",
    ),
    (r"HRKU-[A-Za-z0-9_-]{60}", "a Heroku API key"),
    (r"key-[a-f0-9]{32}", "a Mailgun API key"),
    (
        r"[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}",
        "a Discord bot token",
    ),
    (
        r"discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,}",
        "a Discord webhook URL",
    ),
    (r"[0-9]{8,10}:AA[A-Za-z0-9_-]{33}", "a Telegram bot token"),
    (r"gsk_[A-Za-z0-9]{52}", "a Groq API key"),
    (r"r8_[A-Za-z0-9]{37}", "a Replicate API token"),
    (r"pplx-[A-Za-z0-9]{48}", "a Perplexity API key"),
    (
        r"AAAA[A-Za-z0-9_-]{7}:[A-Za-z0-9_-]{140}",
        "a Firebase server key",
    ),
    (
        r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}",
        "a JSON Web Token",
    ),
    (
        r"-----BEGIN[A-Z ]{0,20} PRIVATE KEY(?: BLOCK)?-----",
        "a PEM private key",
    ),
    (
        r"(?i:AccountKey)=[A-Za-z0-9+/]{80,}={0,2}",
        "an Azure storage account key",
    ),
];

/// One regex of every family, for a single pass over a text.
static ANY: LazyLock<Regex> = LazyLock::new(|| {
    // A token starts at a word boundary; a PEM header starts with its dashes.
    let alternatives: Vec<String> = FAMILIES
        .iter()
        .map(|(p, _)| match p.starts_with('-') {
            true => format!("(?:{p})"),
            false => format!(r"\b(?:{p})"),
        })
        .collect();
    Regex::new(&format!("(?-u){}", alternatives.join("|"))).expect("valid families")
});

/// Each family anchored, to name the kind of a match of `ANY`.
static EACH: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    FAMILIES
        .iter()
        .map(|(p, k)| (Regex::new(&format!("^(?:{p})")).expect("valid family"), *k))
        .collect()
});

/// `scheme://USER:PASSWORD@host`: the password group is checked for references after.
static DSN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://([^\s:/@]*):([^\s/@]+)@[^\s/@]").expect("valid DSN")
});

/// `scheme://USER@host` with no password: the user group and the host group.
static USER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://([^\s:/@]+)@([^\s/@:?#]+)").expect("valid USER")
});

/// One assignment on a line of a config or env file: `NAME=value`, `name: value`,
/// `"name": "value",`. Group 1 is the name, group 2 the value.
static ASSIGN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^[ \t]*(?:export[ \t]+)?["']?([A-Za-z_][A-Za-z0-9_.-]*)["']?[ \t]*[:=][ \t]*["']?([^"'\s,]+)["']?[ \t]*,?[ \t]*\r?$"#)
        .expect("valid ASSIGN")
});

/// `Server=…;Password=…` (ADO.NET, ODBC): the password group.
static ADO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:^|;)\s*(?:password|pwd)\s*=\s*([^;]+)").expect("valid ADO")
});

/// Every credential in `text`, in order.
pub fn find(text: &str) -> Vec<Secret> {
    let mut out: Vec<Secret> = ANY
        .find_iter(text)
        .filter(|m| !documentation_sample(m.as_str()))
        .map(|m| Secret {
            range: m.range(),
            kind: family(m.as_str()),
        })
        .collect();
    out.extend(connection_passwords(text));
    out.extend(assignments(text));
    out.sort_by_key(|s| s.range.start);
    out
}

/// The kind of credential `value` holds, by family or connection-string password.
pub fn shape(value: &str) -> Option<&'static str> {
    if let Some(m) = ANY
        .find_iter(value)
        .find(|m| !documentation_sample(m.as_str()))
    {
        return Some(family(m.as_str()));
    }
    connection_passwords(value).first().map(|s| s.kind)
}

/// Whether `text` has a literal password in a connection string.
pub fn has_connection_password(text: &str) -> bool {
    !connection_passwords(text).is_empty()
}

fn family(token: &str) -> &'static str {
    EACH.iter()
        .find(|(re, _)| re.is_match(token))
        .map_or("a credential", |(_, kind)| kind)
}

/// Literal passwords in connection strings: `postgres://u:PASS@host`, `Password=PASS;`.
/// A password that is only variable references (`${DB_PASSWORD}`, `{env:DB_PASSWORD}`) or
/// a placeholder is not one.
fn connection_passwords(text: &str) -> Vec<Secret> {
    if !text.contains("://") && !text.contains('=') {
        return Vec::new();
    }
    let url = DSN
        .captures_iter(text)
        .filter(|c| !sample_password(&c[1], &c[2]))
        .filter_map(|c| c.get(2));
    let ado = ADO.captures_iter(text).filter_map(|c| c.get(1));
    let mut out: Vec<Secret> = url
        .chain(ado)
        .filter(|m| !super::text::reference_or_placeholder(m.as_str().trim()))
        .map(|m| Secret {
            range: m.range(),
            kind: "a password in a connection string",
        })
        .collect();
    out.extend(user_keys(text));
    out
}

/// Whether a connection string's password is a documentation sample: the user name again
/// (`postgres:postgres@`) or a well-known placeholder word (`admin`, `root`, `test`, …).
fn sample_password(user: &str, password: &str) -> bool {
    let p = password.to_ascii_lowercase();
    p == user.to_ascii_lowercase()
        || matches!(
            p.as_str(),
            "postgres"
                | "password"
                | "example"
                | "changeme"
                | "secret"
                | "pass"
                | "admin"
                | "root"
                | "test"
        )
}

/// Whether a token is a documentation sample: AWS's `AKIAIOSFODNN7EXAMPLE` and
/// `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY` carry the word `EXAMPLE`.
fn documentation_sample(token: &str) -> bool {
    token.contains("EXAMPLE")
}

/// Literal secrets assigned in a file (`MY_SECRET=…` in `.env`, `"password": "…"` in JSON),
/// judged by the name and value rules of env values; references and placeholders are not.
fn assignments(text: &str) -> Vec<Secret> {
    if !text.contains('=') && !text.contains(':') {
        return Vec::new();
    }
    ASSIGN
        .captures_iter(text)
        .filter_map(|c| Some((c.get(1)?.as_str(), c.get(2)?)))
        .filter(|(name, value)| {
            let v = value.as_str();
            shape(v).is_none()
                && (super::text::literal_secret(name, v)
                    || (!super::text::identifier_name(name) && random_key(v)))
        })
        .map(|(_, value)| Secret {
            range: value.range(),
            kind: "a literal secret assigned to a secret's name",
        })
        .collect()
}

/// Keys given as a URL's user part (`https://KEY@git.example.com/x.git`): a random-looking
/// user name. A Sentry DSN's key (32 hex digits `@…sentry.io`) is public by Sentry's design.
fn user_keys(text: &str) -> Vec<Secret> {
    if !text.contains('@') {
        return Vec::new();
    }
    USER.captures_iter(text)
        .filter_map(|c| Some((c.get(1)?, c.get(2)?.as_str())))
        .filter(|(user, host)| random_key(user.as_str()) && !sentry_dsn(user.as_str(), host))
        .map(|(user, _)| Secret {
            range: user.range(),
            kind: "a key in a URL's user part",
        })
        .collect()
}

/// Whether `user@host` is a Sentry DSN's public key: 32 hex digits at a sentry.io host.
fn sentry_dsn(user: &str, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    user.len() == 32
        && user.bytes().all(|b| b.is_ascii_hexdigit())
        && (host == "sentry.io" || host.ends_with(".sentry.io"))
}

/// Shannon entropy of `s`, in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// Whether `s` looks like a randomly generated key: at least 24 characters of a base64 or
/// hex alphabet at 3.5 bits per character or more, mixing letters and digits (hex), or
/// upper case, lower case and digits (base64), without long runs of letters of one case
/// (words). UUIDs, which are identifiers, are not keys.
pub fn random_key(s: &str) -> bool {
    let s = s.trim_end_matches('=');
    if s.len() < 24
        || !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'_' | b'-' | b'.'))
        || uuid(s)
        || documentation_sample(s)
    {
        return false;
    }
    let has = |f: fn(&u8) -> bool| s.as_bytes().iter().any(f);
    let hex = s.len() >= 32 && s.bytes().all(|b| b.is_ascii_hexdigit());
    let mixed = if hex {
        has(u8::is_ascii_digit) && has(u8::is_ascii_alphabetic)
    } else {
        has(u8::is_ascii_digit) && has(u8::is_ascii_uppercase) && has(u8::is_ascii_lowercase)
    };
    let word = |w: &str| {
        w.len() >= 5
            && w.bytes().all(|b| b.is_ascii_alphabetic())
            && (w[1..].bytes().all(|b| b.is_ascii_lowercase())
                || w.bytes().all(|b| b.is_ascii_uppercase()))
    };
    let words = s.split(['/', '.', '-', '_', '+']).any(word);
    // Hex has 4 bits a character at most, and 32 random hex digits often measure under 3.5.
    let floor = if hex { 3.0 } else { 3.5 };
    let (lower, upper) = longest_runs(s);
    mixed && !words && entropy(s) >= floor && lower < 9 && upper < 12
}

/// The longest runs of lower-case and of upper-case letters. Words are runs of lower case
/// (`Identifier`); a random key has upper-case runs as often, so those may be longer before
/// they read as an acronym chain.
fn longest_runs(s: &str) -> (usize, usize) {
    let (mut lower, mut upper, mut run) = (0, 0, 0);
    let mut prev: Option<bool> = None;
    for b in s.bytes() {
        let case = b.is_ascii_alphabetic().then(|| b.is_ascii_uppercase());
        run = if case.is_some() && case == prev {
            run + 1
        } else {
            usize::from(case.is_some())
        };
        match case {
            Some(true) => upper = upper.max(run),
            Some(false) => lower = lower.max(run),
            None => {}
        }
        prev = case;
    }
    (lower, upper)
}

/// `8-4-4-4-12` hex digits.
pub fn uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake token: `prefix` then `n` characters cycling through `alphabet`.
    fn fake(prefix: &str, alphabet: &str, n: usize) -> String {
        let a: Vec<char> = alphabet.chars().collect();
        let tail: String = (0..n).map(|i| a[(i * 7 + 3) % a.len()]).collect();
        format!("{prefix}{tail}")
    }

    const ALNUM: &str = "aB3xQ9kLmN0pQr7sTuV2wXyZ4bC6dE8fGhJ1";
    const HEX: &str = "0123456789abcdef";

    #[test]
    fn every_family_has_a_sample_and_a_near_miss() {
        let cases = [
            (fake("ghp_", ALNUM, 36), "ghp_short", "GitHub"),
            (
                fake("github_pat_", ALNUM, 60),
                "github_pat_x",
                "GitHub fine",
            ),
            (fake("glpat-", ALNUM, 20), "glpat-short", "GitLab"),
            (fake("xoxc-", ALNUM, 30), "xoxo-hugs-and-kisses", "Slack"),
            (fake("xapp-1-", ALNUM, 40), "xapp-store", "Slack app"),
            (
                fake("hooks.slack.com/services/", ALNUM, 40),
                "hooks.slack.com/services/",
                "Slack webhook",
            ),
            ("ASIAY34FZKBOKMUTVV7A".into(), "ASIAN-RECIPES", "AWS"),
            (fake("AIza", ALNUM, 35), "AIzaShort", "Google API"),
            (fake("ya29.", ALNUM, 40), "ya29.1", "Google OAuth"),
            (fake("GOCSPX-", ALNUM, 28), "GOCSPX-", "client secret"),
            (fake("sk-ant-api03-", ALNUM, 90), "sk-ant-", "Anthropic"),
            (fake("sk-proj-", ALNUM, 40), "task-runner-sk-x", "sk-"),
            (fake("npm_", ALNUM, 36), "npm_config_registry", "npm"),
            (
                fake("pypi-AgEIcHlwaS5vcmc", ALNUM, 60),
                "pypi-package-name",
                "PyPI",
            ),
            (fake("sk_live_", ALNUM, 24), "sk_live_", "Stripe"),
            (fake("SK", HEX, 32), "SKIP_TESTS", "Twilio"),
            (
                format!("SG.{}.{}", fake("", ALNUM, 22), fake("", ALNUM, 43)),
                "SG.example",
                "SendGrid",
            ),
            (fake("hf_", ALNUM, 34), "hf_transfer", "Hugging Face"),
            (fake("dapi", HEX, 32), "dapifoo", "Databricks"),
            (fake("dop_v1_", HEX, 64), "dop_v1_", "DigitalOcean"),
            (fake("shpat_", HEX, 32), "shpat_x", "Shopify"),
            (fake("ATATT3", ALNUM, 60), "ATATT3x", "Atlassian"),
            (fake("lin_api_", ALNUM, 40), "lin_api_docs", "Linear"),
            (fake("ntn_", ALNUM, 46), "secret_sauce", "Notion"),
            (
                format!("PMAK-{}-{}", fake("", HEX, 24), fake("", HEX, 34)),
                "PMAK-1",
                "Postman",
            ),
            (
                format!("glsa_{}_{}", fake("", ALNUM, 32), fake("", HEX, 8)),
                "glsa_x",
                "Grafana",
            ),
            (fake("sntryu_", HEX, 64), "sntryu_", "Sentry"),
            (fake("dp.pt.", ALNUM, 43), "dp.pt.x", "Doppler"),
            (fake("HRKU-", ALNUM, 60), "HRKU-1", "Heroku"),
            (fake("key-", HEX, 32), "key-value-store", "Mailgun"),
            (
                format!("123456789:AA{}", fake("", ALNUM, 33)),
                "12:30:AA",
                "Telegram",
            ),
            (
                format!(
                    "MTA{}.{}.{}",
                    fake("", ALNUM, 21),
                    fake("", ALNUM, 6),
                    fake("", ALNUM, 30)
                ),
                "Node.js.version",
                "Discord",
            ),
            (
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl".into(),
                "eyJ",
                "JWT",
            ),
            (
                "-----BEGIN OPENSSH PRIVATE KEY-----".into(),
                "-----BEGIN PUBLIC KEY-----",
                "PEM",
            ),
            (
                format!("AccountKey={}==", fake("", ALNUM, 86)),
                "AccountKey=",
                "Azure",
            ),
        ];
        for (sample, miss, what) in cases {
            assert!(shape(&sample).is_some(), "{what}: {sample}");
            assert!(shape(miss).is_none(), "{what} near-miss: {miss}");
        }
    }

    #[test]
    fn aws_secret_key_needs_its_name() {
        let key = fake("", "aB3xQ9kLmN0pQr7sTuV2wXyZ4bC6dE8fGhJ1/+", 40);
        assert!(shape(&format!("aws_secret_access_key = {key}")).is_some());
        assert!(shape(&key).is_none(), "an unnamed 40-character string");
    }

    #[test]
    fn documentation_samples_are_not_secrets() {
        for text in [
            "postgres://postgres:postgres@localhost:5432/postgres",
            "mysql://app:app@db/app",
            "redis://default:admin@cache:6379",
            "AKIAIOSFODNN7EXAMPLE",
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ] {
            assert!(find(text).is_empty(), "{text}");
        }
        assert!(!random_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
        assert_eq!(find("postgres://postgres:Hx7qLm2pZr@localhost/db").len(), 1);
        assert_eq!(find("AKIAZ7Q4MLN2XPRT5VWK").len(), 1);
    }

    #[test]
    fn assignments_in_files_by_name_and_value() {
        for text in [
            "MY_SECRET=Zk3Qp9LmX2vB7nR4tY8wE1aS6dF0gH5jK\n",
            "{\n  \"password\": \"S3cr3t!pw\",\n  \"user\": \"app\"\n}\n",
            "db:\n  password: hunter2\n",
        ] {
            assert_eq!(find(text).len(), 1, "{text}");
        }
        for text in [
            "MY_SECRET=${MY_SECRET}\nAPI_KEY=your-api-key\n",
            "{\n  \"password\": \"<your-password>\",\n  \"token_type\": \"bearer-token\"\n}\n",
            "max_tokens: 4096\nkey_path: ./keys/server.key\n",
        ] {
            assert!(find(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn keys_in_a_url_user_part_but_not_sentry_dsns() {
        let key = "Zk3Qp9LmX2vB7nR4tY8wE1aS6dF0gH5jKq7Wc2Xe";
        for text in [
            format!("mysql://{key}@db/app"),
            format!("https://{key}@git.example.com/x.git"),
        ] {
            assert_eq!(shape(&text), Some("a key in a URL's user part"), "{text}");
        }
        for text in [
            "https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/1",
            "https://git@github.com/org/repo.git",
            "ssh://deploy-user@host.example.com/srv",
        ] {
            assert_eq!(shape(text), None, "{text}");
        }
    }

    #[test]
    fn connection_string_passwords() {
        for s in [
            "postgresql://app:s3cr3t-Pa55@db.example.com:5432/app",
            "mongodb+srv://u:pw12345678@cluster0.example.net/db",
            "redis://:hunter2@cache:6379",
            "Server=db;Database=app;User Id=sa;Password=Hunter2!x;",
        ] {
            assert_eq!(shape(s), Some("a password in a connection string"), "{s}");
        }
        for s in [
            "postgresql://app:${DB_PASSWORD}@db.example.com/app",
            "mysql://app:{env:DB_PASSWORD}@db/app",
            "postgresql://app@db.example.com/app",
            "https://example.com/a:b@c",
            "Server=db;Password=${DB_PASSWORD};",
            "postgres://user:password@localhost:5432/db",
        ] {
            assert_eq!(shape(s), None, "{s}");
        }
    }

    #[test]
    fn random_keys_by_entropy_and_runs() {
        assert!(random_key(
            "zvh10dNM1iJUHOTXTNGgVBFZ1cL94W3EuiWL9nVujrGI8Hlx"
        ));
        assert!(random_key("796d3108623e1351d6f8b621edf166df"));
        assert!(!random_key("MyVeryLongIdentifierName2024Final"));
        assert!(!random_key("aaaa1111aaaa1111aaaa1111aaaa1111"));
    }

    #[test]
    fn random_keys_by_entropy() {
        assert!(random_key("aB3xQ9kLmN0pQr7sTuV2wXyZ4bC6dE8f"));
        assert!(random_key("a8f5f167f44f4964e6c998dee827110c"));
        for s in [
            "claude-3-5-sonnet-20241022",
            "123e4567-e89b-12d3-a456-426614174000",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "Users/Me/Documents/Project2024",
            "internationalization-strategy",
        ] {
            assert!(!random_key(s), "{s}");
        }
    }

    #[test]
    fn finds_a_token_in_prose() {
        let text = "Use the key ghp_0123456789abcdefghijklmnopqrstuvwxyzAB to call it.";
        let found = find(text);
        assert_eq!(found.len(), 1);
        assert!(text[found[0].range.clone()].starts_with("ghp_"));
        assert!(find("No credentials here, only prose.").is_empty());
    }
}
