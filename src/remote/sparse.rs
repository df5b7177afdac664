//! The static registry layout (docs/spec.md §5): `config.json`, one index file per bundle
//! name, one archive per version; read from a directory or over HTTP.
//!
//! ```text
//! ROOT/config.json          {"capm-registry":1,"dl":"archives/{name}/{name}-{version}.tar.gz"}
//! ROOT/index/3/a/abc        one JSON line per published version of `abc` (cargo's paths)
//! ROOT/archives/abc/abc-1.0.0.tar.gz
//! ROOT/search.jsonl         the newest version of every name, for `capm search`
//! ```
//!
//! Nothing here writes a registry: `ops::publish` and `ops::yank` do, with the line and
//! path helpers of this module. Over HTTP, every file goes through the cache with a
//! conditional GET; offline, only the cache answers.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::archive::{self, Format};
use super::cache::Cache;
use super::http::{Got, HttpClient, Validators};
use super::{Dep, Fetch, Net, Release, RemoteError};
use crate::manifest::common::is_valid_name;
use crate::manifest::tree::BundleTree;

/// The registry's description of itself.
pub const CONFIG_FILE: &str = "config.json";
/// The newest version of each name, one index line each.
pub const SEARCH_FILE: &str = "search.jsonl";
/// The directory of the index files.
pub const INDEX_DIR: &str = "index";
/// The layout version this capm reads and writes.
pub const LAYOUT_VERSION: u32 = 1;
/// Where `capm publish` puts archives.
pub const DEFAULT_DL: &str = "archives/{name}/{name}-{version}.tar.gz";

/// `config.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    #[serde(rename = "capm-registry")]
    pub layout: u32,
    /// Where an archive is: `{name}`, `{version}`, `{prefix}` and `{ext}` are filled in;
    /// relative to the registry's root, or an absolute `https://` URL.
    pub dl: String,
    /// The search file, when not `search.jsonl`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            layout: LAYOUT_VERSION,
            dl: DEFAULT_DL.to_string(),
            search: None,
        }
    }
}

impl Config {
    /// Reads `config.json` fetched from `url`.
    pub fn parse(bytes: &[u8], url: &str) -> Result<Config, RemoteError> {
        let bad = |message: String| RemoteError::BadIndex {
            url: url.to_string(),
            line: None,
            message,
        };
        let config: Config = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        if config.layout > LAYOUT_VERSION {
            return Err(bad(format!(
                "layout {} is newer than this capm reads ({LAYOUT_VERSION}); update capm",
                config.layout
            )));
        }
        Ok(config)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("config serialises") + "\n"
    }

    /// The archive of a line, as the `dl` template places it.
    pub fn archive_path(&self, name: &str, version: &str, format: Format) -> String {
        self.dl
            .replace("{name}", name)
            .replace("{version}", version)
            .replace("{prefix}", &prefix(name))
            .replace("{ext}", format.ext())
    }

    fn search_path(&self) -> &str {
        self.search.as_deref().unwrap_or(SEARCH_FILE)
    }
}

/// Cargo's index directory of a name: `1`, `2`, `3/a`, or the first two pairs of letters.
pub fn prefix(name: &str) -> String {
    match name.len() {
        0..=2 => name.len().to_string(),
        3 => format!("3/{}", &name[..1]),
        _ => format!("{}/{}", &name[..2], &name[2..4]),
    }
}

/// The index file of a name below `index/`: `1/a`, `2/ab`, `3/a/abc`, `gi/th/github`.
pub fn index_path(name: &str) -> String {
    format!("{}/{name}", prefix(name))
}

/// One version of a bundle in an index file: one JSON object on one line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexLine {
    /// The line format: a line with a higher one is skipped by this capm.
    pub v: u32,
    pub name: String,
    pub vers: String,
    /// The content digest of the bundle.
    pub sha256: String,
    /// The digest of the archive file.
    pub archive: String,
    /// `tar.gz` or `tar.zst`.
    pub format: String,
    #[serde(default)]
    pub deps: Vec<LineDep>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub yanked: bool,
}

