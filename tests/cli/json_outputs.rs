//! Every command's `--format json`: stdout holds exactly one JSON document and nothing
//! else, the document names its schema in a `schema` field, and it validates against the
//! matching file under `schemas/`, whose `schema` const is that same name.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::support::{Run, capm, repo, tempdir, write_files, write_valid_bundle};

/// The checked-in schemas, each compiled once, with the `schema` value it requires.
#[derive(Default)]
pub(crate) struct Schemas(BTreeMap<String, (String, jsonschema::Validator)>);

impl Schemas {
    fn get(&mut self, file: &str) -> &(String, jsonschema::Validator) {
        self.0.entry(file.to_string()).or_insert_with(|| {
            let path = repo().join("schemas").join(file);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let schema: Value = serde_json::from_str(&text).unwrap();
            let id = schema["properties"]["schema"]["const"]
                .as_str()
                .unwrap_or_else(|| panic!("{file} has no const for its `schema` field"))
                .to_string();
            let validator = jsonschema::validator_for(&schema)
                .unwrap_or_else(|e| panic!("{file} is not a valid schema: {e}"));
            (id, validator)
        })
    }

    /// Runs `capm ARGS` in `dir`, checks it, and returns its one document, which must
    /// validate against `schemas/FILE`.
    pub(crate) fn check(&mut self, dir: &Path, args: &[&str], code: i32, file: &str) -> Value {
        let run = capm(dir, args);
        let cmd = format!("capm {}", args.join(" "));
        assert_eq!(
            run.code, code,
            "`{cmd}` exit code\n--- stdout\n{}--- stderr\n{}",
            run.stdout, run.stderr
        );
        let mut docs = documents(&cmd, &run);
        assert_eq!(
            docs.len(),
            1,
            "`{cmd}`: stdout holds {} JSON documents:\n{}",
            docs.len(),
            run.stdout
        );
        let doc = docs.remove(0);
        self.validate(&cmd, &doc, file);
        doc
    }

    /// `doc` has a string `schema` field, equal to the const of `schemas/FILE`, and
    /// validates against that schema.
    fn validate(&mut self, cmd: &str, doc: &Value, file: &str) {
        let Some(schema) = doc["schema"].as_str() else {
            panic!("`{cmd}`: no string `schema` field:\n{doc:#}");
        };
        let (id, validator) = self.get(file);
        assert_eq!(schema, id, "`{cmd}`: the schema field against {file}");
        let errors: Vec<String> = validator
            .iter_errors(doc)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "`{cmd}` does not match {file}: {errors:#?}\n{doc:#}"
        );
    }
}

/// The JSON documents on stdout; anything else there fails the test.
fn documents(cmd: &str, run: &Run) -> Vec<Value> {
    serde_json::Deserializer::from_str(&run.stdout)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("`{cmd}`: stdout is not only JSON ({e}):\n{}", run.stdout))
}

