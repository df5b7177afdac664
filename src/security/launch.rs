//! Rules over a local server's launch: the command and its arguments, always as an argv
//! vector (never joined into, or re-split from, a shell string). Launchers (npx, uvx,
//! docker run, …) are parsed well enough to find the package or image they start.

use super::container::normalize_host_path;
use super::{Level, Sink};
use crate::manifest::bundle::McpServer;
use crate::manifest::span::{Span, Spanned};
use crate::manifest::tree::{BundleTree, Entry};

/// One element of the argv, with where it was written.
#[derive(Clone, Copy)]
pub struct Arg<'a> {
    pub text: &'a str,
    pub span: Span,
}

/// An argv of plain words, for unit tests.
#[cfg(test)]
pub(crate) fn test_argv(v: &[&'static str]) -> Vec<Arg<'static>> {
    v.iter()
        .map(|t| Arg {
            text: t,
            span: Span::default(),
        })
        .collect()
}

/// The program name of a path: `/usr/bin/Python3.EXE` → `python3`.
pub fn program(s: &str) -> String {
    let base = s
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(s)
        .to_ascii_lowercase();
    for ext in [".exe", ".cmd", ".bat", ".com"] {
        if let Some(b) = base.strip_suffix(ext) {
            return b.to_string();
        }
    }
    base
}

/// The interpreter a program name belongs to: `python3.12`, `py`, `pythonw` and `pypy3`
/// are `python`; `nodejs` is `node`; `ksh93` is `ksh`; `bash5` is `bash`.
pub fn family(p: &str) -> &str {
    let trimmed = p.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c == '-');
    match trimmed {
        "python" | "py" | "pythonw" | "pypy" => "python",
        "node" | "nodejs" => "node",
        "perl" | "ruby" | "php" | "pwsh" | "bash" | "zsh" | "ksh" | "mksh" | "dash" | "fish"
        | "sh" | "tcsh" | "csh" | "ash" => trimmed,
        _ => p,
    }
}

pub const SHELLS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "fish", "ksh", "mksh", "ash", "csh", "tcsh",
];
pub const INTERPRETERS: &[&str] = &[
    "python",
    "node",
    "deno",
    "bun",
    "perl",
    "ruby",
    "php",
    "pwsh",
    "powershell",
];
/// Programs whose job is to run a command with other rights (another user, root, a new
/// root directory, another process's namespaces, added capabilities).
const ESCALATION: &[&str] = &[
    "sudo", "sudoedit", "doas", "su", "pkexec", "runas", "gsudo", "run0", "runuser", "chroot",
    "nsenter", "setpriv", "capsh", "psexec", "psexec64",
];

/// Options of the Python runners (uvx, uv run, uv tool run, pipx run) that take a value,
/// so that the value is never taken for the package or script.
pub const PYTHON_RUNNER_VALUED: &[&str] = &[
    "--from",
    "--with",
    "--with-requirements",
    "--with-editable",
    "--python",
    "-p",
    "--index",
    "--index-url",
    "--extra-index-url",
    "--default-index",
    "--spec",
    "--pip-args",
    "--find-links",
    "-f",
    "--directory",
    "--project",
    "--cache-dir",
    "--env-file",
    "--config-file",
    "-c",
    "--constraints",
    "--overrides",
    "--build-constraints",
    "--color",
    "--keyring-provider",
    "--link-mode",
    "--resolution",
    "--prerelease",
    "--exclude-newer",
    "--python-platform",
    "--extra",
    "--group",
    "--package",
];
const NETWORK: &[&str] = &[
    "curl", "wget", "nc", "ncat", "netcat", "scp", "sftp", "ssh", "ftp", "socat", "telnet", "tftp",
];

/// A word of the launch, where it was written, and the number of its shell statement.
pub(crate) type Word = (String, Span, usize);

