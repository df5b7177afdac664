//! Rules over a remote server's URL and headers. URLs are parsed with the WHATWG parser of
//! the `url` crate; IP literals are canonicalised and classified with `std::net`. No name is
//! ever resolved.

use std::net::IpAddr;

use super::host::{self, Reach};
use super::secrets::random_key;
use super::text::{
    reference_or_placeholder, secret_header, secret_name, secret_segment, template_literal,
    token_shape,
};
use super::{Level, Sink};
use crate::manifest::bundle::{EnvValue, McpServer};
use crate::manifest::common::ProductMode;
use crate::manifest::span::Spanned;

/// The host exactly as written in the URL: between `://` (and any userinfo) and the port
/// or path.
fn raw_host(s: &str) -> Option<&str> {
    let after = s.split_once("://")?.1;
    let authority = after.split(['/', '?', '#', '\\']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.starts_with('[') {
        return host_port.find(']').map(|i| &host_port[..=i]);
    }
    Some(host_port.rsplit_once(':').map_or(host_port, |(h, _)| h))
}

pub fn check(s: &McpServer, modes: &[ProductMode], sink: &mut Sink<'_>) {
    let Some(u) = &s.url else { return };
    let span = u.span;
    let text = u.value.as_str();
    // Only desktop-local lets a loopback endpoint through, and only as a warning.
    let local_only = !modes.is_empty() && modes.iter().all(|m| *m == ProductMode::DesktopLocal);
    let loopback_level = if local_only {
        Level::Medium
    } else {
        Level::Block
    };
    let Some(parsed) = endpoint(text, span, loopback_level, sink) else {
        return;
    };
    undeclared_vars(s, text, span, sink);
    secrets_in_url(&parsed, span, sink);
    headers(s, sink);
}

/// The rules over where a URL leads, whoever uses it (URL-001..008): its scheme, user
/// information, host and port. Returns the parsed URL, or `None` when it does not parse.
fn endpoint(
    text: &str,
    span: crate::manifest::span::Span,
    loopback_level: Level,
    sink: &mut Sink<'_>,
) -> Option<::url::Url> {
    let Ok(parsed) = ::url::Url::parse(text) else {
        sink.add(
            "URL-002",
            Level::Block,
            span,
            format!(
                "`{}` cannot be parsed as a URL, so it cannot be checked",
                super::redact_url_text(text)
            ),
        )
        .help("write an absolute https URL");
        return None;
    };
    let scheme = parsed.scheme();
    let host_kind = parsed.host();
    // `https:host` and `https:/host` parse as `https://host`, but reviewers and other
    // parsers read them differently.
    if matches!(scheme, "http" | "https" | "ws" | "wss")
        && !text
            .trim_start()
            .get(scheme.len() + 1..)
            .is_some_and(|rest| rest.starts_with("//"))
    {
        sink.add(
            "URL-005",
            Level::Block,
            span,
            format!("`{}` does not write `{scheme}://` in full", shown(&parsed)),
        )
        .help("write the URL as `https://host/path`");
    }
    let is_loopback_host = host_kind.as_ref().is_some_and(host::is_loopback);
    match scheme {
        "https" | "wss" => {}
        "http" if is_loopback_host => {
            sink.add("URL-001", loopback_level, span, format!("`{}` is plain http to a loopback address", shown(&parsed)))
                .help("acceptable only for a local development server on this machine; use https otherwise");
        }
        "http" => {
            sink.add(
                "URL-001",
                Level::Block,
                span,
                format!("`{}` is not encrypted (http)", shown(&parsed)),
            )
            .help("use the server's https endpoint");
        }
        other => {
            sink.add(
                "URL-002",
                Level::Block,
                span,
                format!("the scheme `{other}:` is not a web scheme an MCP client may use"),
            )
            .help(if other == "ws" {
                "use wss:// (or https://)"
            } else {
                "use an https URL"
            });
        }
    }
    host_rules(&parsed, text, span, loopback_level, sink);
    Some(parsed)
}

/// A URL as messages show it: scheme, host and port, never the user information, path,
/// query or fragment, where credentials hide.
fn shown(u: &::url::Url) -> String {
    let port = u.port().map_or(String::new(), |p| format!(":{p}"));
    format!("{}://{}{port}", u.scheme(), u.host_str().unwrap_or(""))
}

/// URL-003 to URL-008 over a parsed URL's user information, host and port.
fn host_rules(
    parsed: &::url::Url,
    text: &str,
    span: crate::manifest::span::Span,
    loopback_level: Level,
    sink: &mut Sink<'_>,
) {
    let host_kind = parsed.host();
    if !parsed.username().is_empty() || parsed.password().is_some() {
        sink.add("URL-003", Level::Block, span, format!("the URL of `{}` carries user credentials before the host", shown(parsed)))
            .help("send credentials in a header built from a reference, e.g. `{ template = \"Bearer {env:TOKEN}\" }`");
    }
    if let Some(host) = &host_kind {
        let canonical = host.to_string();
        if let Some(raw) = raw_host(text) {
            let raw_l = raw.to_ascii_lowercase();
            let non_ascii = !raw.is_ascii();
            if raw.ends_with('.') {
                sink.add(
                    "URL-005",
                    Level::Block,
                    span,
                    format!("the host `{raw}` ends with a dot"),
                )
                .help("write the host without the trailing dot");
            } else if raw_l != canonical && (!non_ascii || !matches!(host, ::url::Host::Domain(_)))
            {
                sink.add(
                    "URL-005",
                    Level::Block,
                    span,
                    format!("the host `{raw}` is an unusual encoding of `{canonical}`"),
                )
                .help("write the host in its ordinary form");
            }
        }
        match host {
            ::url::Host::Ipv4(ip) => {
                ip_rule(IpAddr::V4(*ip), loopback_level, &shown(parsed), span, sink)
            }
            ::url::Host::Ipv6(ip) => {
                ip_rule(IpAddr::V6(*ip), loopback_level, &shown(parsed), span, sink)
            }
            ::url::Host::Domain(d) => domain_rules(d, loopback_level, span, sink),
        }
    }
    if let Some((port, service)) = parsed.port().and_then(internal_service) {
        sink.add(
            "URL-008",
            Level::Medium,
            span,
            format!("port {port} belongs to {service}, an internal service, not an MCP server"),
        );
    }
}

/// Local programs that connect a stdio client to a remote MCP server named by a URL
/// argument, as npm packages or commands.
const PROXIES: &[&str] = &[
    "mcp-remote",
    "mcp-proxy",
    "supergateway",
    "@modelcontextprotocol/inspector",
    "mcp-inspector",
    "@pyroprompts/mcp-stdio-to-streamable-http-adapter",
    "mcp-streamablehttp-client",
];

/// Whether an argv element names a proxy: its program, or its package without a version.
fn names_proxy(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    let scoped = usize::from(lower.starts_with('@'));
    let pkg = lower[scoped..]
        .find('@')
        .map_or(lower.as_str(), |i| &lower[..i + scoped]);
    let prog = super::launch::program(pkg);
    PROXIES.contains(&pkg) || PROXIES.contains(&prog.as_str())
}

/// The remote a proxy in a local launch connects to: every URL argument after the proxy
/// (`mcp-remote https://…`, `--url=…`, `--sse …`) gets the URL rules a server's `url` gets.
/// A local server runs only in desktop-local, so a loopback remote is a warning.
pub(crate) fn check_proxy_target(argv: &[super::launch::Arg<'_>], sink: &mut Sink<'_>) {
    let Some(at) = argv.iter().position(|a| names_proxy(a.text)) else {
        return;
    };
    for a in &argv[at + 1..] {
        let value = a
            .text
            .split_once('=')
            .map_or(a.text, |(k, v)| if k.starts_with('-') { v } else { a.text });
        if value.contains("://") {
            endpoint(value, a.span, Level::Medium, sink);
        }
    }
}

/// The level of a URL-004 or URL-006 finding: metadata always blocks, loopback follows
/// URL-001's desktop-local exception, anything else is `other`.
fn reach_level(reach: Reach, loopback_level: Level, other: Level) -> Level {
    match reach {
        Reach::Metadata => Level::Block,
        Reach::Loopback if loopback_level == Level::Medium => Level::Medium,
        Reach::Loopback | Reach::Private => other,
    }
}

fn ip_rule(
    ip: IpAddr,
    loopback_level: Level,
    shown: &str,
    span: crate::manifest::span::Span,
    sink: &mut Sink<'_>,
) {
    if let Some(c) = host::classify_ip(ip) {
        let level = reach_level(c.reach, loopback_level, Level::Block);
        sink.add(
            "URL-004",
            level,
            span,
            format!("`{shown}` points at {ip}, in {}", c.why),
        )
        .help("use the server's public https hostname");
    }
}

fn domain_rules(
    d: &str,
    loopback_level: Level,
    span: crate::manifest::span::Span,
    sink: &mut Sink<'_>,
) {
    let d = d.trim_end_matches('.');
    if let Some(c) = host::classify_name(d) {
        let level = reach_level(c.reach, loopback_level, Level::High);
        sink.add(
            "URL-006",
            level,
            span,
            format!("`{d}` is {}, not a public server", c.why),
        )
        .help("use the server's public, fully qualified hostname");
    }
    puny(d, span, sink);
}

/// URL-007: a punycode label, shown in both forms.
fn puny(d: &str, span: crate::manifest::span::Span, sink: &mut Sink<'_>) {
    if !d.split('.').any(|l| l.starts_with("xn--")) {
        return;
    }
    let (unicode, _) = idna::domain_to_unicode(d);
    use unicode_security::MixedScript;
    let mixed = unicode.split('.').any(|l| !l.is_single_script());
    let what = if mixed {
        "mixes writing systems"
    } else {
        "uses non-ASCII characters"
    };
    sink.add(
        "URL-007",
        Level::Medium,
        span,
        format!("the host `{d}` {what}: it displays as `{unicode}`"),
    )
    .help("check that this is the host you mean; look-alike characters can imitate a trusted name");
}

/// The internal service a port is registered to: databases, caches, queues, container and
/// cluster daemons, and remote-access services.
fn internal_service(port: u16) -> Option<(u16, &'static str)> {
    let service = match port {
        22 | 23 | 3389 | 5900 | 5985 | 5986 => {
            "a remote-access service (SSH, Telnet, RDP, VNC, WinRM)"
        }
        25 | 110 | 143 | 389 | 445 | 636 => "a mail, directory or file-sharing service",
        1433 | 1521 | 3306 | 5432 | 5984 | 7474 | 7687 | 8086 | 9042 | 26257 | 27017 => {
            "a database"
        }
        6379 | 11211 | 9200 | 9300 => "a cache or search engine",
        2181 | 4369 | 5672 | 9092 | 15672 => "a message queue or coordinator",
        2375 | 2376 | 2379 | 2380 | 4243 | 6443 | 10250 | 10255 => {
            "a container or cluster daemon (Docker, etcd, Kubernetes)"
        }
        4646 | 8500 | 8200 => "a cluster control plane (Nomad, Consul, Vault)",
        _ => return None,
    };
    Some((port, service))
}

fn undeclared_vars(
    s: &McpServer,
    text: &str,
    span: crate::manifest::span::Span,
    sink: &mut Sink<'_>,
) {
    let declared: Vec<String> = s
        .headers
        .values()
        .flat_map(|v| match v {
            EnvValue::FromEnv { from_env, .. } => vec![from_env.value.clone()],
            EnvValue::Template { template, .. } => {
                crate::manifest::common::template_vars(&template.value)
                    .unwrap_or_default()
                    .into_iter()
                    .map(str::to_owned)
                    .collect()
            }
            EnvValue::Literal(_) => Vec::new(),
        })
        .collect();
    let mut vars = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        let Some(end) = after.find('}') else { break };
        let inner = &after[..end];
        rest = &after[end + 1..];
        // OpenCode's own substitutions are checked by SUBST-001..003.
        if inner.starts_with("env:") || inner.starts_with("file:") {
            continue;
        }
        vars.push(inner.trim_start_matches('{').to_string());
    }
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else { break };
        vars.push(after[..end].to_string());
        rest = &after[end + 1..];
    }
    for v in vars {
        if !declared.contains(&v) {
            sink.add(
                "URL-009",
                Level::Medium,
                span,
                format!("the URL uses the variable `{v}`, which this server does not declare"),
            )
            .help("declare it through a header reference, or write the URL out in full");
        }
    }
}

