//! Hosts by kind, for the URL rules (URL-004, URL-006) and SRC-003: which IP addresses are
//! not public, including every IPv6 form that carries an IPv4 address, and which host names
//! only resolve inside a private network, to this machine or to a cloud metadata service.
//! Everything is decided from the text alone; nothing is resolved.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What kind of non-public destination a host is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// This machine: loopback addresses and names.
    Loopback,
    /// A cloud metadata or platform service, always refused.
    Metadata,
    /// Anything else that is not a public server: private, reserved, special-purpose.
    Private,
}

/// Why a host is not public, and what it reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostClass {
    pub why: String,
    pub reach: Reach,
}

impl HostClass {
    fn new(why: impl Into<String>, reach: Reach) -> Self {
        HostClass {
            why: why.into(),
            reach,
        }
    }
}

/// The IPv4 addresses of cloud metadata and platform services (AWS, GCP, Azure, Oracle:
/// 169.254.169.254; AWS ECS and EKS: 169.254.170.2, .23; Alibaba: 100.100.100.200; Oracle
/// legacy: 192.0.0.192; Azure WireServer: 168.63.129.16).
const METADATA_V4: &[[u8; 4]] = &[
    [169, 254, 169, 254],
    [169, 254, 170, 2],
    [169, 254, 170, 23],
    [100, 100, 100, 200],
    [192, 0, 0, 192],
    [168, 63, 129, 16],
];

/// The IPv6 addresses of cloud metadata services (AWS IMDS and EKS Pod Identity, GCP).
const METADATA_V6: &[[u16; 8]] = &[
    [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254],
    [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x23],
    [0xfd20, 0xce, 0, 0, 0, 0, 0, 0x254],
];

/// Why an IPv4 address is not public, if it is not.
pub fn v4_range(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    let (a, b, c) = (o[0], o[1], o[2]);
    Some(match () {
        _ if METADATA_V4.contains(&o) => "a cloud metadata service",
        _ if a == 0 => "the \"this network\" range 0.0.0.0/8",
        _ if a == 10 => "the private range 10.0.0.0/8",
        _ if a == 100 && (64..128).contains(&b) => "the shared address range 100.64.0.0/10",
        _ if a == 127 => "loopback (127.0.0.0/8)",
        _ if a == 169 && b == 254 => "the link-local range 169.254.0.0/16",
        _ if a == 172 && (16..32).contains(&b) => "the private range 172.16.0.0/12",
        _ if a == 192 && b == 0 && c == 0 => "the IETF protocol range 192.0.0.0/24",
        _ if a == 192 && b == 0 && c == 2 => "the documentation range 192.0.2.0/24",
        _ if a == 192 && b == 88 && c == 99 => "the 6to4 relay range 192.88.99.0/24",
        _ if a == 192 && b == 168 => "the private range 192.168.0.0/16",
        _ if a == 198 && (b == 18 || b == 19) => "the benchmarking range 198.18.0.0/15",
        _ if a == 198 && b == 51 && c == 100 => "the documentation range 198.51.100.0/24",
        _ if a == 203 && b == 0 && c == 113 => "the documentation range 203.0.113.0/24",
        _ if (224..240).contains(&a) => "the multicast range 224.0.0.0/4",
        _ if a >= 240 => "the reserved range 240.0.0.0/4",
        _ => return None,
    })
}

fn v4_of(hi: u16, lo: u16) -> Ipv4Addr {
    Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo))
}

/// The IPv4 address an IPv6 address carries, and the name of the form: IPv4-mapped,
/// IPv4-translated, IPv4-compatible, NAT64 (well-known and local-use prefixes), 6to4,
/// Teredo (the client address, de-obfuscated) and ISATAP.
pub fn embedded_v4(ip: Ipv6Addr) -> Option<(Ipv4Addr, &'static str)> {
    let s = ip.segments();
    let tail = v4_of(s[6], s[7]);
    let form = match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => "IPv4-mapped",
        [0, 0, 0, 0, 0xffff, 0, _, _] => "IPv4-translated",
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => "IPv4-compatible",
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => "NAT64",
        [0x64, 0xff9b, 1, ..] => "local-use NAT64",
        [0x2002, hi, lo, ..] => return Some((v4_of(hi, lo), "6to4")),
        [0x2001, 0, ..] => return Some((v4_of(!s[6], !s[7]), "Teredo")),
        [_, _, _, _, i, 0x5efe, _, _] if i & 0xfdff == 0 => "ISATAP",
        _ => return None,
    };
    Some((tail, form))
}

