//! Synthetic registries for tests and benchmarks: valid bundles with realistic dependency
//! fan-out, produced as in-memory files (the caller writes them; see
//! `examples/gen-registry.rs`).
//!
//! Every bundle lints clean and ships a skill and, for a third of them, a remote MCP server.
//! Each name has one to three versions; dependencies point only at earlier names (so there
//! are no cycles) with a fan-out of zero to four, mostly on a handful of popular "base"
//! bundles, and the dependents of a bundle agree on its major version, as they mostly do in
//! real ecosystems.

use crate::graph::index::{IndexDependency, IndexEntry, RegistryIndex};
use crate::manifest::tree::BundleTree;

/// A small deterministic generator (xorshift64*), so the same seed gives the same registry.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const VERSIONS: [&str; 3] = ["1.0.0", "1.1.0", "2.0.0"];

/// The name of synthetic bundle `i`.
pub fn name(i: usize) -> String {
    format!("synthetic-{i:05}")
}

/// A generated registry: every file (path relative to the registry root, content) and the
/// index that lists them.
pub struct Registry {
    pub files: Vec<(String, String)>,
    pub index: RegistryIndex,
}

/// Generates a registry of `bundles` names.
pub fn registry(bundles: usize, seed: u64) -> Registry {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut index = RegistryIndex::new();
    let mut files = Vec::new();
    let mut versions_of = Vec::with_capacity(bundles);
    let popular = (bundles / 50).max(1);
    for i in 0..bundles {
        let count = 1 + rng.below(3) as usize;
        versions_of.push(count);
        for v in &VERSIONS[..count] {
            let mut deps: Vec<IndexDependency> = Vec::new();
            if i > 0 {
                for _ in 0..rng.below(5) {
                    // Most dependencies go to a few popular bundles.
                    let target = if rng.below(3) > 0 {
                        rng.below(popular.min(i) as u64) as usize
                    } else {
                        rng.below(i as u64) as usize
                    };
                    if deps.iter().any(|d| d.name == name(target)) {
                        continue;
                    }
                    let major = if versions_of[target] == 3 && target % 2 == 0 {
                        2
                    } else {
                        1
                    };
                    deps.push(IndexDependency {
                        name: name(target),
                        req: format!("^{major}"),
                        optional: rng.below(10) == 0,
                    });
                }
            }
            let tree = bundle_files(&name(i), v, &deps, i % 3 == 0);
            let digest =
                BundleTree::from_files("", tree.iter().map(|(p, c)| (p.as_str(), c.as_bytes())))
                    .content_digest();
            files.extend(
                tree.into_iter()
                    .map(|(p, c)| (format!("{}/{v}/{p}", name(i)), c)),
            );
            index.bundles.push(IndexEntry {
                name: name(i),
                version: v.to_string(),
                sha256: digest,
                description: format!("Synthetic bundle {i} for tests and benchmarks"),
                keywords: vec!["synthetic".into()],
                dependencies: deps,
            });
        }
    }
    Registry { files, index }
}

fn bundle_files(
    name: &str,
    version: &str,
    deps: &[IndexDependency],
    server: bool,
) -> Vec<(String, String)> {
    let mut manifest = format!(
        "[bundle]\nname = \"{name}\"\nversion = \"{version}\"\ndescription = \"Synthetic bundle {name} for tests and benchmarks\"\nkeywords = [\"synthetic\"]\n\n\
         [compatibility.product-modes]\ndesktop-local = \"supported\"\n"
    );
    if !deps.is_empty() {
        manifest.push_str("\n[dependencies]\n");
        for d in deps {
            if d.optional {
                manifest.push_str(&format!(
                    "{} = {{ version = \"{}\", optional = true }}\n",
                    d.name, d.req
                ));
            } else {
                manifest.push_str(&format!("{} = \"{}\"\n", d.name, d.req));
            }
        }
    }
    if server {
        manifest.push_str(&format!(
            "\n[mcp.{name}]\nurl = \"https://{name}.example.com/mcp\"\n"
        ));
    }
    manifest.push_str(&format!("\n[skills.{name}]\npath = \"skills/{name}\"\n"));
    let skill = format!(
        "---\nname: {name}\ndescription: Use {name} when a synthetic task needs it\n---\n\n# {name}\n\nFollow the steps.\n"
    );
    vec![
        ("bundle.toml".into(), manifest),
        (format!("skills/{name}/SKILL.md"), skill),
    ]
}