/// URL-010: a secret in the URL, judged by the query key's meaning (its words: `apiKey`,
/// `tavilyApiKey`, `private_token`, `X-Amz-Signature`) or by the value's shape (a credential
/// family or a random-looking key, under any key), in the query, the fragment, `;name=value`
/// path parameters and path segments (`/s/<token>/`, webhook paths). References and
/// placeholders pass; so do UUIDs in the path, which are resource ids.
fn secrets_in_url(u: &::url::Url, span: crate::manifest::span::Span, sink: &mut Sink<'_>) {
    let fragment_pairs = u
        .fragment()
        .map(|f| ::url::form_urlencoded::parse(f.as_bytes()));
    let path_params = u
        .path()
        .split('/')
        .flat_map(|seg| seg.split(';').skip(1))
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()));
    let pairs = u
        .query_pairs()
        .chain(fragment_pairs.into_iter().flatten())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .chain(path_params);
    let why = pairs
        .filter(|(_, v)| !reference_or_placeholder(v))
        .find_map(|(k, v)| {
            let named = secret_name(&k) || k.eq_ignore_ascii_case("session");
            if let Some(kind) = token_shape(&v) {
                Some(format!("the URL parameter `{k}` holds {kind}"))
            } else if named || random_key(&v) {
                Some(format!(
                    "the URL parameter `{k}` carries secret-looking data"
                ))
            } else {
                None
            }
        })
        .or_else(|| {
            let path = format!("{}{}", u.host_str().unwrap_or(""), u.path());
            token_shape(&path)
                .map(|kind| format!("the URL path holds {kind}"))
                .or_else(|| {
                    let mut segs = u.path_segments().into_iter().flatten();
                    segs.any(secret_segment)
                        .then(|| "the URL path holds a random-looking key".to_string())
                })
                .or_else(|| {
                    capability_segment(u).then(|| {
                        "the URL path holds a random identifier: whoever has this URL uses the server as the account it was issued to".to_string()
                    })
                })
        });
    if let Some(why) = why {
        sink.add("URL-010", Level::High, span, why)
            .help("send the secret in a header built from a `from-env` or `template` reference");
    }
}

