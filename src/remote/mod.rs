//! Bundles that live elsewhere: static (sparse) registries served over HTTP or read from a
//! directory, git repositories, and OCI registries, all through one content-addressed cache.
//!
//! This module knows nothing of resolution or plans: it answers "which releases of these
//! names does this source have" ([`Release`]) and "give me the files of this pinned
//! release" ([`Fetch`] → [`BundleTree`]), verifying every byte against a digest before
//! anything is unpacked. `graph::source` turns releases into candidates.
//!
//! Layout: `archive.rs` packs and unpacks a bundle as a deterministic `.tar.gz`;
//! `cache.rs` is the cache under `$XDG_CACHE_HOME/capm`; `http.rs` the HTTP transport;
//! `sparse.rs` the registry layout (docs/spec.md §5); `git.rs` git sources through the `git`
//! command; `oci.rs` OCI registries.

pub mod archive;
pub mod cache;
pub mod git;
pub mod http;
pub mod marketplace;
pub mod mcp_registry;
pub mod oci;
pub mod sparse;

use std::path::PathBuf;
use std::time::Duration;

pub use cache::Cache;

/// How capm reaches the network, read once from the environment by the CLI.
#[derive(Clone, Debug)]
pub struct Net {
    pub cache: Cache,
    /// `--offline` (or `--frozen`): only the cache answers; nothing is fetched.
    pub offline: bool,
    /// `--locked` (or `--frozen`): of a name capm.lock records, only the locked version's
    /// dependencies are asked for, so that nothing the lock does not name is fetched.
    pub locked: bool,
    pub http: HttpSettings,
}

/// HTTP settings: `CAPM_HTTP_TIMEOUT` (seconds), `CAPM_HTTP_RETRIES`, `SSL_CERT_FILE`.
/// Proxies come from `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` and `NO_PROXY`.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    pub timeout: Duration,
    pub retries: u32,
    pub ca_file: Option<PathBuf>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            timeout: Duration::from_secs(30),
            retries: 2,
            ca_file: None,
        }
    }
}

impl Net {
    /// A `Net` over the cache at `root`, online, with default HTTP settings.
    pub fn new(root: PathBuf) -> Net {
        Net {
            cache: Cache::new(root),
            offline: false,
            locked: false,
            http: HttpSettings::default(),
        }
    }
}

/// The `Net` every remote source of this process uses, set by the front end from its
/// environment and flags (`--offline`). Until it is set, nothing is fetched: sources answer
/// from no cache at all, as if offline.
static NET: std::sync::RwLock<Option<Net>> = std::sync::RwLock::new(None);

/// Sets the process's `Net`.
pub fn set_net(net: Net) {
    *NET.write().unwrap_or_else(|e| e.into_inner()) = Some(net);
}

/// From now on, this process fetches nothing (`--frozen`).
pub fn go_offline() {
    let mut net = net();
    net.offline = true;
    set_net(net);
}

/// What remote sources want the user told that is no failure (an index file used from the
/// cache because its server could not be reached); the front end prints and clears them.
static NOTICES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Adds a notice, once.
pub fn notice(message: String) {
    let mut all = NOTICES.lock().unwrap_or_else(|e| e.into_inner());
    if !all.contains(&message) {
        all.push(message);
    }
}

/// The notices so far, cleared.
pub fn take_notices() -> Vec<String> {
    std::mem::take(&mut *NOTICES.lock().unwrap_or_else(|e| e.into_inner()))
}

/// From now on, this process fetches only what capm.lock names (`--locked`).
pub fn fetch_only_locked() {
    let mut net = net();
    net.locked = true;
    set_net(net);
}

/// Starts a new operation (a request of `capm serve`): index files are revalidated again
/// (see [`Cache::once_per_operation`]).
pub fn new_operation() {
    let mut net = net();
    net.cache = net.cache.once_per_operation();
    set_net(net);
}

/// The process's `Net` (see [`set_net`]).
pub fn net() -> Net {
    let net = NET.read().unwrap_or_else(|e| e.into_inner()).clone();
    net.unwrap_or_else(|| Net {
        offline: true,
        ..Net::new(PathBuf::new())
    })
}

/// GET `url`, conditionally on the validators of the copy the cache holds (`cached`);
/// when the server cannot be reached, that copy answers (`NotModified`, with a notice), as
/// npm does.
pub fn revalidate(
    client: &http::HttpClient,
    url: &str,
    cached: Option<&http::Validators>,
) -> Result<http::Got, RemoteError> {
    match client.get(url, cached) {
        Err(e @ (RemoteError::Network { .. } | RemoteError::Timeout { .. }))
            if cached.is_some() =>
        {
            notice(format!(
                "{e}; using the copy in the cache, which may be out of date"
            ));
            Ok(http::Got::NotModified)
        }
        other => other,
    }
}

