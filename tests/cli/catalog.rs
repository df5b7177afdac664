//! The built-in catalog: it lints clean with warnings denied, from the source tree and as
//! embedded in the binary, and every bundle validates against `schemas/bundle.schema.json`.

use crate::support::{capm, repo, tempdir};

#[test]
fn the_catalog_lints_clean_from_the_source_tree() {
    let run = capm(
        &repo(),
        &["lint", "bundles", "--deny-warnings", "--format", "json"],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let doc = run.json();
    // Only notes are allowed: PERM-001, the permissions a user will review.
    assert_eq!(doc["summary"]["errors"], 0, "{}", run.stdout);
    assert_eq!(doc["summary"]["warnings"], 0, "{}", run.stdout);
    for d in doc["diagnostics"].as_array().unwrap() {
        assert_eq!(d["code"], "PERM-001", "{d}");
    }
    assert!(doc["bundles"].as_array().unwrap().len() >= 12);
}

#[test]
fn the_embedded_catalog_lints_clean_anywhere() {
    let dir = tempdir();
    let run = capm(dir.path(), &["lint", "--catalog", "--deny-warnings"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let on_disk = std::fs::read_dir(repo().join("bundles")).unwrap().count();
    let summary = format!("Checked {on_disk} bundles: ");
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains(&summary))
        .unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(line.ends_with(" notes"), "{line}");
}

#[test]
fn every_catalog_bundle_matches_the_bundle_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("schemas/bundle.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema is valid");
    let mut checked = 0;
    for entry in std::fs::read_dir(repo().join("bundles")).unwrap() {
        let path = entry.unwrap().path().join("bundle.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let value: toml::Value = toml::from_str(&text).unwrap();
        let json = serde_json::to_value(value).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        checked += 1;
    }
    assert!(checked >= 12);
}

#[test]
fn the_schema_rejects_what_lint_rejects() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("schemas/bundle.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let bad: toml::Value = toml::from_str(
        "[bundle]\nname = \"Bad Name\"\nversion = \"1.0.0\"\n\n[compatibility.product-modes]\nmoon = \"supported\"\n\n[plugins.p]\nnpm = \"x@1.0.0\"\n",
    )
    .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&serde_json::to_value(bad).unwrap())
        .map(|e| e.instance_path().to_string())
        .collect();
    for path in [
        "/bundle",
        "/bundle/name",
        "/compatibility/product-modes",
        "/plugins/p",
    ] {
        assert!(
            errors.iter().any(|e| e == path),
            "no error at {path}: {errors:?}"
        );
    }
}