/// Why an IPv6 address outside every IPv4-carrying form is not public, if it is not.
fn v6_range(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    Some(match () {
        _ if ip.is_unspecified() => "the unspecified address ::",
        _ if ip.is_loopback() => "loopback (::1)",
        _ if s[0] & 0xffc0 == 0xfe80 => "the link-local range fe80::/10",
        _ if s[0] & 0xffc0 == 0xfec0 => "the deprecated site-local range fec0::/10",
        _ if s[0] & 0xfe00 == 0xfc00 => "the unique local range fc00::/7",
        _ if s[0] & 0xff00 == 0xff00 => "the multicast range ff00::/8",
        _ if s[..4] == [0x100, 0, 0, 0] => "the discard range 100::/64",
        _ if s[0] == 0x2001 && s[1] == 0x0db8 => "the documentation range 2001:db8::/32",
        _ if s[0] == 0x3fff && s[1] < 0x1000 => "the documentation range 3fff::/20",
        _ if s[0] == 0x5f00 => "the SRv6 segment range 5f00::/16",
        _ if s[0] == 0x2001 && s[1] < 0x200 && !ietf_global(s) => {
            "the IETF protocol range 2001::/23 (benchmarking, ORCHID and others)"
        }
        _ if s[0] & 0xe000 != 0x2000 => "a range outside global unicast 2000::/3",
        _ => return None,
    })
}

/// The globally reachable parts of 2001::/23: PCP, TURN and DNS-SD anycast, AMT, AS112
/// and drone identifiers.
fn ietf_global(s: [u16; 8]) -> bool {
    let anycast = s[1] == 1 && s[2..7] == [0, 0, 0, 0, 0] && (1..=3).contains(&s[7]);
    anycast || s[1] == 3 || (s[1] == 4 && s[2] == 0x112) || s[1] & 0xfff0 == 0x30
}

