//! Rules over a remote server's URL and headers. URLs are parsed with the WHATWG parser of
//! the `url` crate; IP literals are canonicalised and classified with `std::net`. No name is
//! ever resolved.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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

/// Why an IPv4 address is not public, if it is not.
fn v4_range(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    let (a, b, c) = (o[0], o[1], o[2]);
    Some(match () {
        _ if ip == Ipv4Addr::new(169, 254, 169, 254) => "the cloud metadata service",
        _ if a == 0 => "the \"this network\" range 0.0.0.0/8",
        _ if a == 10 => "the private range 10.0.0.0/8",
        _ if a == 100 && (64..128).contains(&b) => "the shared address range 100.64.0.0/10",
        _ if a == 127 => "loopback (127.0.0.0/8)",
        _ if a == 169 && b == 254 => "the link-local range 169.254.0.0/16",
        _ if a == 172 && (16..32).contains(&b) => "the private range 172.16.0.0/12",
        _ if a == 192 && b == 0 && c == 0 => "the IETF protocol range 192.0.0.0/24",
        _ if a == 192 && b == 0 && c == 2 => "the documentation range 192.0.2.0/24",
        _ if a == 192 && b == 168 => "the private range 192.168.0.0/16",
        _ if a == 198 && (b == 18 || b == 19) => "the benchmarking range 198.18.0.0/15",
        _ if a == 198 && b == 51 && c == 100 => "the documentation range 198.51.100.0/24",
        _ if a == 203 && b == 0 && c == 113 => "the documentation range 203.0.113.0/24",
        _ if (224..240).contains(&a) => "the multicast range 224.0.0.0/4",
        _ if a >= 240 => "the reserved range 240.0.0.0/4",
        _ => return None,
    })
}

/// The IPv4 address embedded in an IPv6 one (mapped, NAT64 or 6to4), if any.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..5] == [0, 0, 0, 0, 0] && s[5] == 0xffff {
        return Some(tail);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(tail);
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    None
}

/// Whether a URL's host is this machine: `localhost` (or `*.localhost`), 127.0.0.0/8, `::1`
/// (or 127.x embedded in an IPv6 address).
pub fn is_loopback(host: &::url::Host<&str>) -> bool {
    match host {
        ::url::Host::Ipv4(ip) => ip.is_loopback(),
        ::url::Host::Ipv6(ip) => {
            ip.is_loopback() || embedded_v4(*ip).is_some_and(|v| v.is_loopback())
        }
        ::url::Host::Domain(d) => {
            let d = d.trim_end_matches('.');
            d == "localhost" || d.ends_with(".localhost")
        }
    }
}