/// A dependency in an index line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineDep {
    pub name: String,
    pub req: String,
    #[serde(default)]
    pub optional: bool,
}

impl IndexLine {
    /// The line as written in an index file, without its newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an index line serialises")
    }

    pub fn version(&self) -> semver::Version {
        semver::Version::parse(&self.vers).expect("checked when read")
    }

    fn format(&self) -> Format {
        Format::from_ext(&self.format).expect("checked when read")
    }

    /// What makes a line unusable, if anything.
    fn check(&self) -> Result<(), String> {
        if !is_valid_name(&self.name) {
            return Err(format!("`{}` is not a bundle name", self.name));
        }
        semver::Version::parse(&self.vers).map_err(|e| format!("vers `{}`: {e}", self.vers))?;
        for (field, digest) in [("sha256", &self.sha256), ("archive", &self.archive)] {
            if !is_digest(digest) {
                return Err(format!(
                    "{field} `{digest}` is not `sha256:` and 64 hex digits"
                ));
            }
        }
        if Format::from_ext(&self.format).is_none() {
            return Err(format!("unknown format `{}`", self.format));
        }
        for d in &self.deps {
            if !is_valid_name(&d.name) {
                return Err(format!("dependency `{}` is not a bundle name", d.name));
            }
            semver::VersionReq::parse(&d.req)
                .map_err(|e| format!("dependency {} `{}`: {e}", d.name, d.req))?;
        }
        Ok(())
    }

    fn release(&self, url: String) -> Release {
        Release {
            name: self.name.clone(),
            version: self.version(),
            digest: self.sha256.clone(),
            deps: self
                .deps
                .iter()
                .map(|d| Dep {
                    name: d.name.clone(),
                    req: d.req.clone(),
                    optional: d.optional,
                })
                .collect(),
            description: self.description.clone(),
            keywords: self.keywords.clone(),
            yanked: self.yanked,
            fetch: Fetch::Archive {
                url,
                digest: self.archive.clone(),
                format: self.format(),
            },
        }
    }
}

fn is_digest(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Reads one line: `Ok(None)` for a line of a newer format (skipped, like cargo).
pub fn parse_line(raw: &str) -> Result<Option<IndexLine>, String> {
    let value: serde_json::Value = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    match value.get("v").and_then(serde_json::Value::as_u64) {
        Some(v) if v > u64::from(LAYOUT_VERSION) => return Ok(None),
        Some(_) => {}
        None => return Err("no `v` (the line format)".into()),
    }
    let line: IndexLine = serde_json::from_value(value).map_err(|e| e.to_string())?;
    line.check()?;
    Ok(Some(line))
}

/// Reads the index file of `name` fetched from `url`: its lines in the order they were
/// published. A malformed line, a line of another name, or a version listed twice is
/// refused with its line number; blank lines and lines of a newer format are skipped.
pub fn parse_index(name: &str, text: &str, url: &str) -> Result<Vec<IndexLine>, RemoteError> {
    let mut lines: Vec<IndexLine> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let bad = |message: String| RemoteError::BadIndex {
            url: url.to_string(),
            line: Some(n + 1),
            message,
        };
        let Some(line) = parse_line(raw).map_err(bad)? else {
            continue;
        };
        if line.name != name {
            return Err(bad(format!(
                "a line of `{}` in the index of `{name}`",
                line.name
            )));
        }
        if lines.iter().any(|l| l.version() == line.version()) {
            return Err(bad(format!("version {} is listed twice", line.vers)));
        }
        lines.push(line);
    }
    Ok(lines)
}

/// Where a registry is.
enum Location {
    /// A directory (absolute).
    Dir(PathBuf),
    /// A URL ending in `/`, and its cache key.
    Url { base: url::Url, key: String },
}

