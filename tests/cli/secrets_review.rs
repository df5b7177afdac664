//! Secrets under review: linting a bundle with a great many arguments stays linear, and a
//! URL that does not parse is reported without its credentials in every output format.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::rules::write_bundle;
use crate::support::{capm_within, tempdir, tree};

/// A bundle whose one stdio server has `n` arguments, every other one a secret option.
fn many_arguments(n: usize) -> String {
    let args: Vec<String> = (0..n)
        .map(|i| match i % 2 {
            0 => "\"--key=hunter2hunter\"".to_string(),
            _ => "\"-v\"".to_string(),
        })
        .collect();
    format!(
        "[mcp.tool]\ncommand = \"mcp-server\"\nargs = [{}]\n",
        args.join(", ")
    )
}

#[test]
fn secrets_lint_of_fifty_thousand_arguments_ends_quickly() {
    let dir = tempdir();
    let b = dir.path().join("b");
    write_bundle(&b, "many", &many_arguments(50_000), &BTreeMap::new());
    let before = tree(dir.path());
    let run = capm_within(
        &b,
        &["lint", ".", "--format", "json"],
        Duration::from_secs(20),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    let env001 = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "ENV-001")
        .count();
    assert_eq!(env001, 25_000);
    assert_eq!(tree(dir.path()), before, "lint writes nothing");
}

#[test]
fn secrets_never_printed_for_a_url_that_does_not_parse() {
    for (url, secret) in [
        (
            "https://mcp.example.com:99999/mcp?api_key=Zq8Lm3Np7Rt2Vx9Ka4Bc6De1Fg5Hj0Kw",
            "Zq8Lm3Np7Rt2Vx9Ka4Bc6De1Fg5Hj0Kw",
        ),
        (
            "https://admin:S3cr3tPassw0rdXyz@mcp.exa mple.com/mcp",
            "S3cr3tPassw0rdXyz",
        ),
    ] {
        let dir = tempdir();
        let b = dir.path().join("b");
        let fragment = format!("[mcp.remote]\nurl = \"{url}\"\n");
        write_bundle(&b, "remote", &fragment, &BTreeMap::new());
        let before = tree(dir.path());
        for format in ["human", "json", "sarif"] {
            let run = capm_within(
                &b,
                &["lint", ".", "--format", format],
                Duration::from_secs(20),
            );
            assert_eq!(run.code, 1, "{format}: {}", run.stderr);
            let all = run.transcript();
            assert!(
                all.contains("URL-002") || all.contains("invalid-url"),
                "{all}"
            );
            assert!(
                all.contains('…'),
                "{format}: the URL is shown redacted: {all}"
            );
            assert!(!all.contains(secret), "{format} prints the secret: {all}");
        }
        assert_eq!(tree(dir.path()), before, "lint writes nothing");
    }
}
