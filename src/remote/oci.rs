//! OCI registries: a bundle version as an OCI 1.1 artifact whose one layer is its archive
//! (docs/spec.md "OCI registries").
//!
//! One version = one image manifest, tagged with the version (`+` → `_`): artifactType
//! [`ARTIFACT_TYPE`], the empty config, one [`LAYER_GZIP`] layer, and annotations carrying
//! the name, version, content digest, dependencies and description, so resolution reads
//! manifests only. Pins are the sha256 of the manifest bytes and the layer digest; both are
//! verified before anything is unpacked, and the layer is kept in the cache by digest.
//!
//! The transport is `oci-client` (async, reqwest) driven by a private current-thread tokio
//! runtime built on first use: every public function here blocks, nothing async leaves
//! this file. Plain http is used only for a loopback registry (`127.0.0.1:PORT`).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use serde::{Deserialize, Serialize};

use super::archive::Format;
use super::cache::sha256;
use super::{Dep, Fetch, Net, Release, RemoteError};
use crate::manifest::tree::BundleTree;

/// The `artifactType` of a capm bundle manifest.
pub const ARTIFACT_TYPE: &str = "application/vnd.capm.bundle.v1";
/// The media type of the layer holding a `.tar.gz` archive.
pub const LAYER_GZIP: &str = "application/vnd.capm.bundle.layer.v1.tar+gzip";
/// The media type of the layer holding a `.tar.zst` archive (accepted on read).
pub const LAYER_ZSTD: &str = "application/vnd.capm.bundle.layer.v1.tar+zstd";
const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const EMPTY_TYPE: &str = "application/vnd.oci.empty.v1+json";
const EMPTY_DIGEST: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
const A_NAME: &str = "dev.capm.bundle.name";
const A_DIGEST: &str = "dev.capm.bundle.content-digest";
const A_DEPS: &str = "dev.capm.bundle.dependencies";
const A_VERSION: &str = "org.opencontainers.image.version";
const A_DESCRIPTION: &str = "org.opencontainers.image.description";
const A_TITLE: &str = "org.opencontainers.image.title";
/// Tags asked for per page of `tags/list`.
const TAGS_PAGE: usize = 1000;
/// Manifests fetched at once while listing releases.
const PARALLEL_PULLS: usize = 8;

/// What a bundle version is pushed as, besides its files.
#[derive(Clone, Debug)]
pub struct PushMeta {
    pub name: String,
    pub version: semver::Version,
    pub description: String,
    pub deps: Vec<Dep>,
}

/// What a push did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pushed {
    New {
        name: String,
        version: String,
        /// `host/repo:tag`.
        reference: String,
        /// The sha256 of the manifest bytes.
        manifest: String,
        /// The bundle's content digest.
        digest: String,
    },
    /// The tag already holds this content; nothing was written.
    Unchanged {
        name: String,
        version: String,
        reference: String,
    },
}

/// A capm bundle manifest as it is written and read.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    schema_version: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    artifact_type: Option<String>,
    config: OciDescriptor,
    layers: Vec<OciDescriptor>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// One OCI repository (`ghcr.io/org/kit`) holding the versions of one bundle.
pub struct OciSource {
    repository: String,
}

/// The tag of a version: `+` is not allowed in a tag.
pub fn tag_of(version: &semver::Version) -> String {
    version.to_string().replace('+', "_")
}

/// The version a tag names: semver after an optional `v`, `_` read as `+`.
pub fn version_of_tag(tag: &str) -> Option<semver::Version> {
    let t = tag.strip_prefix('v').unwrap_or(tag);
    semver::Version::parse(&t.replace('_', "+")).ok()
}

fn oci_err(reference: &str, message: impl std::fmt::Display) -> RemoteError {
    RemoteError::Oci {
        reference: reference.to_string(),
        message: message.to_string(),
    }
}

