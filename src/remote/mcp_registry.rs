//! MCP Registries (the REST API v0.1 of `https://registry.modelcontextprotocol.io` and its
//! sub-registries) as registries: every server is a bundle named after its `name`
//! (`io.github.acme/weather` → `io-github-acme-weather`), every version its `server.json`
//! read by `formats::server_json`.
//!
//! A bundle name is found again by searching for its most telling words and keeping the
//! server whose name makes it. A release pins the document itself (the `server` object as capm
//! writes it, by its sha256), so capm.lock installs the same document until updated.
//! Deleted versions are skipped; deprecated ones are yanked. Every answer goes through the
//! cache with a conditional GET; offline, only the cache answers.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::cache::{Cache, check_digest, sha256, slug};
use super::http::{Got, HttpClient, check_registry_url};
use super::{Fetch, Net, Release, RemoteError, Source};
use crate::formats::{Options, bundle_name, server_json};
use crate::manifest::tree::BundleTree;

/// The most pages of a list or search capm reads.
const MAX_PAGES: usize = 20;
/// The key of the registry's own metadata in a listed server's `_meta`.
const OFFICIAL: &str = "io.modelcontextprotocol.registry/official";

/// An MCP Registry: its base URL and the releases read so far.
pub struct McpRegistry {
    base: String,
    key: String,
    client: Option<HttpClient>,
    read: Mutex<BTreeMap<String, Vec<Release>>>,
}

impl McpRegistry {
    /// Opens the registry at `location` (`https://`, or `http://` to this machine); no
    /// request is made until it is asked.
    pub fn open(location: &str, net: &Net) -> Result<McpRegistry, RemoteError> {
        check_registry_url(location)?;
        let base = location.trim_end_matches('/').to_string();
        let client = (!net.offline)
            .then(|| HttpClient::new(&net.http))
            .transpose()?;
        Ok(McpRegistry {
            key: Cache::key(&base),
            base,
            client,
            read: Mutex::default(),
        })
    }

    /// `rel` below the base, as JSON: through the cache, `None` when the registry has no
    /// such thing.
    fn get(&self, rel: &str, net: &Net) -> Result<Option<serde_json::Value>, RemoteError> {
        let url = format!("{}/{rel}", self.base);
        let Some(body) = self.fetch(&url, &slug(rel), net)? else {
            return Ok(None);
        };
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| RemoteError::BadIndex {
                url,
                line: None,
                message: e.to_string(),
            })
    }

    fn fetch(&self, url: &str, rel: &str, net: &Net) -> Result<Option<Vec<u8>>, RemoteError> {
        let cached = net.cache.file("mcp-registry", &self.key, rel)?;
        let Some(client) = self.client.as_ref().filter(|_| !net.offline) else {
            return match cached {
                Some((body, _)) => Ok(Some(body)),
                None => Err(RemoteError::Offline {
                    missing: vec![url.to_string()],
                }),
            };
        };
        let answer = super::revalidate(client, url, cached.as_ref().map(|(_, v)| v))?;
        match answer {
            Got::Fresh { body, validators } => {
                net.cache
                    .put_file("mcp-registry", &self.key, rel, &body, &validators)?;
                Ok(Some(body))
            }
            Got::NotModified => Ok(cached.map(|(body, _)| body)),
            Got::Missing => Ok(None),
        }
    }

    /// The `servers` of every page of `query` (`search=…`, `version=latest`).
    fn pages(&self, query: &str, net: &Net) -> Result<Vec<serde_json::Value>, RemoteError> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut rel = format!("v0.1/servers?{query}&limit=100");
            if let Some(c) = &cursor {
                rel.push_str(&format!("&cursor={}", encode(c)));
            }
            let Some(page) = self.get(&rel, net)? else {
                break;
            };
            out.extend(page["servers"].as_array().cloned().unwrap_or_default());
            cursor = page["metadata"]["nextCursor"]
                .as_str()
                .filter(|c| !c.is_empty())
                .map(str::to_string);
            if cursor.is_none() {
                break;
            }
        }
        Ok(out)
    }

    /// The registry's name of the server whose name makes bundle name `name`: searched by
    /// the most telling words of `name`, longest first, until one finds it.
    fn server_named(&self, name: &str, net: &Net) -> Result<Option<String>, RemoteError> {
        for word in search_words(name) {
            let found = self.pages(&format!("search={}&version=latest", encode(word)), net)?;
            let server = found.iter().find_map(|s| {
                let n = s["server"]["name"].as_str()?;
                (bundle_name(n).as_deref() == Some(name)).then(|| n.to_string())
            });
            if server.is_some() {
                return Ok(server);
            }
        }
        Ok(None)
    }

    /// The releases of the server whose name makes bundle name `name`.
    fn releases_of(&self, name: &str, net: &Net) -> Result<Vec<Release>, RemoteError> {
        let Some(server) = self.server_named(name, net)? else {
            return Ok(Vec::new());
        };
        let rel = format!("v0.1/servers/{}/versions", encode(&server));
        let listed = self.get(&rel, net)?.unwrap_or_default();
        let mut releases = Vec::new();
        for entry in listed["servers"].as_array().into_iter().flatten() {
            releases.extend(self.release(entry, net)?);
        }
        releases.sort_by(|a, b| b.version.cmp(&a.version));
        Ok(releases)
    }

    /// One listed version as a release (none when deleted or not a semantic version); its
    /// document is kept in the cache so that it installs offline.
    fn release(
        &self,
        entry: &serde_json::Value,
        net: &Net,
    ) -> Result<Option<Release>, RemoteError> {
        let status = entry["_meta"][OFFICIAL]["status"]
            .as_str()
            .unwrap_or("active");
        let server = &entry["server"];
        let version = server["version"]
            .as_str()
            .and_then(|v| semver::Version::parse(v).ok());
        let (Some(name), Some(version)) = (server["name"].as_str(), version) else {
            return Ok(None);
        };
        if status == "deleted" {
            return Ok(None);
        }
        let doc = document(server);
        let digest = sha256(&doc);
        net.cache.put_blob(&digest, &doc)?;
        let tree = translate(&doc, name);
        let url = format!(
            "{}/v0.1/servers/{}/versions/{}",
            self.base,
            encode(name),
            encode(&version.to_string())
        );
        Ok(Some(Release {
            name: bundle_name(name).unwrap_or_else(|| name.to_string()),
            version,
            digest: tree.content_digest(),
            deps: Vec::new(),
            description: server["description"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            keywords: Vec::new(),
            yanked: status == "deprecated",
            fetch: Fetch::ServerJson { url, digest },
        }))
    }
}

