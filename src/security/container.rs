//! CTR-001 and CTR-002: `docker`/`podman run` must not reach the host, and the image must
//! be pinned by digest. The command line is parsed the way the engine parses it: global
//! options before `run`, bundled short flags (`-itv /:/host`), values joined to their
//! option (`-v/:/host`, `--volume=…`). An option capm does not know cannot be classified,
//! so it is reported (CTR-001) rather than skipped: capm fails closed.

use super::launch::{Arg, program, sensitive_path};
use super::{Level, Sink};

/// Global options of docker and podman (before the subcommand) that take a value.
const GLOBAL_VALUED: &[&str] = &[
    "--config",
    "-c",
    "--context",
    "-H",
    "--host",
    "-l",
    "--log-level",
    "--tlscacert",
    "--tlscert",
    "--tlskey",
    // podman
    "--cgroup-manager",
    "--conmon",
    "--connection",
    "--events-backend",
    "--hooks-dir",
    "--identity",
    "--imagestore",
    "--module",
    "--network-cmd-path",
    "--network-config-dir",
    "--root",
    "--runroot",
    "--runtime",
    "--runtime-flag",
    "--ssh",
    "--storage-driver",
    "--storage-opt",
    "--tmpdir",
    "--url",
    "--volumepath",
    "--out",
];
/// Global options without a value.
const GLOBAL_FLAGS: &[&str] = &[
    "-D",
    "--debug",
    "--tls",
    "--tlsverify",
    "-r",
    "--remote",
    "--syslog",
    "--transient-store",
    "--noout",
];

/// `run` options that take a value.
pub(crate) const RUN_VALUED: &[&str] = &[
    "-a",
    "--attach",
    "--add-host",
    "--annotation",
    "--blkio-weight",
    "--blkio-weight-device",
    "--cap-add",
    "--cap-drop",
    "--cgroup-parent",
    "--cgroupns",
    "--cidfile",
    "--cpu-count",
    "--cpu-percent",
    "--cpu-period",
    "--cpu-quota",
    "--cpu-rt-period",
    "--cpu-rt-runtime",
    "-c",
    "--cpu-shares",
    "--cpus",
    "--cpuset-cpus",
    "--cpuset-mems",
    "--detach-keys",
    "--device",
    "--device-cgroup-rule",
    "--device-read-bps",
    "--device-read-iops",
    "--device-write-bps",
    "--device-write-iops",
    "--dns",
    "--dns-option",
    "--dns-opt",
    "--dns-search",
    "--domainname",
    "--entrypoint",
    "-e",
    "--env",
    "--env-file",
    "--expose",
    "--gpus",
    "--group-add",
    "--health-cmd",
    "--health-interval",
    "--health-retries",
    "--health-start-interval",
    "--health-start-period",
    "--health-timeout",
    "-h",
    "--hostname",
    "--ip",
    "--ip6",
    "--ipc",
    "--isolation",
    "--kernel-memory",
    "-l",
    "--label",
    "--label-file",
    "--link",
    "--link-local-ip",
    "--log-driver",
    "--log-opt",
    "--mac-address",
    "-m",
    "--memory",
    "--memory-reservation",
    "--memory-swap",
    "--memory-swappiness",
    "--mount",
    "--name",
    "--network",
    "--net",
    "--network-alias",
    "--net-alias",
    "--oom-score-adj",
    "--pid",
    "--pids-limit",
    "--platform",
    "-p",
    "--publish",
    "--pull",
    "--restart",
    "--runtime",
    "--security-opt",
    "--shm-size",
    "--stop-signal",
    "--stop-timeout",
    "--storage-opt",
    "--sysctl",
    "--tmpfs",
    "--ulimit",
    "-u",
    "--user",
    "--userns",
    "--uts",
    "-v",
    "--volume",
    "--volume-driver",
    "--volumes-from",
    "-w",
    "--workdir",
    "--arch",
    "--os",
    "--variant",
];
/// `run` options without a value (a boolean may still be given as `--rm=true`).
const RUN_FLAGS: &[&str] = &[
    "-d",
    "--detach",
    "-i",
    "--interactive",
    "-t",
    "--tty",
    "--rm",
    "--init",
    "--privileged",
    "-P",
    "--publish-all",
    "--read-only",
    "--no-healthcheck",
    "--oom-kill-disable",
    "--sig-proxy",
    "-q",
    "--quiet",
    "--disable-content-trust",
    "--use-api-socket",
    "--replace",
    "--rmi",
    "--tls-verify",
    "--read-only-tmpfs",
    "--no-hosts",
];