/// A file of the registry as read: its bytes, absent from the registry, or (offline)
/// absent from the cache.
enum Text {
    Body(Vec<u8>),
    Absent,
    NotCached(String),
}

/// A static registry, opened: its location and `config.json`.
pub struct SparseRegistry {
    location: Location,
    config: Config,
    client: Option<HttpClient>,
    /// The releases of each name read so far: an index file is read once per process.
    read: std::sync::Mutex<std::collections::BTreeMap<String, Vec<Release>>>,
}

impl SparseRegistry {
    /// Opens the registry at an `https://` URL (`http://` to this machine), or in a local
    /// directory, by reading its `config.json`.
    pub fn open(location: &str, net: &Net) -> Result<SparseRegistry, RemoteError> {
        let (location, client) =
            if location.starts_with("https://") || location.starts_with("http://") {
                let with_slash = format!("{}/", location.trim_end_matches('/'));
                let base = url::Url::parse(&with_slash).map_err(|e| RemoteError::UrlRefused {
                    rule: "invalid-url",
                    url: location.to_string(),
                    why: e.to_string(),
                })?;
                let key = Cache::key(base.as_str());
                let client = (!net.offline)
                    .then(|| HttpClient::new(&net.http))
                    .transpose()?;
                (Location::Url { base, key }, client)
            } else {
                let dir = std::path::absolute(location).map_err(|source| RemoteError::Io {
                    path: PathBuf::from(location),
                    source,
                })?;
                (Location::Dir(dir), None)
            };
        let mut registry = SparseRegistry {
            location,
            config: Config::default(),
            client,
            read: Default::default(),
        };
        let url = registry.url_of(CONFIG_FILE);
        registry.config = match registry.read(CONFIG_FILE, net)? {
            Text::Body(bytes) => Config::parse(&bytes, &url)?,
            Text::Absent => {
                return Err(RemoteError::BadIndex {
                    url,
                    line: None,
                    message: "not found: this is not a capm registry".into(),
                });
            }
            Text::NotCached(what) => {
                return Err(RemoteError::Offline {
                    missing: vec![what],
                });
            }
        };
        Ok(registry)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The releases of each name, newest first (yanked ones included); a name the
    /// registry does not have gets none. The index files not read yet are fetched in
    /// parallel.
    pub fn releases(
        &self,
        names: &[String],
        net: &Net,
    ) -> Result<Vec<(String, Vec<Release>)>, RemoteError> {
        let mut todo: Vec<String> = {
            let read = self.read.lock().expect("no reader panics holding it");
            names
                .iter()
                .filter(|n| !read.contains_key(*n))
                .cloned()
                .collect()
        };
        todo.sort();
        todo.dedup();
        let results = in_parallel(&todo, |name| self.releases_of(name, net));
        let mut missing = Vec::new();
        let mut read = self.read.lock().expect("no reader panics holding it");
        for (name, got) in todo.into_iter().zip(results) {
            match got? {
                Ok(releases) => {
                    read.insert(name, releases);
                }
                Err(what) => missing.push(format!("the index of {name} ({what})")),
            }
        }
        if !missing.is_empty() {
            return Err(RemoteError::Offline { missing });
        }
        Ok(names.iter().map(|n| (n.clone(), read[n].clone())).collect())
    }

    /// One name's releases, or (offline) what the cache lacks.
    fn releases_of(
        &self,
        name: &str,
        net: &Net,
    ) -> Result<Result<Vec<Release>, String>, RemoteError> {
        if !is_valid_name(name) {
            return Ok(Ok(Vec::new()));
        }
        let rel = format!("{INDEX_DIR}/{}", index_path(name));
        let text = match self.read(&rel, net)? {
            Text::Body(b) => b,
            Text::Absent => return Ok(Ok(Vec::new())),
            Text::NotCached(what) => return Ok(Err(what)),
        };
        let url = self.url_of(&rel);
        let text = String::from_utf8(text).map_err(|_| RemoteError::BadIndex {
            url: url.clone(),
            line: None,
            message: "not UTF-8".into(),
        })?;
        let mut lines = parse_index(name, &text, &url)?;
        lines.sort_by_key(|l| std::cmp::Reverse(l.version()));
        Ok(Ok(self.to_releases(&lines)))
    }

    /// The newest release of every name, from the search file (none without one).
    pub fn list(&self, net: &Net) -> Result<Vec<Release>, RemoteError> {
        let rel = self.config.search_path().to_string();
        let url = self.url_of(&rel);
        let text = match self.read(&rel, net)? {
            Text::Body(b) => String::from_utf8_lossy(&b).into_owned(),
            Text::Absent => return Ok(Vec::new()),
            Text::NotCached(what) => {
                return Err(RemoteError::Offline {
                    missing: vec![what],
                });
            }
        };
        let mut lines = Vec::new();
        for (n, raw) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let bad = |message| RemoteError::BadIndex {
                url: url.clone(),
                line: Some(n + 1),
                message,
            };
            lines.extend(parse_line(raw).map_err(bad)?);
        }
        Ok(self.to_releases(&lines))
    }

