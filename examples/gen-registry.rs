//! Generates a synthetic directory registry for tests and benchmarks:
//!
//! ```sh
//! cargo run --release --example gen-registry -- OUT_DIR --bundles 10000 [--seed 7] [--project 50] [--sparse]
//! ```
//!
//! See `capm::synthetic` for what the registry holds. With `--sparse`, the registry is
//! written in the static layout (config.json, index files, archives, search.jsonl) that
//! can be served over HTTP as it is; otherwise as `index.toml` and unpacked directories. With `--project N`, a
//! `project/capm.toml` asking for N of the bundles from the registry is written too.

use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut out = None;
    let (mut bundles, mut seed, mut project) = (1000usize, 7u64, 0usize);
    let mut sparse = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--sparse" {
            sparse = true;
            continue;
        }
        let mut value = || {
            it.next()
                .and_then(|v| v.parse::<u64>().ok())
                .expect("a number")
        };
        match a.as_str() {
            "--bundles" => bundles = value() as usize,
            "--seed" => seed = value(),
            "--project" => project = value() as usize,
            other => out = Some(PathBuf::from(other)),
        }
    }
    let out =
        out.expect("usage: gen-registry OUT_DIR [--bundles N] [--seed S] [--project N] [--sparse]");
    let reg = capm::synthetic::registry(bundles, seed);
    if sparse {
        capm::synthetic::write_sparse(&reg, &out).expect("write the registry");
    } else {
        for (rel, content) in &reg.files {
            let path = out.join(rel);
            std::fs::create_dir_all(path.parent().expect("files are in directories"))
                .expect("create directory");
            std::fs::write(path, content).expect("write file");
        }
        std::fs::write(out.join("index.toml"), reg.index.to_toml_string())
            .expect("write index.toml");
    }
    if project > 0 {
        std::fs::create_dir_all(out.join("project")).expect("create project directory");
        let text = capm::synthetic::project(bundles, project, seed, "..");
        std::fs::write(out.join("project/capm.toml"), text).expect("write capm.toml");
    }
    eprintln!(
        "wrote {} versions of {bundles} bundles to {}",
        reg.index.bundles.len(),
        out.display()
    );
}
