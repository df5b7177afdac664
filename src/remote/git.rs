//! Git sources through the `git` command, so the user's credential helpers, SSH agent and
//! `insteadOf` rules apply.
//!
//! A source is a URL (or a local repository given as a path), a reference (tag, branch,
//! commit, a semver requirement over the tags, or the default branch) and the bundle's
//! directory in the repository. Refs are listed with `git ls-remote` (the listing is kept in
//! the cache for `--offline`); commits are fetched (`--depth 1` by hash, else a full fetch)
//! into a bare repository `git/db/KEY.git` under an exclusive lock, and each commit is
//! checked out once into the immutable `git/checkouts/KEY/COMMIT/`, the tree capm reads.
//!
//! Every git command runs without a terminal prompt, with `ext::` disabled and only the
//! transports the URL itself needs; URLs and refs go after `--` and none may start with `-`.
//! [`check_url`] holds the SRC rules of docs/security-rules.md §10.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use semver::{Version, VersionReq};

use super::{Dep, Fetch, Net, Release, RemoteError};
use crate::manifest::tree::{BundleTree, MANIFEST};

/// Which commit(s) of a repository a source means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GitRef {
    Tag(String),
    Branch(String),
    /// A commit hash, full (40 hex) or abbreviated (at least 7).
    Rev(String),
    /// Every tag `vX.Y.Z` or `X.Y.Z` whose version matches.
    Version(VersionReq),
    /// The remote's default branch (`HEAD`).
    Default,
}

impl std::fmt::Display for GitRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GitRef::Tag(t) => write!(f, "tag {t}"),
            GitRef::Branch(b) => write!(f, "branch {b}"),
            GitRef::Rev(r) => write!(f, "commit {r}"),
            GitRef::Version(v) => write!(f, "tag matching {v}"),
            GitRef::Default => f.write_str("the default branch"),
        }
    }
}

/// A bundle in a git repository.
#[derive(Clone, Debug)]
pub struct GitSource {
    url: String,
    reference: GitRef,
    subdir: Option<String>,
    options: crate::formats::Options,
}

/// How long a capm waits for another one fetching into the same bare repository.
const FETCH_LOCK_TIMEOUT: Duration = Duration::from_secs(600);

/// The file in a bare repository holding the last `git ls-remote` listing.
const REFS_FILE: &str = "capm-ls-remote";

impl GitSource {
    /// A source; nothing is checked or fetched until [`GitSource::releases`]. A local
    /// repository is a path (`/…`, `./…`, `../…`), taken from the current directory: the
    /// caller resolves one written in capm.toml against the project's directory first.
    pub fn new(url: &str, reference: GitRef, subdir: Option<String>) -> GitSource {
        GitSource {
            url: url.to_string(),
            reference,
            subdir,
            options: crate::formats::Options::default(),
        }
    }

    /// Reads a bundle of another format as `options` say (see [`crate::formats`]).
    /// A bundle with no name of its own (a repository of skills) is named by `options`,
    /// else after the repository (`…/team-skills.git` → `team-skills`).
    pub fn read_as(mut self, mut options: crate::formats::Options) -> GitSource {
        let last = self.url.trim_end_matches('/').rsplit(['/', ':']).next();
        let last = last.map(|l| l.strip_suffix(".git").unwrap_or(l));
        options.place = last.and_then(crate::formats::bundle_name);
        self.options = options;
        self
    }