/// A directory holding project `p`, made by `capm init p`, with code-review added.
fn installed() -> tempfile::TempDir {
    let dir = tempdir();
    let d = dir.path();
    std::fs::create_dir(d.join("p")).unwrap();
    let run = capm(d, &["init", "p"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = capm(d, &in_p(&["add", "code-review", "-y"]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    dir
}

/// `["--project", "p", ARGS…]`.
fn in_p<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--project", "p"];
    v.extend_from_slice(args);
    v
}

#[test]
fn lint_and_explain() {
    let mut s = Schemas::default();
    let dir = tempdir();
    let d = dir.path();
    write_valid_bundle(&d.join("good"), "good");
    write_files(
        &d.join("bad"),
        &[(
            "bundle.toml",
            "[bundle]\nname = \"bad\"\nversion = \"one\"\n",
        )],
    );
    let clean = s.check(
        d,
        &["lint", "good", "--format", "json"],
        0,
        "diagnostics.schema.json",
    );
    assert_eq!(clean["summary"]["errors"], 0);
    let bad = s.check(
        d,
        &["lint", "bad", "--format", "json"],
        1,
        "diagnostics.schema.json",
    );
    assert_ne!(bad["summary"]["errors"], 0);
    s.check(
        &repo(),
        &["lint", "bundles", "--format", "json"],
        0,
        "diagnostics.schema.json",
    );

    // A validation code, a rule with a severity, and a design rule without one.
    for code in ["invalid-semver", "PLUGIN-001", "TRUST-001"] {
        let doc = s.check(
            d,
            &["explain", code, "--format", "json"],
            0,
            "explain.schema.json",
        );
        assert_eq!(doc["code"], code);
    }
    let list = s.check(
        d,
        &["explain", "--list", "--format", "json"],
        0,
        "explain-list.schema.json",
    );
    assert!(list["codes"].as_array().unwrap().len() > 50);
}

#[test]
fn tree_why_graph_and_search() {
    let mut s = Schemas::default();
    let dir = installed();
    let d = dir.path();
    let tree = s.check(
        d,
        &in_p(&["tree", "--format", "json"]),
        0,
        "tree.schema.json",
    );
    assert_eq!(tree["dependencies"][0]["name"], "code-review");
    let list = s.check(
        d,
        &in_p(&["list", "--format", "json"]),
        0,
        "list.schema.json",
    );
    assert_eq!(list["bundles"][0]["name"], "code-review");
    assert_eq!(list["bundles"][0]["requested"], true);
    assert_eq!(list["bundles"][1]["name"], "github");
    assert_eq!(list["bundles"][1]["requested"], false);
    let tree = s.check(
        d,
        &in_p(&["tree", "--resources", "--format", "json"]),
        0,
        "tree.schema.json",
    );
    assert!(
        !tree["dependencies"][0]["resources"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    for target in ["github", "mcp:github"] {
        let why = s.check(
            d,
            &in_p(&["why", target, "--format", "json"]),
            0,
            "why.schema.json",
        );
        assert_eq!(why["chains"].as_array().unwrap().len(), 1, "{why}");
    }
    let graph = s.check(
        d,
        &in_p(&["graph", "--format", "json"]),
        0,
        "graph.schema.json",
    );
    let kinds: Vec<&str> = graph["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    for kind in ["project", "bundle", "resource"] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }
    let hits = s.check(
        d,
        &in_p(&["search", "review", "--format", "json"]),
        0,
        "search.schema.json",
    );
    assert_eq!(hits["results"][0]["name"], "code-review");
    let none = s.check(
        d,
        &in_p(&["search", "no-such-bundle-anywhere", "--format", "json"]),
        0,
        "search.schema.json",
    );
    assert_eq!(none["results"], serde_json::json!([]));
    // Outside any project only the catalog is searched.
    let outside = tempdir();
    s.check(
        outside.path(),
        &["search", "git", "--format", "json"],
        0,
        "search.schema.json",
    );
}

#[test]
fn plan_apply_and_doctor() {
    let mut s = Schemas::default();
    let dir = installed();
    let d = dir.path();
    for args in [
        &["plan", "install", "--format", "json"][..],
        &["plan", "install", "memory", "--format", "json"],
        &["plan", "update", "--format", "json"],
        &["plan", "uninstall", "code-review", "--format", "json"],
    ] {
        s.check(d, &in_p(args), 0, "plan.schema.json");
    }

    // (arguments, exit code, outcome), in order: each may change the project.
    let steps: &[(&[&str], i32, &str)] = &[
        (&["install", "--dry-run"], 0, "noop"),
        (&["install", "-y"], 0, "noop"),
        (&["add", "memory", "--dry-run"], 0, "dry-run"),
        (&["add", "memory"], 1, "declined"),
        (&["add", "memory", "-y"], 0, "applied"),
        (&["update", "--dry-run"], 0, "noop"),
        (&["update", "-y"], 0, "noop"),
        (&["remove", "memory", "--dry-run"], 0, "dry-run"),
        (&["remove", "memory", "-y"], 0, "applied"),
    ];
    for (args, code, outcome) in steps {
        let mut args = in_p(args);
        args.extend(["--format", "json"]);
        let doc = s.check(d, &args, *code, "apply.schema.json");
        assert_eq!(doc["outcome"], *outcome, "capm {}", args.join(" "));
    }

    let saved = s.check(
        d,
        &in_p(&[
            "plan",
            "install",
            "time",
            "--format",
            "json",
            "--out",
            "time.json",
        ]),
        0,
        "plan.schema.json",
    );
    let doc = s.check(
        d,
        &in_p(&["apply", "--plan", "time.json", "-y", "--format", "json"]),
        0,
        "apply.schema.json",
    );
    assert_eq!(doc["outcome"], "applied");
    assert_eq!(doc["plan"]["fingerprint"], saved["fingerprint"]);

    let doctor = s.check(
        d,
        &in_p(&["doctor", "--format", "json"]),
        0,
        "doctor.schema.json",
    );
    assert_eq!(doctor["healthy"], true, "{doctor}");
}

/// A refusal puts at most one document on stdout, never anything else, and a document
/// there validates against the schema it names (`capm.NAME/v1` in `schemas/NAME.schema.json`).
#[test]
fn refusals_print_at_most_one_document() {
    let mut s = Schemas::default();
    let dir = installed();
    let d = dir.path();
    let nowhere = tempdir();
    let runs: [(&Path, Vec<&str>, i32); 3] = [
        (d, in_p(&["why", "mcp:nothing", "--format", "json"]), 1),
        (d, vec!["explain", "no-such-code", "--format", "json"], 1),
        (nowhere.path(), vec!["tree", "--format", "json"], 2),
    ];
    for (dir, args, code) in runs {
        let run = capm(dir, &args);
        let cmd = format!("capm {}", args.join(" "));
        assert_eq!(run.code, code, "`{cmd}`: {}", run.stderr);
        assert!(!run.stderr.is_empty(), "`{cmd}` said nothing on stderr");
        let docs = documents(&cmd, &run);
        assert!(docs.len() <= 1, "`{cmd}`: {}", run.stdout);
        if let Some(doc) = docs.first() {
            let name = doc["schema"]
                .as_str()
                .and_then(|id| id.strip_prefix("capm."))
                .and_then(|id| id.strip_suffix("/v1"))
                .unwrap_or_else(|| panic!("`{cmd}`: no capm.NAME/v1 `schema` field:\n{doc:#}"));
            s.validate(&cmd, doc, &format!("{name}.schema.json"));
        }
    }
}
