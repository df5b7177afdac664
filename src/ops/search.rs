//! `capm search`: find bundles by name, description or keyword in the catalog and the
//! project's registries.

use schemars::JsonSchema;
use serde::Serialize;

use crate::graph::Sources;

/// One search result: a bundle's newest version in one source.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Hit {
    pub name: String,
    pub version: String,
    pub source: String,
    pub description: String,
    pub keywords: Vec<String>,
}

/// Bundles matching every word of `query` (case-insensitive), best matches first: exact
/// names, then names starting with the query, names containing it, keywords, descriptions.
pub fn search(sources: &Sources, query: &str) -> Result<Vec<Hit>, crate::graph::GraphError> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let whole = query.trim().to_lowercase();
    let mut best: std::collections::BTreeMap<(String, String), (u8, Hit)> =
        std::collections::BTreeMap::new();
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
        let newer = best
            .get(&key)
            .is_none_or(|(_, h)| semver::Version::parse(&h.version).is_ok_and(|v| c.version > v));
        if newer {
            best.insert(
                key,
                (
                    rank,
                    Hit {
                        name: c.name.clone(),
                        version: c.version.to_string(),
                        source: c.source.to_string(),
                        description: c.description.clone(),
                        keywords: c.keywords.clone(),
                    },
                ),
            );
        }
    }
    let mut hits: Vec<(u8, Hit)> = best.into_values().collect();
    hits.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(a.1.name.cmp(&b.1.name))
            .then(a.1.source.cmp(&b.1.source))
    });
    Ok(hits.into_iter().map(|(_, h)| h).collect())
}
