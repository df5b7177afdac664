//! The checking layers depend on each other in one direction (ARCHITECTURE.md): `diagnostic`
//! at the bottom, then `manifest`, then `security`, then `validate`. A module of a lower layer
//! that names a higher one fails here.

use std::path::Path;

use crate::support::repo;

const LAYERS: &[&str] = &["diagnostic", "manifest", "security", "validate"];

/// Every `crate::NAME` a source file refers to, including `use crate::{a, b::{c, d}}`
/// lists, whose top-level items are found by counting braces.
fn crate_modules(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(list) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            for c in list.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push(first_segment(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            out.push(first_segment(&item));
        } else {
            out.push(first_segment(rest));
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

fn first_segment(path: &str) -> String {
    let path = path.trim_start();
    let end = path
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(path.len());
    path[..end].to_string()
}

/// `super::super::…` paths that climb out of a layer's directory: a file `depth` modules
/// below `src/LAYER` may go up `depth` levels (to the layer's own module) and no further;
/// its inline `mod tests` one level more.
fn climbs_out(text: &str, depth: usize) -> bool {
    let (code, tests) = text.split_at(text.find("mod tests {").unwrap_or(text.len()));
    code.contains(&"super::".repeat(depth + 1)) || tests.contains(&"super::".repeat(depth + 2))
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn lower_layers_never_name_higher_ones() {
    let mut offences = Vec::new();
    for (level, layer) in LAYERS.iter().enumerate() {
        let mut files = Vec::new();
        rust_files(&repo().join("src").join(layer), &mut files);
        assert!(!files.is_empty(), "src/{layer} has no source files");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let rel = file.strip_prefix(repo().join("src").join(layer)).unwrap();
            // `mod.rs` is the layer's module itself; a file beside it is one level below.
            let depth = rel.components().count() - usize::from(rel.ends_with("mod.rs"));
            if climbs_out(&text, depth) {
                offences.push(format!(
                    "{} climbs out of src/{layer} with super::",
                    file.display()
                ));
            }
            for m in crate_modules(&text) {
                if LAYERS[level + 1..].contains(&m.as_str()) {
                    offences.push(format!("{} names crate::{m}", file.display()));
                }
            }
        }
    }
    assert!(offences.is_empty(), "{}", offences.join("\n"));
}

#[test]
fn the_reference_finder_sees_both_spellings() {
    let found = crate_modules(
        "use crate::{security::{Level, Sink}, manifest};\nlet x = crate::validate::f();",
    );
    assert_eq!(found, ["security", "manifest", "validate"]);
    assert!(climbs_out("use super::super::x;", 1));
    assert!(!climbs_out("use super::super::x;", 2));
    assert!(!climbs_out("mod tests {\n use super::super::x;", 1));
}