/// Words of the launch: each argument split at white space and shell punctuation, so that
/// inline shell strings are looked into as well.
/// Each word also carries the number of the shell statement it belongs to, which changes
/// at `;`, `|`, `&`, parentheses and backticks inside an argument. An argument holding
/// white space is a shell string of its own, so it starts and ends a statement; plain
/// arguments continue the argv's statement.
pub(crate) fn words(argv: &[Arg<'_>]) -> Vec<Word> {
    let mut out = Vec::new();
    let mut statement = 0;
    for a in argv {
        let shell_string = a.text.contains(char::is_whitespace);
        statement += usize::from(shell_string);
        let mut word = String::new();
        for c in a.text.chars().chain(std::iter::once(' ')) {
            let separator = ";|&()`\n".contains(c);
            if c.is_whitespace() || separator || "<>'\"".contains(c) {
                if !word.is_empty() {
                    out.push((std::mem::take(&mut word), a.span, statement));
                }
                statement += usize::from(separator);
            } else {
                word.push(c);
            }
        }
        statement += usize::from(shell_string);
    }
    out
}

/// The programs a word may name: the word itself and its parts split at `=`, `,` and `:`
/// (`--exec=sudo`, `tools=ls,nc`).
fn named_programs(w: &str) -> Vec<String> {
    std::iter::once(w)
        .chain(w.split(['=', ',', ':']))
        .filter(|p| !p.is_empty())
        .map(program)
        .collect()
}

pub fn check(s: &McpServer, tree: &BundleTree, sink: &mut Sink<'_>) {
    let Some(command) = &s.command else { return };
    let mut argv = vec![Arg {
        text: &command.value,
        span: command.span,
    }];
    argv.extend(s.args.iter().map(|a: &Spanned<String>| Arg {
        text: &a.value,
        span: a.span,
    }));
    // `cmd /c npx -y pkg@1.2.3`: the plain argv after `/c` is the launch.
    while let Some(start) = super::wrap::cmd_start(&argv) {
        argv.drain(..start);
    }
    super::inline::check(&argv, sink);
    metacharacters(&argv, sink);
    super::fetch::check(&argv, sink);
    super::preload::check(&argv, sink);
    dangerous_words(&argv, sink);
    paths(&argv, sink);
    command_location(&argv[0], tree, sink);
    launch_length(&argv, command.span, sink);
    index_flags(&argv, sink);
    binds_and_auth(&argv, sink);
    trust_flags(&argv, sink);
    let start = super::wrap::unwrap(&argv, sink).start;
    launcher(&argv[start..], sink);
    super::runners::check(&argv[start..], sink);
    super::container::check(&argv[start..], sink);
    artifacts(&argv, sink);
    super::url::check_proxy_target(&argv, sink);
}

/// Whether `t` (or the value of `--opt=t`) is one URL: it parses, has `scheme://`, and
/// has no white space. In such an argument `&` separates query parameters
/// (`postgresql://…?a=1&b=2`) and `;` separates properties (`jdbc:sqlserver://h;db=x`).
fn url_argument(t: &str) -> bool {
    let v = value_of(t);
    v.contains("://") && !v.contains(char::is_whitespace) && ::url::Url::parse(v).is_ok()
}

/// Programs that hand (part of) their argv to a shell: the shells themselves, and tools
/// that run a command string (`ssh host CMD`, `watch CMD`, `script -c CMD`, `su -c CMD`).
const SHELL_PARSERS: &[&str] = &[
    "cmd",
    "powershell",
    "pwsh",
    "ssh",
    "watch",
    "script",
    "su",
    "runuser",
    "eval",
    "busybox",
    "toybox",
    "tmux",
    "screen",
    "parallel",
    "expect",
    "dtach",
];

/// Whether some program of the launch parses (part of) its argv as shell syntax: a shell,
/// a tool known to hand a string to one, or `npx`/`npm exec` given `-c`/`--call`.
fn shell_parses(argv: &[Arg<'_>]) -> bool {
    let mut launcher = false;
    argv.iter().any(|a| {
        let p = program(a.text);
        let f = family(&p);
        let call = launcher && matches!(a.text, "-c" | "--call") || a.text.starts_with("--call=");
        launcher |= matches!(p.as_str(), "npx" | "pnpx" | "npm" | "pnpm");
        call || SHELLS.contains(&f) || SHELL_PARSERS.contains(&p.as_str())
    })
}

/// STDIO-002: shell syntax where a shell parses the launch, and line breaks and NUL
/// anywhere (they split a command line wherever it is read as text).
fn metacharacters(argv: &[Arg<'_>], sink: &mut Sink<'_>) {
    let shell = shell_parses(argv);
    for a in argv {
        let is_url = url_argument(a.text);
        let syntax = [";", "|", "&", "$(", "`", ">", "<"]
            .into_iter()
            .filter(|_| shell)
            .find(|m| a.text.contains(m) && !(is_url && matches!(*m, "&" | ";")));
        let found = syntax.or_else(|| ["\n", "\r", "\0"].into_iter().find(|m| a.text.contains(m)));
        if let Some(m) = found {
            let shown = m.escape_debug().to_string();
            sink.add("STDIO-002", Level::High, a.span, format!("`{shown}` in `{}` is shell syntax, which an argv never needs", a.text.escape_debug()))
                .help("capm never runs launches through a shell; split the launch into separate arguments");
        }
    }
}

/// STDIO-004, STDIO-005 and STDIO-006: escalation, destruction and raw network tools.
fn dangerous_words(argv: &[Arg<'_>], sink: &mut Sink<'_>) {
    let ws = words(argv);
    let named: Vec<Vec<String>> = ws.iter().map(|(w, ..)| named_programs(w)).collect();
    let find = |list: &[&str]| {
        named
            .iter()
            .position(|ps| ps.iter().any(|p| list.contains(&p.as_str())))
    };
    let progs: Vec<String> = ws.iter().map(|(w, ..)| program(w)).collect();
    super::reach::check(&ws, sink);
    if let Some(i) = find(ESCALATION) {
        sink.add(
            "STDIO-004",
            Level::Block,
            ws[i].1,
            format!("the launch escalates privileges with `{}`", ws[i].0),
        )
        .help("run the server as the user; MCP servers never need administrator rights");
    }
    let destructive = destructive_command(&ws, &progs);
    if let Some(i) = destructive {
        sink.add(
            "STDIO-005",
            Level::High,
            ws[i].1,
            format!(
                "the launch runs the destructive or persistent command `{}`",
                ws[i].0
            ),
        )
        .help("remove it: starting a server never needs to delete, format or schedule anything");
    }
    if let Some(i) = find(NETWORK) {
        sink.add(
            "STDIO-006",
            Level::High,
            ws[i].1,
            format!("the launch uses the network tool `{}`", ws[i].0),
        )
        .help("use an MCP server that does the job itself, or connect to a remote server by URL");
    }
}

/// The first word that runs a destructive or persistent command (STDIO-005). Options count
/// anywhere after the program in the same statement: `rm x -rf` is `rm -rf x` (GNU
/// permutes). Each question "does such a word follow?" is one look-up, so a launch of many
/// words costs their number, not its square.
fn destructive_command(ws: &[Word], progs: &[String]) -> Option<usize> {
    let short =
        |c: char| move |w: &str| w.starts_with('-') && !w.starts_with("--") && w.contains(c);
    let exact = |f: &'static str| move |w: &str| w == f;
    let recursive = [
        Later::in_statement(ws, short('r')),
        Later::in_statement(ws, short('R')),
        Later::in_statement(ws, exact("--recursive")),
    ];
    let force = [
        Later::in_statement(ws, short('f')),
        Later::in_statement(ws, exact("--force")),
    ];
    let all_modes = Later::anywhere(ws, |w| w == "777" || w == "a+rwx");
    let output = Later::anywhere(ws, |w| w.starts_with("of="));
    let any = |ls: &[Later], i: usize| ls.iter().any(|l| l.follows(ws, i));
    progs
        .iter()
        .enumerate()
        .position(|(i, p)| match p.as_str() {
            "rm" => any(&recursive, i) && any(&force, i),
            "chmod" => any(&recursive[1..], i) && all_modes.follows(ws, i),
            "chown" => any(&recursive[1..], i),
            "dd" => output.follows(ws, i),
            "systemctl" | "systemd-run" | "launchctl" | "crontab" => true,
            "reg" => ws
                .get(i + 1)
                .is_some_and(|(w, ..)| w.eq_ignore_ascii_case("add")),
            p => p.starts_with("mkfs"),
        })
}

/// Where the last word a test holds for is: per shell statement, or in the whole launch.
struct Later {
    last: std::collections::BTreeMap<usize, usize>,
    per_statement: bool,
}

impl Later {
    fn in_statement(ws: &[Word], test: impl Fn(&str) -> bool) -> Later {
        Later::new(ws, test, true)
    }

    fn anywhere(ws: &[Word], test: impl Fn(&str) -> bool) -> Later {
        Later::new(ws, test, false)
    }

    fn new(ws: &[Word], test: impl Fn(&str) -> bool, per_statement: bool) -> Later {
        let mut last = std::collections::BTreeMap::new();
        for (i, (w, _, statement)) in ws.iter().enumerate() {
            if test(w) {
                last.insert(if per_statement { *statement } else { 0 }, i);
            }
        }
        Later {
            last,
            per_statement,
        }
    }

    /// Whether such a word comes after word `i` (in its statement, if per statement).
    fn follows(&self, ws: &[Word], i: usize) -> bool {
        let key = if self.per_statement { ws[i].2 } else { 0 };
        self.last.get(&key).is_some_and(|&j| j > i)
    }
}

/// The value part of an argument: `--dir=/x` → `/x`.
fn value_of(t: &str) -> &str {
    match t.split_once('=') {
        Some((flag, v)) if flag.starts_with('-') => v,
        _ => t,
    }
}

/// Sensitive locations an argument or cwd must not name (STDIO-007).
pub fn sensitive_path(t: &str) -> Option<&'static str> {
    let normal = normalize_host_path(t);
    sensitive_spelling(t).or_else(|| normal.as_deref().and_then(sensitive_spelling))
}

/// [`sensitive_path`] over one spelling of a path.
fn sensitive_spelling(t: &str) -> Option<&'static str> {
    let p = t.replace('\\', "/").to_ascii_lowercase();
    let components: Vec<&str> = p.split('/').collect();
    let has = |c: &str| components.contains(&c);
    if has(".ssh") {
        return Some("SSH keys");
    }
    if has(".aws") {
        return Some("AWS credentials");
    }
    if p.contains(".config/gcloud") {
        return Some("Google Cloud credentials");
    }
    if has(".kube") {
        return Some("Kubernetes credentials");
    }
    if p.contains(".docker/config.json") {
        return Some("Docker registry credentials");
    }
    if has(".gnupg")
        || p.contains("library/keychains")
        || p.ends_with(".keychain")
        || p.ends_with(".keychain-db")
    {
        return Some("a keychain");
    }
    // `.env.example` and friends are templates committed on purpose, without secrets.
    let env_template = |c: &str| {
        matches!(
            c,
            ".env.example" | ".env.sample" | ".env.template" | ".env.dist" | ".env.defaults"
        )
    };
    if components
        .iter()
        .any(|c| *c == ".env" || (c.starts_with(".env.") && !env_template(c)))
    {
        return Some("an .env file of secrets");
    }
    if p.starts_with("/etc/passwd")
        || p.starts_with("/etc/shadow")
        || p == "/proc"
        || p.starts_with("/proc/")
    {
        return Some("system account or process data");
    }
    let last = components.last().copied().unwrap_or("");
    if client_config(&p, &components, last) {
        return Some("another client's MCP configuration");
    }
    if last == "opencode.json" || last == "opencode.jsonc" {
        return Some("OpenCode's own configuration");
    }
    secret_store(&p, &components)
}

/// Another agent client's configuration (its MCP servers, permissions, tokens), by kind:
/// a file inside a client's own directory (`~/.cursor`, `~/.codeium/windsurf`, `~/.claude`,
/// `~/.gemini`, `~/.codex`, …), VS Code's user settings, or a client's known file name.
fn client_config(p: &str, components: &[&str], last: &str) -> bool {
    const CLIENT_DIRS: &[&str] = &[
        ".cursor",
        ".codeium",
        ".windsurf",
        ".claude",
        ".gemini",
        ".codex",
        ".continue",
        ".roo",
        ".amazonq",
        ".qwen",
        ".copilot",
        ".aider",
    ];
    const CLIENT_FILES: &[&str] = &[
        ".claude.json",
        "claude_desktop_config.json",
        "mcp_config.json",
        "cline_mcp_settings.json",
        "mcp_settings.json",
        ".aider.conf.yml",
    ];
    let config_file = [".json", ".jsonc", ".toml", ".yaml", ".yml"]
        .iter()
        .any(|e| last.ends_with(e));
    let in_client_dir = components[..components.len().saturating_sub(1)]
        .iter()
        .any(|c| CLIENT_DIRS.contains(c));
    let vscode = [
        "code/user/",
        "code - insiders/user/",
        "vscodium/user/",
        ".vscode/mcp.json",
    ]
    .iter()
    .any(|d| p.contains(d));
    CLIENT_FILES.contains(&last) || (config_file && (in_client_dir || vscode))
}

/// [`sensitive_spelling`] by kind, beyond the names above: credential files of tools,
/// cloud and CLI configurations, private keys, shell histories, browser profiles and
/// system secrets. `p` is lower case with `/` separators.
fn secret_store(p: &str, components: &[&str]) -> Option<&'static str> {
    let has = |c: &str| components.contains(&c);
    let last = components.last().copied().unwrap_or("");
    const CREDENTIAL_FILES: &[&str] = &[
        ".netrc",
        "_netrc",
        ".git-credentials",
        ".npmrc",
        ".pypirc",
        ".pgpass",
        ".my.cnf",
        ".vault-token",
        ".s3cfg",
        ".boto",
        ".dockercfg",
        ".azure",
        ".oci",
        ".terraform.d",
        ".password-store",
    ];
    if CREDENTIAL_FILES.iter().any(|c| has(c)) {
        return Some("stored credentials");
    }
    const TOOL_DIRS: &[&str] = &[
        ".config/gh/",
        ".config/rclone",
        ".config/hub",
        ".config/doctl",
        ".config/op/",
        ".config/github-copilot",
        ".local/share/keyrings",
        ".local/share/opencode",
        "/var/run/secrets",
        "/run/secrets",
        "/serviceaccount",
        "microsoft/credentials",
        "microsoft/protect",
        "microsoft/vault",
        "appdata/roaming/gcloud",
        "%appdata%/gcloud",
    ];
    if TOOL_DIRS
        .iter()
        .any(|d| p.contains(d) || p.ends_with(d.trim_end_matches('/')))
    {
        return Some("a tool's stored credentials");
    }
    const KEY_NAMES: &[&str] = &["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"];
    const KEY_EXTENSIONS: &[&str] = &[".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".ppk"];
    if KEY_NAMES.iter().any(|k| last.starts_with(k))
        || KEY_EXTENSIONS.iter().any(|e| last.ends_with(e))
    {
        return Some("a private key");
    }
    if last.ends_with("_history") || matches!(last, ".histfile" | ".lesshst") {
        return Some("a shell or REPL history");
    }
    // Whole components, so that a user-agent string naming `Firefox/128.0` is no path.
    const BROWSERS: &[&str] = &[
        ".mozilla",
        "firefox",
        "google-chrome",
        "chromium",
        "bravesoftware",
        "google/chrome",
        "microsoft/edge",
        "library/cookies",
        "library/safari",
    ];
    let browser = |b: &str| {
        let parts: Vec<&str> = b.split('/').collect();
        components
            .windows(parts.len())
            .any(|w| w == parts.as_slice())
    };
    if BROWSERS.iter().any(|b| browser(b)) {
        return Some("a browser profile");
    }
    let system = [
        "/etc/sudoers",
        "/etc/gshadow",
        "/etc/ssl/private",
        "/sys/",
        "/dev/",
    ];
    if system.iter().any(|s| p.starts_with(s)) || p == "/sys" || p == "/dev" {
        return Some("system secrets or devices");
    }
    None
}

/// Whether an argument grants the whole filesystem or home directory (STDIO-008): `/`,
/// `~`, `$HOME`, `{env:HOME}`, `%USERPROFILE%`, a drive root, in any lexical spelling
/// (`//`, `/.`, `~/`).
pub fn whole_tree(v: &str) -> bool {
    let v = v.trim();
    let windows_home = v
        .trim_end_matches(['\\', '/'])
        .eq_ignore_ascii_case("%USERPROFILE%");
    windows_home
        || normalize_host_path(v)
            .is_some_and(|n| n == "/" || n == "~" || (n.len() == 2 && n.as_bytes()[1] == b':'))
}

/// Whether `argv[i]` is the host side of a container bind, which the container rules judge
/// (CTR-001, CTR-003) with the mount's options.
fn container_bind(argv: &[Arg<'_>], i: usize, engine: bool) -> bool {
    let t = argv[i].text;
    let after_flag = matches!(argv[i - 1].text, "-v" | "--volume" | "--mount");
    engine && (after_flag || t.starts_with("--volume=") || t.starts_with("--mount="))
}

fn paths(argv: &[Arg<'_>], sink: &mut Sink<'_>) {
    // `{file:…}` references are checked with the other substitutions.
    let engine = argv
        .iter()
        .any(|a| matches!(program(a.text).as_str(), "docker" | "podman" | "nerdctl"));
    let checked = (1..argv.len()).filter(|&i| !container_bind(argv, i, engine));
    for a in checked
        .map(|i| &argv[i])
        .filter(|a| !a.text.contains("{file:"))
    {
        let v = value_of(a.text);
        if let Some(what) = sensitive_path(v) {
            sink.add("STDIO-007", Level::High, a.span, format!("`{}` points at {what}", a.text))
                .help("give the server only project directories, and credentials through `from-env` references");
        } else if whole_tree(v) {
            sink.add(
                "STDIO-008",
                Level::High,
                a.span,
                format!("`{}` grants the whole filesystem or home directory", a.text),
            )
            .help("pass the project directory (`.`) or a specific subdirectory");
        }
    }
}

/// Whether a path is in a temporary, world-writable directory, judged as the system
/// resolves it: `//tmp/x` and `/opt/../tmp/x` are in /tmp.
pub fn temporary(path: &str) -> bool {
    let c = path.replace('\\', "/");
    let resolved = if c.starts_with('/') {
        normalize_host_path(&c).unwrap_or_else(|| c.clone())
    } else {
        c
    };
    let lower = format!("{}/", resolved.to_ascii_lowercase());
    ["/tmp/", "/var/tmp/", "/dev/shm/", "/private/tmp/"]
        .iter()
        .any(|t| lower.starts_with(t))
        || lower.contains("/windows/temp/")
        || lower.starts_with("%temp%")
        || lower.starts_with("$tmpdir")
}

/// STDIO-009: a command in a world-writable place, or a relative path outside the bundle.
fn command_location(cmd: &Arg<'_>, tree: &BundleTree, sink: &mut Sink<'_>) {
    let c = cmd.text.replace('\\', "/");
    if temporary(cmd.text) {
        sink.add("STDIO-009", Level::Medium, cmd.span, format!("the command `{}` lives in a temporary, world-writable directory", cmd.text))
            .help("anyone can replace it there; launch an installed program or a file shipped in the bundle");
        return;
    }
    if c.starts_with('/') || c.starts_with('~') || windows_absolute(&c) || !c.contains('/') {
        return;
    }
    let rel: Vec<&str> = c
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let inside = !rel.contains(&"..") && matches!(tree.get(&rel.join("/")), Some(Entry::File(_)));
    if !inside {
        sink.add(
            "STDIO-009",
            Level::Medium,
            cmd.span,
            format!(
                "the relative command `{}` is not a file of the bundle",
                cmd.text
            ),
        )
        .help("ship the executable in the bundle, or launch an installed program by name");
    }
}

/// `C:/tools/x.exe` (after `\\` became `/`): a path from a drive root, not a relative one.
/// A UNC path (`//server/share/x.exe`) starts with `/` and is absolute too.
fn windows_absolute(c: &str) -> bool {
    let b = c.as_bytes();
    b.len() > 2 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/'
}

/// STDIO-011: a launch too long to review.
fn launch_length(argv: &[Arg<'_>], span: Span, sink: &mut Sink<'_>) {
    let len: usize = argv
        .iter()
        .map(|a| a.text.chars().count() + 1)
        .sum::<usize>()
        - 1;
    if len > 1000 {
        sink.add(
            "STDIO-011",
            Level::Medium,
            span,
            format!("the launch line is {len} characters long; nobody can review more than 1,000"),
        )
        .help("move options into a file shipped in the bundle");
    }
}

/// SC-004: alternative package indexes on the command line.
fn index_flags(argv: &[Arg<'_>], sink: &mut Sink<'_>) {
    const FLAGS: &[&str] = &[
        "--registry",
        "--index-url",
        "--extra-index-url",
        "--index",
        "--default-index",
        "--find-links",
        "--pypi-mirror",
        // Another configuration file can name any index.
        "--userconfig",
        "--globalconfig",
        "--config-file",
    ];
    for a in argv {
        let flag = a.text.split_once('=').map_or(a.text, |(f, _)| f);
        if FLAGS.contains(&flag)
            || flag == "-i"
                && argv
                    .first()
                    .is_some_and(|c| program(c.text).starts_with("pip"))
        {
            sink.add(
                "SC-004",
                Level::High,
                a.span,
                format!("`{flag}` installs from another package index"),
            )
            .help("install from the public registry; a mirror belongs in the user's own settings");
        }
    }
}

/// BIND-001: listening on every interface, or authentication turned off.
fn binds_and_auth(argv: &[Arg<'_>], sink: &mut Sink<'_>) {
    for (i, a) in argv.iter().enumerate().skip(1) {
        let v = value_of(a.text);
        // `*` and `0` mean every interface only as the value of a host option.
        let host_flag = |f: &str| {
            let f = f.to_ascii_lowercase();
            f.starts_with('-')
                && ["host", "bind", "listen", "addr", "interface"]
                    .iter()
                    .any(|w| f.contains(w))
        };
        let after_host_flag = a
            .text
            .split_once('=')
            .map_or_else(|| host_flag(argv[i - 1].text), |(f, _)| host_flag(f));
        if all_interfaces(v) || (after_host_flag && matches!(v, "*" | "0")) {
            sink.add(
                "BIND-001",
                Level::Medium,
                a.span,
                format!(
                    "`{}` makes the server listen on every network interface",
                    a.text
                ),
            )
            .help("bind to 127.0.0.1, or use stdio");
        }
        let flag = a
            .text
            .split_once('=')
            .map_or(a.text, |(f, _)| f)
            .to_ascii_lowercase();
        if matches!(
            flag.as_str(),
            "--no-auth" | "--allow-unauthenticated" | "--disable-auth" | "--noauth"
        ) || (flag == "--auth" && value_of(a.text).eq_ignore_ascii_case("none"))
        {
            sink.add(
                "BIND-001",
                Level::Medium,
                a.span,
                format!("`{}` turns authentication off", a.text),
            )
            .help("keep authentication on");
        }
    }
}

/// Whether a listen address means every interface: `0.0.0.0`, `::`, `[::]:8080`,
/// `0.0.0.0:3000`, `http://0.0.0.0:8080`, `tcp://[::]:9000`.
pub fn all_interfaces(v: &str) -> bool {
    use std::net::{IpAddr, SocketAddr};
    let v = v.trim();
    if v.contains("://") {
        return ::url::Url::parse(v).is_ok_and(|u| match u.host() {
            Some(::url::Host::Ipv4(ip)) => ip.is_unspecified(),
            Some(::url::Host::Ipv6(ip)) => ip.is_unspecified(),
            _ => false,
        });
    }
    if let Ok(ip) = v
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return ip.is_unspecified();
    }
    if let Ok(sa) = v.parse::<SocketAddr>() {
        return sa.ip().is_unspecified();
    }
    // `0.0.0.0:3000` and the like: a host, then a port.
    v.rsplit_once(':').is_some_and(|(h, p)| {
        p.bytes().all(|b| b.is_ascii_digit())
            && h.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_unspecified())
    })
}

/// TRUST-002 on the command line: another agent started with its confirmations or its
/// sandbox off, by switch (`--yolo`, `--dangerously-…`, `--full-auto`) or by the value of
/// a mode option (`--permission-mode bypassPermissions`, `--approval-mode yolo`,
/// `-c approval_policy=never`, `--sandbox danger-full-access`).
fn trust_flags(argv: &[Arg<'_>], sink: &mut Sink<'_>) {
    let deno = argv.iter().any(|a| program(a.text) == "deno");
    // An agent's own "yes to everything" switch (Gemini's and Qwen's `-y`, Cursor's
    // `--force`); elsewhere (`npx -y`, `rm --force`) it only skips a prompt.
    // The first word naming an agent; its switches follow it.
    let agent = argv
        .iter()
        .position(|a| AGENTS.contains(&program(a.text).as_str()));
    let cursor = agent.is_some_and(|j| program(argv[j].text) == "cursor-agent");
    for (i, a) in argv.iter().enumerate().skip(1) {
        let lower = a.text.to_ascii_lowercase();
        let flag = lower.split_once('=').map_or(lower.as_str(), |(f, _)| f);
        let prev = argv[i - 1].text.to_ascii_lowercase();
        let after_agent = agent.is_some_and(|j| j < i);
        let short = after_agent
            && (matches!(a.text, "-y" | "--yes" | "--force") || (cursor && a.text == "-f"));
        if short || safety_switch(flag, deno) || safety_value(&prev, &lower) {
            sink.add(
                "TRUST-002",
                Level::Block,
                a.span,
                format!("`{}` switches off the user's confirmations", a.text),
            )
            .help("trust is the user's decision; remove the switch");
        }
    }
}

/// Agent command lines whose confirmations a switch can turn off.
const AGENTS: &[&str] = &[
    "claude",
    "codex",
    "gemini",
    "qwen",
    "cursor-agent",
    "copilot",
    "aider",
    "opencode",
    "goose",
    "amp",
    "crush",
    "cline",
    "kiro-cli",
];

/// A switch whose name says confirmations or the sandbox are skipped.
fn safety_switch(flag: &str, deno: bool) -> bool {
    let Some(name) = flag.strip_prefix("--") else {
        return false;
    };
    const KINDS: &[&str] = &[
        "dangerously",
        "yolo",
        "skip-permission",
        "bypass-permission",
        "bypass-approval",
        "trust-all",
        "auto-approve",
        "always-allow",
        "always-approve",
        "yes-always",
        "full-auto",
        "no-confirm",
        "allow-all-tools",
    ];
    KINDS.iter().any(|k| name.contains(k)) || (!deno && name.starts_with("allow-all"))
}

/// A mode option (or a `-c key=value` setting) whose value turns approvals or the sandbox
/// off. `prev` and `arg` are lower case; quotes around values are ignored.
fn safety_value(prev: &str, arg: &str) -> bool {
    let unquoted = arg.replace(['"', '\''], "");
    let (key, value) = match unquoted.split_once('=') {
        Some((k, v)) => (k.trim_start_matches('-').to_string(), v.to_string()),
        None => (prev.trim_start_matches('-').to_string(), unquoted.clone()),
    };
    let key = key.replace('_', "-");
    match value.as_str() {
        "bypasspermissions" | "dontask" => key == "permission-mode",
        "yolo" => key.contains("approval"),
        "never" => key.contains("approval") || key == "a",
        "danger-full-access" => true,
        _ => false,
    }
}

/// A package spec found after a launcher.
struct Package<'a> {
    arg: Arg<'a>,
    spec: &'a str,
    python: bool,
}

/// SC-001 and SC-003: auto-install launchers must pin exact versions or commits.
fn launcher(argv: &[Arg<'_>], sink: &mut Sink<'_>) {
    let Some(first) = argv.first() else { return };
    let p = program(first.text);
    let sub = argv.get(1).map(|a| a.text);
    let (name, rest, python): (String, &[Arg<'_>], bool) = match (p.as_str(), sub) {
        ("npx" | "pnpx" | "bunx", _) => (p.clone(), &argv[1..], false),
        ("npm", Some("exec" | "x")) | ("pnpm" | "yarn", Some("dlx")) | ("bun", Some("x")) => {
            (format!("{p} {}", sub.unwrap_or("")), &argv[2..], false)
        }
        ("uvx", _) => (p.clone(), &argv[1..], true),
        ("uv", Some("tool")) if argv.get(2).is_some_and(|a| a.text == "run") => {
            ("uv tool run".into(), &argv[3..], true)
        }
        ("pipx", Some("run")) => ("pipx run".into(), &argv[2..], true),
        _ => return,
    };
    let with_value: &[&str] = if python {
        PYTHON_RUNNER_VALUED
    } else {
        &[
            "-p",
            "--package",
            "--registry",
            "-c",
            "--call",
            "--cache",
            "--userconfig",
            "--globalconfig",
            "-w",
            "--workspace",
            "--prefix",
            "--node-options",
            "--script-shell",
            "--loglevel",
            "--cache-dir",
        ]
    };
    let mut packages = Vec::new();
    let mut explicit = false;
    let mut i = 0;
    while i < rest.len() {
        let a = rest[i];
        let (flag, inline) = match a.text.split_once('=') {
            Some((f, v)) if f.starts_with('-') => (f, Some(v)),
            _ => (a.text, None),
        };
        if a.text == "--" {
            i += 1;
            break;
        }
        if flag.starts_with('-') {
            let takes = with_value.contains(&flag);
            let value = inline.or_else(|| {
                if takes {
                    rest.get(i + 1).map(|n| n.text)
                } else {
                    None
                }
            });
            let value_arg = if inline.is_some() {
                a
            } else {
                rest.get(i + 1).copied().unwrap_or(a)
            };
            if let Some(v) = value
                && matches!(flag, "-p" | "--package" | "--from" | "--with" | "--spec")
                && !(python && flag == "-p")
            {
                packages.push(Package {
                    arg: value_arg,
                    spec: v,
                    python,
                });
                explicit |= flag != "--with";
            }
            i += if takes && inline.is_none() { 2 } else { 1 };
            continue;
        }
        break;
    }
    if !explicit && let Some(a) = rest.get(i) {
        packages.push(Package {
            arg: *a,
            spec: a.text,
            python,
        });
    }
    if packages.is_empty() {
        sink.add(
            "SC-001",
            Level::High,
            first.span,
            format!("`{name}` is given no package to run"),
        );
    }
    for pkg in packages {
        check_package(&name, &pkg, sink);
    }
}

fn check_package(launcher: &str, pkg: &Package<'_>, sink: &mut Sink<'_>) {
    let spec = pkg.spec;
    if let Some(reason) = git_unpinned(spec) {
        sink.add(
            "SC-003",
            Level::High,
            pkg.arg.span,
            format!("`{spec}` {reason}"),
        )
        .help("pin the full 40-character commit, or use a registry release at an exact version");
        return;
    }
    if is_git(spec) {
        return; // pinned git
    }
    // Any URL given to a launcher is downloaded, whatever its extension; those with a
    // known artifact extension are already reported by `artifacts`.
    if is_http(spec) {
        if unpinned_artifact(spec).is_none() && !sha256_pinned(spec) {
            sink.add(
                "SC-002",
                Level::Block,
                pkg.arg.span,
                format!("`{launcher}` downloads `{spec}` without a sha256 digest"),
            )
            .help(
                "install from a registry at an exact version, or add `#sha256=<64 hex>` to the URL",
            );
        }
        return;
    }
    if local_path(spec) {
        return; // a file of the bundle or project
    }
    let verdict = if pkg.python {
        python_pin(spec)
    } else {
        npm_pin(spec)
    };
    if let Err(why) = verdict {
        sink.add(
            "SC-001",
            Level::High,
            pkg.arg.span,
            format!("`{launcher}` runs `{spec}`, which {why}"),
        )
        .help(if pkg.python {
            "pin the exact version: `uvx pkg@1.2.3` or `--from pkg==1.2.3`"
        } else {
            "pin the exact version: `npx -y pkg@1.2.3`"
        });
    }
}

/// Whether an npm spec names one exact version.
pub fn npm_pin(spec: &str) -> Result<(), String> {
    let name_end = if let Some(rest) = spec.strip_prefix('@') {
        rest.find('@').map(|i| i + 1)
    } else {
        spec.find('@')
    };
    let Some(at) = name_end else {
        return Err("has no version, so whatever is newest is installed".into());
    };
    let version = &spec[at + 1..];
    if version.is_empty() {
        return Err("has an empty version".into());
    }
    if semver::Version::parse(version).is_ok() {
        return Ok(());
    }
    if version
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && !version.starts_with('v')
    {
        return Err(format!(
            "names the tag `{version}`, which can move to any version"
        ));
    }
    Err(format!(
        "names `{version}`, a range rather than one exact version"
    ))
}

/// Whether a Python spec (`pkg==1.2.3`, `pkg@1.2.3`, `pkg[extra]==1.0`) names one exact version.
pub fn python_pin(spec: &str) -> Result<(), String> {
    let (version, sep) = if let Some((_, v)) = spec.split_once("===") {
        (v, "===")
    } else if let Some((_, v)) = spec.split_once("==") {
        (v, "==")
    } else if let Some((n, v)) = spec.split_once('@') {
        if n.trim().is_empty() {
            return Err("has no package name".into());
        }
        (v, "@")
    } else {
        return Err(if ["<", ">", "~=", "!="].iter().any(|r| spec.contains(r)) {
            "names a range rather than one exact version".into()
        } else {
            "has no version, so whatever is newest is installed".into()
        });
    };
    let v = version.trim();
    let exact = !v.is_empty()
        && v.chars().next().is_some_and(|c| c.is_ascii_digit())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '+' || c == '!')
        && !v.contains(',');
    if exact {
        Ok(())
    } else if sep == "@" && v.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
        Err(format!(
            "names the tag `{v}`, which can move to any version"
        ))
    } else {
        Err(format!("names `{v}`, not one exact version"))
    }
}

/// A path on this machine rather than something to fetch: `./x`, `../x`, `/x`, `~/x`,
/// `C:\\x`, `file:…`.
fn local_path(s: &str) -> bool {
    s.starts_with('.')
        || s.starts_with('/')
        || s.starts_with('~')
        || s.starts_with("file:")
        || s.contains('\\')
        || windows_absolute(s)
}

/// `https://github.com/u/r` (or GitLab, Bitbucket) with nothing after the repository:
/// npm clones these with git rather than downloading them.
fn git_hosting_url(s: &str) -> bool {
    let Some(rest) = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    else {
        return false;
    };
    let rest = rest.split(['#', '?']).next().unwrap_or(rest);
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = host.strip_prefix("www.").unwrap_or(host);
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    matches!(host, "github.com" | "gitlab.com" | "bitbucket.org")
        && segments.len() == 2
        && segments.iter().all(|x| !x.is_empty())
}

fn is_git(spec: &str) -> bool {
    let s = spec.to_ascii_lowercase();
    if local_path(&s) {
        return false;
    }
    let base = s.split('#').next().unwrap_or(&s);
    // `user/repo` is a GitHub shorthand for npm, unless it names a file (`lib/server.js`).
    let shorthand = !s.starts_with('@')
        && !s.contains(':')
        && !s.contains('@')
        && !s.contains('=')
        && base.split('/').count() == 2
        && base.split('/').all(|x| !x.is_empty())
        && ![".js", ".mjs", ".cjs", ".ts", ".py", ".json"]
            .iter()
            .any(|e| base.ends_with(e));
    s.starts_with("git+")
        || s.starts_with("git://")
        || s.starts_with("git@")
        || s.starts_with("github:")
        || s.starts_with("gitlab:")
        || s.starts_with("bitbucket:")
        || s.starts_with("gist:")
        || base.ends_with(".git")
        || s.contains(".git@")
        || git_hosting_url(&s)
        || shorthand
}

/// Why a git spec is not pinned to a full commit, if it is a git spec that is not.
/// The reference is npm's `#ref` or pip's `@ref`; a pip fragment of `key=value` pairs
/// (`#subdirectory=x&egg=y`) is not a reference.
pub fn git_unpinned(spec: &str) -> Option<String> {
    if !is_git(spec) {
        return None;
    }
    let (base, fragment) = spec.split_once('#').unwrap_or((spec, ""));
    let npm_ref = fragment
        .split('&')
        .find(|p| !p.is_empty() && !p.contains('='));
    let reference = npm_ref.or_else(|| {
        let tail = base.rsplit('/').next().unwrap_or(base);
        tail.rsplit_once('@').map(|(_, r)| r)
    });
    match reference {
        Some(r) if r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit()) => None,
        Some(r) => Some(format!("follows `{r}`, a git reference that can move")),
        None => Some("follows a git branch, not a fixed commit".into()),
    }
}

/// SC-002: artifacts downloaded by URL need a digest (`#sha256=<64 hex>`).
fn artifacts(argv: &[Arg<'_>], sink: &mut Sink<'_>) {
    for a in &argv[1..] {
        let v = value_of(a.text);
        if let Some(why) = unpinned_artifact(v) {
            sink.add("SC-002", Level::Block, a.span, why).help(
                "install from a registry at an exact version, or add `#sha256=<64 hex>` to the URL",
            );
        }
    }
}

fn is_http(v: &str) -> bool {
    let l = v.get(..8).unwrap_or(v).to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://")
}

/// Whether a URL's fragment carries `sha256=<64 hex>` (alone or among `&` pairs).
fn sha256_pinned(v: &str) -> bool {
    let fragment = v.split_once('#').map_or("", |(_, f)| f);
    fragment.split('&').any(|p| {
        p.strip_prefix("sha256=")
            .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
    })
}

/// Why a downloaded artifact is unverified, if `v` is one: an http(s) URL whose path ends
/// in an archive or binary extension, without a sha256 digest.
pub fn unpinned_artifact(v: &str) -> Option<String> {
    if !is_http(v) {
        return None;
    }
    let path = v.split(['#', '?']).next().unwrap_or(v).to_ascii_lowercase();
    let artifact = [
        ".tgz", ".tar.gz", ".zip", ".mcpb", ".dxt", ".whl", ".exe", ".bin", ".tar.xz", ".jar",
    ]
    .iter()
    .any(|e| path.ends_with(e));
    (artifact && !sha256_pinned(v))
        .then(|| format!("`{v}` downloads an artifact without a sha256 digest"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npm_pins() {
        assert!(npm_pin("pkg@1.2.3").is_ok());
        assert!(npm_pin("@scope/pkg@1.2.3-beta.1").is_ok());
        assert!(npm_pin("@scope/pkg").is_err());
        assert!(npm_pin("pkg@latest").is_err());
        assert!(npm_pin("pkg@^1.2").is_err());
        assert!(npm_pin("pkg@1.x").is_err());
    }

    #[test]
    fn python_pins() {
        assert!(python_pin("mcp-server-fetch@2026.10.24").is_ok());
        assert!(python_pin("pkg==1.0.0").is_ok());
        assert!(python_pin("pkg[cli]==1.0").is_ok());
        assert!(python_pin("pkg").is_err());
        assert!(python_pin("pkg>=1.0").is_err());
        assert!(python_pin("pkg@latest").is_err());
        assert!(python_pin("pkg==1.*").is_err());
    }

    #[test]
    fn git_pins() {
        assert!(git_unpinned("github:u/r#main").is_some());
        assert!(git_unpinned("git+https://github.com/u/r@v1").is_some());
        assert!(git_unpinned("git+https://github.com/u/r").is_some());
        assert!(git_unpinned("u/r").is_some());
        assert!(git_unpinned(&format!("github:u/r#{}", "a".repeat(40))).is_none());
        assert!(git_unpinned(&format!("git+https://github.com/u/r@{}", "0".repeat(40))).is_none());
        assert!(git_unpinned("@scope/pkg@1.0.0").is_none());
        assert!(git_unpinned("pkg@1.0.0").is_none());
        assert!(git_unpinned("https://github.com/u/r").is_some());
        assert!(git_unpinned("./x").is_none());
        assert!(git_unpinned("../tools/server").is_none());
        assert!(git_unpinned("lib/server.js").is_none());
        let hex = "a".repeat(40);
        assert!(
            git_unpinned(&format!(
                "git+https://github.com/o/r@{hex}#subdirectory=servers/x"
            ))
            .is_none()
        );
        assert!(
            git_unpinned("git+https://github.com/o/r@v1#egg=x&subdirectory=servers/x").is_some()
        );
    }

    #[test]
    fn a_user_agent_is_no_browser_profile() {
        let ua = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(sensitive_path(ua), None);
        assert_eq!(
            sensitive_path("~/.mozilla/firefox/x.default"),
            Some("a browser profile")
        );
        assert_eq!(
            sensitive_path("/Users/a/Library/Application Support/Google/Chrome/Default"),
            Some("a browser profile")
        );
    }

    #[test]
    fn sensitive_paths_by_kind() {
        for (path, what) in [
            ("~/.netrc", "stored credentials"),
            ("/home/u/.git-credentials", "stored credentials"),
            ("~/.config/gh/hosts.yml", "a tool's stored credentials"),
            (
                "~/.local/share/opencode/auth.json",
                "a tool's stored credentials",
            ),
            ("certs/server.key", "a private key"),
            ("~/.ssh2/id_ed25519", "a private key"),
            ("~/.zsh_history", "a shell or REPL history"),
            (
                "~/.mozilla/firefox/x.default/cookies.sqlite",
                "a browser profile",
            ),
            ("/etc/sudoers", "system secrets or devices"),
            ("/dev/stdin", "system secrets or devices"),
        ] {
            assert_eq!(sensitive_path(path), Some(what), "{path}");
        }
        for path in [
            "prompts/system.md",
            "keys.txt",
            "history.md",
            "docs/netrc.md",
            "/srv/data",
        ] {
            assert_eq!(sensitive_path(path), None, "{path}");
        }
    }

    #[test]
    fn shell_syntax_only_where_a_shell_parses() {
        assert!(shell_parses(&test_argv(&["sh", "-c", "a;b"])));
        assert!(shell_parses(&test_argv(&["/usr/bin/ssh", "host", "a;b"])));
        assert!(shell_parses(&test_argv(&["npx", "-c", "a|b"])));
        assert!(shell_parses(&test_argv(&["env", "bash", "x.sh"])));
        assert!(!shell_parses(&test_argv(&[
            "npx",
            "-y",
            "x@1.0.0",
            "--origins",
            "a;b"
        ])));
        assert!(!shell_parses(&test_argv(&[
            "node",
            "server.js",
            "-c",
            "a;b"
        ])));
    }

    #[test]
    fn agents_with_their_safety_off() {
        assert!(safety_switch("--dangerously-skip-permissions", false));
        assert!(safety_switch("--allow-all", false));
        assert!(!safety_switch("--allow-all", true), "deno's permissions");
        assert!(!safety_switch("--yes", false));
        assert!(safety_value("--permission-mode", "bypasspermissions"));
        assert!(!safety_value("--permission-mode", "plan"));
        assert!(safety_value("-c", "approval_policy=\"never\""));
        assert!(safety_value("-s", "danger-full-access"));
        assert!(!safety_value("--mode", "never"));
    }

    #[test]
    fn windows_paths_are_absolute() {
        assert!(windows_absolute("C:/Progra~1/nodejs/npx.cmd"));
        assert!(!windows_absolute("bin/server"));
        assert_eq!(program("C:\\Progra~1\\nodejs\\npx.cmd"), "npx");
    }

    #[test]
    fn other_clients_configurations_by_kind() {
        for path in [
            "~/.codeium/windsurf/mcp_config.json",
            "/Users/a/.cursor/mcp.json",
            "%APPDATA%\\Code\\User\\settings.json",
            "$HOME/.gemini/settings.json",
            "~/.codex/config.toml",
            "/home/u/.claude.json",
        ] {
            assert_eq!(
                sensitive_path(path),
                Some("another client's MCP configuration"),
                "{path}"
            );
        }
        for path in [
            "config/settings.json",
            ".claude/commands/review.md",
            "mcp.json",
        ] {
            assert_eq!(sensitive_path(path), None, "{path}");
        }
    }

    #[test]
    fn whole_trees() {
        for v in ["/", "~", "$HOME", "C:\\", "c:/"] {
            assert!(whole_tree(v), "{v}");
        }
        for v in [".", "./data", "~/projects/x", "/srv/data"] {
            assert!(!whole_tree(v), "{v}");
        }
    }

    /// Which word of a shell string `destructive_command` points at.
    fn destructive(shell: &str) -> Option<String> {
        let arg = Arg {
            text: shell,
            span: Span::default(),
        };
        let ws = words(&[arg]);
        let progs: Vec<String> = ws.iter().map(|(w, ..)| program(w)).collect();
        destructive_command(&ws, &progs).map(|i| ws[i].0.clone())
    }

    #[test]
    fn destructive_commands_take_options_from_later_in_their_statement() {
        assert_eq!(destructive("rm x -rf").as_deref(), Some("rm"));
        assert_eq!(destructive("rm -r x --force").as_deref(), Some("rm"));
        assert_eq!(destructive("rm x; ls -rf"), None);
        assert_eq!(destructive("chmod -R x 777").as_deref(), Some("chmod"));
        assert_eq!(
            destructive("echo 777; chmod -R x"),
            None,
            "the mode must follow"
        );
        assert_eq!(
            destructive("chown --recursive u x").as_deref(),
            Some("chown")
        );
        assert_eq!(
            destructive("dd if=/dev/zero of=/dev/sda").as_deref(),
            Some("dd")
        );
        assert_eq!(destructive("reg add x").as_deref(), Some("reg"));
        assert_eq!(
            destructive("mkfs.ext4 /dev/x").as_deref(),
            Some("mkfs.ext4")
        );
        // One pass over the words, however many there are.
        let many = format!("{}-rf", "rm chmod dd ".repeat(100_000));
        assert_eq!(destructive(&many).as_deref(), Some("rm"));
    }
}