/// One `run` option with its value, and where to point a finding.
struct Opt<'a> {
    flag: String,
    value: Option<&'a str>,
    span: crate::manifest::span::Span,
}

pub fn check(argv: &[Arg<'_>], sink: &mut Sink<'_>) {
    let Some(first) = argv.first() else { return };
    let p = program(first.text);
    if !matches!(p.as_str(), "docker" | "podman" | "nerdctl") {
        return;
    }
    let Some(mut i) = subcommand(argv, sink) else {
        return;
    };
    let mut image = None;
    let mut entrypoint = None;
    while let Some(a) = argv.get(i) {
        if a.text == "--" {
            i += 1;
            image = argv.get(i).copied();
            break;
        }
        if !a.text.starts_with('-') || a.text == "-" {
            image = Some(*a);
            break;
        }
        let (opts, used) = options(argv, i, sink);
        for o in opts {
            if o.flag == "--entrypoint" {
                entrypoint = o.value.map(|text| Arg { text, span: o.span });
            }
            if let Some(why) = read_only_credentials(&o.flag, o.value) {
                sink.add("CTR-003", Level::High, o.span, why)
                    .help("pass the credentials the server needs through `from-env` references, or accept this bind after review");
            } else if let Some(why) = host_access(&o.flag, o.value) {
                sink.add("CTR-001", Level::Block, o.span, why)
                    .help("drop the flag; mount only the project directory the server needs");
            }
        }
        i += used;
    }
    if let Some(entry) = entrypoint {
        entrypoint_code(entry, argv.get(i + 1..).unwrap_or_default(), sink);
    }
    check_image(first, image, sink);
}

/// `--entrypoint sh IMAGE -c CODE`: the container runs the entrypoint with the arguments
/// after the image, so a shell or interpreter entrypoint given inline code there is
/// STDIO-001, read with that interpreter's grammar.
fn entrypoint_code(entry: Arg<'_>, container_args: &[Arg<'_>], sink: &mut Sink<'_>) {
    let mut launch = vec![entry];
    launch.extend_from_slice(container_args);
    super::inline::check(&launch, sink);
}

/// Finds `run` (or `container run`) after the global options; the index after it.
fn subcommand(argv: &[Arg<'_>], sink: &mut Sink<'_>) -> Option<usize> {
    let mut i = 1;
    while let Some(a) = argv.get(i) {
        let t = a.text;
        if !t.starts_with('-') {
            break;
        }
        let name = t.split_once('=').map_or(t, |(n, _)| n);
        if GLOBAL_VALUED.contains(&name) {
            i += if t.contains('=') { 1 } else { 2 };
        } else if GLOBAL_FLAGS.contains(&name) {
            i += 1;
        } else {
            sink.add(
                "CTR-001",
                Level::Block,
                a.span,
                format!("capm cannot verify the engine option `{t}`, so it cannot tell what the container is given"),
            )
            .help("remove the option; capm checks only options it knows");
            i += 1;
        }
    }
    if argv.get(i).is_some_and(|a| a.text == "container") {
        i += 1;
    }
    (argv.get(i)?.text == "run").then_some(i + 1)
}

/// The options of one argv element (several for a cluster such as `-itv`), and how many
/// elements they take up. Unknown options are reported as they are found.
fn options<'a>(argv: &[Arg<'a>], i: usize, sink: &mut Sink<'_>) -> (Vec<Opt<'a>>, usize) {
    let a = argv[i];
    let next = argv.get(i + 1);
    let unknown = |sink: &mut Sink<'_>, flag: &str| {
        sink.add(
            "CTR-001",
            Level::Block,
            a.span,
            format!("capm cannot verify the container option `{flag}`, so it cannot tell what the container is given"),
        )
        .help("remove the option, or use one capm knows; anything it cannot classify is treated as host access");
    };
    if let Some(long) = a.text.strip_prefix("--") {
        let (name, inline) = match long.split_once('=') {
            Some((n, v)) => (format!("--{n}"), Some(v)),
            None => (format!("--{long}"), None),
        };
        if RUN_VALUED.contains(&name.as_str()) {
            let (value, span, used) = match inline {
                Some(v) => (Some(v), a.span, 1),
                None => (next.map(|n| n.text), next.map_or(a.span, |n| n.span), 2),
            };
            return (
                vec![Opt {
                    flag: name,
                    value,
                    span,
                }],
                used,
            );
        }
        if !RUN_FLAGS.contains(&name.as_str()) {
            unknown(sink, &name);
        }
        return (
            vec![Opt {
                flag: name,
                value: inline,
                span: a.span,
            }],
            1,
        );
    }
    // A cluster of short options: flags, then at most one option with a value, which is
    // the rest of the cluster or the next element.
    let cluster = &a.text[1..];
    let mut out = Vec::new();
    for (at, c) in cluster.char_indices() {
        let flag = format!("-{c}");
        if RUN_VALUED.contains(&flag.as_str()) {
            let rest = &cluster[at + c.len_utf8()..];
            let rest = rest.strip_prefix('=').unwrap_or(rest);
            if rest.is_empty() {
                let value = next.map(|n| n.text);
                out.push(Opt {
                    flag,
                    value,
                    span: next.map_or(a.span, |n| n.span),
                });
                return (out, 2);
            }
            out.push(Opt {
                flag,
                value: Some(rest),
                span: a.span,
            });
            return (out, 1);
        }
        if !RUN_FLAGS.contains(&flag.as_str()) {
            unknown(sink, &flag);
        }
        out.push(Opt {
            flag,
            value: None,
            span: a.span,
        });
    }
    (out, 1)
}

