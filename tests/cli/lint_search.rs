//! `capm lint DIR` searching a directory: which directories count as bundles, which are
//! searched, which are skipped, and the order the bundles are reported in.

use std::path::Path;

use crate::support::{capm, tempdir, tree, write_valid_bundle};

/// The bundle paths a JSON lint report lists, in order.
fn bundle_paths(doc: &serde_json::Value) -> Vec<String> {
    doc["bundles"]
        .as_array()
        .expect("a bundles array")
        .iter()
        .map(|b| b["path"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_search_finds_bundles_at_every_depth_in_path_order() {
    let work = tempdir();
    let root = work.path().join("reg");
    for (dir, name) in [
        ("a/1.0.0", "alpha"),
        ("a-b", "alpha-b"),
        ("nested/deep/x", "deep-x"),
        // A directory named bundle.toml does not make its parent a bundle.
        ("odd/bundle.toml/inner", "inner"),
        (".hidden/y", "hidden"),
        ("target/z", "built"),
        ("node_modules/w", "vendored"),
    ] {
        write_valid_bundle(&root.join(dir), name);
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink(root.join("a-b"), root.join("link")).unwrap();
    let before = tree(work.path());
    let run = capm(work.path(), &["lint", "reg", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(
        bundle_paths(&run.json()),
        [
            "reg/a-b",
            "reg/a/1.0.0",
            "reg/nested/deep/x",
            "reg/odd/bundle.toml/inner"
        ]
    );
    assert_eq!(tree(work.path()), before, "lint wrote nothing");
}

#[cfg(unix)]
#[test]
fn a_bundle_toml_that_links_to_a_file_makes_its_directory_a_bundle() {
    let work = tempdir();
    let root = work.path().join("reg");
    write_valid_bundle(&root.join("real"), "real");
    let linked = root.join("linked");
    std::fs::create_dir_all(&linked).unwrap();
    std::os::unix::fs::symlink(Path::new("../real/bundle.toml"), linked.join("bundle.toml"))
        .unwrap();
    // A link to a directory is no bundle.toml: the search goes on below.
    let dangling = root.join("dir-link");
    write_valid_bundle(&dangling.join("below"), "below");
    std::os::unix::fs::symlink(Path::new("below"), dangling.join("bundle.toml")).unwrap();
    let run = capm(work.path(), &["lint", "reg", "--format", "json"]);
    let doc = run.json();
    assert_eq!(
        bundle_paths(&doc),
        ["reg/dir-link/below", "reg/linked", "reg/real"],
        "{}",
        run.transcript()
    );
    assert_eq!(
        run.code,
        1,
        "the link itself is refused: {}",
        run.transcript()
    );
}
