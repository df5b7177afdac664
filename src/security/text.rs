//! Text classifiers shared by the rules: secret token shapes, secret-looking key names,
//! hidden and confusable characters, and long encoded blobs.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
use unicode_security::MixedScript;

use super::{Level, Sink};
use crate::manifest::bundle::{EnvValue, McpServer};
use crate::manifest::span::Spanned;

/// The kind of credential `s` holds, if any: a vendor token family, a PEM private key, or
/// a password in a connection string (`super::secrets`).
pub fn token_shape(s: &str) -> Option<&'static str> {
    super::secrets::shape(s)
}

/// The words of a name: split at `_`, `-`, `.`, spaces and camelCase humps, upper-cased.
/// `apiKey` → `API KEY`, `GIT_AUTHOR_NAME` → `GIT AUTHOR NAME`, `--token-env` → `TOKEN ENV`.
fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            words.push(std::mem::take(&mut cur));
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_uppercase());
    }
    words.push(cur);
    words.retain(|w| !w.is_empty());
    words
}

/// A URL as text, fit to print even when it does not parse: the user information between
/// `://` and `@`, and everything after `?` or `#`, shown as `…`. What may hold a credential
/// is never printed, whatever the rest of the text is.
pub fn redact_url_text(text: &str) -> String {
    let (base, tail) = match text.find(['?', '#']) {
        Some(i) => (&text[..i], Some(&text[i..i + 1])),
        None => (text, None),
    };
    let mut out = match base.split_once("://") {
        Some((scheme, rest)) => match rest.rfind('@') {
            Some(at) => format!("{scheme}://…{}", &rest[at..]),
            None => base.to_string(),
        },
        None => base.to_string(),
    };
    if let Some(mark) = tail {
        out.push_str(mark);
        out.push('…');
    }
    out
}

/// Whether a variable, header or option name reads like it holds a secret. Whole words
/// count (`API_KEY`, `apiKey`, `DB_PASSWORD`, `AUTH`), so `KEYCLOAK_REALM`,
/// `GIT_AUTHOR_NAME` and `SESSION_STORAGE` do not; compounds written as one word
/// (`APIKEY`, `GITHUBTOKEN`, `CLIENTSECRET`) do.
pub fn secret_name(name: &str) -> bool {
    const WORDS: &[&str] = &[
        "KEY",
        "KEYS",
        "TOKEN",
        "TOKENS",
        "SECRET",
        "SECRETS",
        "PASSWORD",
        "PASSWORDS",
        "PASSWD",
        "PASS",
        "PASSPHRASE",
        "CREDENTIAL",
        "CREDENTIALS",
        "CREDS",
        "AUTH",
        "OAUTH",
        "COOKIE",
        "APIKEY",
        "ACCESSKEY",
        "SECRETKEY",
        "PRIVATEKEY",
        "AUTHKEY",
        "MASTERKEY",
        "SIGNINGKEY",
        "PWD",
        "DSN",
        "SIGNATURE",
        "SIG",
        "PRIVATE",
        "BEARER",
        "SALT",
        "PAT",
    ];
    const ENDINGS: &[&str] = &[
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "CREDENTIAL",
        "CREDENTIALS",
    ];
    let words = name_words(name);
    let pair = |a: &str, b: &str| words.windows(2).any(|w| w[0] == a && w[1] == b);
    let described = words.last().is_some_and(|w| descriptor(w));
    (!described
        && words
            .iter()
            .any(|w| WORDS.contains(&w.as_str()) || ENDINGS.iter().any(|e| w.ends_with(e))))
        || pair("CONNECTION", "STRING")
        || pair("DATABASE", "URL")
        || pair("DB", "URL")
        || pair("WEBHOOK", "URL")
        || words
            .iter()
            .any(|w| w == "CONNECTIONSTRING" || w == "PGPASSWORD")
}

