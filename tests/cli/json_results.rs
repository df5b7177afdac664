//! `--format json` of the commands that create or record something — `init`, `lock`, `new`
//! and `publish`: one document each, valid against its schema, and on a refusal the
//! `capm.error/v1` document with nothing written.

use crate::json_outputs::Schemas;
use crate::support::{capm, tempdir, tree, write_files};

#[test]
fn init_and_lock_print_their_documents() {
    let mut s = Schemas::default();
    let dir = tempdir();
    let d = dir.path();
    let init = s.check(
        d,
        &["init", "--product-mode", "cloud-web", "--format", "json"],
        0,
        "init.schema.json",
    );
    assert_eq!(init["manifest"], "capm.toml");
    assert_eq!(init["product_mode"], "cloud-web");
    assert!(d.join("capm.toml").is_file());

    let first = s.check(
        d,
        &["lock", "--format", "json"],
        0,
        "lock-result.schema.json",
    );
    assert_eq!(first["written"], true);
    assert_eq!(first["changes"], serde_json::json!(["create capm.lock"]));
    assert_eq!(first["lockfile"], "capm.lock");
    assert!(d.join("capm.lock").is_file());

    let again = s.check(
        d,
        &["lock", "--format", "json"],
        0,
        "lock-result.schema.json",
    );
    assert_eq!(again["written"], false);
    assert_eq!(again["changes"], serde_json::json!([]));
}

#[test]
fn new_and_publish_print_their_documents() {
    let mut s = Schemas::default();
    let dir = tempdir();
    let d = dir.path();
    let new = s.check(d, &["new", "kit", "--format", "json"], 0, "new.schema.json");
    assert_eq!(new["name"], "kit");
    assert_eq!(new["path"], "kit");
    for f in new["files"].as_array().unwrap() {
        assert!(d.join("kit").join(f.as_str().unwrap()).is_file(), "{f}");
    }
    let args = ["publish", "kit", "--registry", "reg", "--format", "json"];
    let first = s.check(d, &args, 0, "publish.schema.json");
    assert_eq!(first["outcome"], "published");
    assert_eq!(first["version"], "0.1.0");
    assert!(first["digest"].as_str().unwrap().starts_with("sha256:"));
    assert!(d.join("reg/archives/kit/kit-0.1.0.tar.gz").is_file());
    let again = s.check(d, &args, 0, "publish.schema.json");
    assert_eq!(again["outcome"], "unchanged");
    assert!(again.get("digest").is_none());
}

/// Each refusal prints `capm.error/v1` on stdout and the message on stderr, and writes
/// nothing.
#[test]
fn refusals_print_the_error_document_and_write_nothing() {
    let mut s = Schemas::default();
    let dir = tempdir();
    let d = dir.path();
    write_files(
        d,
        &[
            ("capm.toml", "[project]\n\n[bundles]\ngithub = \"^1\"\n"),
            (
                "bad/bundle.toml",
                "[bundle]\nname = \"bad\"\nversion = \"one\"\n",
            ),
        ],
    );
    let cases: [(&[&str], i32, &str); 4] = [
        (&["init", "--format", "json"], 2, "already exists"),
        (&["lock", "--locked", "--format", "json"], 1, "lock-stale"),
        (
            &["new", "Bad Name", "--format", "json"],
            2,
            "not a valid bundle name",
        ),
        (
            &["publish", "bad", "--registry", "reg", "--format", "json"],
            1,
            "invalid-bundle",
        ),
    ];
    for (args, code, says) in cases {
        let before = tree(d);
        let doc = s.check(d, args, code, "error.schema.json");
        assert_eq!(doc["exit"], code);
        let text = doc.to_string();
        assert!(text.contains(says), "capm {args:?}: {text}");
        assert_eq!(tree(d), before, "capm {args:?} wrote something");
        let run = capm(d, args);
        assert!(
            run.stderr.contains("error"),
            "capm {args:?}: {}",
            run.stderr
        );
    }
}
