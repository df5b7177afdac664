//! STDIO-013: an interpreter told to load code before (or beside) its program. Preloading a
//! package the project installs (`node --import tsx`, `-r dotenv/config`) is a normal
//! setup; preloading a file from outside the bundle (an absolute, home, parent, variable
//! or temporary path, or a URL), a Java agent, or opening a debugger to the network hands
//! the process to code or people the bundle does not ship.

use super::launch::{Arg, family, program, temporary};
use super::{Level, Sink};

/// Options of node and bun whose value is a module loaded first.
const NODE_PRELOADS: &[&str] = &[
    "-r",
    "--require",
    "--import",
    "--loader",
    "--experimental-loader",
    "--preload",
];

pub fn check(argv: &[Arg<'_>], sink: &mut Sink<'_>) {
    for (i, a) in argv.iter().enumerate() {
        let p = program(a.text);
        let hit = match family(&p) {
            "node" | "bun" => node(&argv[i + 1..]),
            "ruby" | "perl" => short_preload(&argv[i + 1..], "rIMm"),
            "java" => argv[i + 1..].iter().find_map(java_agent),
            // npx and `npm exec` hand `--node-options` to the node they start.
            _ if matches!(p.as_str(), "npx" | "npm" | "pnpx") => npm_node_options(&argv[i + 1..]),
            "python" => script_in_temp(&argv[i + 1..]),
            _ => None,
        };
        if let Some((arg, why)) = hit {
            sink.add(
                "STDIO-013",
                Level::High,
                arg.span,
                format!("`{}` {why}", arg.text),
            )
            .help("load only modules the bundle ships or the project installs, and keep debuggers off");
            return;
        }
    }
}

/// A preload path that is not the bundle's or the project's own: absolute, home, parent,
/// a variable, a URL, or in a temporary directory. `./x.js` and package names pass.
fn outside(v: &str) -> bool {
    let v = v.trim();
    let b = v.as_bytes();
    let drive = b.len() > 2 && b[0].is_ascii_alphabetic() && b[1] == b':';
    v.starts_with('/')
        || v.starts_with('\\')
        || v.starts_with('~')
        || v.starts_with('$')
        || v.starts_with('%')
        || v.starts_with("..")
        || v.contains("://")
        || v.starts_with("file:")
        || drive
        || temporary(v)
}

/// node and bun: preloads, `--node-options` (read as node options), and `--inspect` to a
/// host other than loopback. The scan stops at the script.
fn node<'a>(rest: &[Arg<'a>]) -> Option<(Arg<'a>, &'static str)> {
    let mut i = 0;
    while let Some(a) = rest.get(i) {
        let (flag, inline) = a
            .text
            .split_once('=')
            .map_or((a.text, None), |(f, v)| (f, Some(v)));
        if !flag.starts_with('-') {
            return None;
        }
        let value = inline.or_else(|| rest.get(i + 1).map(|n| n.text));
        if NODE_PRELOADS.contains(&flag) && value.is_some_and(outside) {
            return Some((*a, "preloads code from outside the bundle"));
        }
        if flag == "--node-options" && value.is_some_and(node_options_preload) {
            return Some((*a, "preloads code from outside the bundle"));
        }
        if flag.starts_with("--inspect") && inline.is_some_and(debugger_exposed) {
            return Some((
                *a,
                "opens the debugger, and with it the process, to the network",
            ));
        }
        let takes = NODE_PRELOADS.contains(&flag) || flag == "--node-options";
        i += if takes && inline.is_none() { 2 } else { 1 };
    }
    None
}

/// `npx --node-options=…` (or `npm exec --node-options …`): read as node options.
fn npm_node_options<'a>(rest: &[Arg<'a>]) -> Option<(Arg<'a>, &'static str)> {
    rest.iter().enumerate().find_map(|(i, a)| {
        let value = match a.text.split_once('=') {
            Some(("--node-options", v)) => Some(v),
            None if a.text == "--node-options" => rest.get(i + 1).map(|n| n.text),
            _ => None,
        };
        value
            .is_some_and(node_options_preload)
            .then_some((*a, "preloads code from outside the bundle"))
    })
}

/// Whether a `--node-options` string preloads from outside the bundle.
fn node_options_preload(v: &str) -> bool {
    let words: Vec<&str> = v.split_whitespace().collect();
    words.iter().enumerate().any(|(i, w)| {
        let (flag, inline) = w.split_once('=').map_or((*w, None), |(f, v)| (f, Some(v)));
        NODE_PRELOADS.contains(&flag)
            && inline
                .or_else(|| words.get(i + 1).copied())
                .is_some_and(outside)
    })
}

/// `--inspect=HOST:PORT` with a host other than loopback (a bare port is loopback).
fn debugger_exposed(v: &str) -> bool {
    let host = match v.rsplit_once(':') {
        Some((h, _)) => h.trim_start_matches('[').trim_end_matches(']'),
        None if v.bytes().all(|b| b.is_ascii_digit()) => return false,
        None => v,
    };
    !matches!(host, "127.0.0.1" | "localhost" | "::1")
}

/// ruby `-r LIB`/`-I DIR` and perl `-M`/`-m`/`-I`, joined or separate, from outside.
fn short_preload<'a>(rest: &[Arg<'a>], letters: &str) -> Option<(Arg<'a>, &'static str)> {
    for (i, a) in rest.iter().enumerate() {
        let t = a.text;
        if !t.starts_with('-') || t == "--" {
            return None;
        }
        let Some(letter) = t.chars().nth(1).filter(|c| letters.contains(*c)) else {
            continue;
        };
        let joined = &t[1 + letter.len_utf8()..];
        let value = if joined.is_empty() {
            rest.get(i + 1).map(|n| n.text)
        } else {
            Some(joined)
        };
        if value.is_some_and(outside) {
            return Some((*a, "loads code from outside the bundle"));
        }
    }
    None
}

/// `-javaagent:`, `-agentpath:`, `-agentlib:`: native or Java code run inside the JVM.
fn java_agent<'a>(a: &Arg<'a>) -> Option<(Arg<'a>, &'static str)> {
    let t = a.text.to_ascii_lowercase();
    [
        "-javaagent:",
        "-agentpath:",
        "-agentlib:",
        "-xbootclasspath",
    ]
    .iter()
    .any(|p| t.starts_with(p))
    .then_some((*a, "runs an agent inside the Java process"))
}

/// A Python script in a temporary, world-writable directory.
fn script_in_temp<'a>(rest: &[Arg<'a>]) -> Option<(Arg<'a>, &'static str)> {
    rest.iter()
        .find(|a| !a.text.starts_with('-'))
        .filter(|a| temporary(a.text))
        .map(|a| (*a, "is a script in a temporary, world-writable directory"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_paths() {
        for v in [
            "/tmp/x.js",
            "~/x.js",
            "../x.js",
            "$HOME/x",
            "https://x/y.js",
            "C:\\x.js",
        ] {
            assert!(outside(v), "{v}");
        }
        for v in ["tsx", "dotenv/config", "./preload.js", "ts-node/register"] {
            assert!(!outside(v), "{v}");
        }
    }

    #[test]
    fn debugger_hosts() {
        assert!(debugger_exposed("0.0.0.0:9229"));
        assert!(debugger_exposed("[::]:9229"));
        assert!(!debugger_exposed("9229"));
        assert!(!debugger_exposed("127.0.0.1:9229"));
        assert!(node_options_preload(
            "--max-old-space-size=4096 --require /tmp/x.js"
        ));
        assert!(!node_options_preload("--max-old-space-size=4096"));
    }
}