/// `tree` when its content digest is `content`, the digest capm.lock or the source
/// records (SC-002 otherwise); `display` names the bundle.
pub fn check_content(
    tree: crate::manifest::tree::BundleTree,
    content: &str,
    display: &str,
) -> Result<crate::manifest::tree::BundleTree, RemoteError> {
    let actual = tree.content_digest();
    if actual != content {
        return Err(RemoteError::Digest {
            what: format!("the content of {display}"),
            expected: content.to_string(),
            actual,
        });
    }
    Ok(tree)
}

/// A remote source: a registry answers for any name, a git or OCI source for the one bundle
/// capm.toml binds to it.
pub trait Source: Send + Sync {
    /// The releases of each of `names` (an empty list for a name the source lacks), newest
    /// first, yanked ones included and flagged.
    fn releases(
        &self,
        names: &[String],
        net: &Net,
    ) -> Result<Vec<(String, Vec<Release>)>, RemoteError>;

    /// Every bundle the source lists, each at its newest version, for `capm search`; a
    /// source that cannot list (a git repository answers for its one bundle) lists none.
    fn list(&self, net: &Net) -> Result<Vec<Release>, RemoteError> {
        let _ = net;
        Ok(Vec::new())
    }
}

/// `url` as it may be shown: the user and password of an `http(s)://` URL replaced by
/// `***` (a token is often written as the user: `https://ghp_…@github.com/…`), the
/// password of any other.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            if matches!(u.scheme(), "http" | "https") {
                let _ = u.set_password(None);
                let _ = u.set_username("***");
            } else if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// `url` as a progress report shows it: without its user information, query and fragment;
/// text that is not a URL (an scp-like git address) as `redact_url_text` shows it.
pub fn shown_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => crate::security::redact_url_text(url),
    }
}

/// Counts a fetch of `url` in the current operation's progress.
pub(crate) fn fetched(url: &str) {
    if crate::operation::armed() {
        crate::operation::fetched(shown_url(url));
    }
}

/// A dependency as a release lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dep {
    pub name: String,
    /// A semver requirement (`^1.2`).
    pub req: String,
    pub optional: bool,
}

/// One version of a bundle a remote source offers, with what resolution needs to know
/// without its files, and how to get them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    pub name: String,
    pub version: semver::Version,
    /// The bundle's content digest (`manifest::tree::BundleTree::content_digest`).
    pub digest: String,
    pub deps: Vec<Dep>,
    pub description: String,
    pub keywords: Vec<String>,
    pub yanked: bool,
    pub fetch: Fetch,
}

/// How to get a release's files: exactly what capm.lock pins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fetch {
    /// An archive at a URL (`https://…`, or a `file://` URL of a directory registry),
    /// whose bytes have `digest`.
    Archive {
        url: String,
        digest: String,
        format: archive::Format,
    },
    /// A commit of a git repository, and the bundle's directory in it (`None`: the root),
    /// read as `options` say when it is not a native bundle.
    Git {
        url: String,
        commit: String,
        subdir: Option<String>,
        options: crate::formats::Options,
    },
    /// An MCP Registry's `server.json` of one version, at `url`, whose document (as
    /// `mcp_registry` writes it) has `digest`.
    ServerJson { url: String, digest: String },
    /// An OCI manifest (`sha256:…`) in a repository (`ghcr.io/org/kit`), and its one layer.
    Oci {
        repository: String,
        manifest: String,
        layer: String,
        format: archive::Format,
    },
}