/// Whether the last word of a name (its head noun) says the value describes a secret
/// rather than holding one: `TOKEN_TYPE`, `OAUTH_SCOPE`, `KEY_PATH`, `CLIENT_ID`, `AUTH_URL`.
/// `SECRET_KEY` still means a secret: its head is `KEY`.
fn descriptor(word: &str) -> bool {
    const WORDS: &[&str] = &[
        "ID",
        "IDS",
        "SCOPE",
        "SCOPES",
        "TYPE",
        "TYPES",
        "METHOD",
        "METHODS",
        "MODE",
        "PREFIX",
        "SUFFIX",
        "HEADER",
        "HEADERS",
        "STORE",
        "POLICY",
        "ALGORITHM",
        "ALG",
        "ENCODING",
        "SOURCE",
        "OWNER",
        "NAME",
        "NAMES",
        "USER",
        "USERNAME",
        "EMAIL",
        "URL",
        "URI",
        "ENDPOINT",
        "HOST",
        "PORT",
        "REGION",
        "FILE",
        "FILES",
        "PATH",
        "DIR",
        "FORMAT",
        "LENGTH",
        "SIZE",
        "TTL",
        "EXPIRY",
        "TIMEOUT",
        "LIMIT",
        "COUNT",
        "VERSION",
        "ENABLED",
        "PROVIDER",
        "ISSUER",
        "AUDIENCE",
        "ROLE",
        "KIND",
        "LOCATION",
        "CACHE",
        "BACKEND",
    ];
    WORDS.contains(&word)
}

/// Whether a name says its value identifies or fingerprints something rather than holding
/// a secret: `COMMIT_SHA`, `IMAGE_DIGEST`, `PROJECT_ID`, `CHECKSUM`.
pub fn identifier_name(name: &str) -> bool {
    name_words(name).iter().any(|w| {
        matches!(
            w.as_str(),
            "ID" | "IDS"
                | "UUID"
                | "SHA"
                | "SHA1"
                | "SHA256"
                | "DIGEST"
                | "HASH"
                | "CHECKSUM"
                | "COMMIT"
                | "REV"
                | "REVISION"
                | "VERSION"
                | "FINGERPRINT"
        )
    })
}

/// Whether a name says its value names a variable rather than holding a secret
/// (`--token-env GITHUB_TOKEN`, `API_KEY_VAR = "MY_KEY"`).
fn names_a_variable(name: &str) -> bool {
    name_words(name)
        .iter()
        .any(|w| matches!(w.as_str(), "ENV" | "VAR" | "VARIABLE" | "NAME"))
}

/// Whether `name = value` is a literal secret: a secret-looking name (or a credential
/// header) whose value, past an auth scheme and its references, is not plainly harmless.
pub fn literal_secret(name: &str, value: &str) -> bool {
    let v = value.trim();
    let variable_name = !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && v.as_bytes()[0].is_ascii_uppercase();
    (secret_name(name) || secret_header(name))
        && literal_part(v, password_name(name)).is_some()
        && !(variable_name && names_a_variable(name))
}

/// Whether a name's head noun means a password (`DB_PASSWORD`, `PGPASSWORD`, `MYSQL_PWD`,
/// `SMTP_PASS`, `GPG_PASSPHRASE`): any literal of 4 or more characters is then a secret.
fn password_name(name: &str) -> bool {
    name_words(name).last().is_some_and(|w| {
        matches!(w.as_str(), "PWD" | "PASS")
            || ["PASSWORD", "PASSWD", "PASSPHRASE"]
                .iter()
                .any(|e| w.ends_with(e))
    })
}

