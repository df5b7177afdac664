//! SC-001 for runners that install a package as they start, beyond the npx and uvx
//! families of `launch::launcher`: `uv run --with PKG`, `deno run npm:PKG`/`jsr:PKG`,
//! `go run MODULE@VERSION`, and .NET's `dnx PKG`/`dotnet tool exec PKG`. Each must name
//! one exact version; a local script or module passes.

use super::launch::{Arg, npm_pin, program, python_pin};
use super::{Level, Sink};

pub fn check(argv: &[Arg<'_>], sink: &mut Sink<'_>) {
    let Some(first) = argv.first() else { return };
    let sub = |i: usize| argv.get(i).map(|a| a.text);
    let p = program(first.text);
    let unpinned = match (p.as_str(), sub(1), sub(2)) {
        ("uv", Some("run"), _) => uv_run_with(&argv[2..]),
        ("deno", Some("run" | "x"), _) | ("deno", Some("install"), _) => deno(&argv[2..]),
        ("go", Some("run"), _) => go_run(&argv[2..]),
        ("dnx", ..) => dotnet(&argv[1..]),
        ("dotnet", Some("tool"), Some("exec" | "run")) | ("dotnet", Some("dnx"), _) => {
            dotnet(&argv[if sub(1) == Some("dnx") { 2 } else { 3 }..])
        }
        _ => None,
    };
    if let Some((arg, why)) = unpinned {
        sink.add(
            "SC-001",
            Level::High,
            arg.span,
            format!("`{}` {why}", arg.text),
        )
        .help("pin one exact version (`pkg==1.2.3`, `npm:pkg@1.2.3`, `module@v1.2.3`)");
    }
}

/// `uv run --with PKG` (also `--with=a,b`) and `--with-requirements FILE`, whose pins capm
/// cannot see.
fn uv_run_with<'a>(rest: &[Arg<'a>]) -> Option<(Arg<'a>, String)> {
    for (i, a) in rest.iter().enumerate() {
        let (flag, inline) = a
            .text
            .split_once('=')
            .map_or((a.text, None), |(f, v)| (f, Some(v)));
        let value = inline.or_else(|| rest.get(i + 1).map(|n| n.text));
        match flag {
            "--with-requirements" => {
                return Some((
                    *a,
                    "installs requirements from a file capm cannot check".into(),
                ));
            }
            "--with" | "-w" => {
                for spec in value.unwrap_or("").split(',') {
                    if let Err(why) = python_pin(spec.trim()) {
                        return Some((*a, format!("installs `{}`, which {why}", spec.trim())));
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// `deno run npm:PKG` or `jsr:PKG` without an exact version, anywhere in the arguments
/// (a script's own arguments cannot name one without deno fetching it).
fn deno<'a>(rest: &[Arg<'a>]) -> Option<(Arg<'a>, String)> {
    rest.iter().find_map(|a| {
        let spec = a
            .text
            .strip_prefix("npm:")
            .or(a.text.strip_prefix("jsr:"))?;
        let spec = spec
            .split_once("/")
            .filter(|_| !spec.starts_with('@'))
            .map_or(spec, |(n, _)| n);
        let spec = scoped_package(spec);
        npm_pin(spec)
            .err()
            .map(|why| (*a, format!("runs a package that {why}")))
    })
}

/// `@scope/name@1.0.0/sub/path` → `@scope/name@1.0.0`.
fn scoped_package(spec: &str) -> &str {
    if !spec.starts_with('@') {
        return spec;
    }
    let mut slashes = spec.match_indices('/').map(|(i, _)| i);
    let _scope = slashes.next();
    slashes.next().map_or(spec, |end| &spec[..end])
}

/// `go run MODULE@VERSION`: a version other than an exact `vX.Y.Z` (`@latest`, a branch,
/// a query). Local packages (`.`, `./cmd/x`) and the main module pass.
fn go_run<'a>(rest: &[Arg<'a>]) -> Option<(Arg<'a>, String)> {
    let a = rest.iter().find(|a| !a.text.starts_with('-'))?;
    let (_, version) = a.text.split_once('@')?;
    let exact = version
        .strip_prefix('v')
        .is_some_and(|v| semver::Version::parse(v).is_ok());
    (!exact).then(|| (*a, format!("follows `{version}`, not one exact version")))
}

/// `dnx PKG[@VERSION]` / `dotnet tool exec PKG --version V`.
fn dotnet<'a>(rest: &[Arg<'a>]) -> Option<(Arg<'a>, String)> {
    let mut package = None;
    let mut version = None;
    let mut i = 0;
    while let Some(a) = rest.get(i) {
        match a.text {
            "--version" => {
                version = rest.get(i + 1).map(|n| n.text);
                i += 2;
                continue;
            }
            "--" => break,
            t if t.starts_with('-') => {}
            t if package.is_none() => package = Some((*a, t)),
            _ => {}
        }
        i += 1;
    }
    let (arg, spec) = package?;
    let version = version.or_else(|| spec.split_once('@').map(|(_, v)| v));
    let exact = version.is_some_and(|v| semver::Version::parse(v).is_ok());
    (!exact).then(|| (arg, "runs a .NET tool without an exact version".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::launch::test_argv;

    #[test]
    fn runners() {
        assert!(uv_run_with(&test_argv(&["--with", "httpx", "x.py"])).is_some());
        assert!(uv_run_with(&test_argv(&["--with=httpx==0.27.0", "x.py"])).is_none());
        assert!(uv_run_with(&test_argv(&["server.py"])).is_none());
        assert!(deno(&test_argv(&["-A", "npm:@scope/pkg"])).is_some());
        assert!(deno(&test_argv(&["npm:@scope/pkg@1.2.3/bin"])).is_none());
        assert!(deno(&test_argv(&["jsr:@std/http@1.0.0"])).is_none());
        assert!(go_run(&test_argv(&["example.com/x/cmd@latest"])).is_some());
        assert!(go_run(&test_argv(&["example.com/x/cmd@v1.2.3"])).is_none());
        assert!(go_run(&test_argv(&["./cmd/server"])).is_none());
        assert!(dotnet(&test_argv(&["Some.Tool"])).is_some());
        assert!(dotnet(&test_argv(&["Some.Tool", "--version", "1.2.3"])).is_none());
        assert!(dotnet(&test_argv(&["Some.Tool@1.2.3"])).is_none());
    }
}
