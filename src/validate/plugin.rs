//! The module specifiers a path plugin's source names: `import … from "x"`, `import "x"`,
//! `export … from "x"`, `import("x")` and `require("x")`, found by a small JavaScript /
//! TypeScript scanner that skips comments, strings and template literals, and type-only
//! imports (`import type`), which TypeScript erases; whether the module has a default
//! export; and where a local specifier leads as Bun resolves it. A plugin file is installed
//! alone and a plugin directory whole, so a local specifier must lead to a file the install
//! carries: OpenCode skips a plugin whose import fails without a word (docs/spec.md §6.1).

/// A module specifier and the 1-based line it is on.
#[derive(Debug, PartialEq, Eq)]
pub struct Specifier {
    pub text: String,
    pub line: usize,
}

/// Whether `spec` names a file rather than a package (`fs`, `node:fs`, `@scope/pkg`).
pub fn is_local(spec: &str) -> bool {
    spec == "."
        || spec == ".."
        || spec.starts_with("./")
        || spec.starts_with("../")
        || spec.starts_with('/')
        || spec.starts_with("file:")
}

/// What a scan of a module finds.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Module {
    /// Every module specifier, in order.
    pub specifiers: Vec<Specifier>,
    /// `export default …`, or `default` among the names an `export { … }` clause exports.
    pub default_export: bool,
}

/// Every module specifier of `source`, in order.
pub fn specifiers(source: &str) -> Vec<Specifier> {
    scan(source).specifiers
}

/// Scans `source` for its specifiers and its default export.
pub fn scan(source: &str) -> Module {
    let b = source.as_bytes();
    let mut out = Vec::new();
    let mut default_export = false;
    // Inside the braces of `export { … }`.
    let mut export_clause = false;
    let mut i = 0;
    // The keyword last seen that a string may complete (`from`, `import`, `require`).
    let mut pending = false;
    // Inside `import type …` / `export type …`, which TypeScript erases.
    let mut type_only = false;
    let mut prev_word: &[u8] = b"";
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            i = skip_until(b, i, b"\n");
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i = skip_until(b, i + 2, b"*/");
        } else if c == b'"' || c == b'\'' || c == b'`' {
            let end = skip_string(b, i);
            if pending && c != b'`' && !type_only {
                let text = String::from_utf8_lossy(&b[i + 1..end - 1]).into_owned();
                let line = 1 + b[..i].iter().filter(|&&x| x == b'\n').count();
                out.push(Specifier { text, line });
            }
            pending = false;
            type_only = false;
            i = end;
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b'$' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$') {
                i += 1;
            }
            let word = &b[start..i];
            let after_dot = start > 0 && b[start - 1] == b'.';
            pending = !after_dot && matches!(word, b"from" | b"import" | b"require");
            type_only |= word == b"type" && matches!(prev_word, b"import" | b"export");
            if word == b"default" && !after_dot {
                default_export |= prev_word == b"export" || (export_clause && !next_is_as(b, i));
            }
            prev_word = word;
        } else if c == b'{' || c == b'}' {
            export_clause = c == b'{' && prev_word == b"export" && !type_only;
            prev_word = b"";
            pending = false;
            i += 1;
        } else {
            // Whitespace and an opening parenthesis keep the keyword pending.
            pending &= c.is_ascii_whitespace() || c == b'(';
            i += 1;
        }
    }
    Module {
        specifiers: out,
        default_export,
    }
}

/// Whether the next word after index `i` is `as` (`default as x` imports, not exports, the
/// default).
fn next_is_as(b: &[u8], i: usize) -> bool {
    let rest = &b[i..];
    let start = rest
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(rest.len());
    let rest = &rest[start..];
    rest.starts_with(b"as")
        && !rest
            .get(2)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'$')
}

/// The extensions Bun tries, in order, for a specifier without one.
const EXTENSIONS: [&str; 9] = [
    ".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs", ".json",
];

/// Why a local specifier does not lead to a file the plugin carries.
#[derive(Debug, PartialEq, Eq)]
pub enum Unresolved {
    /// `/x` or `file:…`: a file of the machine, not of the plugin.
    Absolute,
    /// `../x` climbing out of the plugin's directory.
    Outside,
    /// No file of the plugin answers it.
    Missing,
}

/// The file of the plugin directory `root` that the local specifier `spec`, written in the
/// file `from` (both paths relative to the bundle), names as Bun resolves it: the path itself,
/// with each extension, a `.js`-family name as its TypeScript twin, or the directory's
/// `index` file. `file` says whether a bundle path is a file.
pub fn resolve(
    spec: &str,
    from: &str,
    root: &str,
    file: impl Fn(&str) -> bool,
) -> Result<String, Unresolved> {
    if spec.starts_with('/') || spec.starts_with("file:") {
        return Err(Unresolved::Absolute);
    }
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for seg in spec.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let path = parts.join("/");
    if !path.starts_with(&format!("{root}/")) {
        return Err(Unresolved::Outside);
    }
    candidates(&path)
        .into_iter()
        .find(|c| file(c))
        .ok_or(Unresolved::Missing)
}

