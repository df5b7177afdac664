//! A real OCI registry for tests: Debian's `docker-registry` (the CNCF distribution
//! registry) serving a temporary directory on 127.0.0.1, on a port the OS picked, killed
//! when dropped. The binary comes from `CAPM_DOCKER_REGISTRY` or PATH (`.ci/run` installs
//! it); without it a test is skipped, loudly, except under `CI=true` where it fails.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

pub struct OciRegistry {
    child: Child,
    storage: tempfile::TempDir,
    /// `127.0.0.1:PORT`.
    pub host: String,
}

impl Drop for OciRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CAPM_DOCKER_REGISTRY").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("docker-registry"))
        .find(|p| p.is_file())
}

impl OciRegistry {
    /// A running registry, or `None` (after saying why) when the binary is missing.
    pub fn start(test: &str) -> Option<OciRegistry> {
        Self::start_with(test, None)
    }

    /// A registry that wants Basic credentials: `htpasswd` is one `USER:BCRYPT-HASH` line.
    pub fn start_with_auth(test: &str, htpasswd: &str) -> Option<OciRegistry> {
        Self::start_with(test, Some(htpasswd))
    }

    fn start_with(test: &str, htpasswd: Option<&str>) -> Option<OciRegistry> {
        let Some(bin) = binary() else {
            let why = "docker-registry not found (set CAPM_DOCKER_REGISTRY; .ci/run installs it)";
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{test}: {why}");
            }
            // Past the test harness's capture, so the skip shows in every run.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "\n*** SKIPPED {test}: {why} ***\n");
            return None;
        };
        for _ in 0..3 {
            if let Some(r) = Self::try_start(&bin, htpasswd) {
                return Some(r);
            }
        }
        panic!("{test}: docker-registry did not start (3 attempts)");
    }

    fn try_start(bin: &Path, htpasswd: Option<&str>) -> Option<OciRegistry> {
        let storage = tempfile::Builder::new()
            .prefix("capm-oci-")
            .tempdir()
            .unwrap();
        // The port is free now; another process taking it first makes the registry exit,
        // and the caller tries again.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let host = format!("127.0.0.1:{port}");
        let config = storage.path().join("config.yml");
        let root = storage.path().join("data");
        let mut yml = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n",
            root.display()
        );
        if let Some(line) = htpasswd {
            let file = storage.path().join("htpasswd");
            std::fs::write(&file, format!("{line}\n")).unwrap();
            yml.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: capm\n    path: {}\n",
                file.display()
            ));
        }
        std::fs::write(&config, yml).unwrap();
        let child = Command::new(bin)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry starts");
        let mut registry = OciRegistry {
            child,
            storage,
            host,
        };
        registry.wait_ready().then_some(registry)
    }

    /// Polls `GET /v2/` until 200 (5 s); false when the process exits or never answers.
    fn wait_ready(&mut self) -> bool {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if self.child.try_wait().ok().flatten().is_some() {
                return false;
            }
            // 401: up, and asking for credentials.
            if matches!(self.get(&format!("http://{}/v2/", self.host)).0, 200 | 401) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Status and body of a plain GET.
    pub fn get(&self, url: &str) -> (u16, String) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        match agent.get(url).call() {
            Ok(mut r) => (
                r.status().as_u16(),
                r.body_mut().read_to_string().unwrap_or_default(),
            ),
            Err(_) => (0, String::new()),
        }
    }

    /// The manifest at `repo:tag`, as JSON.
    pub fn manifest(&self, repo: &str, tag: &str) -> serde_json::Value {
        let url = format!("http://{}/v2/{repo}/manifests/{tag}", self.host);
        let mut r = ureq::get(&url)
            .header("Accept", MANIFEST_TYPE)
            .call()
            .unwrap();
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap()
    }

    /// Stores `manifest` at `repo:tag` (its blobs must be there already).
    pub fn put_manifest(&self, repo: &str, tag: &str, manifest: &serde_json::Value) {
        let url = format!("http://{}/v2/{repo}/manifests/{tag}", self.host);
        ureq::put(&url)
            .header("Content-Type", MANIFEST_TYPE)
            .send(serde_json::to_vec(manifest).unwrap())
            .unwrap();
    }

    /// Links blob `digest` of repository `from` into `repo` (a cross-repository mount).
    pub fn mount_blob(&self, repo: &str, digest: &str, from: &str) {
        let url = format!(
            "http://{}/v2/{repo}/blobs/uploads/?mount={digest}&from={from}",
            self.host
        );
        let r = ureq::post(&url).send_empty().unwrap();
        assert_eq!(r.status().as_u16(), 201, "{digest} mounted into {repo}");
    }

    /// Deletes the manifest `digest` of `repo`, and so every tag naming it.
    pub fn delete_manifest(&self, repo: &str, digest: &str) {
        let url = format!("http://{}/v2/{repo}/manifests/{digest}", self.host);
        let r = ureq::delete(&url).call().unwrap();
        assert_eq!(r.status().as_u16(), 202, "{repo}@{digest} deleted");
    }

    /// The tags of a repository, as `tags/list` lists them.
    pub fn tags(&self, repo: &str) -> Vec<String> {
        let (status, body) = self.get(&format!("http://{}/v2/{repo}/tags/list", self.host));
        if status != 200 {
            return Vec::new();
        }
        let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
        doc["tags"]
            .as_array()
            .map(|t| t.iter().map(|t| t.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    }

    /// The file holding a blob in the registry's storage.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.storage
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}