/// Why a `run` option gives the container host access, if it does.
fn host_access(flag: &str, value: Option<&str>) -> Option<String> {
    let v = value.unwrap_or("");
    let lower = v.to_ascii_lowercase();
    match flag {
        "--privileged" if !matches!(lower.as_str(), "false" | "0") => {
            Some("`--privileged` gives the container full control of the host".into())
        }
        "--use-api-socket" if !matches!(lower.as_str(), "false" | "0") => Some(
            "`--use-api-socket` hands the container the Docker socket, and with it the host".into(),
        ),
        "--cap-add" => Some(format!(
            "`--cap-add {v}` adds kernel capabilities to the container"
        )),
        "--device" => Some(format!("`--device {v}` hands the container a host device")),
        "--device-cgroup-rule" => Some(format!(
            "`--device-cgroup-rule {v}` lets the container use host devices"
        )),
        "--volumes-from" => Some(format!(
            "`--volumes-from {v}` mounts another container's volumes, whose host binds capm cannot see"
        )),
        "--pid" | "--network" | "--net" | "--ipc" | "--userns" | "--uts" | "--cgroupns"
            if lower == "host" =>
        {
            Some(format!("`{flag}={v}` shares the host's namespace"))
        }
        "--security-opt"
            if lower.contains("unconfined")
                || matches!(lower.as_str(), "label=disable" | "label:disable") =>
        {
            Some(format!(
                "`--security-opt {v}` turns the container's confinement off"
            ))
        }
        "-v" | "--volume" => volume_source(v).and_then(|s| bind_risk(s, v)),
        "--mount" => mount_source(v).and_then(|s| bind_risk(&s, v)),
        _ => None,
    }
}

/// Credential kinds a documented container setup mounts read-only (`~/.aws:ro`,
/// `~/.config/gcloud:ro`, `~/.kube:ro`): allowable after review, unlike a writable bind.
const CREDENTIAL_KINDS: &[&str] = &[
    "SSH keys",
    "AWS credentials",
    "Google Cloud credentials",
    "Kubernetes credentials",
    "Docker registry credentials",
    "stored credentials",
    "a tool's stored credentials",
];