/// Classifies an address: (why it is not public, whether it is loopback, whether it is
/// cloud metadata).
fn classify(ip: IpAddr) -> Option<(String, bool, bool)> {
    match ip {
        IpAddr::V4(v4) => v4_range(v4).map(|why| {
            (
                why.to_string(),
                v4.octets()[0] == 127,
                v4 == Ipv4Addr::new(169, 254, 169, 254),
            )
        }),
        IpAddr::V6(v6) => {
            if v6 == "fd00:ec2::254".parse::<Ipv6Addr>().expect("valid") {
                return Some(("the cloud metadata service".into(), false, true));
            }
            if let Some(v4) = embedded_v4(v6) {
                return classify(IpAddr::V4(v4)).map(|(why, lo, meta)| {
                    (format!("{why}, embedded in the IPv6 address"), lo, meta)
                });
            }
            let s = v6.segments();
            let why = match () {
                _ if v6.is_unspecified() => "the unspecified address ::",
                _ if v6.is_loopback() => "loopback (::1)",
                _ if s[0] & 0xffc0 == 0xfe80 => "the link-local range fe80::/10",
                _ if s[0] & 0xfe00 == 0xfc00 => "the unique local range fc00::/7",
                _ if s[0] & 0xff00 == 0xff00 => "the multicast range ff00::/8",
                _ if s[0] == 0x2001 && s[1] == 0x0db8 => "the documentation range 2001:db8::/32",
                _ => return None,
            };
            Some((why.to_string(), v6.is_loopback(), false))
        }
    }
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
    let Ok(parsed) = ::url::Url::parse(text) else {
        sink.add(
            "URL-002",
            Level::Block,
            span,
            format!("`{text}` cannot be parsed as a URL, so it cannot be checked"),
        )
        .help("write an absolute https URL");
        return;
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
            format!("`{text}` does not write `{scheme}://` in full"),
        )
        .help("write the URL as `https://host/path`");
    }
    let is_loopback_host = host_kind.as_ref().is_some_and(is_loopback);
    match scheme {
        "https" | "wss" => {}
        "http" if is_loopback_host => {
            sink.add("URL-001", loopback_level, span, format!("`{text}` is plain http to a loopback address"))
                .help("acceptable only for a local development server on this machine; use https otherwise");
        }
        "http" => {
            sink.add(
                "URL-001",
                Level::Block,
                span,
                format!("`{text}` is not encrypted (http)"),
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
    if !parsed.username().is_empty() || parsed.password().is_some() {
        sink.add("URL-003", Level::Block, span, format!("`{text}` carries user credentials before the host"))
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
            } else if raw_l != canonical && !non_ascii {
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
            ::url::Host::Ipv4(ip) => ip_rule(IpAddr::V4(*ip), loopback_level, text, span, sink),
            ::url::Host::Ipv6(ip) => ip_rule(IpAddr::V6(*ip), loopback_level, text, span, sink),
            ::url::Host::Domain(d) => domain_rules(d, loopback_level, span, sink),
        }
    }
    if let Some(port) = parsed.port()
        && [6379, 2375, 2376, 5432, 3306, 9200, 11211, 27017].contains(&port)
    {
        sink.add("URL-008", Level::Medium, span, format!("port {port} belongs to an internal service (a database or daemon), not an MCP server"));
    }
    undeclared_vars(s, text, span, sink);
    secrets_in_url(&parsed, span, sink);
    headers(s, sink);
}

fn ip_rule(
    ip: IpAddr,
    loopback_level: Level,
    text: &str,
    span: crate::manifest::span::Span,
    sink: &mut Sink<'_>,
) {
    if let Some((why, loopback, metadata)) = classify(ip) {
        let level = if loopback && !metadata {
            loopback_level
        } else {
            Level::Block
        };
        sink.add(
            "URL-004",
            level,
            span,
            format!("`{text}` points at {ip}, in {why}"),
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
    let internal = d == "localhost"
        || d.ends_with(".localhost")
        || d.ends_with(".localdomain")
        || d == "metadata.google.internal"
        || d.ends_with(".internal")
        || d.ends_with(".local")
        || d.ends_with(".home.arpa")
        || !d.contains('.');
    if internal {
        let loopback = d == "localhost" || d.ends_with(".localhost");
        let level = if d == "metadata.google.internal" {
            Level::Block
        } else if loopback && loopback_level == Level::Medium {
            Level::Medium
        } else {
            Level::High
        };
        sink.add(
            "URL-006",
            level,
            span,
            format!("`{d}` is an internal host name, not a public server"),
        )
        .help("use the server's public, fully qualified hostname");
    }
    let puny: Vec<&str> = d.split('.').filter(|l| l.starts_with("xn--")).collect();
    if !puny.is_empty() {
        let (unicode, _) = idna::domain_to_unicode(d);
        use unicode_security::MixedScript;
        let mixed = unicode.split('.').any(|l| !l.is_single_script());
        let what = if mixed {
            "mixes writing systems"
        } else {
            "uses non-ASCII characters"
        };
        sink.add("URL-007", Level::Medium, span, format!("the host `{d}` {what}: it displays as `{unicode}`"))
            .help("check that this is the host you mean; look-alike characters can imitate a trusted name");
    }
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
        });
    if let Some(why) = why {
        sink.add("URL-010", Level::High, span, why)
            .help("send the secret in a header built from a `from-env` or `template` reference");
    }
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
        ] {
            assert_eq!(url_secrets(url).len(), 1, "{url}");
        }
        for url in [
            "https://x.example.com/repos/owner/name/v1/mcp?page=2&q=rust",
            "https://x.example.com/w/123e4567-e89b-12d3-a456-426614174000/mcp",
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

    #[test]
    fn embedded_addresses_are_classified() {
        for ip in [
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "2002:c0a8:101::1",
            "fd00:ec2::254",
            "fe80::1",
            "::",
        ] {
            assert!(classify(ip.parse().unwrap()).is_some(), "{ip}");
        }
        for ip in ["2606:4700::1111", "8.8.8.8", "::ffff:8.8.8.8"] {
            assert!(classify(ip.parse().unwrap()).is_none(), "{ip}");
        }
    }
}