/// Maps a client error; a failed digest check is SC-002.
fn from_client(reference: &str, e: OciDistributionError) -> RemoteError {
    use oci_client::errors::DigestError;
    match e {
        OciDistributionError::DigestError(DigestError::VerificationError { expected, actual }) => {
            RemoteError::Digest {
                what: format!("layer of {reference}"),
                expected,
                actual,
            }
        }
        OciDistributionError::UnauthorizedError { url } => oci_err(
            reference,
            format!(
                "not authorized at {url}; set CAPM_OCI_USERNAME and CAPM_OCI_PASSWORD, or an \
                 `auths` entry in Docker's config.json (`docker login`)"
            ),
        ),
        other => oci_err(reference, with_causes(&other)),
    }
}

/// An error and its causes, `: `-separated (reqwest's own message omits the cause).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let part = c.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = c.source();
    }
    text
}

fn not_found(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        OciDistributionError::ServerError { code, .. } => *code == 404,
        OciDistributionError::RegistryError { envelope, .. } => envelope.errors.iter().any(|e| {
            matches!(
                e.code,
                OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown
            )
        }),
        _ => false,
    }
}

/// Runs a future on the private runtime.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            // reqwest is built without a crypto provider: install ring, as ureq uses.
            let _ = rustls::crypto::ring::default_provider().install_default();
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a current-thread runtime builds")
        })
        .block_on(f)
}