/// CTR-003: a read-only bind of one credential directory or file, if `-v`/`--mount` is one.
fn read_only_credentials(flag: &str, value: Option<&str>) -> Option<String> {
    let v = value?;
    let (source, read_only) = match flag {
        "-v" | "--volume" => {
            let source = volume_source(v)?;
            let rest = &v[source.len() + 1..];
            let opts = rest.split_once(':').map_or("", |(_, o)| o);
            let ro = opts
                .split(',')
                .any(|o| matches!(o.trim(), "ro" | "readonly"));
            (source.to_string(), ro)
        }
        "--mount" => {
            let fields = csv_fields(v);
            let ro = fields.iter().any(|f| {
                let f = f.trim().to_ascii_lowercase();
                matches!(
                    f.as_str(),
                    "readonly" | "ro" | "readonly=true" | "ro=true" | "readonly=1" | "ro=1"
                )
            });
            (mount_source(v)?, ro)
        }
        _ => return None,
    };
    let norm = normalize_host_path(&source)?;
    let what = sensitive_path(&norm).filter(|w| CREDENTIAL_KINDS.contains(w))?;
    (read_only && bind_risk(&source, v).is_some_and(|m| m.ends_with(what)))
        .then(|| format!("`{v}` mounts {what} into the container, read-only"))
}

/// The host side of `-v SRC:DST[:OPTS]`, if the volume is a bind (an anonymous volume
/// `-v /data` has none). A Windows drive (`C:\x:/y`) keeps its colon.
fn volume_source(v: &str) -> Option<&str> {
    let b = v.as_bytes();
    let skip = if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        2
    } else {
        0
    };
    v[skip..].find(':').map(|at| &v[..skip + at])
}

/// The `source`/`src` field of a `--mount` CSV value, unquoted, with keys matched case-
/// insensitively and spaces trimmed.
fn mount_source(v: &str) -> Option<String> {
    csv_fields(v).into_iter().find_map(|field| {
        let (k, val) = field.split_once('=')?;
        let k = k.trim().trim_matches('"').to_ascii_lowercase();
        matches!(k.as_str(), "source" | "src").then(|| val.trim().trim_matches('"').to_string())
    })
}

/// Splits CSV at commas outside double quotes, dropping the quotes.
fn csv_fields(v: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    for c in v.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(String::new()),
            _ => fields.last_mut().expect("never empty").push(c),
        }
    }
    fields
}

/// Why binding the host path `source` is host access, if it is. Named volumes (no path)
/// are not binds.
fn bind_risk(source: &str, spec: &str) -> Option<String> {
    let norm = normalize_host_path(source)?;
    let what = if norm.contains("docker.sock")
        || norm.contains("podman.sock")
        || norm.contains("containerd.sock")
        || under(&norm, "/run")
        || under(&norm, "/var/run")
    {
        "the container engine's socket directory, and with it the host"
    } else if norm == "/" || is_drive_root(&norm) {
        "the whole filesystem"
    } else if is_home(&norm) {
        "a home directory"
    } else if ["/etc", "/proc", "/sys", "/dev", "/boot", "/var/lib/docker"]
        .iter()
        .any(|p| under(&norm, p))
    {
        "system configuration or kernel interfaces"
    } else if let Some(what) = sensitive_path(&norm) {
        what
    } else if norm
        .split('/')
        .any(|c| matches!(c, ".docker" | ".config" | ".gnupg" | ".ssh"))
    {
        "a directory of credentials"
    } else if norm == ".." {
        "a directory outside the project"
    } else if norm.starts_with("{env:") || norm.starts_with('$') || norm.starts_with('%') {
        return Some(format!(
            "`{spec}` binds a host path taken from a variable, which capm cannot verify"
        ));
    } else {
        return None;
    };
    Some(format!("`{spec}` mounts {what}"))
}

/// A bind source as a normalised host path: `\` as `/`, home spellings (`$HOME`,
/// `${HOME}`, `{env:HOME}`, `%USERPROFILE%`) as `~`, duplicate slashes, `.` and `..`
/// resolved lexically, no trailing slash. None for a named volume.
pub fn normalize_host_path(source: &str) -> Option<String> {
    let s = source.trim().trim_matches('"').replace('\\', "/");
    let mut s = s.as_str();
    let mut home = false;
    for h in [
        "~",
        "$HOME",
        "${HOME}",
        "{env:HOME}",
        "{env:USERPROFILE}",
        "%USERPROFILE%",
        "$env:USERPROFILE",
    ] {
        if let Some(rest) = s.strip_prefix(h)
            && (rest.is_empty() || rest.starts_with('/'))
        {
            s = rest;
            home = true;
            break;
        }
    }
    let drive = s.len() >= 2 && s.as_bytes()[0].is_ascii_alphabetic() && s.as_bytes()[1] == b':';
    if !home && !drive && !s.starts_with('/') {
        // `.`/`..`-relative paths are the project's; a bare name is a named volume;
        // variables are judged by the caller.
        if s.starts_with('$') || s.starts_with('%') || s.starts_with("{env:") {
            return Some(s.to_string());
        }
        if s == ".." || s.starts_with("../") {
            return Some("..".into());
        }
        return None;
    }
    let (prefix, path) = if drive {
        (s[..2].to_ascii_lowercase(), &s[2..])
    } else {
        (String::new(), s)
    };
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let root = if home { "~" } else { prefix.as_str() };
    Some(
        format!("{root}/{}", parts.join("/"))
            .trim_end_matches('/')
            .to_string(),
    )
    .map(|p| if p.is_empty() { "/".to_string() } else { p })
}