    fn to_releases(&self, lines: &[IndexLine]) -> Vec<Release> {
        lines
            .iter()
            .map(|l| {
                let rel = self.config.archive_path(&l.name, &l.vers, l.format());
                l.release(self.url_of(&rel))
            })
            .collect()
    }

    /// The absolute URL of a path relative to the root (`file://` for a directory); an
    /// absolute URL is kept as it is.
    fn url_of(&self, rel: &str) -> String {
        if rel.starts_with("https://") || rel.starts_with("http://") {
            return rel.to_string();
        }
        match &self.location {
            Location::Dir(dir) => url::Url::from_file_path(dir.join(rel))
                .map_or_else(|()| dir.join(rel).display().to_string(), String::from),
            Location::Url { base, .. } => base
                .join(rel)
                .map_or_else(|_| format!("{base}{rel}"), String::from),
        }
    }

    /// Reads a file of the registry: from the directory, or through the cache.
    fn read(&self, rel: &str, net: &Net) -> Result<Text, RemoteError> {
        match &self.location {
            Location::Dir(dir) => {
                let path = dir.join(rel);
                match std::fs::read(&path) {
                    Ok(b) => Ok(Text::Body(b)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Text::Absent),
                    Err(source) => Err(RemoteError::Io { path, source }),
                }
            }
            Location::Url { key, .. } => self.read_http(key, rel, net),
        }
    }

    fn read_http(&self, key: &str, rel: &str, net: &Net) -> Result<Text, RemoteError> {
        let url = self.url_of(rel);
        let cached = net.cache.file("index", key, rel)?;
        let Some(client) = self.client.as_ref().filter(|_| !net.offline) else {
            return Ok(match cached {
                Some((body, _)) => Text::Body(body),
                None => Text::NotCached(url),
            });
        };
        // Revalidated earlier in this operation: the server is not asked again.
        match (net.cache.checked("index", key, rel), cached) {
            (Some(false), _) => Ok(Text::Absent),
            (Some(true), Some((body, _))) => Ok(Text::Body(body)),
            (_, cached) => {
                let got = self.revalidate(client, &url, cached, (key, rel), net)?;
                net.cache
                    .mark_checked("index", key, rel, !matches!(got, Text::Absent));
                Ok(got)
            }
        }
    }

