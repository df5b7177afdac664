//! The checking layers depend on each other in one direction (ARCHITECTURE.md): `diagnostic`
//! at the bottom, then `manifest`, then `security`, then `validate`. A module of a lower layer
//! that names a higher one fails here.

use std::path::Path;

use crate::support::repo;

const LAYERS: &[&str] = &["diagnostic", "manifest", "security", "validate"];

/// Every `crate::NAME` a source file refers to, including `use crate::{a, b::c}` lists.
fn crate_modules(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(list) = rest.strip_prefix('{') {
            let end = list.find('}').unwrap_or(list.len());
            for item in list[..end].split(',') {
                out.push(item.trim().split("::").next().unwrap_or("").to_string());
            }
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            out.push(rest[..end].to_string());
        }
    }
    out
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
    let found =
        crate_modules("use crate::{security::Level, manifest};\nlet x = crate::validate::f();");
    assert_eq!(found, ["security", "manifest", "validate"]);
}