/// Whether a server's endpoint carries a random identifier that is its key (a capability
/// URL: `/v1/<uuid>/sse`, `/s/<uuid>/mcp`). A UUID named by the collection before it
/// (`/workspaces/<uuid>/mcp`, `/projects/<uuid>/`) is a resource's id, which is not secret.
fn capability_segment(u: &::url::Url) -> bool {
    let segs: Vec<&str> = u.path_segments().into_iter().flatten().collect();
    segs.iter().enumerate().any(|(i, seg)| {
        let collection = i > 0 && {
            let prev = segs[i - 1];
            prev.len() >= 4 && prev.ends_with('s') && prev.bytes().all(|b| b.is_ascii_alphabetic())
        };
        super::secrets::uuid(seg) && !collection
    })
}

/// URL-011: a credential written into a header, as a literal or as literal text around a
/// template's references.
fn literal_header_secret(name: &Spanned<String>, value: &EnvValue, sink: &mut Sink<'_>) {
    let sensitive = secret_header(&name.value) || secret_name(&name.value);
    let why = match value {
        EnvValue::Literal(v) => token_shape(&v.value)
            .map(|kind| format!("the header `{name}` holds {kind} as a literal"))
            .or_else(|| {
                let v = v.value.trim();
                let literal = !v.is_empty() && !reference_or_placeholder(v);
                (sensitive && literal || random_key(v)).then(|| {
                    format!("the header `{name}` is given a literal value; credentials must be references")
                })
            }),
        EnvValue::Template { template, .. } => token_shape(&template.value)
            .map(|kind| format!("the template of the header `{name}` holds {kind} as literal text"))
            .or_else(|| {
                let left = template_literal(&template.value)?;
                (sensitive || random_key(&left)).then(|| {
                    format!("the template of the header `{name}` holds literal text besides its references")
                })
            }),
        EnvValue::FromEnv { .. } => None,
    };
    if let Some(why) = why {
        sink.add("URL-011", Level::Block, name.span, why)
            .help(format!(
                "use `headers.{name} = {{ template = \"…{{env:VAR}}…\", secret = true }}`"
            ));
    }
}