impl Source for McpRegistry {
    fn releases(
        &self,
        names: &[String],
        net: &Net,
    ) -> Result<Vec<(String, Vec<Release>)>, RemoteError> {
        let mut out = Vec::new();
        for name in names {
            let known = self
                .read
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(name)
                .cloned();
            let releases = match known {
                Some(r) => r,
                None => self.releases_of(name, net)?,
            };
            self.read
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(name.clone(), releases.clone());
            out.push((name.clone(), releases));
        }
        Ok(out)
    }

    /// The newest version of every server (at most [`MAX_PAGES`] pages).
    fn list(&self, net: &Net) -> Result<Vec<Release>, RemoteError> {
        let mut out = Vec::new();
        for entry in self.pages("version=latest", net)? {
            out.extend(self.release(&entry, net)?);
        }
        Ok(out)
    }
}

/// The words of a bundle name worth searching for, longest first, at most three: not the
/// namespace words most names share (`io`, `github`, `mcp`, …).
fn search_words(name: &str) -> Vec<&str> {
    const COMMON: &[&str] = &["io", "com", "org", "net", "dev", "github", "mcp", "server"];
    let mut words: Vec<&str> = name.split('-').filter(|w| !COMMON.contains(w)).collect();
    words.sort_by_key(|w| std::cmp::Reverse(w.len()));
    words.dedup();
    words.truncate(3);
    if words.is_empty() {
        words.push(name.rsplit('-').next().unwrap_or(name));
    }
    words
}

/// The document a release pins: the `server` object, as capm writes it.
fn document(server: &serde_json::Value) -> Vec<u8> {
    let mut text = serde_json::to_string_pretty(server).expect("JSON serialises");
    text.push('\n');
    text.into_bytes()
}

/// A document as a bundle's tree.
fn translate(doc: &[u8], name: &str) -> BundleTree {
    let raw = BundleTree::from_files(name, [("server.json", doc)]);
    server_json::translate(raw, &Options::default())
}

/// `text` as one percent-encoded URL path segment or query value.
fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// The files of a release pinned by its document: from the cache, else fetched (unless
/// offline); the document must have `digest` (SC-002 otherwise), and its translation the
/// content digest `content`.
pub fn materialize(
    url: &str,
    digest: &str,
    content: &str,
    display: &str,
    net: &Net,
) -> Result<BundleTree, RemoteError> {
    let doc = match net.cache.blob(digest)? {
        Some(doc) => doc,
        None if net.offline => {
            return Err(RemoteError::Offline {
                missing: vec![format!("server.json {digest} ({url})")],
            });
        }
        None => {
            let Got::Fresh { body, .. } = HttpClient::shared(&net.http)?.get(url, None)? else {
                return Err(RemoteError::Http {
                    url: url.to_string(),
                    status: 404,
                });
            };
            let body: serde_json::Value =
                serde_json::from_slice(&body).map_err(|e| RemoteError::BadIndex {
                    url: url.to_string(),
                    line: None,
                    message: e.to_string(),
                })?;
            let doc = document(&body["server"]);
            check_digest(
                format!("the server.json of {display} ({url})"),
                digest,
                &doc,
            )?;
            net.cache.put_blob(digest, &doc)?;
            doc
        }
    };
    let tree = translate(&doc, display);
    super::check_content(tree, content, display)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_bundle_name_is_searched_by_its_telling_words() {
        assert_eq!(
            super::search_words("io-github-acme-weather"),
            ["weather", "acme"]
        );
        assert_eq!(super::search_words("com-example-mcp-server"), ["example"]);
        assert_eq!(super::search_words("io-github-mcp"), ["mcp"]);
    }
}