/// The files Bun tries for `path`, in order.
fn candidates(path: &str) -> Vec<String> {
    let mut out = vec![path.to_string()];
    out.extend(EXTENSIONS.iter().map(|e| format!("{path}{e}")));
    for (js, ts) in [
        (".js", ".ts"),
        (".jsx", ".tsx"),
        (".mjs", ".mts"),
        (".cjs", ".cts"),
    ] {
        if let Some(stem) = path.strip_suffix(js) {
            out.push(format!("{stem}{ts}"));
        }
    }
    out.extend(EXTENSIONS.iter().map(|e| format!("{path}/index{e}")));
    out
}

/// Whether a file of a plugin directory is a module Bun would load.
pub fn is_module(path: &str) -> bool {
    EXTENSIONS[..8].iter().any(|e| path.ends_with(e))
}

/// The index just past the first `end` at or after `from` (or the end of `b`).
fn skip_until(b: &[u8], from: usize, end: &[u8]) -> usize {
    b[from.min(b.len())..]
        .windows(end.len())
        .position(|w| w == end)
        .map_or(b.len(), |p| from + p + end.len())
}

/// The index just past the string literal starting at `start` (its quote), escapes
/// included; a template literal's `${…}` parts are skipped with it.
fn skip_string(b: &[u8], start: usize) -> usize {
    let quote = b[start];
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            x if x == quote => return i + 1,
            b'\n' if quote != b'`' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(source: &str) -> Vec<String> {
        specifiers(source).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn finds_every_form_of_import() {
        let src = "import { a } from \"./a\";\nimport './b.js'\nexport * from '../c'\n\
                   const d = await import(\"./d\");\nconst e = require( './e' );\n\
                   import type { P } from \"@opencode-ai/plugin\";\nimport fs from 'node:fs';\n";
        assert_eq!(
            texts(src),
            ["./a", "./b.js", "../c", "./d", "./e", "node:fs"]
        );
        assert_eq!(specifiers(src)[3].line, 4);
    }

    #[test]
    fn ignores_comments_strings_and_other_words() {
        let src = "import type { T } from './types';\nexport type { U } from \"./types\";\n// import x from './no'\n/* require('./no') */\nconst s = \"import './no'\";\n\
                   const t = `from ${'./no'}`;\nobj.require('./no');\nconst from = 1; f(from, './no');\n";
        assert_eq!(texts(src), Vec::<String>::new());
    }

    #[test]
    fn finds_a_default_export_in_every_form() {
        for src in [
            "export default async () => ({});",
            "const P = 1;\nexport { P as default };",
            "export { default } from './impl';",
            "export {\n  a,\n  b as default,\n};",
        ] {
            assert!(scan(src).default_export, "{src}");
        }
        for src in [
            "export const P = async () => ({});",
            "export { default as P } from './impl';",
            "import def from './x'; export { def };",
            "switch (x) { default: break }",
            "// export default 1\nconst s = 'export default';",
            "export type { default } from './types';",
            "const o = { default: 1 }; export { o };",
        ] {
            assert!(!scan(src).default_export, "{src}");
        }
    }

    #[test]
    fn resolves_like_bun_inside_the_plugin_only() {
        let files = [
            "p/index.ts",
            "p/helper.ts",
            "p/lib/index.js",
            "p/data.json",
            "p/util.ts",
        ];
        let file = |f: &str| files.contains(&f);
        let r = |spec: &str, from: &str| resolve(spec, from, "p", file);
        assert_eq!(r("./helper", "p/index.ts"), Ok("p/helper.ts".into()));
        assert_eq!(r("./helper.js", "p/index.ts"), Ok("p/helper.ts".into()));
        assert_eq!(r("./lib", "p/index.ts"), Ok("p/lib/index.js".into()));
        assert_eq!(r("../util", "p/lib/index.js"), Ok("p/util.ts".into()));
        assert_eq!(r("./data.json", "p/index.ts"), Ok("p/data.json".into()));
        assert_eq!(r("./nope", "p/index.ts"), Err(Unresolved::Missing));
        assert_eq!(r("../other/x", "p/index.ts"), Err(Unresolved::Outside));
        assert_eq!(r("./../p/helper", "p/index.ts"), Ok("p/helper.ts".into()));
        assert_eq!(r("/etc/x.js", "p/index.ts"), Err(Unresolved::Absolute));
        assert_eq!(r("file:///x.js", "p/index.ts"), Err(Unresolved::Absolute));
        assert_eq!(r("..", "p/index.ts"), Err(Unresolved::Outside));
    }

    #[test]
    fn local_specifiers_name_files() {
        for s in ["./a", "../a", ".", "/abs/a.js", "file:///a.js"] {
            assert!(is_local(s), "{s}");
        }
        for s in ["fs", "node:fs", "@opencode-ai/plugin", "zod/v4"] {
            assert!(!is_local(s), "{s}");
        }
    }
}
