//! The module specifiers a path plugin's source names: `import … from "x"`, `import "x"`,
//! `export … from "x"`, `import("x")` and `require("x")`, found by a small JavaScript /
//! TypeScript scanner that skips comments, strings and template literals, and type-only
//! imports (`import type`), which TypeScript erases. capm installs a
//! path plugin as its one file, so a specifier that names a file beside it (`./x`, `../x`,
//! `/x`, `file:`) would not resolve once installed: OpenCode then skips the plugin without a
//! word (docs/spec.md §6.1).

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

/// Every module specifier of `source`, in order.
pub fn specifiers(source: &str) -> Vec<Specifier> {
    let b = source.as_bytes();
    let mut out = Vec::new();
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
            prev_word = word;
        } else {
            // Whitespace and an opening parenthesis keep the keyword pending.
            pending &= c.is_ascii_whitespace() || c == b'(';
            i += 1;
        }
    }
    out
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
    fn local_specifiers_name_files() {
        for s in ["./a", "../a", ".", "/abs/a.js", "file:///a.js"] {
            assert!(is_local(s), "{s}");
        }
        for s in ["fs", "node:fs", "@opencode-ai/plugin", "zod/v4"] {
            assert!(!is_local(s), "{s}");
        }
    }
}
