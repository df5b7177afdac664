//! `capm search`: find bundles by name, description or keyword in the catalog and the
//! project's registries; with no words, list them all.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use crate::graph::{Candidate, GraphError, Sources};
use crate::manifest::bundle::BundleManifest;
use crate::manifest::common::{ProductMode, Tier};
use crate::manifest::tree::BundleTree;

/// One search result: a bundle's newest version in one source.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Hit {
    pub name: String,
    pub version: String,
    pub source: String,
    pub description: String,
    pub keywords: Vec<String>,
    /// The product modes this version declares, with their tier; a mode not listed is
    /// unsupported.
    pub modes: BTreeMap<ProductMode, Tier>,
}

/// What a search found, and the bundles whose manifests could not be read (their modes are
/// then left empty).
#[derive(Debug, Default)]
pub struct Found {
    pub hits: Vec<Hit>,
    pub warnings: Vec<String>,
}

/// The product modes the manifest of `tree` declares, with their tiers.
fn tree_modes(tree: &BundleTree) -> BTreeMap<ProductMode, Tier> {
    let manifest = crate::validate::check_bundle(tree)
        .manifest
        .unwrap_or_default();
    modes(&manifest)
}

/// The product modes a manifest declares, with their tiers.
pub fn modes(m: &BundleManifest) -> BTreeMap<ProductMode, Tier> {
    m.compatibility
        .iter()
        .flat_map(|c| &c.product_modes)
        .map(|(mode, tier)| (mode.value, tier.value))
        .collect()
}

/// Bundles matching every word of `query` (case-insensitive), best matches first: exact
/// names, then names starting with the query, names containing it, keywords, descriptions.
/// An empty query matches every bundle, by name.
pub fn search(sources: &Sources, query: &str) -> Result<Found, GraphError> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let whole = query.trim().to_lowercase();
    let mut best: BTreeMap<(String, String), (u8, &Candidate)> = BTreeMap::new();
    for c in sources.all()? {
        let name = c.name.to_lowercase();
        let desc = c.description.to_lowercase();
        let keys: Vec<String> = c.keywords.iter().map(|k| k.to_lowercase()).collect();
        let matches = |w: &String| {
            name.contains(w.as_str())
                || desc.contains(w.as_str())
                || keys.iter().any(|k| k.contains(w.as_str()))
        };
        if !words.iter().all(matches) {
            continue;
        }
        let rank = if name == whole {
            0
        } else if name.starts_with(&whole) {
            1
        } else if name.contains(&whole) {
            2
        } else if keys.iter().any(|k| k == &whole) {
            3
        } else {
            4
        };
        let key = (c.name.clone(), c.source.to_string());
        if best
            .get(&key)
            .is_none_or(|(_, old)| c.version > old.version)
        {
            best.insert(key, (rank, c));
        }
    }
    let mut ranked: Vec<(u8, &Candidate)> = best.into_values().collect();
    ranked.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(a.1.name.cmp(&b.1.name))
            .then(a.1.source.cmp(&b.1.source))
    });
    let mut found = Found::default();
    // The manifests the modes are read from, remote ones fetched at the same time.
    let chosen: Vec<&Candidate> = ranked.iter().map(|(_, c)| *c).collect();
    let trees = sources.trees_each(&chosen);
    for (c, tree) in chosen.into_iter().zip(trees) {
        let modes = tree.map(|t| tree_modes(&t)).unwrap_or_else(|e| {
            found.warnings.push(format!(
                "the modes of {} {} are unknown: {e}",
                c.name, c.version
            ));
            BTreeMap::new()
        });
        found.hits.push(Hit {
            name: c.name.clone(),
            version: c.version.to_string(),
            source: c.source.to_string(),
            description: c.description.clone(),
            keywords: c.keywords.clone(),
            modes,
        });
    }
    Ok(found)
}