fn under(path: &str, dir: &str) -> bool {
    path == dir || path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

fn is_drive_root(p: &str) -> bool {
    p.len() == 2 && p.as_bytes()[1] == b':'
}

/// `~`, `/home`, `/home/USER`, `/Users`, `/Users/USER`, `/root`, `C:/Users[/USER]`.
fn is_home(p: &str) -> bool {
    let lower = p.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split('/').collect();
    match parts.as_slice() {
        ["~"] => true,
        ["", "root"] => true,
        ["", "home" | "users"] | ["", "home" | "users", _] => true,
        [d, "users"] | [d, "users", _] if d.ends_with(':') => true,
        _ => false,
    }
}

fn check_image(first: &Arg<'_>, image: Option<Arg<'_>>, sink: &mut Sink<'_>) {
    let Some(img) = image else {
        sink.add(
            "CTR-002",
            Level::High,
            first.span,
            "the container launch names no image",
        );
        return;
    };
    let pinned = img
        .text
        .split_once("@sha256:")
        .is_some_and(|(_, h)| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    if !pinned {
        sink.add(
            "CTR-002",
            Level::High,
            img.span,
            format!(
                "the image `{}` is not pinned by an @sha256: digest",
                img.text
            ),
        )
        .help("pin the image by digest: `image:tag@sha256:<64 hex>`");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_credential_binds() {
        let ro = |f: &str, v: &str| read_only_credentials(f, Some(v)).is_some();
        assert!(ro("-v", "~/.aws:/root/.aws:ro"));
        assert!(ro("--volume", "$HOME/.kube:/root/.kube:ro,Z"));
        assert!(ro(
            "--mount",
            "type=bind,src=/Users/a/.config/gcloud,dst=/g,readonly"
        ));
        assert!(!ro("-v", "~/.aws:/root/.aws"), "writable");
        assert!(!ro("--mount", "type=bind,src=~/.aws,dst=/a,readonly=false"));
        assert!(!ro("-v", "~:/home/u:ro"), "the whole home");
        assert!(!ro("-v", "/run/secrets:/s:ro"), "the engine's directory");
        assert!(!ro("-v", "~/.bash_history:/h:ro"), "not a credential store");
        assert!(!ro("-v", "./data:/data:ro"));
    }

    #[test]
    fn host_paths_are_normalised() {
        assert_eq!(normalize_host_path("//").as_deref(), Some("/"));
        assert_eq!(normalize_host_path("/.").as_deref(), Some("/"));
        assert_eq!(normalize_host_path("/etc/..").as_deref(), Some("/"));
        assert_eq!(
            normalize_host_path("/home/alice/").as_deref(),
            Some("/home/alice")
        );
        assert_eq!(normalize_host_path("$HOME/.aws").as_deref(), Some("~/.aws"));
        assert_eq!(normalize_host_path("C:\\").as_deref(), Some("c:"));
        assert_eq!(normalize_host_path("claude-memory"), None);
        assert_eq!(normalize_host_path("./data"), None);
    }

    #[test]
    fn bind_sources() {
        for (v, src) in [
            ("/:/host", "/"),
            ("C:\\:/host", "C:\\"),
            ("C:\\Users:/h", "C:\\Users"),
        ] {
            assert_eq!(volume_source(v), Some(src), "{v}");
        }
        assert_eq!(volume_source("/data"), None);
        assert_eq!(
            mount_source("\"type=bind\",\" Source=/\",target=/host").as_deref(),
            Some("/")
        );
    }
}