/// Whether a literal value under a secret-looking name is plainly not a secret: short, a
/// number, a boolean, a path, a URL without credentials, or only references to variables
/// (`{env:…}`, `${…}`, `$…`, `%…%`). Under a password's name (`password`) only what is
/// under 4 characters is short, and a number is not harmless.
fn harmless(v: &str, password: bool) -> bool {
    let v = v.trim();
    let short = if password {
        v.chars().count() < 4
    } else {
        v.chars().count() < 8 || v.parse::<f64>().is_ok()
    };
    if short {
        return true;
    }
    if matches!(
        v.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "none" | "null"
    ) {
        return true;
    }
    let drive = v.len() > 2 && v.as_bytes()[1] == b':' && matches!(v.as_bytes()[2], b'\\' | b'/');
    if v.starts_with('/')
        || v.starts_with("./")
        || v.starts_with("../")
        || v == "~"
        || v.starts_with("~/")
        || drive
        || relative_path(v)
    {
        return true;
    }
    if let Ok(u) = ::url::Url::parse(v)
        && u.has_host()
        && !super::secrets::has_connection_password(v)
        && !url_carries_secret(&u)
    {
        return true;
    }
    reference_or_placeholder(v)
}

/// Whether `v` is only variable references (`{env:X}`, `${X}`, `$X`, `%X%`), or a
/// placeholder an author writes for the user to fill in (`<your-key>`, `YOUR_API_KEY`,
/// `xxxxxxxx`, `changeme`, the bare word `password` as in `postgres://user:password@host`):
/// neither carries a secret.
pub fn reference_or_placeholder(v: &str) -> bool {
    let rest = strip_env_refs(v);
    let rest = rest.trim();
    let lower = rest.to_ascii_lowercase();
    let filler = |c: char| matches!(c, 'x' | '*' | '.' | '-' | '_' | '0');
    rest.is_empty()
        || (rest.starts_with('<') && rest.ends_with('>'))
        || (rest.starts_with('[') && rest.ends_with(']'))
        || (lower.starts_with("your")
            && rest
                .chars()
                .all(|c| c.is_ascii_alphabetic() || matches!(c, '-' | '_')))
        || lower.starts_with("replace")
        || lower.contains("placeholder")
        || matches!(
            lower.as_str(),
            "changeme"
                | "change-me"
                | "change_me"
                | "redacted"
                | "password"
                | "passwd"
                | "pass"
                | "pwd"
                | "secret"
                | "mypassword"
                | "example"
        )
        || (rest.len() >= 4 && lower.chars().all(filler))
}

/// Whether a URL's query or path carries something secret: a value under a secret-named
/// query key, or a credential-shaped or random-looking query value or path segment.
pub fn url_carries_secret(u: &::url::Url) -> bool {
    let query = u.query_pairs().any(|(k, v)| {
        !reference_or_placeholder(&v)
            && (secret_name(&k) || token_shape(&v).is_some() || super::secrets::random_key(&v))
    });
    query || u.path_segments().into_iter().flatten().any(secret_segment)
}

/// Why a literal value is a URL carrying a credential in its query or path (a webhook, a
/// signed or keyed endpoint), if it is: `https://hooks.example/T0/B0/XYZ…`, `…?token=…`.
pub fn keyed_url(value: &str) -> Option<&'static str> {
    let v = value.trim();
    let u = v
        .contains("://")
        .then(|| ::url::Url::parse(v).ok())
        .flatten()?;
    (u.has_host() && url_carries_secret(&u)).then_some("a URL whose query or path carries a key")
}

/// Whether a URL path segment is a credential: a token shape or a random-looking key.
pub fn secret_segment(seg: &str) -> bool {
    token_shape(seg).is_some() || super::secrets::random_key(seg)
}