    /// The options for the bundle at a commit: a version tag gives the version of a bundle
    /// whose format has none.
    fn options_at(&self, tag: Option<&str>) -> crate::formats::Options {
        crate::formats::Options {
            version: tag.and_then(tag_version),
            ..self.options.clone()
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The releases the reference names, newest first: one for a tag, branch, commit or the
    /// default branch; every matching semver tag for a version requirement.
    pub fn releases(&self, net: &Net) -> Result<Vec<Release>, RemoteError> {
        check_url(&self.url)?;
        check_subdir(&self.url, self.subdir.as_deref())?;
        check_ref(&self.url, &self.reference)?;
        let repo = Repo::new(&self.url, net);
        // Each commit, with the tag that names it when the tag claims a version.
        let pins: Vec<(Option<String>, String)> = match &self.reference {
            GitRef::Version(req) => tagged_versions(&self.url, &repo.refs(net)?, req)?
                .into_iter()
                .map(|(_, tag, c)| (Some(tag), c))
                .collect(),
            GitRef::Rev(rev) => {
                let commit = repo.rev(rev, net)?;
                vec![(repo.version_tag_at(&commit, net), commit)]
            }
            GitRef::Tag(tag) => {
                let commit = resolve_ref(&self.url, &repo.refs(net)?, &self.reference)?;
                vec![(tag_version(tag).map(|_| tag.clone()), commit)]
            }
            other => vec![(None, resolve_ref(&self.url, &repo.refs(net)?, other)?)],
        };
        let commits: Vec<String> = pins.iter().map(|(_, c)| c.clone()).collect();
        repo.ensure(&commits, net)?;
        pins.into_iter()
            .map(|(tag, commit)| self.release(&repo, &commit, tag.as_deref(), net))
            .collect()
    }

    fn release(
        &self,
        repo: &Repo,
        commit: &str,
        tag: Option<&str>,
        net: &Net,
    ) -> Result<Release, RemoteError> {
        let options = self.options_at(tag);
        let tree = repo.tree(commit, self.subdir.as_deref(), &options, net)?;
        let meta = read_meta(&tree)?;
        // A commit named by hash takes its tag's version only where its files name none.
        let checked = tag.filter(|_| !matches!(self.reference, GitRef::Rev(_)));
        if let Some(tag) = checked.filter(|t| tag_version(t).as_ref() != Some(&meta.version)) {
            return Err(RemoteError::InvalidSource {
                what: format!("{} tag {tag}", self.url),
                message: format!(
                    "its {MANIFEST} says version {}; a version tag must match the bundle's version",
                    meta.version
                ),
            });
        }
        Ok(Release {
            name: meta.name,
            version: meta.version,
            digest: tree.content_digest(),
            deps: meta.deps,
            description: meta.description,
            keywords: meta.keywords,
            yanked: false,
            fetch: Fetch::Git {
                url: self.url.clone(),
                commit: commit.to_string(),
                subdir: self.subdir.clone(),
                options,
            },
        })
    }
}

/// The files of `subdir` (the root when `None`) at `commit` of `url`: from the checkout in
/// the cache, else fetched into the bare repository and checked out once.
pub fn materialize(
    url: &str,
    commit: &str,
    subdir: Option<&str>,
    options: &crate::formats::Options,
    net: &Net,
) -> Result<BundleTree, RemoteError> {
    check_url(url)?;
    check_subdir(url, subdir)?;
    if !is_full_hash(commit) {
        return Err(RemoteError::InvalidSource {
            what: url.to_string(),
            message: format!("`{commit}` is not a full 40-hex commit hash"),
        });
    }
    let repo = Repo::new(url, net);
    repo.ensure(&[commit.to_string()], net)?;
    repo.tree(commit, subdir, options, net)
}

/// The commit `reference` names in `url` (a tag, branch, commit or the default branch)
/// and the directory of its files, checked out once into the cache: for sources that read
/// a repository's own files, such as a marketplace's `marketplace.json`.
pub fn checkout(
    url: &str,
    reference: &GitRef,
    net: &Net,
) -> Result<(String, PathBuf), RemoteError> {
    check_url(url)?;
    check_ref(url, reference)?;
    let repo = Repo::new(url, net);
    let commit = match reference {
        GitRef::Rev(rev) => repo.rev(rev, net)?,
        other => resolve_ref(url, &repo.refs(net)?, other)?,
    };
    repo.ensure(std::slice::from_ref(&commit), net)?;
    let dir = repo.checkouts.join(&commit);
    if !dir.is_dir() {
        repo.checkout(&commit, &dir, net)?;
    }
    Ok((commit, dir))
}

fn is_full_hash(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn check_subdir(url: &str, subdir: Option<&str>) -> Result<(), RemoteError> {
    let Some(sub) = subdir else { return Ok(()) };
    let bad = sub.is_empty()
        || sub.starts_with('/')
        || sub.starts_with('-')
        || sub.contains('\\')
        || sub.split('/').any(|c| c == ".." || c == ".");
    if bad {
        return Err(RemoteError::InvalidSource {
            what: url.to_string(),
            message: format!(
                "`{sub}` is not a subdirectory of the repository (write a relative path such as `bundles/kit`)"
            ),
        });
    }
    Ok(())
}

/// A tag, branch or commit starting with `-` (git would read it as an option) or holding
/// a control character is refused, whatever the repository has.
fn check_ref(url: &str, reference: &GitRef) -> Result<(), RemoteError> {
    let (GitRef::Tag(name) | GitRef::Branch(name) | GitRef::Rev(name)) = reference else {
        return Ok(());
    };
    if name.is_empty() || name.starts_with('-') || name.chars().any(char::is_control) {
        return Err(RemoteError::InvalidSource {
            what: url.to_string(),
            message: format!("`{}` is not a valid {reference}", name.escape_debug()),
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// URL rules

/// A URL refused by an SRC rule.
fn refuse(rule: &'static str, url: &str, why: impl Into<String>) -> RemoteError {
    RemoteError::UrlRefused {
        rule,
        url: url.to_string(),
        why: why.into(),
    }
}

/// Whether a git source is a local repository written as a path (`/…`, `./…`, `../…`).
pub fn is_local_path(url: &str) -> bool {
    url.starts_with('/')
        || url.starts_with("./")
        || url.starts_with("../")
        || url == "."
        || url == ".."
}

/// The SRC rules for a git source's URL: SRC-001 (a dangerous or unknown transport),
/// SRC-002 (credentials in the URL), SRC-003 (plain `http://`/`git://` off this machine).
pub fn check_url(url: &str) -> Result<(), RemoteError> {
    if url.starts_with('-') {
        return Err(refuse(
            "SRC-001",
            url,
            "a URL starting with `-` would be read by git as an option",
        ));
    }
    if url.chars().any(char::is_control) {
        return Err(refuse("SRC-001", url, "the URL holds a control character"));
    }
    if is_local_path(url) {
        return Ok(());
    }
    if let Some((helper, _)) = url.split_once("::")
        && !helper.is_empty()
        && helper
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b))
    {
        return Err(refuse(
            "SRC-001",
            url,
            format!("`{helper}::` hands the URL to a git remote helper, which can run any command"),
        ));
    }
    if url.chars().any(char::is_whitespace) {
        return Err(refuse(
            "SRC-001",
            url,
            "a URL holds no spaces (a local repository is written as a path: `./dir`)",
        ));
    }
    match url.split_once("://") {
        Some((scheme, _)) => check_scheme_url(url, &scheme.to_ascii_lowercase()),
        None => check_scp_like(url),
    }
}

fn check_scheme_url(url: &str, scheme: &str) -> Result<(), RemoteError> {
    match scheme {
        "https" | "ssh" | "git" | "http" | "git+ssh" | "ssh+git" => {}
        "file" => {
            return Err(refuse(
                "SRC-001",
                url,
                "a file:// URL; give a local repository as a path (`/srv/repos/kit` or `../kit`)",
            ));
        }
        other => {
            return Err(refuse(
                "SRC-001",
                url,
                format!(
                    "git over `{other}://` is not allowed; use https://, ssh:// or git@host:path"
                ),
            ));
        }
    }
    let parsed = ::url::Url::parse(url)
        .map_err(|e| refuse("SRC-001", url, format!("the URL cannot be parsed: {e}")))?;
    let Some(host) = parsed.host() else {
        return Err(refuse("SRC-001", url, "the URL names no host"));
    };
    if parsed.host_str().is_some_and(|h| h.starts_with('-')) {
        return Err(refuse(
            "SRC-001",
            url,
            "a host starting with `-` would be read as an option",
        ));
    }
    let ssh = scheme.contains("ssh");
    if parsed.password().is_some() || (!ssh && !parsed.username().is_empty()) {
        return Err(refuse(
            "SRC-002",
            url,
            "the URL carries credentials, which would be written to capm.toml and capm.lock; \
             remove them and let a git credential helper (or the SSH agent) supply them",
        ));
    }
    if matches!(scheme, "http" | "git") && !is_loopback(host) {
        return Err(refuse(
            "SRC-003",
            url,
            format!(
                "`{scheme}://` is neither encrypted nor authenticated, so anyone on the path can change the bundle; use https:// or ssh://"
            ),
        ));
    }
    Ok(())
}

/// Whether a host is this machine. Hosts of non-special schemes (`git://`) are opaque to
/// the URL parser, so an address written there is parsed here.
fn is_loopback(host: ::url::Host<&str>) -> bool {
    let ip = match host {
        ::url::Host::Domain(d) => d.trim_matches(['[', ']']).parse().ok(),
        _ => None,
    };
    match ip {
        Some(std::net::IpAddr::V4(v4)) => crate::security::is_loopback(&::url::Host::Ipv4(v4)),
        Some(std::net::IpAddr::V6(v6)) => crate::security::is_loopback(&::url::Host::Ipv6(v6)),
        None => crate::security::is_loopback(&host),
    }
}

/// `user@host:path` (or `host:path`), which git reads as ssh.
fn check_scp_like(url: &str) -> Result<(), RemoteError> {
    let Some((authority, path)) = url.split_once(':') else {
        return Err(refuse(
            "SRC-001",
            url,
            "neither a URL nor a local path; write `https://host/repo.git`, `git@host:repo.git`, or `./dir` for a local repository",
        ));
    };
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if authority.contains('/') || host.is_empty() || path.is_empty() {
        return Err(refuse(
            "SRC-001",
            url,
            "neither a URL nor a local path; write `https://host/repo.git`, `git@host:repo.git`, or `./dir` for a local repository",
        ));
    }
    if host.starts_with('-') {
        return Err(refuse(
            "SRC-001",
            url,
            "a host starting with `-` would be read as an option",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Running git

/// A git command with capm's safety settings: no prompt, no `ext::`, only the transports
/// `url` needs, and none of the caller's `GIT_DIR`-style variables.
fn git(url: &str) -> Command {
    let mut protocols = String::from("https:ssh:git");
    if is_local_path(url) {
        protocols.push_str(":file");
    } else if url.to_ascii_lowercase().starts_with("http://") {
        // Only a loopback http:// URL gets here (SRC-003).
        protocols.push_str(":http");
    }
    // A server that stops sending for the HTTP timeout ends the transfer.
    let stall = format!(
        "http.lowSpeedTime={}",
        super::net().http.timeout.as_secs().max(1)
    );
    let mut cmd = Command::new("git");
    cmd.env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ALLOW_PROTOCOL", protocols)
        .env("GCM_INTERACTIVE", "never")
        .args([
            "-c",
            "protocol.ext.allow=never",
            "-c",
            "core.autocrlf=false",
            "-c",
            "http.lowSpeedLimit=1",
            "-c",
            &stall,
        ])
        .stdin(Stdio::null());
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Runs `cmd`; a non-zero exit becomes [`RemoteError::Git`] with git's stderr.
fn run(url: &str, mut cmd: Command) -> Result<Output, RemoteError> {
    let args: Vec<String> = cmd
        .get_args()
        .skip(8)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    tracing::debug!("git {}", args.join(" "));
    let out = output_within(url, &mut cmd, super::net().http.timeout * 20)?;
    let network = args.iter().any(|a| a == "fetch" || a == "ls-remote");
    if network && out.status.success() {
        super::fetched(url);
    }
    if !out.status.success() {
        return Err(RemoteError::Git {
            url: url.to_string(),
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(out)
}

/// `cmd`'s output, or [`RemoteError::Timeout`] (and git killed) when it runs past `limit`:
/// a `git://` or ssh server that accepts and never answers would hold capm for ever.
fn output_within(
    url: &str,
    cmd: &mut Command,
    limit: std::time::Duration,
) -> Result<Output, RemoteError> {
    use std::io::Read;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => RemoteError::GitNotFound,
            _ => RemoteError::Io {
                path: PathBuf::from("git"),
                source: e,
            },
        })?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let start = std::time::Instant::now();
    let io = |source| RemoteError::Io {
        path: PathBuf::from("git"),
        source,
    };
    let status = loop {
        if let Some(status) = child.try_wait().map_err(io)? {
            break status;
        }
        let cancelled = crate::operation::cancelled();
        if cancelled || start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(if cancelled {
                RemoteError::Cancelled {
                    url: url.to_string(),
                    cause: crate::operation::Cancelled,
                }
            } else {
                RemoteError::Timeout {
                    url: url.to_string(),
                    after: limit,
                }
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    Ok(Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

// ---------------------------------------------------------------------------------------
// Refs

/// `git ls-remote` output: ref name → commit (tags peeled when annotated).
type Refs = BTreeMap<String, String>;

fn parse_refs(text: &str) -> Refs {
    let mut refs = Refs::new();
    let mut peeled = Vec::new();
    for line in text.lines() {
        let Some((hash, name)) = line.split_once('\t') else {
            continue;
        };
        match name.strip_suffix("^{}") {
            Some(tag) => peeled.push((tag.to_string(), hash.to_string())),
            None => {
                refs.insert(name.to_string(), hash.to_string());
            }
        }
    }
    // An annotated tag's own object is not a commit: the peeled line names the commit.
    refs.extend(peeled);
    refs
}

fn not_found(url: &str, reference: &GitRef) -> RemoteError {
    RemoteError::RefNotFound {
        url: url.to_string(),
        reference: reference.to_string(),
    }
}

/// The commit a tag, branch or the default branch points at.
fn resolve_ref(url: &str, refs: &Refs, reference: &GitRef) -> Result<String, RemoteError> {
    let name = match reference {
        GitRef::Tag(t) => format!("refs/tags/{t}"),
        GitRef::Branch(b) => format!("refs/heads/{b}"),
        _ => "HEAD".to_string(),
    };
    refs.get(&name)
        .cloned()
        .ok_or_else(|| not_found(url, reference))
}

/// The version a tag names: `v1.2.3` and `1.2.3` name 1.2.3.
fn tag_version(tag: &str) -> Option<Version> {
    Version::parse(tag.strip_prefix('v').unwrap_or(tag)).ok()
}

/// The tags that are versions matching `req`, newest first: (version, tag, commit).
fn tagged_versions(
    url: &str,
    refs: &Refs,
    req: &VersionReq,
) -> Result<Vec<(Version, String, String)>, RemoteError> {
    let mut found: BTreeMap<Version, (String, String)> = BTreeMap::new();
    for (name, commit) in refs {
        let Some(tag) = name.strip_prefix("refs/tags/") else {
            continue;
        };
        let Some(version) = tag_version(tag) else {
            continue;
        };
        if !req.matches(&version) {
            continue;
        }
        if let Some((other, seen)) = found.get(&version)
            && seen != commit
        {
            return Err(RemoteError::InvalidSource {
                what: url.to_string(),
                message: format!(
                    "tags `{other}` and `{tag}` name version {version} on different commits ({} and {}); delete one of them",
                    &seen[..seen.len().min(7)],
                    &commit[..commit.len().min(7)]
                ),
            });
        }
        found.insert(version, (tag.to_string(), commit.clone()));
    }
    if found.is_empty() {
        return Err(not_found(url, &GitRef::Version(req.clone())));
    }
    Ok(found
        .into_iter()
        .rev()
        .map(|(v, (t, c))| (v, t, c))
        .collect())
}

// ---------------------------------------------------------------------------------------
// The cache: bare repository and checkouts

/// A repository's places in the cache.
struct Repo {
    url: String,
    db: PathBuf,
    lock: PathBuf,
    checkouts: PathBuf,
}

impl Repo {
    fn new(url: &str, net: &Net) -> Repo {
        let key = super::Cache::key(url);
        let dbs = net.cache.root().join("git/db");
        Repo {
            url: url.to_string(),
            db: dbs.join(format!("{key}.git")),
            lock: dbs.join(format!("{key}.lock")),
            checkouts: net.cache.dir("git/checkouts", &key),
        }
    }

    fn git(&self) -> Command {
        let mut cmd = git(&self.url);
        cmd.arg("--git-dir").arg(&self.db);
        cmd
    }

    /// The remote's refs: listed now, and kept for later offline runs; offline, as last
    /// listed.
    fn refs(&self, net: &Net) -> Result<Refs, RemoteError> {
        let saved = self.db.join(REFS_FILE);
        if net.offline {
            return match std::fs::read_to_string(&saved) {
                Ok(text) => Ok(parse_refs(&text)),
                Err(_) => Err(RemoteError::Offline {
                    missing: vec![format!("the refs of {} (never fetched)", self.url)],
                }),
            };
        }
        let mut cmd = git(&self.url);
        cmd.args(["ls-remote", "--", &self.url]);
        let out = run(&self.url, cmd)?;
        let _lock = self.lock()?;
        self.init()?;
        net.cache.write(&saved, &out.stdout)?;
        Ok(parse_refs(&String::from_utf8_lossy(&out.stdout)))
    }

    /// The newest version tag on `commit`, for a bundle whose format has no version that is
    /// pinned by hash (capm.lock's pin of a version range): from the listing saved by an
    /// earlier run, else listed now when online; `None` when neither can say.
    fn version_tag_at(&self, commit: &str, net: &Net) -> Option<String> {
        let saved = std::fs::read_to_string(self.db.join(REFS_FILE)).ok();
        let refs = match saved {
            Some(text) => parse_refs(&text),
            None if !net.offline => self.refs(net).ok()?,
            None => return None,
        };
        refs.iter()
            .filter(|(_, c)| *c == commit)
            .filter_map(|(name, _)| name.strip_prefix("refs/tags/"))
            .filter_map(|tag| Some((tag_version(tag)?, tag)))
            .max()
            .map(|(_, tag)| tag.to_string())
    }

    /// The full hash of a commit named by a (possibly abbreviated) hash.
    fn rev(&self, rev: &str, net: &Net) -> Result<String, RemoteError> {
        if rev.len() < 7 || !rev.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(RemoteError::InvalidSource {
                what: self.url.clone(),
                message: format!("`{rev}` is not a commit hash (7 to 40 hex digits)"),
            });
        }
        let rev = rev.to_ascii_lowercase();
        if is_full_hash(&rev) {
            return Ok(rev);
        }
        if let Some(full) = self.local_commit(&rev) {
            return Ok(full);
        }
        if net.offline {
            return Err(self.offline(&GitRef::Rev(rev.clone())));
        }
        let _lock = self.lock()?;
        self.init()?;
        self.fetch_all()?;
        self.local_commit(&rev)
            .ok_or_else(|| not_found(&self.url, &GitRef::Rev(rev.clone())))
    }

    fn offline(&self, reference: &GitRef) -> RemoteError {
        RemoteError::Offline {
            missing: vec![format!("{} of {}", reference, self.url)],
        }
    }

    /// The full hash of `rev` if the bare repository holds that commit.
    fn local_commit(&self, rev: &str) -> Option<String> {
        if !self.db.is_dir() {
            return None;
        }
        let mut cmd = self.git();
        cmd.args(["rev-parse", "--verify", "--quiet", "--end-of-options"])
            .arg(format!("{rev}^{{commit}}"));
        let out = run(&self.url, cmd).ok()?;
        Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    fn lock(&self) -> Result<crate::apply::FileLock, RemoteError> {
        crate::apply::FileLock::acquire(&self.lock, true, FETCH_LOCK_TIMEOUT, &|_| {
            tracing::info!("waiting for another capm fetching {}", self.url)
        })
        .map_err(|e| RemoteError::Io {
            path: self.lock.clone(),
            source: std::io::Error::other(e.to_string()),
        })
    }

    fn init(&self) -> Result<(), RemoteError> {
        if self.db.join("HEAD").is_file() {
            return Ok(());
        }
        let mut cmd = git(&self.url);
        cmd.args(["init", "--quiet", "--bare", "--"]).arg(&self.db);
        run(&self.url, cmd).map(drop)
    }

    /// Makes sure the bare repository holds each commit (and keeps it: `refs/capm/COMMIT`).
    fn ensure(&self, commits: &[String], net: &Net) -> Result<(), RemoteError> {
        let missing = |commits: &[String]| -> Vec<String> {
            commits
                .iter()
                .filter(|c| !self.checkouts.join(c).is_dir() && self.local_commit(c).is_none())
                .cloned()
                .collect()
        };
        let wanted = missing(commits);
        if wanted.is_empty() {
            return Ok(());
        }
        if net.offline {
            return Err(RemoteError::Offline {
                missing: wanted
                    .iter()
                    .map(|c| format!("commit {c} of {}", self.url))
                    .collect(),
            });
        }
        let _lock = self.lock()?;
        self.init()?;
        let wanted = missing(&wanted);
        if !wanted.is_empty() && self.fetch_shallow(&wanted).is_err() {
            self.fetch_all()?;
        }
        self.keep(&missing(&wanted), &wanted)
    }

    /// Pins fetched commits with a ref each; `still_missing` were not on the remote.
    fn keep(&self, still_missing: &[String], wanted: &[String]) -> Result<(), RemoteError> {
        if let Some(c) = still_missing.first() {
            return Err(not_found(&self.url, &GitRef::Rev(c.clone())));
        }
        for c in wanted {
            let mut cmd = self.git();
            cmd.args(["update-ref", &format!("refs/capm/{c}"), c]);
            run(&self.url, cmd)?;
        }
        Ok(())
    }

    /// `git fetch` into the bare repository, never running `gc`, with `options`.
    fn fetch(&self, options: &[&str]) -> Command {
        let mut cmd = self.git();
        cmd.args(["-c", "gc.auto=0", "fetch", "--quiet", "--no-tags"])
            .args(options)
            .args(["--", &self.url]);
        cmd
    }

    /// `git fetch --depth 1 URL COMMIT…`: servers that allow fetching a hash (protocol v2).
    fn fetch_shallow(&self, commits: &[String]) -> Result<(), RemoteError> {
        let mut cmd = self.fetch(&["--depth", "1"]);
        cmd.args(commits.iter().map(|c| format!("{c}:refs/capm/{c}")));
        run(&self.url, cmd).map(drop)
    }

    /// Every branch and tag, for servers that refuse a hash and for abbreviated hashes.
    fn fetch_all(&self) -> Result<(), RemoteError> {
        let shallow = self.db.join("shallow").is_file();
        let mut cmd = self.fetch(if shallow {
            &["--force", "--unshallow"]
        } else {
            &["--force"]
        });
        cmd.args([
            "refs/heads/*:refs/capm-remote/heads/*",
            "refs/tags/*:refs/capm-remote/tags/*",
        ]);
        run(&self.url, cmd).map(drop)
    }

    /// The bundle's tree at `commit` (which the bare repository holds, or which is checked
    /// out already).
    fn tree(
        &self,
        commit: &str,
        subdir: Option<&str>,
        options: &crate::formats::Options,
        net: &Net,
    ) -> Result<BundleTree, RemoteError> {
        let dir = self.checkouts.join(commit);
        if !dir.is_dir() {
            self.checkout(commit, &dir, net)?;
        }
        let root = subdir.map_or(dir.clone(), |s| dir.join(s));
        let display = format!(
            "{}@{}{}",
            self.url,
            &commit[..7],
            subdir.map(|s| format!(":{s}")).unwrap_or_default()
        );
        // A plugin a marketplace lists is any directory: its entry there may stand for it.
        let plugin = options.plugin.is_some() && root.is_dir();
        if !plugin && !crate::formats::is_bundle_dir(&root) {
            return Err(RemoteError::InvalidSource {
                what: display,
                message: format!(
                    "there is no {MANIFEST}, SKILL.md, skills/, .claude-plugin/plugin.json or server.json there"
                ),
            });
        }
        crate::formats::read_dir(&root, display, options)
            .map_err(|source| RemoteError::Io { path: root, source })
    }

    /// Writes every file of `commit` into a staging directory, then renames it to `dir`
    /// (another capm may have done so first: its tree is the same).
    fn checkout(&self, commit: &str, dir: &Path, net: &Net) -> Result<(), RemoteError> {
        let tmp_root = net.cache.root().join("tmp");
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| RemoteError::Io { path, source }
        };
        std::fs::create_dir_all(&tmp_root).map_err(io(&tmp_root))?;
        let stage = tempfile::tempdir_in(&tmp_root).map_err(io(&tmp_root))?;
        let index = stage.path().join("index");
        let tree = stage.path().join("tree");
        let mut read = self.git();
        read.env("GIT_INDEX_FILE", &index)
            .args(["read-tree", "--end-of-options", commit]);
        run(&self.url, read)?;
        let mut out = self.git();
        out.env("GIT_INDEX_FILE", &index)
            .arg("--work-tree")
            .arg(&tree)
            .args(["checkout-index", "--all", "--force"]);
        std::fs::create_dir_all(&tree).map_err(io(&tree))?;
        run(&self.url, out)?;
        let parent = dir.parent().expect("a checkout has a parent");
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        match std::fs::rename(&tree, dir) {
            Ok(()) => Ok(()),
            Err(_) if dir.is_dir() => Ok(()),
            Err(e) => Err(io(dir)(e)),
        }
    }
}

// ---------------------------------------------------------------------------------------
// bundle.toml

/// What a release says about itself.
pub(crate) struct Meta {
    pub name: String,
    pub version: Version,
    pub description: String,
    pub keywords: Vec<String>,
    pub deps: Vec<Dep>,
}

/// Reads name, version, description, keywords and dependencies of the tree's bundle.toml
/// (validation proper happens when the bundle is used).
pub(crate) fn read_meta(tree: &BundleTree) -> Result<Meta, RemoteError> {
    use crate::manifest::{bundle::BundleManifest, decode, span::SourceFile};
    if let Some((code, message)) = crate::formats::failure(tree) {
        return Err(RemoteError::Unreadable {
            what: tree.display_root.clone(),
            code,
            message,
        });
    }
    let bad = |message: String| RemoteError::InvalidSource {
        what: tree.display_path(MANIFEST),
        message,
    };
    let bytes = tree.file(MANIFEST).unwrap_or_default();
    let text = std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8".into()))?;
    let source = SourceFile::new(tree.display_path(MANIFEST), text);
    let root = decode::parse(&source)
        .map_err(|d| bad(d.first().map_or("not TOML".into(), |d| d.message.clone())))?;
    let mut dec = decode::Decoder::new(&source);
    let m = BundleManifest::decode(&mut dec, &root);
    let meta = m
        .bundle
        .as_ref()
        .ok_or_else(|| bad("no [bundle] table".into()))?;
    let name = meta
        .name
        .as_ref()
        .ok_or_else(|| bad("no bundle.name".into()))?;
    let version = meta
        .version
        .as_ref()
        .and_then(|v| Version::parse(&v.value).ok())
        .ok_or_else(|| bad("no valid bundle.version".into()))?;
    let deps = m
        .dependencies
        .iter()
        .filter_map(|(dep, d)| {
            Some(Dep {
                name: dep.value.clone(),
                req: d.requirement()?.value.clone(),
                optional: d.is_optional(),
            })
        })
        .collect();
    Ok(Meta {
        name: name.value.clone(),
        version,
        description: meta.description_text(),
        keywords: meta.keyword_list(),
        deps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";
    const C: &str = "3333333333333333333333333333333333333333";

    fn listing(lines: &[(&str, &str)]) -> Refs {
        let text: String = lines.iter().map(|(h, n)| format!("{h}\t{n}\n")).collect();
        parse_refs(&text)
    }

    #[test]
    fn an_annotated_tag_is_its_commit() {
        let refs = listing(&[
            (A, "HEAD"),
            (A, "refs/heads/main"),
            (C, "refs/tags/v1.0.0"),
            (B, "refs/tags/v1.0.0^{}"),
        ]);
        assert_eq!(refs["refs/tags/v1.0.0"], B);
        let tag = GitRef::Tag("v1.0.0".into());
        assert_eq!(resolve_ref("u", &refs, &tag).unwrap(), B);
        assert_eq!(resolve_ref("u", &refs, &GitRef::Default).unwrap(), A);
        let gone = resolve_ref("u", &refs, &GitRef::Branch("dev".into())).unwrap_err();
        assert_eq!(gone.to_string(), "u has no branch dev");
    }

    #[test]
    fn version_tags_skip_other_tags_and_prereleases_unless_asked() {
        let refs = listing(&[
            (A, "refs/tags/v1.0.0"),
            (B, "refs/tags/1.2.0"),
            (C, "refs/tags/v1.3.0-rc.1"),
            (C, "refs/tags/release-2"),
            (C, "refs/heads/v9.0.0"),
        ]);
        let got = |req: &str| -> Vec<String> {
            tagged_versions("u", &refs, &req.parse().unwrap())
                .unwrap()
                .into_iter()
                .map(|(v, tag, _)| format!("{v} {tag}"))
                .collect()
        };
        assert_eq!(got("^1"), ["1.2.0 1.2.0", "1.0.0 v1.0.0"]);
        assert_eq!(got(">=1.3.0-rc.1"), ["1.3.0-rc.1 v1.3.0-rc.1"]);
        let none = tagged_versions("u", &refs, &"^9".parse().unwrap()).unwrap_err();
        assert_eq!(none.code(), "git-ref-not-found");
    }

    #[test]
    fn subdirectories_stay_inside_the_repository() {
        assert!(check_subdir("u", None).is_ok());
        assert!(check_subdir("u", Some("bundles/kit")).is_ok());
        for bad in ["", "/etc", "../x", "a/../../b", "-c", "a\\b", "./a"] {
            assert!(check_subdir("u", Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn local_paths_are_explicit() {
        for path in ["/srv/kit", "./kit", "../kit", ".", ".."] {
            assert!(is_local_path(path) && check_url(path).is_ok(), "{path}");
        }
        for not in ["kit", "kit/sub", "~/kit"] {
            assert!(!is_local_path(not), "{not}");
            assert_eq!(check_url(not).unwrap_err().code(), "SRC-001", "{not}");
        }
    }

    #[test]
    fn refusals_explain_themselves() {
        let err = check_url("https://u:tok@example.com/kit.git").unwrap_err();
        assert!(err.to_string().contains("credential helper"), "{err}");
        let err = check_url("git://example.com/kit.git").unwrap_err();
        assert!(err.to_string().contains("use https://"), "{err}");
        let err = check_url("file:///srv/kit").unwrap_err();
        assert!(err.to_string().contains("as a path"), "{err}");
        let err = check_url("ext::sh -c id").unwrap_err();
        assert!(err.to_string().contains("remote helper"), "{err}");
        assert_eq!(
            check_url("https://example.com/a\nb").unwrap_err().code(),
            "SRC-001"
        );
        assert_eq!(check_url(" ext::sh -c id").unwrap_err().code(), "SRC-001");
        assert!(check_url("/srv/My Repos/kit").is_ok());
    }
}
