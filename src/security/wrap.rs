//! Wrapper commands that run another command (`env`, `nice`, `timeout`, `stdbuf`, …,
//! and `cmd /c` given a plain argv).
//! The launcher and container rules must see the program a wrapper starts, so each
//! wrapper's options are parsed exactly: an option that takes a value swallows it, and an
//! option capm does not know makes the launch unanalysable, which is reported (capm fails
//! closed) rather than guessed at.

use super::launch::{Arg, program};
use super::{Level, Sink, env};

/// How one wrapper's command line is laid out.
struct Wrapper {
    name: &'static str,
    /// Options without a value, short (`-i`) or long (`--ignore-environment`).
    flags: &'static [&'static str],
    /// Options followed by a value (`-n 5`, `-n5`, `--adjustment=5`).
    valued: &'static [&'static str],
    /// Operands before the command (`timeout`'s duration, `taskset`'s mask), each checked.
    operands: &'static [Operand],
}

/// An operand a wrapper reads before the command.
#[derive(Clone, Copy)]
enum Operand {
    /// `timeout 10s`, `timeout 1.5m`.
    Duration,
    /// `chrt 10`: optional, taken only when numeric.
    Priority,
    /// `taskset 0x3` or `taskset -c 0-2`.
    CpuMask,
}

const WRAPPERS: &[Wrapper] = &[
    Wrapper {
        name: "env",
        flags: &[
            "-",
            "-i",
            "-0",
            "-v",
            "--ignore-environment",
            "--null",
            "--debug",
            "--default-signal",
            "--ignore-signal",
            "--block-signal",
        ],
        valued: &["-u", "--unset", "-C", "--chdir", "-P"],
        operands: &[],
    },
    Wrapper {
        name: "nice",
        flags: &[],
        valued: &["-n", "--adjustment"],
        operands: &[],
    },
    Wrapper {
        name: "nohup",
        flags: &[],
        valued: &[],
        operands: &[],
    },
    Wrapper {
        name: "setsid",
        flags: &["-c", "-f", "-w", "--ctty", "--fork", "--wait"],
        valued: &[],
        operands: &[],
    },
    Wrapper {
        name: "timeout",
        flags: &[
            "-v",
            "-p",
            "-f",
            "--verbose",
            "--preserve-status",
            "--foreground",
        ],
        valued: &["-k", "--kill-after", "-s", "--signal"],
        operands: &[Operand::Duration],
    },
    Wrapper {
        name: "stdbuf",
        flags: &[],
        valued: &["-i", "-o", "-e", "--input", "--output", "--error"],
        operands: &[],
    },
    Wrapper {
        name: "ionice",
        flags: &["-t", "--ignore"],
        valued: &["-c", "--class", "-n", "--classdata"],
        operands: &[],
    },
    Wrapper {
        name: "exec",
        flags: &["-c", "-l"],
        valued: &["-a"],
        operands: &[],
    },
    Wrapper {
        name: "time",
        flags: &[
            "-p",
            "-v",
            "-a",
            "-q",
            "--portability",
            "--verbose",
            "--append",
            "--quiet",
        ],
        valued: &["-f", "-o", "--format", "--output"],
        operands: &[],
    },
    Wrapper {
        name: "chrt",
        flags: &[
            "-a",
            "-b",
            "-d",
            "-f",
            "-i",
            "-o",
            "-r",
            "-R",
            "-v",
            "--all-tasks",
            "--batch",
            "--deadline",
            "--fifo",
            "--idle",
            "--other",
            "--rr",
            "--reset-on-fork",
            "--verbose",
        ],
        valued: &[
            "-T",
            "-P",
            "-D",
            "--sched-runtime",
            "--sched-period",
            "--sched-deadline",
        ],
        operands: &[Operand::Priority],
    },
    Wrapper {
        name: "taskset",
        flags: &["-a", "-c", "--all-tasks", "--cpu-list"],
        valued: &[],
        operands: &[Operand::CpuMask],
    },
];

/// The result of looking through the wrappers at the start of a launch.
pub struct Unwrapped {
    /// Index of the real command in the argv (the argv's length if there is none).
    pub start: usize,
}