/// A relative file path: `credentials.json`, `certs/server.key`. Every segment is made of
/// file-name characters, and it has a `/` or ends in a short extension. Segments that look
/// random (long, mixing upper case, lower case and digits, as base64 does) are not names.
fn relative_path(v: &str) -> bool {
    let name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    let random = |seg: &str| {
        seg.len() >= 16
            && seg.bytes().any(|b| b.is_ascii_uppercase())
            && seg.bytes().any(|b| b.is_ascii_lowercase())
            && seg.bytes().any(|b| b.is_ascii_digit())
    };
    let segments: Vec<&str> = v.split('/').collect();
    if segments
        .iter()
        .any(|s| s.is_empty() || !s.chars().all(name_char) || random(s))
    {
        return false;
    }
    let last = segments.last().copied().unwrap_or("");
    const EXTENSIONS: &[&str] = &[
        "json", "yaml", "yml", "toml", "pem", "key", "crt", "cer", "p12", "pfx", "txt", "env",
        "conf", "cfg", "ini", "jks",
    ];
    let extension = last
        .rsplit_once('.')
        .is_some_and(|(stem, ext)| !stem.is_empty() && EXTENSIONS.contains(&ext));
    segments.len() > 1 || extension
}

/// The literal text a template adds around its references, if it could be a secret: the
/// template without `{env:…}` references and without a leading auth scheme (`Bearer`,
/// `Basic`, `Token`) that is not plainly harmless.
pub fn template_literal(t: &str) -> Option<String> {
    literal_part(t, false)
}

/// [`template_literal`], judged as a password's value when `password` is set.
fn literal_part(t: &str, password: bool) -> Option<String> {
    let rest = strip_env_refs(t);
    let rest = rest.trim();
    let rest = match rest.split_once(char::is_whitespace) {
        Some((scheme, tail))
            if ["bearer", "basic", "token", "bot"]
                .contains(&scheme.to_ascii_lowercase().as_str()) =>
        {
            tail.trim()
        }
        _ if ["bearer", "basic", "token", "bot"].contains(&rest.to_ascii_lowercase().as_str()) => {
            ""
        }
        _ => rest,
    };
    (!harmless(rest, password)).then(|| rest.to_string())
}