/// Why a remote source could not answer. Each has a diagnostic code.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("offline, and the cache does not hold: {}", .missing.join("; "))]
    Offline { missing: Vec<String> },
    #[error("{url}: the server answered {status}")]
    Http { url: String, status: u16 },
    #[error("{url}: no answer within {}s", .after.as_secs())]
    Timeout { url: String, after: Duration },
    #[error("{url}: {message}")]
    Network { url: String, message: String },
    #[error("{url}: the download stopped after {got} of {expected} bytes")]
    Truncated {
        url: String,
        expected: u64,
        got: u64,
    },
    #[error("{what}: expected {expected}, got {actual}")]
    Digest {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("{url}{}: {message}", .line.map(|l| format!(":{l}")).unwrap_or_default())]
    BadIndex {
        url: String,
        line: Option<usize>,
        message: String,
    },
    #[error("{what}: {message}")]
    BadArchive { what: String, message: String },
    #[error("the `git` command was not found on PATH")]
    GitNotFound,
    #[error("git {args} ({url}) failed: {stderr}")]
    Git {
        url: String,
        args: String,
        stderr: String,
    },
    #[error("{url} has no {reference}")]
    RefNotFound { url: String, reference: String },
    #[error("{reference}: {message}")]
    Oci { reference: String, message: String },
    #[error(
        "{reference} is already published with different content ({existing}); publish a new version instead"
    )]
    VersionTaken { reference: String, existing: String },
    #[error("{}: {why}", redact_url(.url))]
    UrlRefused {
        rule: &'static str,
        url: String,
        why: String,
    },
    #[error("{url}: the answer is larger than {limit} bytes, the most capm accepts")]
    TooLarge { url: String, limit: u64 },
    #[error("SSL_CERT_FILE `{}` cannot be used: {message}", .path.display())]
    CaFile { path: PathBuf, message: String },
    #[error("the cache `{}` is locked by another capm process; gave up after {seconds} s", .path.display())]
    CacheLocked { path: PathBuf, seconds: u64 },
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// What a source serves contradicts what it claims (a tag `v1.2.0` whose bundle.toml
    /// says 1.3.0, two tags of one version on different commits, no bundle.toml).
    #[error("{what}: {message}")]
    InvalidSource { what: String, message: String },
    /// A bundle of another format that its reader refused, with the code of its first error
    /// (`skill-not-found`, `server-json-invalid`, …).
    #[error("{what}: {message}")]
    Unreadable {
        what: String,
        code: &'static str,
        message: String,
    },
    /// The client of `capm serve` cancelled the request while `url` was being fetched.
    #[error("{}: cancelled: the client cancelled the request", redact_url(.url))]
    Cancelled {
        url: String,
        #[source]
        cause: crate::operation::Cancelled,
    },
}

impl RemoteError {
    /// The diagnostic code of the error.
    pub fn code(&self) -> &'static str {
        match self {
            RemoteError::Offline { .. } => "offline-missing",
            RemoteError::Http { .. } => "http-error",
            RemoteError::Timeout { .. } => "network-timeout",
            RemoteError::Network { .. } => "network-error",
            RemoteError::Truncated { .. } => "truncated-download",
            RemoteError::Digest { .. } => "SC-002",
            RemoteError::BadIndex { .. } => "invalid-registry",
            RemoteError::BadArchive { .. } => "invalid-archive",
            RemoteError::GitNotFound => "git-not-found",
            RemoteError::Git { .. } => "git-error",
            RemoteError::RefNotFound { .. } => "git-ref-not-found",
            RemoteError::Oci { .. } => "oci-error",
            RemoteError::VersionTaken { .. } => "publish-refused",
            RemoteError::UrlRefused { rule, .. } => rule,
            RemoteError::TooLarge { .. } => "download-too-large",
            RemoteError::CaFile { .. } => "invalid-ca-file",
            RemoteError::CacheLocked { .. } => "locked",
            RemoteError::Io { .. } => "io",
            RemoteError::InvalidSource { .. } => "invalid-bundle-source",
            RemoteError::Unreadable { code, .. } => code,
            RemoteError::Cancelled { .. } => "cancelled",
        }
    }

    /// Whether the input was refused (exit 1) rather than the system failing (exit 2).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            RemoteError::Digest { .. }
                | RemoteError::BadIndex { .. }
                | RemoteError::BadArchive { .. }
                | RemoteError::RefNotFound { .. }
                | RemoteError::VersionTaken { .. }
                | RemoteError::UrlRefused { .. }
                | RemoteError::TooLarge { .. }
                | RemoteError::InvalidSource { .. }
                | RemoteError::Unreadable { .. }
        )
    }
}

/// A remote source as capm.toml declares it.
// A capm.toml declares a handful: the size of the larger variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Declared {
    /// A registry: an `https://` URL, or a directory in the static layout.
    Registry { location: String },
    /// A git repository, at one reference or over its version tags.
    Git {
        url: String,
        tag: Option<String>,
        branch: Option<String>,
        rev: Option<String>,
        version: Option<semver::VersionReq>,
        subdir: Option<String>,
        /// How to read a bundle of another format there (its name, the skills to take).
        options: crate::formats::Options,
    },
    /// A Claude Code marketplace: a git URL or a local path of the repository holding
    /// `.claude-plugin/marketplace.json`; its plugins are the bundles it offers. `pinned`:
    /// the marketplace commit capm.lock records for a plugin of its own repository, by
    /// bundle name, where that plugin stays.
    Marketplace {
        location: String,
        pinned: std::collections::BTreeMap<String, String>,
    },
    /// An MCP Registry's REST API (`https://registry.modelcontextprotocol.io`); its servers'
    /// `server.json` documents are the bundles it offers.
    McpRegistry { url: String },
    /// An OCI repository, over its version tags; at one manifest (the sha256 capm.lock
    /// records) while that manifest's version still matches `version`.
    Oci {
        repository: String,
        version: semver::VersionReq,
        manifest: Option<String>,
    },
}