/// Skips the wrappers at the start of `argv`, returning where the real command is.
/// `env NAME=VALUE` pairs go through the env rules like `env.NAME` keys; `env -S` is inline
/// shell (STDIO-001); an option or operand capm cannot interpret is reported and then
/// treated as a plain flag, so the rest of the launch is still checked.
pub fn unwrap(argv: &[Arg<'_>], sink: &mut Sink<'_>) -> Unwrapped {
    let mut i = 0;
    while let Some(w) = argv
        .get(i)
        .and_then(|a| WRAPPERS.iter().find(|w| w.name == program(a.text)))
    {
        i = skip_one(w, argv, i + 1, sink);
    }
    Unwrapped { start: i }
}

/// Where the launch `cmd /c ARGV…` (also `/k`, after `/q /s /d /a /u`; `cmd.exe`, a full
/// path) really starts: cmd then only runs ARGV, so it is a wrapper. Only when no element
/// of ARGV holds a cmd metacharacter (`& | < > ^ % " ( )`, `!`) or white space (a spawner
/// quotes it, and cmd re-splits the quoted string): otherwise cmd parses a command line and the launch stays inline shell (STDIO-001).
pub fn cmd_start(argv: &[Arg<'_>]) -> Option<usize> {
    if program(argv.first()?.text) != "cmd" {
        return None;
    }
    let switch = |a: &Arg<'_>| a.text.to_ascii_lowercase();
    let mut i = 1;
    while argv
        .get(i)
        .is_some_and(|a| matches!(switch(a).as_str(), "/q" | "/s" | "/d" | "/a" | "/u"))
    {
        i += 1;
    }
    if !argv
        .get(i)
        .is_some_and(|a| matches!(switch(a).as_str(), "/c" | "/k"))
    {
        return None;
    }
    let rest = &argv[i + 1..];
    let plain = |a: &Arg<'_>| {
        !a.text.is_empty()
            && !a.text.contains(char::is_whitespace)
            && !a
                .text
                .contains(['&', '|', '<', '>', '^', '%', '"', '(', ')', '!', '\n', '\r'])
    };
    (!rest.is_empty() && rest.iter().all(plain)).then_some(i + 1)
}

/// Parses one wrapper's options and operands from `argv[i..]`; returns the index after them.
fn skip_one(w: &Wrapper, argv: &[Arg<'_>], mut i: usize, sink: &mut Sink<'_>) -> usize {
    let wrapper = argv[i - 1];
    while let Some(a) = argv.get(i) {
        let t = a.text;
        if t == "--" {
            i += 1;
            break;
        }
        if w.name == "env" && split_string(t, argv.get(i + 1)).is_some() {
            let code = split_string(t, argv.get(i + 1)).unwrap_or_default();
            sink.add(
                "STDIO-001",
                Level::High,
                a.span,
                format!("`env -S` runs `{code}` split like a shell command line"),
            )
            .help("launch the program directly, with its arguments as separate elements");
            // What follows is the split string's own command line: nothing left to parse.
            return argv.len();
        }
        if t.starts_with('-') {
            i += option_len(w, argv, i, wrapper, sink);
            continue;
        }
        if w.name == "nice" && is_legacy_nice(t) {
            i += 1;
            continue;
        }
        if w.name == "env"
            && let Some((name, value)) = t.split_once('=')
            && !name.is_empty()
        {
            env::check_literal(name, value, a.span, sink);
            i += 1;
            continue;
        }
        break;
    }
    if i == argv.len() {
        return i;
    }
    for op in w.operands {
        i += operand(*op, argv, i, wrapper, sink);
    }
    i
}

/// `env -S STRING`, `env -SSTRING`, `env --split-string=STRING`: the string, if `t` is one.
fn split_string(t: &str, next: Option<&Arg<'_>>) -> Option<String> {
    if t == "-S" || t == "--split-string" {
        return Some(next.map_or("", |n| n.text).to_string());
    }
    if let Some(v) = t.strip_prefix("--split-string=") {
        return Some(v.to_string());
    }
    // A cluster such as `-iS` or `-Sbash -c x`: everything after the S is the string.
    let cluster = t.strip_prefix('-').filter(|c| !c.starts_with('-'))?;
    let at = cluster.find('S')?;
    cluster[..at]
        .chars()
        .all(|c| matches!(c, 'i' | '0' | 'v'))
        .then(|| {
            let inline = &cluster[at + 1..];
            if inline.is_empty() {
                next.map_or("", |n| n.text).to_string()
            } else {
                inline.to_string()
            }
        })
}

/// `nice -10 cmd`: the historical form of `-n 10`.
fn is_legacy_nice(t: &str) -> bool {
    let digits = t.trim_start_matches(['-', '+']);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// How many argv elements the option at `argv[i]` takes up, reporting it if unknown.
fn option_len(
    w: &Wrapper,
    argv: &[Arg<'_>],
    i: usize,
    wrapper: Arg<'_>,
    sink: &mut Sink<'_>,
) -> usize {
    let t = argv[i].text;
    if let Some(long) = t.strip_prefix("--") {
        let name = format!("--{}", long.split_once('=').map_or(long, |(n, _)| n));
        if w.flags.contains(&name.as_str()) {
            return 1;
        }
        if w.valued.contains(&name.as_str()) {
            return if long.contains('=') { 1 } else { 2 };
        }
        unknown(wrapper, argv[i], sink);
        return 1;
    }
    if (w.name == "nice" && is_legacy_nice(t)) || (t == "-" && w.flags.contains(&"-")) {
        return 1;
    }
    if t == "-" {
        unknown(wrapper, argv[i], sink);
        return 1;
    }
    // A cluster of short options: `-iu NAME`, `-n5`, `-oL`. A value-taking option takes the
    // rest of the cluster, or the next element when it ends the cluster.
    for (at, c) in t[1..].char_indices() {
        let opt = format!("-{c}");
        if w.valued.contains(&opt.as_str()) {
            return if at + c.len_utf8() + 1 < t.len() {
                1
            } else {
                2
            };
        }
        if !w.flags.contains(&opt.as_str()) {
            unknown(wrapper, argv[i], sink);
            return 1;
        }
    }
    1
}

/// How many elements an operand takes (0 for an absent optional one), reporting a bad one.
fn operand(
    op: Operand,
    argv: &[Arg<'_>],
    i: usize,
    wrapper: Arg<'_>,
    sink: &mut Sink<'_>,
) -> usize {
    let Some(a) = argv.get(i) else { return 0 };
    let t = a.text;
    let number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let ok = match op {
        Operand::Duration => number(t.trim_end_matches(['s', 'm', 'h', 'd'])),
        Operand::Priority => {
            if !number(t) {
                return 0;
            }
            true
        }
        Operand::CpuMask => {
            !t.is_empty()
                && t.chars()
                    .all(|c| c.is_ascii_hexdigit() || matches!(c, 'x' | 'X' | ',' | '-' | ':'))
        }
    };
    if !ok {
        unknown(wrapper, *a, sink);
    }
    1
}

fn unknown(wrapper: Arg<'_>, what: Arg<'_>, sink: &mut Sink<'_>) {
    sink.add(
        "STDIO-001",
        Level::High,
        what.span,
        format!(
            "capm cannot interpret `{}` given to the wrapper `{}`, so it cannot verify what the launch runs",
            what.text, wrapper.text
        ),
    )
    .help("launch the program directly, or use only the wrapper options capm knows");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::span::Span;

    fn start(words: &[&str]) -> Option<usize> {
        let argv: Vec<Arg<'_>> = words
            .iter()
            .map(|w| Arg {
                text: w,
                span: Span::default(),
            })
            .collect();
        cmd_start(&argv)
    }

    #[test]
    fn cmd_c_with_a_plain_argv_is_a_wrapper() {
        assert_eq!(start(&["cmd", "/c", "npx", "-y", "p@1.0.0"]), Some(2));
        assert_eq!(start(&["CMD.EXE", "/S", "/C", "npx"]), Some(3));
        assert_eq!(
            start(&["C:\\Windows\\System32\\cmd.exe", "/k", "x"]),
            Some(2)
        );
    }

    #[test]
    fn cmd_given_a_command_line_is_not() {
        assert_eq!(start(&["cmd", "/c", "npx", "&", "calc"]), None);
        assert_eq!(start(&["cmd", "/c", "echo %PATH%"]), None);
        assert_eq!(start(&["cmd", "/c", "a^b"]), None);
        assert_eq!(start(&["cmd", "/cnpx"]), None);
        assert_eq!(start(&["cmd", "/v:on", "/c", "x"]), None);
        assert_eq!(start(&["cmd", "/c"]), None);
        assert_eq!(start(&["cmd.exe", "/k", "node server.js"]), None);
        assert_eq!(start(&["sh", "-c", "x"]), None);
    }
}
