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
    for (i, a) in argv.iter().enumerate() {
        let p = program(a.text);
        let f = family(&p);
        let sub = matches!(p.as_str(), "npm" | "pnpm" | "yarn" | "bun")
            && argv
                .get(i + 1)
                .is_some_and(|r| matches!(r.text, "exec" | "x" | "dlx"));
        let rest = &argv[i + 1 + usize::from(sub)..];
        let hit = match f {
            "cmd" => cmd(rest),
            "powershell" | "pwsh" => powershell(rest, f == "powershell"),
            "deno" => rest.first().filter(|r| r.text == "eval").copied(),
            "fish" => scan(&FISH, rest),
            "python" => scan(&PYTHON, rest),
            "node" | "bun" => scan(&NODE, rest),
            "perl" => scan(&PERL, rest),
            "ruby" => scan(&RUBY, rest),
            "php" => scan(&PHP, rest),
            "lua" | "luajit" | "rscript" | "julia" | "osascript" => scan(&DASH_E, rest),
            _ if SHELLS.contains(&f) => scan(&SHELL, rest),
            _ if matches!(p.as_str(), "npx" | "pnpx" | "bunx") || sub => scan(&LAUNCHER, rest),
            _ => None,
        };
        if let Some(flag) = hit {
            sink.add("STDIO-001", Level::High, flag.span, format!("`{}` is given inline code with `{}`", a.text, flag.text))
                .help("launch the server's executable or package directly, with its arguments as separate elements");
            return;
        }
    }
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