/// Opens a declared source. A registry reads its `config.json`; a git or OCI source makes
/// no request until it is asked.
pub fn open(decl: &Declared, net: &Net) -> Result<Box<dyn Source>, RemoteError> {
    Ok(match decl {
        Declared::Registry { location } => Box::new(sparse::SparseRegistry::open(location, net)?),
        Declared::Git {
            url,
            tag,
            branch,
            rev,
            version,
            subdir,
            options,
        } => {
            git::check_url(url)?;
            let reference = match (tag, branch, rev, version) {
                (_, _, Some(r), _) => git::GitRef::Rev(r.clone()),
                (Some(t), ..) => git::GitRef::Tag(t.clone()),
                (_, Some(b), ..) => git::GitRef::Branch(b.clone()),
                (.., Some(v)) => git::GitRef::Version(v.clone()),
                _ => git::GitRef::Default,
            };
            Box::new(git::GitSource::new(url, reference, subdir.clone()).read_as(options.clone()))
        }
        Declared::Marketplace { location, pinned } => {
            Box::new(marketplace::Marketplace::open(location, net)?.pinned(pinned.clone()))
        }
        Declared::McpRegistry { url } => Box::new(mcp_registry::McpRegistry::open(url, net)?),
        Declared::Oci {
            repository,
            version,
            manifest,
        } => Box::new(OciRange {
            source: oci::OciSource::new(repository),
            req: version.clone(),
            manifest: manifest.clone(),
        }),
    })
}

impl Source for sparse::SparseRegistry {
    fn releases(
        &self,
        names: &[String],
        net: &Net,
    ) -> Result<Vec<(String, Vec<Release>)>, RemoteError> {
        sparse::SparseRegistry::releases(self, names, net)
    }

    fn list(&self, net: &Net) -> Result<Vec<Release>, RemoteError> {
        sparse::SparseRegistry::list(self, net)
    }
}

/// The releases of a source bound to one bundle, grouped by the name they carry (a
/// repository holds one bundle, whatever capm.toml calls it).
fn by_name(releases: Vec<Release>) -> Vec<(String, Vec<Release>)> {
    let mut out: Vec<(String, Vec<Release>)> = Vec::new();
    for r in releases {
        match out.iter_mut().find(|(n, _)| *n == r.name) {
            Some((_, list)) => list.push(r),
            None => out.push((r.name.clone(), vec![r])),
        }
    }
    out
}

impl Source for git::GitSource {
    fn releases(
        &self,
        _names: &[String],
        net: &Net,
    ) -> Result<Vec<(String, Vec<Release>)>, RemoteError> {
        git::GitSource::releases(self, net).map(by_name)
    }
}

/// An OCI repository, the version range capm.toml asks of it, and the manifest capm.lock
/// pins it to.
struct OciRange {
    source: oci::OciSource,
    req: semver::VersionReq,
    manifest: Option<String>,
}

impl Source for OciRange {
    /// The locked manifest's release alone while it is in range (a tag moved since does
    /// not change what is installed); else every tagged version in range.
    fn releases(
        &self,
        _names: &[String],
        net: &Net,
    ) -> Result<Vec<(String, Vec<Release>)>, RemoteError> {
        if let Some(digest) = &self.manifest {
            let pinned = self.source.pinned(digest, net)?;
            if self.req.matches(&pinned.version) {
                return Ok(by_name(vec![pinned]));
            }
        }
        self.source.releases(&self.req, net).map(by_name)
    }
}

/// Reads a pinned release's files: from the cache, else fetched (unless offline), each
/// byte checked against the pin's digest before anything is unpacked, and the files
/// against the bundle's content digest `content`. `display` names the bundle in messages.
pub fn materialize(
    fetch: &Fetch,
    content: &str,
    display: &str,
    net: &Net,
) -> Result<crate::manifest::tree::BundleTree, RemoteError> {
    match fetch {
        Fetch::Archive {
            url,
            digest,
            format,
        } => sparse::materialize(url, digest, *format, content, display, net),
        Fetch::Git {
            url,
            commit,
            subdir,
            options,
        } => git::materialize(url, commit, subdir.as_deref(), options, net),
        Fetch::Oci { .. } => oci::materialize(fetch, content, net),
        Fetch::ServerJson { url, digest } => {
            mcp_registry::materialize(url, digest, content, display, net)
        }
    }
}