/// Classifies an address, or `None` when it is public.
pub fn classify_ip(ip: IpAddr) -> Option<HostClass> {
    match ip {
        IpAddr::V4(v4) => v4_range(v4).map(|why| {
            let reach = match () {
                _ if METADATA_V4.contains(&v4.octets()) => Reach::Metadata,
                _ if v4.is_loopback() => Reach::Loopback,
                _ => Reach::Private,
            };
            HostClass::new(why, reach)
        }),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v6(v6: Ipv6Addr) -> Option<HostClass> {
    if METADATA_V6.contains(&v6.segments()) {
        return Some(HostClass::new("a cloud metadata service", Reach::Metadata));
    }
    if v6.is_unspecified() || v6.is_loopback() {
        let reach = if v6.is_loopback() {
            Reach::Loopback
        } else {
            Reach::Private
        };
        return v6_range(v6).map(|why| HostClass::new(why, reach));
    }
    if let Some((v4, form)) = embedded_v4(v6) {
        if let Some(inner) = classify_ip(IpAddr::V4(v4)) {
            // Only a mapped address reaches this machine; a NAT64 or tunnel gateway does not
            // route loopback, so there it is an obfuscation, not a local server.
            let reach = match inner.reach {
                Reach::Loopback if form != "IPv4-mapped" => Reach::Private,
                r => r,
            };
            let why = format!("{}, embedded ({form}) as {v4}", inner.why);
            return Some(HostClass::new(why, reach));
        }
        match form {
            // These reach the public address they carry.
            "IPv4-mapped" | "NAT64" | "6to4" => return None,
            // An ISATAP address is routed by its prefix, classified below.
            "ISATAP" => {}
            _ => {
                let why = format!("the {form} form, which no public server uses");
                return Some(HostClass::new(why, Reach::Private));
            }
        }
    }
    v6_range(v6).map(|why| HostClass::new(why, Reach::Private))
}

/// Whether a URL's host is this machine: a loopback name, 127.0.0.0/8, `::1` or
/// `::ffff:127.x`.
pub fn is_loopback(host: &::url::Host<&str>) -> bool {
    match host {
        ::url::Host::Ipv4(ip) => ip.is_loopback(),
        ::url::Host::Ipv6(ip) => classify_v6(*ip).is_some_and(|c| c.reach == Reach::Loopback),
        ::url::Host::Domain(d) => loopback_name(&d.trim_end_matches('.').to_ascii_lowercase()),
    }
}

/// `localhost` and its relatives, which resolve to this machine by definition.
fn loopback_name(d: &str) -> bool {
    matches!(
        d,
        "localhost"
            | "localhost.localdomain"
            | "localhost6"
            | "localhost6.localdomain6"
            | "ip6-localhost"
            | "ip6-loopback"
    ) || d.ends_with(".localhost")
}

/// Names of cloud metadata services (GCP, AWS, Azure, and the short forms their resolvers
/// answer).
const METADATA_NAMES: &[&str] = &[
    "metadata",
    "metadata.google.internal",
    "metadata.goog",
    "instance-data",
    "instance-data.ec2.internal",
    "metadata.azure.internal",
    "metadata.tencentyun.com",
];

/// Top-level labels that never resolve in the public DNS but that local resolvers answer:
/// special-use names (RFC 6761, 6762, 7686, 8375, 9476; `.test` is what local development
/// resolvers serve), names ICANN reserves for private use (`internal`), and the suffixes
/// that private networks and service meshes use. `.example` and `.invalid` are left out:
/// nothing answers them, and documentation uses them for public servers.
const PRIVATE_SUFFIXES: &[&str] = &[
    "local",
    "localdomain",
    "internal",
    "intranet",
    "private",
    "corp",
    "home",
    "home.arpa",
    "lan",
    "svc",
    "cluster.local",
    "consul",
    "test",
    "onion",
    "alt",
    "in-addr.arpa",
    "ip6.arpa",
];

/// Public wildcard DNS services that answer with the address written in the name
/// (`10.0.0.1.nip.io`, `app-10-0-0-1.sslip.io`, `magic-0a000001.nip.io`).
const ECHO_DOMAINS: &[&str] = &["nip.io", "sslip.io", "xip.io", "traefik.me", "local.gd"];

/// Public names that resolve to 127.0.0.1 for local development.
const LOOPBACK_DOMAINS: &[&str] = &[
    "localtest.me",
    "lvh.me",
    "vcap.me",
    "localhost.direct",
    "lacolhost.com",
];

/// Whether `d` is `suffix` or a name under it.
fn under(d: &str, suffix: &str) -> bool {
    d == suffix
        || d.strip_suffix(suffix)
            .is_some_and(|rest| rest.ends_with('.'))
}

/// Classifies a host name, or `None` when it is an ordinary public name.
pub fn classify_name(d: &str) -> Option<HostClass> {
    let d = d.trim_end_matches('.').to_ascii_lowercase();
    if METADATA_NAMES.contains(&d.as_str()) {
        return Some(HostClass::new(
            "the name of a cloud metadata service",
            Reach::Metadata,
        ));
    }
    if loopback_name(&d) {
        return Some(HostClass::new("a name of this machine", Reach::Loopback));
    }
    if let Some(s) = LOOPBACK_DOMAINS.iter().find(|s| under(&d, s)) {
        let why = format!("a name under `{s}`, which resolves to this machine");
        return Some(HostClass::new(why, Reach::Loopback));
    }
    if let Some(s) = ECHO_DOMAINS.iter().find(|s| under(&d, s)) {
        return echo_name(&d, s);
    }
    if let Some(s) = PRIVATE_SUFFIXES.iter().find(|s| under(&d, s)) {
        let why = format!("a `.{s}` name, which only resolves inside a private network");
        return Some(HostClass::new(why, Reach::Private));
    }
    if !d.contains('.') {
        let why = "a single-label name, which only a local resolver answers";
        return Some(HostClass::new(why, Reach::Private));
    }
    undelegated(&d)
}

/// A name whose last label is no top-level domain of the public DNS (`kubernetes.default`,
/// `db.staging`): only a private resolver or a search domain answers it. The top-level
/// domains come from the Public Suffix List (the `psl` crate); `.example` and `.invalid`
/// are documentation names (see [`PRIVATE_SUFFIXES`]).
fn undelegated(d: &str) -> Option<HostClass> {
    let tld = d.rsplit('.').next().unwrap_or(d);
    if matches!(tld, "example" | "invalid") {
        return None;
    }
    let known = psl::suffix(d.as_bytes()).is_some_and(|s| s.is_known());
    (!known).then(|| {
        let why = format!(
            "a `.{tld}` name: `{tld}` is not a top-level domain of the public DNS, so only a private resolver answers it"
        );
        HostClass::new(why, Reach::Private)
    })
}

/// A name under a wildcard DNS service: classified by the address it embeds. An address
/// that cannot be read from the name fails closed.
fn echo_name(d: &str, service: &str) -> Option<HostClass> {
    let Some(ip) = echo_address(d, service) else {
        let why = format!("a name under `{service}` whose address capm cannot read");
        return Some(HostClass::new(why, Reach::Private));
    };
    let inner = classify_ip(IpAddr::V4(ip))?;
    let why = format!("{}: `{service}` resolves the name to {ip}", inner.why);
    Some(HostClass::new(why, inner.reach))
}

/// The IPv4 address a wildcard DNS service reads from a name: the last four dotted decimal
/// labels, or the last label's dashed decimal or 8-digit hex tail.
fn echo_address(d: &str, service: &str) -> Option<Ipv4Addr> {
    let stem = d.strip_suffix(service)?.strip_suffix('.')?;
    let labels: Vec<&str> = stem.split('.').collect();
    if labels.len() >= 4
        && let Ok(ip) = labels[labels.len() - 4..].join(".").parse::<Ipv4Addr>()
    {
        return Some(ip);
    }
    let last = labels.last()?;
    let parts: Vec<&str> = last.split('-').collect();
    if parts.len() >= 4
        && let Ok(ip) = parts[parts.len() - 4..].join(".").parse::<Ipv4Addr>()
    {
        return Some(ip);
    }
    let hex = parts.last()?;
    (hex.len() == 8)
        .then(|| u32::from_str_radix(hex, 16).ok())
        .flatten()
        .map(Ipv4Addr::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<HostClass> {
        classify_ip(s.parse().unwrap())
    }

    fn reach(s: &str) -> Option<Reach> {
        ip(s).map(|c| c.reach)
    }

    #[test]
    fn every_embedded_form_is_decoded() {
        for (addr, form) in [
            ("::ffff:10.0.0.1", "IPv4-mapped"),
            ("::ffff:0:10.0.0.1", "IPv4-translated"),
            ("::10.0.0.1", "IPv4-compatible"),
            ("64:ff9b::10.0.0.1", "NAT64"),
            ("64:ff9b:1::a00:1", "local-use NAT64"),
            ("2002:a00:1::1", "6to4"),
            ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "Teredo"),
            ("fe80::5efe:10.0.0.1", "ISATAP"),
            ("2001:db8::200:5efe:a00:1", "ISATAP"),
        ] {
            let (v4, got) = embedded_v4(addr.parse().unwrap()).expect(addr);
            assert_eq!(got, form, "{addr}");
            assert_eq!(v4, Ipv4Addr::new(10, 0, 0, 1), "{addr}");
        }
    }

    #[test]
    fn metadata_in_any_form_is_metadata() {
        for a in [
            "169.254.169.254",
            "::ffff:169.254.169.254",
            "::ffff:a9fe:a9fe",
            "0:0:0:0:0:ffff:a9fe:a9fe",
            "64:ff9b::169.254.169.254",
            "2002:a9fe:a9fe::",
            "2001:0:1:2:0:0:5601:5601",
            "fd00:ec2::254",
            "fd20:ce::254",
            "100.100.100.200",
            "168.63.129.16",
        ] {
            assert_eq!(reach(a), Some(Reach::Metadata), "{a}");
        }
    }

    #[test]
    fn only_mapped_and_plain_loopback_reach_this_machine() {
        for a in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            assert_eq!(reach(a), Some(Reach::Loopback), "{a}");
        }
        for a in ["64:ff9b::7f00:1", "2002:7f00:1::1", "::127.0.0.1"] {
            assert_eq!(reach(a), Some(Reach::Private), "{a}");
        }
    }

    #[test]
    fn special_purpose_v6_ranges() {
        for a in [
            "::",
            "fec0::1",
            "100::1",
            "2001:2::1",
            "2001:20::1",
            "2001:10::1",
            "3fff::1",
            "5f00::1",
            "4000::1",
            "::ffff:0:8.8.8.8",
            "64:ff9b:1::808:808",
            "2001:0:4136:e378:8000:63bf:f7f7:f7f7",
        ] {
            assert_eq!(reach(a), Some(Reach::Private), "{a}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for a in [
            "8.8.8.8",
            "93.184.216.34",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:808:808::1",
            "2001:1::1",
            "2001:4:112::1",
            "2a00:1450:4001::5efe:1",
        ] {
            assert_eq!(ip(a), None, "{a}");
        }
    }

    fn assert_name(n: &str, want: Reach) {
        assert_eq!(classify_name(n).map(|c| c.reach), Some(want), "{n}");
    }

    #[test]
    fn undelegated_top_level_domains_are_private() {
        for n in [
            "kubernetes.default",
            "db.staging",
            "redis.cache1",
            "git.acme",
        ] {
            assert_name(n, Reach::Private);
        }
        for n in [
            "mcp.notion.com",
            "api.example.dev",
            "a.xn--p1ai",
            "x.example",
            "y.invalid",
        ] {
            assert!(classify_name(n).is_none(), "{n}");
        }
    }

    #[test]
    fn private_names_by_kind() {
        [
            "redis",
            "api.svc",
            "api.ns.svc.cluster.local",
            "host.docker.internal",
            "printer.local",
            "nas.lan",
            "router.home",
            "nas.home.arpa",
            "wiki.corp",
            "portal.intranet",
            "db.private",
            "box.localdomain",
            "mcp.test",
            "abc.onion",
            "vault.service.consul",
            "10.0.0.1.nip.io",
            "app-192-168-1-2.sslip.io",
            "magic-0a000001.nip.io",
            "foo.nip.io",
        ]
        .into_iter()
        .for_each(|n| assert_name(n, Reach::Private));
    }

    #[test]
    fn loopback_and_metadata_names() {
        [
            "localhost",
            "localhost.",
            "LOCALHOST",
            "app.localhost",
            "localhost.localdomain",
            "localhost6",
            "lvh.me",
            "app.localtest.me",
            "127.0.0.1.nip.io",
        ]
        .into_iter()
        .for_each(|n| assert_name(n, Reach::Loopback));
        [
            "metadata",
            "metadata.google.internal",
            "metadata.google.internal.",
            "instance-data.ec2.internal",
            "169.254.169.254.nip.io",
        ]
        .into_iter()
        .for_each(|n| assert_name(n, Reach::Metadata));
    }

    #[test]
    fn public_names_pass() {
        for n in [
            "example.com",
            "mcp.example.com",
            "internal.example.com",
            "localhost.example.com",
            "mylocal.dev",
            "local.example.org",
            "notnip.io",
            "8.8.8.8.nip.io",
            "testing.com",
            "mcp.acme.example",
            "x.invalid",
        ] {
            assert_eq!(classify_name(n), None, "{n}");
        }
    }
}