/// `v` without its variable references: `{env:X}`, `${X}`, `$X` and `%X%`.
fn strip_env_refs(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v;
    while !rest.is_empty() {
        if let Some(len) = reference_len(rest) {
            rest = &rest[len..];
            continue;
        }
        let c = rest.chars().next().expect("not empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The length of the variable reference `s` starts with, if it starts with one.
fn reference_len(s: &str) -> Option<usize> {
    let ident = |t: &str| {
        t.bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count()
    };
    if let Some(r) = s.strip_prefix("{env:") {
        return r.find('}').map(|end| 5 + end + 1);
    }
    if let Some(r) = s.strip_prefix("${") {
        let n = ident(r);
        return (n > 0 && r[n..].starts_with('}')).then_some(2 + n + 1);
    }
    if let Some(r) = s.strip_prefix('$') {
        let n = ident(r);
        return (n > 0 && !r.as_bytes()[0].is_ascii_digit()).then_some(1 + n);
    }
    if let Some(r) = s.strip_prefix('%') {
        let n = ident(r);
        return (n > 0 && r[n..].starts_with('%')).then_some(1 + n + 1);
    }
    None
}

/// What makes `s` unsafe to show a reviewer, if anything: an invisible or control
/// character, a word mixing scripts, or a long encoded blob.
pub fn hidden(s: &str) -> Option<String> {
    for c in s.chars() {
        let cp = c as u32;
        let tag = (0xE0000..=0xE007F).contains(&cp);
        // Variation selectors change how the previous character looks, line and paragraph
        // separators break lines invisibly, and these spaces look like nothing or a space.
        let invisible = (0xFE00..=0xFE0F).contains(&cp)
            || (0xE0100..=0xE01EF).contains(&cp)
            || matches!(
                cp,
                0x2028 | 0x2029 | 0x00A0 | 0x3000 | 0x2800 | 0x180E | 0x3164 | 0x115F | 0x1160
            );
        if invisible {
            return Some(format!(
                "the invisible or look-alike space character U+{cp:04X}"
            ));
        }
        match c.general_category() {
            GeneralCategory::Control => return Some(format!("the control character U+{cp:04X}")),
            GeneralCategory::Format => {
                return Some(format!("the invisible formatting character U+{cp:04X}"));
            }
            _ if tag => return Some(format!("the tag character U+{cp:04X}")),
            _ => {}
        }
    }
    for word in s.split(|c: char| !c.is_alphanumeric()) {
        if !word.is_ascii() && !word.is_single_script() {
            return Some(format!(
                "`{word}`, which mixes writing systems (a look-alike spelling)"
            ));
        }
    }
    let mut run = 0usize;
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-') {
            run += 1;
            if run > 200 {
                return Some("an encoded blob over 200 characters long".to_string());
            }
        } else {
            run = 0;
        }
    }
    None
}

/// STDIO-010 over every string of a server, and ENV-001's token shapes over arguments.
pub fn check_server(s: &McpServer, sink: &mut Sink<'_>) {
    let mut strings: Vec<(&Spanned<String>, &str)> = Vec::new();
    if let Some(c) = &s.command {
        strings.push((c, "the command"));
    }
    strings.extend(s.args.iter().map(|a| (a, "an argument")));
    if let Some(c) = &s.cwd {
        strings.push((c, "cwd"));
    }
    if let Some(u) = &s.url {
        strings.push((u, "the URL"));
    }
    for map in [&s.env, &s.headers] {
        for (k, v) in map {
            strings.push((k, "a variable or header name"));
            match v {
                EnvValue::Literal(x) => strings.push((x, "a value")),
                EnvValue::FromEnv { from_env, .. } => strings.push((from_env, "a reference")),
                EnvValue::Template { template, .. } => strings.push((template, "a template")),
            }
        }
    }
    for (value, what) in strings {
        if let Some(why) = hidden(&value.value) {
            sink.add(
                "STDIO-010",
                Level::High,
                value.span,
                format!("{what} contains {why}"),
            )
            .help("write it in plain characters; reviewers must see exactly what runs");
        }
    }
    let done: std::collections::HashSet<_> = sink
        .out
        .iter()
        .filter(|f| f.rule == "ENV-001")
        .map(|f| f.span)
        .collect();
    for (i, a) in s.args.iter().enumerate() {
        if let Some(why) = (!done.contains(&a.span))
            .then(|| argument_secret(&s.args, i))
            .flatten()
        {
            sink.add("ENV-001", Level::Block, a.span, why)
                .help("pass secrets through `env` with `{ from-env = \"VAR\", secret = true }`");
        } else if let Some(why) = option_value(&a.value).and_then(keyed_url) {
            sink.add(
                "URL-010",
                Level::High,
                a.span,
                format!("an argument is {why}"),
            )
            .help(
                "let the server read the key from its environment (`from-env`), not from the URL",
            );
        }
    }
}

/// An argument's value: what follows `=` in `--opt=value`, else the argument itself.
fn option_value(a: &str) -> Option<&str> {
    Some(match a.split_once('=') {
        Some((flag, v)) if flag.starts_with('-') => v,
        _ => a,
    })
}

/// Why argument `i` carries a literal secret, if it does: a credential shape, a header
/// (`Authorization: Bearer …`, `X-API-Key: …`), an auth scheme with a literal
/// (`Bearer abc…`), an option named like a secret with a literal value (`--api-key=…`,
/// `--token …`), a random-looking option value, or `NAME=value` naming a secret.
fn argument_secret(args: &[Spanned<String>], i: usize) -> Option<String> {
    let a = args[i].value.as_str();
    if let Some(kind) = token_shape(a) {
        return Some(format!("an argument holds {kind}"));
    }
    if let Some(name) = literal_header_arg(a) {
        return Some(format!(
            "the argument gives the header `{name}` a literal value"
        ));
    }
    if let Some(scheme) = auth_scheme_literal(a) {
        return Some(format!("an argument holds a literal `{scheme}` credential"));
    }
    let (flag, value) = match a.split_once('=') {
        Some((f, v)) => (f, Some(v)),
        None => (a, args.get(i + 1).map(|n| n.value.as_str())),
    };
    let value = value.filter(|v| !v.starts_with('-'))?;
    if let Some(name) = flag
        .starts_with('-')
        .then(|| literal_header_arg(value))
        .flatten()
        .filter(|_| a.contains('='))
    {
        return Some(format!(
            "the argument gives the header `{name}` a literal value"
        ));
    }
    let option = flag.starts_with("--") || (flag.starts_with('-') && flag.len() > 2);
    let assignment = !flag.starts_with('-') && a.contains('=') && header_name(flag);
    if (option || assignment) && literal_secret(flag, value) {
        return Some(format!(
            "`{flag}` is given a literal value that looks like a secret"
        ));
    }
    let short = flag.len() == 2 && flag.starts_with('-') && flag != "--";
    ((option || short) && !identifier_name(flag) && super::secrets::random_key(value))
        .then(|| format!("`{flag}` is given a random-looking literal value, like a key"))
}

/// Whether a value carries a literal credential whatever its place: `Name: value` for a
/// header meaning a secret, an auth scheme with a literal (`Bearer abc…`), a URL with a
/// key in its query or path, or a random-looking key.
pub fn carries_secret(value: &str) -> bool {
    let header = literal_header_arg(value).is_some();
    let assignment = value.split_once('=').is_some_and(|(name, v)| {
        header_name(name.trim_start_matches('-')) && literal_secret(name, v)
    });
    let url = value.contains("://")
        && ::url::Url::parse(value).is_ok_and(|u| u.has_host() && url_carries_secret(&u));
    header
        || assignment
        || url
        || auth_scheme_literal(value).is_some()
        || super::secrets::random_key(value)
}

/// The header `Name: value` gives a literal credential, if it does: a name meaning a secret
/// and a value that is not only a scheme and references (`Authorization: Bearer ${TOKEN}`).
fn literal_header_arg(a: &str) -> Option<&str> {
    let (name, value) = a.split_once(':')?;
    (header_name(name)
        && (secret_header(name) || secret_name(name))
        && template_literal(value).is_some())
    .then_some(name)
}

/// Whether `name` could be a header or variable name: letters, digits, `-` and `_`.
fn header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// Headers that carry credentials whatever their name's words say.
pub fn secret_header(name: &str) -> bool {
    matches!(
        name.trim().to_ascii_lowercase().as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    )
}

/// The auth scheme (`Bearer`, `Basic`, `Token`, `Bot`) a text gives a literal credential
/// of eight characters or more, if it does: `Bearer abc…` but not `Bearer ${TOKEN}`.
fn auth_scheme_literal(text: &str) -> Option<&'static str> {
    let words: Vec<&str> = text.split_whitespace().collect();
    words.windows(2).find_map(|w| {
        let scheme = ["Bearer", "Basic", "Token", "Bot"]
            .into_iter()
            .find(|s| w[0].trim_start_matches(['"', '\'']).eq_ignore_ascii_case(s))?;
        let cred = strip_env_refs(w[1]);
        let cred = cred.trim_matches(['"', '\'', ',', ';']);
        let literal = cred.len() >= 8
            && !reference_or_placeholder(cred)
            && cred
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=:".contains(&b))
            && cred.bytes().any(|b| b.is_ascii_digit());
        literal.then_some(scheme)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_shapes() {
        assert!(token_shape("ghp_0123456789abcdefghijABCDEFGHIJ").is_some());
        assert!(token_shape("Bearer sk-proj-0123456789abcdefghij012").is_some());
        assert!(token_shape("AKIAZ7Q4MLN2XPRT5VWK").is_some());
        assert!(token_shape("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl").is_some());
        assert!(token_shape("xoxb-123-456-abc").is_some());
        assert!(token_shape("task-runner").is_none());
        assert!(token_shape("ghp_short").is_none());
        assert!(token_shape("desk-0123456789abcdefghijklmn").is_none());
    }

    #[test]
    fn harmless_values() {
        for v in [
            "4096",
            "true",
            "./keys",
            "/etc/ssl/cert.pem",
            "https://auth.example.com",
            "{env:A}",
            "short",
            "credentials.json",
            "certs/server.key",
            "${API_TOKEN}",
            "%API_TOKEN%",
        ] {
            assert!(harmless(v, false), "{v}");
        }
        for v in ["hunter2hunter2", "Bearer abcdefgh", "https://u:p@x.com"] {
            assert!(!harmless(v, false), "{v}");
        }
    }

    #[test]
    fn secret_names_are_whole_words() {
        for n in [
            "API_KEY",
            "apiKey",
            "GITHUB_TOKEN",
            "DB_PASSWORD",
            "x-auth",
            "APIKEY",
            "--token",
        ] {
            assert!(secret_name(n), "{n}");
        }
        for n in [
            "GIT_AUTHOR_NAME",
            "KEYCLOAK_REALM",
            "KEYBOARD_LAYOUT",
            "SESSION_STORAGE",
        ] {
            assert!(!secret_name(n), "{n}");
        }
    }

    #[test]
    fn bypasses_by_value_shape_are_secrets() {
        for (name, value) in [
            ("DB_PASSWORD", "hunter2"),
            ("SMTP_PASS", "1234"),
            ("JWT_SECRET", "~Zq8Lm3Np7Rt2Vx9"),
            ("API_SECRET", "supersecret2024.pw"),
            ("ADMIN_PASSWORD", "yourGr8Passw0rd!"),
        ] {
            assert!(literal_secret(name, value), "{name}");
        }
        for (name, value) in [
            ("DB_PASSWORD", "abc"),
            ("DB_PASSWORD", "your-db-password"),
            ("API_KEY", "YOUR_API_KEY"),
            ("API_KEY", "yourApiKey"),
            ("TOKEN_CACHE", "~/.cache/tool"),
            ("API_SECRET", "secrets/api.json"),
            ("CLIENT_SECRET", "client_secret.json"),
            ("DB_PASSWORD", "${DB_PASSWORD}"),
        ] {
            assert!(!literal_secret(name, value), "{name}={value}");
        }
    }

    #[test]
    fn redacted_url_text_hides_user_information_query_and_fragment() {
        for (raw, shown) in [
            (
                "https://mcp.example.com:99999/mcp?api_key=Zq8Lm3Np",
                "https://mcp.example.com:99999/mcp?…",
            ),
            (
                "https://admin:S3cr3t@mcp.exa mple.com/mcp",
                "https://…@mcp.exa mple.com/mcp",
            ),
            ("https://a:b/c@host/p#frag", "https://…@host/p#…"),
            ("not a url", "not a url"),
            ("https://mcp.example.com/mcp", "https://mcp.example.com/mcp"),
        ] {
            assert_eq!(redact_url_text(raw), shown);
        }
    }

    #[test]
    fn descriptor_head_nouns_do_not_mean_a_secret() {
        for n in [
            "ATLASSIAN_OAUTH_CLOUD_ID",
            "ATLASSIAN_OAUTH_SCOPE",
            "TOKEN_TYPE",
            "AUTH_METHOD",
            "KEY_PREFIX",
            "API_KEY_HEADER",
            "SECRET_STORE",
            "PASSWORD_POLICY",
            "SIGNATURE_ALGORITHM",
            "TOKEN_ENCODING",
            "CREDENTIALS_SOURCE",
            "PAT_SCOPES",
            "PRIVATE_REPO_OWNER",
            "GOOGLE_OAUTH_CLIENT_ID",
            "AUTH_URL",
            "TOKEN_FILE",
            "KEY_PATH",
            "tokenType",
        ] {
            assert!(!secret_name(n), "{n}");
        }
        for n in [
            "SECRET_KEY",
            "OAUTH_TOKEN",
            "DATABASE_URL",
            "SLACK_WEBHOOK_URL",
            "KEY_ID_SECRET",
        ] {
            assert!(secret_name(n), "{n}");
        }
    }

    #[test]
    fn secret_names_by_meaning() {
        for n in [
            "MYSQL_PWD",
            "PGPASSWORD",
            "SMTP_PASS",
            "SENTRY_DSN",
            "DATABASE_URL",
            "CONNECTION_STRING",
            "SLACK_WEBHOOK_URL",
            "REQUEST_SIGNATURE",
            "tavilyApiKey",
            "private_token",
        ] {
            assert!(secret_name(n), "{n}");
        }
        for n in [
            "PASSTHROUGH",
            "SIGNAL",
            "DATABASE_NAME",
            "PATTERN",
            "WEBHOOK_PATH",
        ] {
            assert!(!secret_name(n), "{n}");
        }
    }

    #[test]
    fn placeholders_and_references_are_not_secrets() {
        for v in [
            "<your-key>",
            "YOUR_API_KEY",
            "xxxxxxxx",
            "changeme",
            "${DB}{env:X}",
        ] {
            assert!(reference_or_placeholder(v), "{v}");
        }
        for v in ["hunter2hunter2", "yxxxxxxx1", "<a"] {
            assert!(!reference_or_placeholder(v), "{v}");
        }
    }

    fn args(list: &[&str]) -> Vec<Spanned<String>> {
        list.iter()
            .map(|a| Spanned::new(a.to_string(), crate::manifest::span::Span::default()))
            .collect()
    }

    #[test]
    fn secrets_in_arguments() {
        let key = "Zk3Qp9LmX2vB7nR4tY8wE1aS6dF0gH5jK";
        for list in [
            vec!["--header", &format!("Authorization: Bearer {key}")],
            vec!["-H", "X-API-Key: k-12345678"],
            vec!["--api-key=hunter2hunter2"],
            vec!["--token", "hunter2hunter2"],
            vec!["--upstream", key],
            vec!["API_KEY=hunter2hunter2"],
            vec![&format!("Token {key}")],
        ] {
            let a = args(&list);
            assert!(
                (0..a.len()).any(|i| argument_secret(&a, i).is_some()),
                "{list:?}"
            );
        }
        for list in [
            vec!["--header", "Authorization: Bearer ${AUTH_TOKEN}"],
            vec!["--token-env", "GITHUB_TOKEN"],
            vec!["--commit", "a8f5f167f44f4964e6c998dee827110ca8f5f167"],
            vec!["--id", "123e4567-e89b-12d3-a456-426614174000"],
            vec!["--title", "Token authentication"],
            vec!["server@1.2.3", "--model", "claude-3-5-sonnet-20241022"],
        ] {
            let a = args(&list);
            assert!(
                (0..a.len()).all(|i| argument_secret(&a, i).is_none()),
                "{list:?}"
            );
        }
    }

    #[test]
    fn values_that_carry_a_secret() {
        assert!(carries_secret(
            "https://x.example.com/mcp?exaApiKey=hunter2hunter2"
        ));
        assert!(carries_secret("Bearer Zk3Qp9LmX2vB7nR4tY8wE1aS6dF0gH5jK"));
        assert!(!carries_secret("https://x.example.com/mcp?page=2"));
        assert!(!carries_secret("Bearer {env:TOKEN}"));
        assert!(!literal_secret("Authorization", "Bearer {env:TOKEN}"));
        assert!(literal_secret("Authorization", "Bearer hunter2hunter2"));
    }

    #[test]
    fn hidden_characters() {
        assert!(hidden("server\u{202e}js").is_some());
        assert!(hidden("a\u{200b}b").is_some());
        assert!(hidden("line\nbreak").is_some());
        assert!(hidden("nрx").is_some(), "Cyrillic er in a Latin word");
        assert!(hidden(&"A".repeat(201)).is_some());
        assert!(hidden("café --port 8080").is_none());
        assert!(hidden("東京").is_none());
    }
}