    /// Asks the server for `url`, conditionally when the cache holds it, and caches a
    /// new body.
    fn revalidate(
        &self,
        client: &HttpClient,
        url: &str,
        cached: Option<(Vec<u8>, Validators)>,
        (key, rel): (&str, &str),
        net: &Net,
    ) -> Result<Text, RemoteError> {
        let answer = super::revalidate(client, url, cached.as_ref().map(|(_, v)| v))?;
        match answer {
            Got::Fresh { body, validators } => {
                net.cache.put_file("index", key, rel, &body, &validators)?;
                Ok(Text::Body(body))
            }
            Got::NotModified => match cached {
                Some((body, _)) => Ok(Text::Body(body)),
                None => Err(RemoteError::Network {
                    url: url.to_string(),
                    message: "answered 304 to an unconditional request".into(),
                }),
            },
            Got::Missing => Ok(Text::Absent),
        }
    }
}

/// Runs `f` on every item, up to 16 at a time (fetches wait on the network, not on a
/// core), and returns the results in the order of the items.
pub fn in_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    if items.len() <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..items.len().min(16) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    results.lock().expect("no worker panics holding it")[i] = Some(r);
                }
            });
        }
    });
    results
        .into_inner()
        .expect("no worker panicked")
        .into_iter()
        .map(|r| r.expect("every item was run"))
        .collect()
}

/// The bytes of the archive at `url` (`https://`, loopback `http://` or `file://`), which
/// must have `digest`: from the cache when it holds them, else fetched, checked and stored.
pub fn download(url: &str, digest: &str, net: &Net) -> Result<Vec<u8>, RemoteError> {
    // A directory registry is read where it is: the cache holds only what was fetched.
    if let Some(path) = file_url_path(url) {
        let bytes = std::fs::read(&path).map_err(|source| RemoteError::Io { path, source })?;
        check_archive(url, digest, &bytes)?;
        return Ok(bytes);
    }
    if let Some(bytes) = net.cache.blob(digest)? {
        return Ok(bytes);
    }
    if net.offline {
        return Err(RemoteError::Offline {
            missing: vec![format!("archive {digest} ({url})")],
        });
    }
    let bytes = HttpClient::shared(&net.http)?.get_verified(url, digest)?;
    net.cache.put_blob(digest, &bytes)?;
    Ok(bytes)
}

/// An archive's bytes have the digest the index records.
fn check_archive(url: &str, digest: &str, bytes: &[u8]) -> Result<(), RemoteError> {
    super::cache::check_digest(format!("the archive {url}"), digest, bytes)
}

fn file_url_path(url: &str) -> Option<PathBuf> {
    url.starts_with("file:")
        .then(|| url::Url::parse(url).ok()?.to_file_path().ok())
        .flatten()
}

/// The files of a release pinned by its archive (`url`, `digest`, `format`): downloaded
/// (or from the cache), unpacked, and checked to have the content digest `content`.
pub fn materialize(
    url: &str,
    digest: &str,
    format: Format,
    content: &str,
    display: &str,
    net: &Net,
) -> Result<BundleTree, RemoteError> {
    let bytes = download(url, digest, net)?;
    let tree = archive::unpack(&bytes, format, display)?;
    super::check_content(tree, content, display)
}

