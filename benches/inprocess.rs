//! In-process benchmarks of capm's library, run on demand (never by the test suite):
//!
//! ```sh
//! cargo bench --bench inprocess
//! ```
//!
//! Each measures one stage a command goes through: parsing and validating a manifest, the
//! security rules, resolving a project against a synthetic registry, and computing a plan.
//! `bench/run.py` times the same work as whole processes.

use std::path::Path;

use capm::graph::Sources;
use capm::manifest::tree::BundleTree;

fn main() {
    divan::main();
}

/// A catalog bundle with a server, a skill and permissions.
fn github() -> BundleTree {
    capm::catalog::bundles()
        .into_iter()
        .find(|t| t.display_root == "catalog/github")
        .expect("the catalog has github")
}

/// Decoding `bundle.toml` into spanned types, without any check.
#[divan::bench]
fn parse_manifest(bencher: divan::Bencher) {
    let tree = github();
    let text = String::from_utf8(tree.file("bundle.toml").unwrap().to_vec()).unwrap();
    bencher.bench(|| {
        let source = capm::manifest::span::SourceFile::new("bundle.toml", text.clone());
        let root = capm::manifest::decode::parse(&source).expect("parses");
        let mut dec = capm::manifest::decode::Decoder::new(&source);
        divan::black_box(capm::manifest::bundle::BundleManifest::decode(
            &mut dec, &root,
        ))
    });
}

/// Layers 1 and 2 of validation, security rules included, for one bundle.
#[divan::bench]
fn validate_bundle(bencher: divan::Bencher) {
    let tree = github();
    bencher.bench(|| divan::black_box(capm::validate::check_bundle(&tree)));
}

/// The security rules alone, over every catalog bundle.
#[divan::bench]
fn security_rules_catalog(bencher: divan::Bencher) {
    let bundles: Vec<(BundleTree, capm::manifest::bundle::BundleManifest)> =
        capm::catalog::bundles()
            .into_iter()
            .map(|t| {
                let m = capm::validate::check_bundle(&t).manifest.unwrap();
                (t, m)
            })
            .collect();
    bencher.bench(|| {
        for (t, m) in &bundles {
            let modes = capm::security::declared_modes(m);
            divan::black_box(capm::security::check_bundle(m, t, &modes));
        }
    });
}

/// Resolution of a 50-bundle project against a synthetic registry on disk: reading the
/// index, choosing versions, reading and checking the chosen bundles, building the graph.
#[divan::bench(args = [1000, 10000], sample_count = 20)]
fn resolve(bencher: divan::Bencher, registry: usize) {
    let dir = tempfile::tempdir().unwrap();
    let reg = capm::synthetic::registry(registry, 7);
    for (rel, content) in &reg.files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    std::fs::write(dir.path().join("index.toml"), reg.index.to_toml_string()).unwrap();
    let project_dir = dir.path().join("project");
    std::fs::create_dir_all(&project_dir).unwrap();
    std::fs::write(
        project_dir.join("capm.toml"),
        capm::synthetic::project(registry, 50, 7, ".."),
    )
    .unwrap();
    let project = capm::ops::project::load(&project_dir).unwrap();
    let requests = capm::graph::requests(&project.manifest).unwrap();
    bencher.bench(|| {
        let sources = Sources::load(Some(&project.manifest), &project_dir).unwrap();
        divan::black_box(capm::graph::build(&sources, &requests, None).unwrap())
    });
}

/// A whole plan for `capm add code-review` in an empty project (the desktop call, warm).
#[divan::bench]
fn plan_catalog_bundle(bencher: divan::Bencher) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("capm.toml"), "[bundles]\n").unwrap();
    let project = capm::ops::project::load(dir.path()).unwrap();
    let request = capm::ops::plan::PlanRequest {
        operation: capm::plan::model::Operation::Install,
        bundles: vec!["code-review".into()],
        latest: false,
        purge: false,
        skip: Default::default(),
        keep: Default::default(),
        restore: Default::default(),
        inputs: Default::default(),
        registry: None,
        git_ref: None,
        skills: Vec::new(),
        global_config: Path::new("/nonexistent").to_path_buf(),
        homes: capm::target::Homes::default(),
    };
    bencher.bench(|| divan::black_box(capm::ops::plan::plan(&project, &request).unwrap()));
}