/// Writes `reg` into `out` in the static registry layout (config.json, index files,
/// archives, search.jsonl), packing archives in parallel; returns the number of archives.
pub fn write_sparse(reg: &Registry, out: &std::path::Path) -> std::io::Result<usize> {
    use crate::remote::sparse::{self, CONFIG_FILE, Config, INDEX_DIR, SEARCH_FILE};
    use rayon::prelude::*;
    use std::collections::BTreeMap;
    let mut trees: BTreeMap<&str, Vec<(&str, &[u8])>> = BTreeMap::new();
    for (rel, content) in &reg.files {
        let cut = rel.match_indices('/').nth(1).map_or(0, |(i, _)| i);
        trees
            .entry(&rel[..cut])
            .or_default()
            .push((&rel[cut + 1..], content.as_bytes()));
    }
    let mut by_name: BTreeMap<&str, Vec<&IndexEntry>> = BTreeMap::new();
    for e in &reg.index.bundles {
        by_name.entry(e.name.as_str()).or_default().push(e);
    }
    let config = Config::default();
    let write = |rel: &str, bytes: &[u8]| -> std::io::Result<()> {
        let path = out.join(rel);
        std::fs::create_dir_all(path.parent().expect("registry files are in directories"))?;
        std::fs::write(path, bytes)
    };
    let newest: Vec<String> = by_name
        .par_iter()
        .map(|(name, entries)| {
            let mut text = String::new();
            for e in entries {
                let files = &trees[format!("{name}/{}", e.version).as_str()];
                let bytes = crate::remote::archive::pack(&BundleTree::from_files(
                    "",
                    files.iter().copied(),
                ));
                let format = crate::remote::archive::Format::TarGz;
                write(&config.archive_path(name, &e.version, format), &bytes)?;
                let line =
                    crate::ops::publish_sparse::line_for(e, crate::remote::cache::sha256(&bytes));
                text.push_str(&line.to_json());
                text.push('\n');
            }
            write(
                &format!("{INDEX_DIR}/{}", sparse::index_path(name)),
                text.as_bytes(),
            )?;
            Ok(text.lines().last().unwrap_or_default().to_string() + "\n")
        })
        .collect::<std::io::Result<_>>()?;
    write(SEARCH_FILE, newest.concat().as_bytes())?;
    write(CONFIG_FILE, config.to_json().as_bytes())?;
    Ok(reg.index.bundles.len())
}

/// A capm.toml asking for `count` of the registry's bundles (mostly recent ones, which
/// have the deepest dependency trees), with the registry at `registry_path`.
pub fn project(bundles: usize, count: usize, seed: u64, registry_path: &str) -> String {
    let mut rng = Rng(seed ^ 0xD1B5_4A32_D192_ED03);
    let mut text = format!(
        "[project]\nproduct-mode = \"desktop-local\"\n\n[registries]\nsynthetic = {{ path = \"{registry_path}\" }}\n\n[bundles]\n"
    );
    let mut chosen = std::collections::BTreeSet::new();
    while chosen.len() < count.min(bundles) {
        chosen.insert(bundles - 1 - rng.below((bundles / 2).max(1) as u64) as usize);
    }
    for i in chosen {
        text.push_str(&format!(
            "{} = {{ version = \"*\", registry = \"synthetic\" }}\n",
            name(i)
        ));
    }
    text
}