/// Whether `dir` holds a registry of this layout.
pub fn is_sparse(dir: &Path) -> bool {
    dir.join(CONFIG_FILE).is_file()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::cache::sha256;

    const D: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

    fn line(name: &str, vers: &str) -> String {
        IndexLine {
            v: 1,
            name: name.into(),
            vers: vers.into(),
            sha256: D.into(),
            archive: D.into(),
            format: "tar.gz".into(),
            deps: vec![LineDep {
                name: "base".into(),
                req: "^1".into(),
                optional: false,
            }],
            description: "d".into(),
            keywords: vec!["k".into()],
            yanked: false,
        }
        .to_json()
    }

    #[test]
    fn index_paths_follow_cargo() {
        assert_eq!(index_path("a"), "1/a");
        assert_eq!(index_path("ab"), "2/ab");
        assert_eq!(index_path("abc"), "3/a/abc");
        assert_eq!(index_path("github"), "gi/th/github");
        assert_eq!(index_path("go-x"), "go/-x/go-x");
        let config = Config::default();
        assert_eq!(
            config.archive_path("kit", "1.2.0", Format::TarGz),
            "archives/kit/kit-1.2.0.tar.gz"
        );
        let cdn = Config {
            dl: "https://cdn.example/{prefix}/{name}/{version}.{ext}".into(),
            ..Config::default()
        };
        assert_eq!(
            cdn.archive_path("github", "1.0.0", Format::TarZst),
            "https://cdn.example/gi/th/github/1.0.0.tar.zst"
        );
    }

    #[test]
    fn config_json_is_as_documented_and_newer_layouts_are_refused() {
        assert_eq!(
            Config::default().to_json(),
            "{\"capm-registry\":1,\"dl\":\"archives/{name}/{name}-{version}.tar.gz\"}\n"
        );
        let newer = Config::parse(br#"{"capm-registry":2,"dl":"x"}"#, "u/config.json");
        assert!(
            matches!(&newer, Err(RemoteError::BadIndex { message, .. }) if message.contains("newer")),
            "{newer:?}"
        );
        let unknown = br#"{"capm-registry":1,"dl":"x","extra":true}"#;
        assert_eq!(Config::parse(unknown, "u").unwrap().dl, "x");
    }

    #[test]
    fn a_line_has_the_documented_fields() {
        let v: serde_json::Value = serde_json::from_str(&line("kit", "1.2.0")).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "v",
                "name",
                "vers",
                "sha256",
                "archive",
                "format",
                "deps",
                "description",
                "keywords",
                "yanked"
            ]
        );
    }

    #[test]
    fn lines_are_read_in_order_skipping_newer_formats_and_blanks() {
        let future = r#"{"v":2,"name":"kit","something":"new"}"#;
        let text = format!(
            "{}\n\n{future}\n{}\n",
            line("kit", "1.0.0"),
            line("kit", "0.9.0")
        );
        let lines = parse_index("kit", &text, "u").unwrap();
        let versions: Vec<&str> = lines.iter().map(|l| l.vers.as_str()).collect();
        assert_eq!(versions, ["1.0.0", "0.9.0"]);
    }

    fn index_error(text: &str) -> (Option<usize>, String) {
        match parse_index("kit", text, "https://r/index/3/k/kit") {
            Err(RemoteError::BadIndex { line, message, url }) => {
                assert_eq!(url, "https://r/index/3/k/kit");
                (line, message)
            }
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn bad_lines_are_refused_with_their_number() {
        let good = line("kit", "1.0.0");
        let (n, m) = index_error(&format!("{good}\n{{not json"));
        assert_eq!(n, Some(2), "{m}");
        let (n, m) = index_error(&format!("{good}\n{}", line("other", "1.0.0")));
        assert_eq!(n, Some(2));
        assert!(m.contains("a line of `other`"), "{m}");
        let (_, m) = index_error(&format!("{good}\n{good}"));
        assert!(m.contains("listed twice"), "{m}");
        let (_, m) = index_error(&good.replace("1.0.0", "one"));
        assert!(m.contains("vers `one`"), "{m}");
        let (_, m) = index_error(&good.replace("tar.gz", "zip"));
        assert!(m.contains("unknown format"), "{m}");
        let (_, m) = index_error(&good.replace(D, "sha256:xyz"));
        assert!(m.contains("64 hex"), "{m}");
        let (_, m) = index_error(&good.replace("^1", "not a req"));
        assert!(m.contains("dependency base"), "{m}");
        let (_, m) = index_error(&good.replace("\"v\":1,", ""));
        assert!(m.contains("no `v`"), "{m}");
    }

    #[test]
    fn a_directory_registry_gives_file_urls_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join(CONFIG_FILE), Config::default().to_json()).unwrap();
        std::fs::create_dir_all(root.join("index/3/k")).unwrap();
        let text = format!("{}\n{}\n", line("kit", "1.0.0"), line("kit", "1.10.0"));
        std::fs::write(root.join("index/3/k/kit"), text).unwrap();
        let net = Net::new(root.join("cache"));
        let reg = SparseRegistry::open(root.to_str().unwrap(), &net).unwrap();
        let names = ["kit".to_string(), "none".to_string(), "../x".to_string()];
        let got = reg.releases(&names, &net).unwrap();
        let kit = &got[0].1;
        assert_eq!(kit[0].version.to_string(), "1.10.0");
        let Fetch::Archive { url, .. } = &kit[1].fetch else {
            panic!()
        };
        assert!(url.starts_with("file:///") && url.ends_with("/archives/kit/kit-1.0.0.tar.gz"));
        assert!(got[1].1.is_empty() && got[2].1.is_empty());
    }

    #[test]
    fn a_directory_without_config_is_not_a_registry() {
        let dir = tempfile::tempdir().unwrap();
        let net = Net::new(dir.path().join("cache"));
        let got = SparseRegistry::open(dir.path().to_str().unwrap(), &net);
        assert!(matches!(got, Err(RemoteError::BadIndex { .. })));
    }

    #[test]
    fn offline_only_the_cache_answers_and_each_missing_name_is_listed() {
        let dir = tempfile::tempdir().unwrap();
        let mut net = Net::new(dir.path().to_path_buf());
        net.offline = true;
        let url = "https://reg.example/capm";
        let key = Cache::key("https://reg.example/capm/");
        let v = Default::default();
        let config = Config::default().to_json();
        net.cache
            .put_file("index", &key, CONFIG_FILE, config.as_bytes(), &v)
            .unwrap();
        let kit = format!("{}\n", line("kit", "1.0.0"));
        net.cache
            .put_file("index", &key, "index/3/k/kit", kit.as_bytes(), &v)
            .unwrap();
        let reg = SparseRegistry::open(url, &net).unwrap();
        let got = reg.releases(&["kit".to_string()], &net).unwrap();
        let Fetch::Archive { url, .. } = &got[0].1[0].fetch else {
            panic!()
        };
        assert_eq!(
            url,
            "https://reg.example/capm/archives/kit/kit-1.0.0.tar.gz"
        );
        let names = ["kit".to_string(), "aa".to_string(), "bb".to_string()];
        match reg.releases(&names, &net) {
            Err(RemoteError::Offline { missing }) => {
                assert_eq!(missing.len(), 2, "{missing:?}");
                assert!(missing[0].contains("aa") && missing[0].contains("/index/2/aa"));
            }
            other => panic!("{other:?}"),
        }
        let archive = download("https://reg.example/a.tar.gz", D, &net);
        assert!(matches!(archive, Err(RemoteError::Offline { .. })));
    }

    #[test]
    fn materialize_checks_the_archive_then_the_content() {
        let dir = tempfile::tempdir().unwrap();
        let tree = BundleTree::from_files("kit", [("bundle.toml", &b"x"[..])]);
        let bytes = archive::pack(&tree);
        let path = dir.path().join("kit.tar.gz");
        std::fs::write(&path, &bytes).unwrap();
        let url = url::Url::from_file_path(&path).unwrap().to_string();
        let net = Net::new(dir.path().join("cache"));
        let digest = sha256(&bytes);
        let content = tree.content_digest();
        let wrong = materialize(&url, D, Format::TarGz, &content, "kit", &net);
        assert!(
            matches!(wrong, Err(RemoteError::Digest { .. })),
            "{wrong:?}"
        );
        let wrong = materialize(&url, &digest, Format::TarGz, D, "kit", &net);
        assert!(
            matches!(wrong, Err(RemoteError::Digest { .. })),
            "{wrong:?}"
        );
        let got = materialize(&url, &digest, Format::TarGz, &content, "kit", &net).unwrap();
        assert_eq!(got.content_digest(), content);
        // A directory registry is read where it is, never copied into the cache.
        assert!(!dir.path().join("cache").exists());
    }
}