/// Runs a request to a registry on the private runtime, counted as a fetch of `shown`
/// (`host/repository`, with a tag or digest); in an armed operation (`capm serve`), given
/// up once it is cancelled.
fn pull<F>(shown: &str, f: F) -> Result<F::Output, RemoteError>
where
    F: std::future::Future,
    F::Output: Pulled,
{
    let url = format!("oci://{shown}");
    let cancelled = || RemoteError::Cancelled {
        url: url.clone(),
        cause: crate::operation::Cancelled,
    };
    let out = if crate::operation::armed() {
        crate::operation::checkpoint().map_err(|_| cancelled())?;
        let watch = async {
            while !crate::operation::cancelled() {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        };
        let (f, watch) = (std::pin::pin!(f), std::pin::pin!(watch));
        match block_on(futures_util::future::select(f, watch)) {
            futures_util::future::Either::Left((out, _)) => out,
            futures_util::future::Either::Right(_) => return Err(cancelled()),
        }
    } else {
        block_on(f)
    };
    if out.succeeded() {
        super::fetched(&url);
    }
    Ok(out)
}

/// What a pull brings back: counted as a fetch only when it succeeded, as over HTTP.
trait Pulled {
    fn succeeded(&self) -> bool;
}

impl<T, E> Pulled for Result<T, E> {
    fn succeeded(&self) -> bool {
        self.is_ok()
    }
}

impl<T: Pulled> Pulled for Vec<T> {
    fn succeeded(&self) -> bool {
        self.iter().all(Pulled::succeeded)
    }
}

/// Parses `host/repo` (no tag, no digest).
fn parse_repository(repository: &str) -> Result<Reference, RemoteError> {
    let r: Reference = repository
        .parse()
        .map_err(|e| oci_err(repository, format!("not an OCI repository: {e}")))?;
    let last = repository.rsplit('/').next().unwrap_or_default();
    if last.contains([':', '@']) || !repository.contains('/') {
        return Err(oci_err(
            repository,
            "expected HOST/REPOSITORY without a tag or digest",
        ));
    }
    Ok(r)
}

fn is_loopback(registry: &str) -> bool {
    let host = registry
        .rsplit_once(':')
        .filter(|(h, p)| p.parse::<u16>().is_ok() && !h.is_empty())
        .map_or(registry, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A client for one registry, and the credentials to use with it.
struct Session {
    client: Client,
    auth: RegistryAuth,
    reference: Reference,
}

impl Session {
    fn open(repository: &str, net: &Net) -> Result<Session, RemoteError> {
        let reference = parse_repository(repository)?;
        let registry = reference.resolve_registry().to_string();
        let protocol = if is_loopback(&registry) {
            ClientProtocol::HttpsExcept(vec![registry.clone()])
        } else {
            ClientProtocol::Https
        };
        let mut config = ClientConfig {
            protocol,
            read_timeout: Some(net.http.timeout),
            connect_timeout: Some(net.http.timeout),
            ..ClientConfig::default()
        };
        if let Some(path) = &net.http.ca_file {
            let data = std::fs::read(path).map_err(|source| RemoteError::Io {
                path: path.clone(),
                source,
            })?;
            config.tls_certs_only = vec![oci_client::client::Certificate {
                encoding: oci_client::client::CertificateEncoding::Pem,
                data,
            }];
        }
        let auth = auth::lookup(reference.registry())?;
        let client = block_on(async { Client::new(config) });
        Ok(Session {
            client,
            auth,
            reference,
        })
    }

    /// `host/repository`.
    fn name(&self) -> String {
        format!(
            "{}/{}",
            self.reference.registry(),
            self.reference.repository()
        )
    }

    fn at(&self, tag_or_digest: &str) -> Reference {
        let (registry, repo) = (
            self.reference.registry().to_string(),
            self.reference.repository().to_string(),
        );
        if tag_or_digest.starts_with("sha256:") {
            Reference::with_digest(registry, repo, tag_or_digest.to_string())
        } else {
            Reference::with_tag(registry, repo, tag_or_digest.to_string())
        }
    }

    fn shown(&self, tag_or_digest: &str) -> String {
        let sep = if tag_or_digest.starts_with("sha256:") {
            '@'
        } else {
            ':'
        };
        format!("{}{sep}{tag_or_digest}", self.name())
    }

    /// The manifest bytes at a tag or digest; `None` when the registry has none there.
    fn manifest_bytes(&self, at: &str) -> Result<Option<Vec<u8>>, RemoteError> {
        pull(&self.shown(at), self.pull_manifest(at))?
    }

    async fn pull_manifest(&self, at: &str) -> Result<Option<Vec<u8>>, RemoteError> {
        let r = self.at(at);
        let pulled = self
            .client
            .pull_manifest_raw(&r, &self.auth, &[MANIFEST_TYPE])
            .await;
        match pulled {
            Ok((bytes, _)) => Ok(Some(bytes.to_vec())),
            Err(e) if not_found(&e) => Ok(None),
            Err(e) => Err(from_client(&self.shown(at), e)),
        }
    }

    /// The manifests at `tags`, in order, [`PARALLEL_PULLS`] at a time.
    fn manifests(&self, tags: &[String]) -> Result<Vec<Option<Vec<u8>>>, RemoteError> {
        use futures_util::StreamExt;
        let pulls = futures_util::stream::iter(tags.iter().map(|t| self.pull_manifest(t)))
            .buffered(PARALLEL_PULLS)
            .collect::<Vec<_>>();
        pull(&self.name(), pulls)?.into_iter().collect()
    }

    /// Every tag, page by page. oci-client does not expose the `Link` header, and some
    /// registries cap a page below the `n` asked for, so paging stops at the first page
    /// that brings no new tag (one request more than the `Link` header would need).
    fn tags(&self) -> Result<Vec<String>, RemoteError> {
        self.tags_by(TAGS_PAGE)
    }

    fn tags_by(&self, page_size: usize) -> Result<Vec<String>, RemoteError> {
        let mut all: Vec<String> = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        loop {
            let last = all.last().cloned();
            let page = pull(
                &self.name(),
                self.client.list_tags(
                    &self.reference,
                    &self.auth,
                    Some(page_size),
                    last.as_deref(),
                ),
            )?;
            let page = match page {
                Ok(p) => p.tags,
                Err(e) if not_found(&e) => Vec::new(),
                Err(e) => return Err(from_client(&self.name(), e)),
            };
            let before = all.len();
            all.extend(page.into_iter().filter(|t| seen.insert(t.clone())));
            if all.len() == before {
                return Ok(all);
            }
        }
    }
}

/// A manifest with what capm requires of it checked: the artifact and layer types, one
/// layer, and the annotations.
struct Checked {
    manifest: Manifest,
    format: Format,
}

fn check_manifest(shown: &str, bytes: &[u8]) -> Result<Checked, RemoteError> {
    let bad = |m: &str| oci_err(shown, m);
    let manifest: Manifest = serde_json::from_slice(bytes)
        .map_err(|e| bad(&format!("the manifest is not valid JSON: {e}")))?;
    if manifest.artifact_type.as_deref() != Some(ARTIFACT_TYPE) {
        return Err(bad(&format!(
            "not a capm bundle: artifactType is {:?}, expected {ARTIFACT_TYPE}",
            manifest.artifact_type.as_deref().unwrap_or("absent")
        )));
    }
    let [layer] = manifest.layers.as_slice() else {
        return Err(bad("a capm bundle manifest has exactly one layer"));
    };
    let format = match layer.media_type.as_str() {
        LAYER_GZIP => Format::TarGz,
        LAYER_ZSTD => Format::TarZst,
        other => return Err(bad(&format!("unknown layer type {other}"))),
    };
    for key in [A_NAME, A_VERSION, A_DIGEST] {
        if !manifest.annotations.contains_key(key) {
            return Err(bad(&format!("the manifest lacks the annotation {key}")));
        }
    }
    Ok(Checked { manifest, format })
}

/// The manifest a push writes.
fn manifest_for(meta: &PushMeta, digest: &str, layer: &[u8]) -> Manifest {
    let deps: Vec<_> = meta
        .deps
        .iter()
        .map(|d| serde_json::json!({"name": d.name, "req": d.req, "optional": d.optional}))
        .collect();
    let annotations = BTreeMap::from([
        (A_VERSION.to_string(), meta.version.to_string()),
        (A_DESCRIPTION.to_string(), meta.description.clone()),
        (A_NAME.to_string(), meta.name.clone()),
        (A_DIGEST.to_string(), digest.to_string()),
        (
            A_DEPS.to_string(),
            serde_json::Value::from(deps).to_string(),
        ),
    ]);
    let title = format!("{}-{}.tar.gz", meta.name, meta.version);
    Manifest {
        schema_version: 2,
        media_type: Some(MANIFEST_TYPE.to_string()),
        artifact_type: Some(ARTIFACT_TYPE.to_string()),
        config: OciDescriptor {
            media_type: EMPTY_TYPE.to_string(),
            digest: EMPTY_DIGEST.to_string(),
            size: 2,
            ..OciDescriptor::default()
        },
        layers: vec![OciDescriptor {
            media_type: LAYER_GZIP.to_string(),
            digest: sha256(layer),
            size: layer.len() as i64,
            annotations: Some(BTreeMap::from([(A_TITLE.to_string(), title)])),
            ..OciDescriptor::default()
        }],
        annotations,
    }
}

/// Pushes a bundle version to `repository` (`host/repo`) under the tag of its version.
/// A tag that already holds other content is refused: a version never changes.
pub fn push(
    tree: &BundleTree,
    meta: &PushMeta,
    repository: &str,
    net: &Net,
) -> Result<Pushed, RemoteError> {
    if net.offline {
        return Err(RemoteError::Offline {
            missing: vec![format!("pushing to {repository} needs the network")],
        });
    }
    let session = Session::open(repository, net)?;
    let tag = tag_of(&meta.version);
    let shown = session.shown(&tag);
    let digest = tree.content_digest();
    if let Some(bytes) = session.manifest_bytes(&tag)? {
        let existing = check_manifest(&shown, &bytes)?.manifest.annotations[A_DIGEST].clone();
        if existing == digest {
            return Ok(Pushed::Unchanged {
                name: meta.name.clone(),
                version: meta.version.to_string(),
                reference: shown,
            });
        }
        return Err(RemoteError::VersionTaken {
            reference: shown,
            existing,
        });
    }
    let layer = super::archive::pack(tree);
    let manifest = manifest_for(meta, &digest, &layer);
    let body = serde_json::to_vec(&manifest).expect("a manifest serialises");
    let at = session.at(&tag);
    let c = &session.client;
    block_on(async {
        c.store_auth_if_needed(at.resolve_registry(), &session.auth)
            .await;
        c.push_blob(&at, &b"{}"[..], EMPTY_DIGEST).await?;
        c.push_blob(&at, layer.clone(), &manifest.layers[0].digest)
            .await?;
        let ct = reqwest_header(MANIFEST_TYPE);
        c.push_manifest_raw(&at, body.clone(), ct).await
    })
    .map_err(|e| from_client(&shown, e))?;
    Ok(Pushed::New {
        name: meta.name.clone(),
        version: meta.version.to_string(),
        reference: shown,
        manifest: sha256(&body),
        digest,
    })
}

fn reqwest_header(value: &'static str) -> http::HeaderValue {
    http::HeaderValue::from_static(value)
}

/// The tag → manifest digest map last seen, kept for `--offline`.
#[derive(Default, Serialize, Deserialize)]
struct TagsFile {
    tags: BTreeMap<String, String>,
}

impl OciSource {
    pub fn new(repository: &str) -> OciSource {
        OciSource {
            repository: repository.to_string(),
        }
    }

    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The versions whose tag matches `req`, newest first. Offline, the tags and manifests
    /// last fetched answer.
    pub fn releases(
        &self,
        req: &semver::VersionReq,
        net: &Net,
    ) -> Result<Vec<Release>, RemoteError> {
        let tags = if net.offline {
            self.cached_tags(net)?
        } else {
            self.fetch_tags(req, net)?
        };
        let mut out = Vec::new();
        for (tag, digest) in &tags.tags {
            let version = version_of_tag(tag).filter(|v| req.matches(v));
            let Some(version) = version else { continue };
            let shown = format!("{}@{digest}", self.repository);
            let bytes = net
                .cache
                .blob(digest)?
                .ok_or_else(|| RemoteError::Offline {
                    missing: vec![format!("the manifest {shown} is not in the cache")],
                })?;
            out.push(self.release(&shown, version, digest, &bytes)?);
        }
        out.sort_by(|a, b| b.version.cmp(&a.version));
        Ok(out)
    }

    /// The release of one manifest, by its sha256 (as capm.lock pins it): from the cache,
    /// else pulled by digest and checked. Its version is the one it is annotated with.
    pub fn pinned(&self, manifest: &str, net: &Net) -> Result<Release, RemoteError> {
        let shown = format!("{}@{manifest}", self.repository);
        let bytes = match net.cache.blob(manifest)? {
            Some(bytes) => bytes,
            None if net.offline => {
                return Err(RemoteError::Offline {
                    missing: vec![format!("the manifest {shown} is not in the cache")],
                });
            }
            None => {
                let bytes = manifest_by_digest(&Session::open(&self.repository, net)?, manifest)?;
                net.cache.put_blob(manifest, &bytes)?;
                bytes
            }
        };
        let annotated = check_manifest(&shown, &bytes)?.manifest.annotations[A_VERSION].clone();
        let version = semver::Version::parse(&annotated)
            .map_err(|e| oci_err(&shown, format!("annotated version {annotated:?}: {e}")))?;
        self.release(&shown, version, manifest, &bytes)
    }

    fn tags_key(&self) -> String {
        super::Cache::key(&format!("oci://{}", self.repository))
    }

    fn cached_tags(&self, net: &Net) -> Result<TagsFile, RemoteError> {
        let path = net.cache.dir("oci", &self.tags_key()).join("tags.json");
        let missing = || RemoteError::Offline {
            missing: vec![format!(
                "the tags of {} are not in the cache",
                self.repository
            )],
        };
        let bytes = std::fs::read(&path).map_err(|_| missing())?;
        serde_json::from_slice(&bytes).map_err(|_| missing())
    }

    /// Lists the tags, fetches the manifests of those `req` matches into the cache, and
    /// records tag → manifest digest (replacing what was recorded for versions `req`
    /// matches, keeping the others for another requirement offline).
    fn fetch_tags(&self, req: &semver::VersionReq, net: &Net) -> Result<TagsFile, RemoteError> {
        let session = Session::open(&self.repository, net)?;
        let tags: Vec<String> = session
            .tags()?
            .into_iter()
            .filter(|t| version_of_tag(t).is_some_and(|v| req.matches(&v)))
            .collect();
        let manifests = session.manifests(&tags)?;
        let mut file = self.cached_tags(net).unwrap_or_default();
        file.tags
            .retain(|t, _| !version_of_tag(t).is_some_and(|v| req.matches(&v)));
        let mut seen: BTreeMap<semver::Version, String> = BTreeMap::new();
        for (tag, bytes) in tags.into_iter().zip(manifests) {
            let Some(bytes) = bytes else { continue };
            let digest = sha256(&bytes);
            let version = version_of_tag(&tag).expect("filtered above");
            if seen
                .insert(version.clone(), digest.clone())
                .is_some_and(|d| d != digest)
            {
                return Err(oci_err(
                    &session.shown(&tag),
                    format!("two tags name version {version} with different manifests"),
                ));
            }
            net.cache.put_blob(&digest, &bytes)?;
            file.tags.insert(tag, digest);
        }
        let path = net.cache.dir("oci", &self.tags_key()).join("tags.json");
        net.cache
            .write(&path, &serde_json::to_vec(&file).expect("tags serialise"))?;
        Ok(file)
    }

    fn release(
        &self,
        shown: &str,
        version: semver::Version,
        manifest_digest: &str,
        bytes: &[u8],
    ) -> Result<Release, RemoteError> {
        let Checked { manifest, format } = check_manifest(shown, bytes)?;
        let a = &manifest.annotations;
        if a[A_VERSION] != version.to_string() {
            return Err(oci_err(
                shown,
                format!("tagged {version} but annotated {}", a[A_VERSION]),
            ));
        }
        let deps = match a.get(A_DEPS) {
            Some(json) => parse_deps(json).map_err(|m| oci_err(shown, m))?,
            None => Vec::new(),
        };
        Ok(Release {
            name: a[A_NAME].clone(),
            version,
            digest: a[A_DIGEST].clone(),
            deps,
            description: a.get(A_DESCRIPTION).cloned().unwrap_or_default(),
            keywords: Vec::new(),
            yanked: false,
            fetch: Fetch::Oci {
                repository: self.repository.clone(),
                manifest: manifest_digest.to_string(),
                layer: manifest.layers[0].digest.clone(),
                format,
            },
        })
    }
}

fn parse_deps(json: &str) -> Result<Vec<Dep>, String> {
    #[derive(Deserialize)]
    struct D {
        name: String,
        req: String,
        #[serde(default)]
        optional: bool,
    }
    let deps: Vec<D> = serde_json::from_str(json)
        .map_err(|e| format!("the annotation {A_DEPS} is not valid: {e}"))?;
    Ok(deps
        .into_iter()
        .map(|d| Dep {
            name: d.name,
            req: d.req,
            optional: d.optional,
        })
        .collect())
}

/// The files of a pinned release: the layer from the cache, else pulled (manifest by
/// digest first, then the layer), each verified before use; then the content digest.
pub fn materialize(fetch: &Fetch, content: &str, net: &Net) -> Result<BundleTree, RemoteError> {
    let Fetch::Oci {
        repository,
        manifest,
        layer,
        format,
    } = fetch
    else {
        panic!("oci::materialize called with {fetch:?}");
    };
    let shown = format!("{repository}@{manifest}");
    let bytes = match net.cache.blob(layer)? {
        Some(bytes) => bytes,
        None if net.offline => {
            return Err(RemoteError::Offline {
                missing: vec![format!("{shown}: the layer {layer} is not in the cache")],
            });
        }
        None => pull_layer(repository, manifest, layer, net)?,
    };
    let tree = super::archive::unpack(&bytes, *format, &shown)?;
    super::check_content(tree, content, &shown)
}

/// The bytes of the manifest whose sha256 is `manifest`, pulled by that digest and checked
/// (SC-002 when they are other bytes).
fn manifest_by_digest(session: &Session, manifest: &str) -> Result<Vec<u8>, RemoteError> {
    let shown = session.shown(manifest);
    let body = session
        .manifest_bytes(manifest)?
        .ok_or_else(|| oci_err(&shown, "the registry has no such manifest"))?;
    let actual = sha256(&body);
    if actual != manifest {
        return Err(RemoteError::Digest {
            what: format!("the manifest {shown}"),
            expected: manifest.to_string(),
            actual,
        });
    }
    Ok(body)
}

/// Pulls `repository@manifest`, checks it names `layer`, pulls the layer, and caches both.
fn pull_layer(
    repository: &str,
    manifest: &str,
    layer: &str,
    net: &Net,
) -> Result<Vec<u8>, RemoteError> {
    let session = Session::open(repository, net)?;
    let shown = session.shown(manifest);
    let body = manifest_by_digest(&session, manifest)?;
    let checked = check_manifest(&shown, &body)?;
    let desc = &checked.manifest.layers[0];
    if desc.digest != layer {
        return Err(RemoteError::Digest {
            what: format!("the layer named by {shown}"),
            expected: layer.to_string(),
            actual: desc.digest.clone(),
        });
    }
    let mut bytes: Vec<u8> = Vec::new();
    pull(
        &shown,
        session
            .client
            .pull_blob(&session.at(manifest), desc, &mut bytes),
    )?
    .map_err(|e| from_client(&shown, e))?;
    // pull_blob checks the digest as it streams; check again what is kept.
    net.cache.put_blob(layer, &bytes)?;
    net.cache.put_blob(manifest, &body)?;
    Ok(bytes)
}

mod auth {
    //! Credentials for a registry: `CAPM_OCI_USERNAME` / `CAPM_OCI_PASSWORD`, else
    //! `auths.<host>.auth` of Docker's `config.json` (`$DOCKER_CONFIG`, else
    //! `~/.docker`), else anonymous.
    use base64::Engine;
    use oci_client::secrets::RegistryAuth;

    use super::RemoteError;

    pub(super) fn lookup(registry: &str) -> Result<RegistryAuth, RemoteError> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        if let (Some(user), Some(pass)) = (var("CAPM_OCI_USERNAME"), var("CAPM_OCI_PASSWORD")) {
            return Ok(RegistryAuth::Basic(user, pass));
        }
        let dir = var("DOCKER_CONFIG")
            .map(std::path::PathBuf::from)
            .or_else(|| var("HOME").map(|h| std::path::Path::new(&h).join(".docker")));
        let Some(path) = dir.map(|d| d.join("config.json")) else {
            return Ok(RegistryAuth::Anonymous);
        };
        let Ok(bytes) = std::fs::read(&path) else {
            return Ok(RegistryAuth::Anonymous);
        };
        from_config(&bytes, registry).map_err(|m| RemoteError::Oci {
            reference: registry.to_string(),
            message: format!("{}: {m}", path.display()),
        })
    }

    /// `auths.<registry>.auth` (base64 of `user:password`) of a Docker config.
    pub(super) fn from_config(bytes: &[u8], registry: &str) -> Result<RegistryAuth, String> {
        let config: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON: {e}"))?;
        let Some(auth) = config
            .pointer(&format!("/auths/{}/auth", registry.replace('/', "~1")))
            .and_then(|a| a.as_str())
        else {
            return Ok(RegistryAuth::Anonymous);
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth)
            .map_err(|e| format!("auths.{registry}.auth is not base64: {e}"))?;
        let text = String::from_utf8(decoded)
            .map_err(|_| format!("auths.{registry}.auth is not UTF-8"))?;
        let (user, pass) = text
            .split_once(':')
            .ok_or_else(|| format!("auths.{registry}.auth is not USER:PASSWORD"))?;
        Ok(RegistryAuth::Basic(user.to_string(), pass.to_string()))
    }
}

#[cfg(test)]
#[path = "../../tests/common/oci_registry.rs"]
#[allow(dead_code)]
mod oci_registry;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_of_tags_is_read() {
        let Some(reg) = oci_registry::OciRegistry::start("every_page_of_tags_is_read") else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let net = Net::new(dir.path().join("cache"));
        let repo = format!("{}/capm/kit", reg.host);
        for minor in 0..5 {
            let version = semver::Version::new(1, minor, 0);
            let manifest = format!("[bundle]\nversion = \"{version}\"\n");
            let tree = BundleTree::from_files("kit", [("bundle.toml", manifest.as_bytes())]);
            let meta = PushMeta {
                name: "kit".into(),
                version,
                description: String::new(),
                deps: Vec::new(),
            };
            push(&tree, &meta, &repo, &net).unwrap();
        }
        let session = Session::open(&repo, &net).unwrap();
        let mut tags = session.tags_by(2).unwrap();
        tags.sort();
        assert_eq!(tags, ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0"]);
    }

    #[test]
    fn tags_and_versions_round_trip() {
        let v = semver::Version::parse("1.2.0+build.5").unwrap();
        assert_eq!(tag_of(&v), "1.2.0_build.5");
        assert_eq!(version_of_tag("1.2.0_build.5"), Some(v));
        assert_eq!(
            version_of_tag("v2.0.0"),
            Some(semver::Version::new(2, 0, 0))
        );
        assert_eq!(version_of_tag("latest"), None);
    }

    #[test]
    fn only_loopback_registries_are_plain_http() {
        assert!(is_loopback("127.0.0.1:5000"));
        assert!(is_loopback("localhost:5000"));
        assert!(is_loopback("[::1]:5000"));
        assert!(!is_loopback("ghcr.io"));
        assert!(!is_loopback("10.0.0.1:5000"));
    }

    #[test]
    fn docker_config_gives_basic_credentials() {
        let cfg = br#"{"auths":{"reg.example.com":{"auth":"dTpw"}}}"#;
        let got = auth::from_config(cfg, "reg.example.com").unwrap();
        assert!(matches!(got, RegistryAuth::Basic(u, p) if u == "u" && p == "p"));
        let other = auth::from_config(cfg, "ghcr.io").unwrap();
        assert!(matches!(other, RegistryAuth::Anonymous));
        assert!(auth::from_config(br#"{"auths":{"h":{"auth":"!"}}}"#, "h").is_err());
    }

    #[test]
    fn foreign_manifests_are_refused() {
        let other = br#"{"schemaVersion":2,"artifactType":"application/x","config":{"mediaType":"a","digest":"sha256:00","size":2},"layers":[]}"#;
        let err = check_manifest("r", other).err().unwrap();
        assert!(err.to_string().contains("not a capm bundle"), "{err}");
        let meta = PushMeta {
            name: "kit".into(),
            version: semver::Version::new(1, 0, 0),
            description: String::new(),
            deps: Vec::new(),
        };
        let mut m = manifest_for(&meta, "sha256:ab", b"layer");
        m.layers[0].media_type = "application/vnd.oci.image.layer.v1.tar".into();
        let err = check_manifest("r", &serde_json::to_vec(&m).unwrap())
            .err()
            .unwrap();
        assert!(err.to_string().contains("unknown layer type"), "{err}");
    }
}