fn headers(s: &McpServer, sink: &mut Sink<'_>) {
    for (name, value) in &s.headers {
        let lower = name.value.to_ascii_lowercase();
        let text = match value {
            EnvValue::Literal(v) => Some(v.value.as_str()),
            EnvValue::Template { template, .. } => Some(template.value.as_str()),
            EnvValue::FromEnv { .. } => None,
        };
        literal_header_secret(name, value, sink);
        let bad_char = name
            .value
            .chars()
            .chain(text.unwrap_or("").chars())
            .find(|c| c.is_control());
        if let Some(c) = bad_char {
            sink.add(
                "URL-012",
                Level::High,
                name.span,
                format!(
                    "the header `{}` contains the control character U+{:04X}",
                    name.value.escape_debug(),
                    c as u32
                ),
            )
            .help("header names and values must be printable; CR and LF split requests");
        }
        if matches!(
            lower.as_str(),
            "host" | "origin" | "content-length" | "transfer-encoding" | "mcp-session-id"
        ) {
            sink.add(
                "URL-012",
                Level::High,
                name.span,
                format!(
                    "the header `{name}` belongs to the client and must not be set by a bundle"
                ),
            )
            .help("remove it");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The URL-010 messages for `url`.
    fn url_secrets(url: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut sink = Sink {
            resource: "mcp:x".into(),
            spec: None,
            out: &mut out,
        };
        let parsed = ::url::Url::parse(url).unwrap();
        secrets_in_url(&parsed, crate::manifest::span::Span::default(), &mut sink);
        out.into_iter().map(|f| f.message).collect()
    }

    #[test]
    fn url_secrets_by_name_words_and_value_shape() {
        for url in [
            "https://mcp.tavily.com/mcp/?tavilyApiKey=tvly-abc123",
            "https://mcp.exa.ai/mcp?exaApiKey=abc12345",
            "https://gitlab.example.com/api?private_token=abc12345",
            "https://x.example.com/mcp?cfg=Zk3Qp9LmX2vB7nR4tY8wE1aS6dF0gH5jK",
            "https://mcp.zapier.com/api/mcp/s/Zk3Qp9LmX2vB7nR4tY8wE1aS6dF0gH5jK/mcp",
            "https://x.example.com/mcp/a8f5f167f44f4964e6c998dee827110c/sse",
            "https://x.example.com/w/123e4567-e89b-12d3-a456-426614174000/mcp",
            "https://x.example.com/v1/123e4567-e89b-12d3-a456-426614174000/sse",
        ] {
            assert_eq!(url_secrets(url).len(), 1, "{url}");
        }
        for url in [
            "https://x.example.com/repos/owner/name/v1/mcp?page=2&q=rust",
            "https://x.example.com/mcp?workspace=123e4567-e89b-12d3-a456-426614174000",
            "https://x.example.com/v1/workspaces/550e8400-e29b-41d4-a716-446655440000/mcp",
            "https://x.example.com/mcp?key=%7Benv:API_KEY%7D",
            "https://x.example.com/mcp?api_key=YOUR_API_KEY",
        ] {
            assert!(url_secrets(url).is_empty(), "{url}");
        }
    }

    #[test]
    fn raw_hosts() {
        assert_eq!(
            raw_host("https://u:p@Example.COM:8443/x"),
            Some("Example.COM")
        );
        assert_eq!(raw_host("https://[::1]:80/"), Some("[::1]"));
        assert_eq!(raw_host("https://0x7f.1/"), Some("0x7f.1"));
    }

    /// The rule ids and levels `endpoint` reports for a URL (loopback as in desktop-local).
    fn endpoint_rules(text: &str) -> Vec<(&'static str, Level)> {
        let mut out = Vec::new();
        let mut sink = Sink {
            resource: "mcp:t".into(),
            spec: None,
            out: &mut out,
        };
        endpoint(text, Default::default(), Level::Medium, &mut sink);
        out.into_iter().map(|f| (f.rule, f.level)).collect()
    }

    #[test]
    fn hosts_are_judged_by_kind() {
        for (url, rule, level) in [
            ("https://[64:ff9b::a9fe:a9fe]/", "URL-004", Level::Block),
            ("https://[2001:0:1:2::5601:5601]/", "URL-004", Level::Block),
            ("https://[fec0::1]/", "URL-004", Level::Block),
            ("https://[::]/", "URL-004", Level::Block),
            ("https://redis/", "URL-006", Level::High),
            ("https://api.default.svc/", "URL-006", Level::High),
            ("https://host.docker.internal/", "URL-006", Level::High),
            ("https://10.0.0.1.nip.io/", "URL-006", Level::High),
            ("https://metadata/", "URL-006", Level::Block),
            ("https://169.254.169.254.nip.io/", "URL-006", Level::Block),
            ("https://localhost/", "URL-006", Level::Medium),
            ("https://127。0。0。1/", "URL-005", Level::Block),
            ("https://mcp.example.com:2379/", "URL-008", Level::Medium),
        ] {
            let got = endpoint_rules(url);
            assert!(got.contains(&(rule, level)), "{url}: {got:?}");
        }
    }

    #[test]
    fn public_hosts_pass() {
        for url in [
            "https://mcp.example.com/mcp",
            "https://internal.example.com/",
            "https://localhost.example.com/",
            "https://mylocal.dev/",
            "https://[2606:4700::1111]/",
            "https://mcp.example.com:8443/",
        ] {
            assert_eq!(endpoint_rules(url), vec![], "{url}");
        }
    }

    #[test]
    fn messages_never_show_credentials() {
        let mut out = Vec::new();
        let mut sink = Sink {
            resource: "mcp:t".into(),
            spec: None,
            out: &mut out,
        };
        let url = "http://admin:hunter2@10.0.0.5:6379/x/ghp_abc?token=s3cret#k=v";
        endpoint(url, Default::default(), Level::Block, &mut sink);
        let rules: Vec<&str> = out.iter().map(|f| f.rule).collect();
        assert_eq!(rules, ["URL-001", "URL-003", "URL-004", "URL-008"]);
        for f in &out {
            for secret in ["hunter2", "admin", "ghp_abc", "s3cret"] {
                assert!(!f.message.contains(secret), "{}", f.message);
            }
        }
    }

    #[test]
    fn zone_ids_do_not_parse_and_fail_closed() {
        assert_eq!(
            endpoint_rules("https://[fe80::1%25eth0]/"),
            vec![("URL-002", Level::Block)]
        );
    }

    fn proxy_rules(args: &[&str]) -> Vec<&'static str> {
        let argv: Vec<super::super::launch::Arg<'_>> = args
            .iter()
            .map(|t| super::super::launch::Arg {
                text: t,
                span: Default::default(),
            })
            .collect();
        let mut out = Vec::new();
        let mut sink = Sink {
            resource: "mcp:t".into(),
            spec: None,
            out: &mut out,
        };
        check_proxy_target(&argv, &mut sink);
        out.into_iter().map(|f| f.rule).collect()
    }

    #[test]
    fn proxy_targets_get_the_url_rules() {
        assert_eq!(
            proxy_rules(&["npx", "-y", "mcp-remote@0.1.29", "http://10.0.0.5/mcp"]),
            vec!["URL-001", "URL-004"]
        );
        assert_eq!(
            proxy_rules(&["supergateway", "--sse=https://redis/sse"]),
            vec!["URL-006"]
        );
        assert_eq!(
            proxy_rules(&[
                "npx",
                "@modelcontextprotocol/inspector@0.16.1",
                "--url",
                "https://[::ffff:a9fe:a9fe]/"
            ]),
            vec!["URL-004"]
        );
        // Not a proxy, and a proxy's public https remote.
        assert!(proxy_rules(&["my-server", "http://10.0.0.5/mcp"]).is_empty());
        assert!(
            proxy_rules(&[
                "npx",
                "-y",
                "mcp-remote@0.1.29",
                "https://mcp.example.com/mcp"
            ])
            .is_empty()
        );
    }
}
