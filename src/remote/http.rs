//! The HTTP transport of remote sources, over one pooled `ureq` agent per route: GET with
//! conditional requests (ETag / Last-Modified), timeouts and retries from [`HttpSettings`],
//! proxies from the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`),
//! the roots of `SSL_CERT_FILE`, bodies checked against their length and a size limit,
//! digest-checked downloads and up to [`MAX_IN_FLIGHT`] requests at once. Plain `http://`
//! is refused except to a loopback address. Each request is logged at debug level.

use std::io::Read;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{HttpSettings, RemoteError};

/// How many requests [`HttpClient::get_many`] keeps in flight.
pub const MAX_IN_FLIGHT: usize = 16;

/// The first pause before a retry; each next one is four times longer.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// What a response said about its body, for the next conditional request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// The answer to a GET.
#[derive(Debug, PartialEq, Eq)]
pub enum Got {
    Fresh {
        body: Vec<u8>,
        validators: Validators,
    },
    /// 304: what the caller has is current.
    NotModified,
    /// 404 or 410.
    Missing,
}

/// The proxy settings of the environment, as curl reads them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyEnv {
    /// For `https://` URLs: `HTTPS_PROXY` (or `https_proxy`), else `ALL_PROXY`.
    pub https: Option<String>,
    /// For `http://` URLs: `http_proxy` (or `HTTP_PROXY`), else `ALL_PROXY`.
    pub http: Option<String>,
    /// `NO_PROXY`: hosts (and their subdomains) reached directly; `*` for all.
    pub no_proxy: Vec<String>,
}

impl ProxyEnv {
    /// Reads the settings through `var` (the process environment in [`ProxyEnv::from_process`]).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> ProxyEnv {
        let first = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| var(n).filter(|v| !v.trim().is_empty()))
        };
        let all = first(&["ALL_PROXY", "all_proxy"]);
        ProxyEnv {
            https: first(&["HTTPS_PROXY", "https_proxy"]).or_else(|| all.clone()),
            http: first(&["http_proxy", "HTTP_PROXY"]).or(all),
            no_proxy: first(&["NO_PROXY", "no_proxy"])
                .map(|v| {
                    v.split(',')
                        .map(|h| h.trim().trim_start_matches("*.").trim_start_matches('.'))
                        .filter(|h| !h.is_empty())
                        .map(str::to_ascii_lowercase)
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    pub fn from_process() -> ProxyEnv {
        ProxyEnv::from_vars(|k| std::env::var(k).ok())
    }

    /// The proxy for `url`, if any: never for a loopback host or one `NO_PROXY` names.
    pub fn for_url(&self, url: &url::Url) -> Option<&str> {
        let host = url
            .host_str()?
            .trim_matches(['[', ']'])
            .to_ascii_lowercase();
        if is_loopback(url) || self.bypassed(&host) {
            return None;
        }
        match url.scheme() {
            "https" => self.https.as_deref(),
            _ => self.http.as_deref(),
        }
    }

    fn bypassed(&self, host: &str) -> bool {
        self.no_proxy.iter().any(|entry| {
            entry == "*"
                || host == entry
                || host
                    .strip_suffix(entry.as_str())
                    .is_some_and(|rest| rest.ends_with('.'))
        })
    }
}

/// A blocking HTTP client shared by the threads of one capm process (a clone shares its
/// connection pools).
#[derive(Clone)]
pub struct HttpClient {
    direct: ureq::Agent,
    /// An agent per proxy URL in use (at most two: https and http).
    proxied: Vec<(String, ureq::Agent)>,
    proxies: ProxyEnv,
    settings: HttpSettings,
    limit: u64,
}

impl HttpClient {
    /// The client this process shares (one connection pool), built with the settings of
    /// the first call: a process has one set of HTTP settings.
    pub fn shared(settings: &HttpSettings) -> Result<&'static HttpClient, RemoteError> {
        static SHARED: std::sync::OnceLock<HttpClient> = std::sync::OnceLock::new();
        if let Some(c) = SHARED.get() {
            return Ok(c);
        }
        let client = HttpClient::new(settings)?;
        Ok(SHARED.get_or_init(|| client))
    }

    /// A client with the proxies of the process environment.
    pub fn new(settings: &HttpSettings) -> Result<HttpClient, RemoteError> {
        HttpClient::with_proxies(settings, ProxyEnv::from_process())
    }

    /// A client with explicit proxy settings.
    pub fn with_proxies(
        settings: &HttpSettings,
        proxies: ProxyEnv,
    ) -> Result<HttpClient, RemoteError> {
        let tls = tls_config(settings.ca_file.as_deref())?;
        let direct = agent(settings, &tls, None)?;
        let mut proxied = Vec::new();
        for p in [&proxies.https, &proxies.http].into_iter().flatten() {
            if !proxied.iter().any(|(u, _)| u == p) {
                proxied.push((p.clone(), agent(settings, &tls, Some(p))?));
            }
        }
        Ok(HttpClient {
            direct,
            proxied,
            proxies,
            settings: settings.clone(),
            limit: crate::manifest::tree::MAX_BUNDLE_BYTES,
        })
    }

    /// The same client, refusing bodies larger than `bytes`.
    pub fn with_limit(mut self, bytes: u64) -> HttpClient {
        self.limit = bytes;
        self
    }

    /// GET `url`; with `have`, a conditional request. Retries connection failures, timeouts,
    /// 5xx and 429 up to `settings.retries` times, waiting 100 ms, 400 ms, 1.6 s….
    pub fn get(&self, url: &str, have: Option<&Validators>) -> Result<Got, RemoteError> {
        let parsed = check_scheme(url)?;
        let got = if crate::operation::armed() {
            // `capm serve`: a request cancelled meanwhile abandons the call in flight.
            let (me, owned, have) = (self.clone(), url.to_string(), have.cloned());
            crate::operation::abandonable(move || me.get_retrying(&parsed, &owned, have.as_ref()))
                .map_err(|_| RemoteError::Cancelled {
                url: url.to_string(),
                cause: crate::operation::Cancelled,
            })?
        } else {
            self.get_retrying(&parsed, url, have)
        };
        if got.is_ok() {
            super::fetched(url);
        }
        got
    }

    fn get_retrying(
        &self,
        parsed: &url::Url,
        url: &str,
        have: Option<&Validators>,
    ) -> Result<Got, RemoteError> {
        let mut pause = FIRST_BACKOFF;
        let mut attempt = 0;
        loop {
            crate::operation::checkpoint().map_err(|_| RemoteError::Cancelled {
                url: url.to_string(),
                cause: crate::operation::Cancelled,
            })?;
            match self.attempt(parsed, url, have) {
                Err(Failure::Transient(e)) if attempt < self.settings.retries => {
                    tracing::debug!(url, error = %e, "retrying in {} ms", pause.as_millis());
                    std::thread::sleep(pause);
                    pause *= 4;
                    attempt += 1;
                }
                Err(Failure::Transient(e) | Failure::Final(e)) => return Err(e),
                Ok(got) => return Ok(got),
            }
        }
    }

    /// GET `url` and check that the body has `digest` (`sha256:HEX`).
    pub fn get_verified(&self, url: &str, digest: &str) -> Result<Vec<u8>, RemoteError> {
        let body = match self.get(url, None)? {
            Got::Fresh { body, .. } => body,
            Got::Missing => {
                return Err(RemoteError::Http {
                    url: url.to_string(),
                    status: 404,
                });
            }
            Got::NotModified => {
                return Err(RemoteError::Http {
                    url: url.to_string(),
                    status: 304,
                });
            }
        };
        super::cache::check_digest(url.to_string(), digest, &body)?;
        Ok(body)
    }

    /// GETs every URL (each with its validators), up to [`MAX_IN_FLIGHT`] at once; the
    /// results in the order of `urls`.
    pub fn get_many(&self, urls: &[(String, Option<Validators>)]) -> Vec<Result<Got, RemoteError>> {
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<Result<Got, RemoteError>>>> =
            Mutex::new(urls.iter().map(|_| None).collect());
        std::thread::scope(|scope| {
            for _ in 0..urls.len().min(MAX_IN_FLIGHT) {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((url, have)) = urls.get(i) else {
                            break;
                        };
                        let got = self.get(url, have.as_ref());
                        results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(got);
                    }
                });
            }
        });
        results
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .into_iter()
            .map(|r| r.expect("every URL was fetched"))
            .collect()
    }

    fn agent_for(&self, url: &url::Url) -> &ureq::Agent {
        match self.proxies.for_url(url) {
            Some(p) => self
                .proxied
                .iter()
                .find(|(u, _)| u == p)
                .map_or(&self.direct, |(_, a)| a),
            None => &self.direct,
        }
    }

    /// One request, logged.
    fn attempt(
        &self,
        parsed: &url::Url,
        url: &str,
        have: Option<&Validators>,
    ) -> Result<Got, Failure> {
        let start = Instant::now();
        let result = self.exchange(parsed, url, have);
        let ms = start.elapsed().as_millis();
        match &result {
            Ok((status, _)) => tracing::debug!(method = "GET", url, status, ms, "http"),
            Err(e) => tracing::debug!(method = "GET", url, error = %e.error(), ms, "http"),
        }
        result.map(|(_, got)| got)
    }

    fn exchange(
        &self,
        parsed: &url::Url,
        url: &str,
        have: Option<&Validators>,
    ) -> Result<(u16, Got), Failure> {
        let mut req = self.agent_for(parsed).get(url);
        if let Some(v) = have {
            if let Some(e) = &v.etag {
                req = req.header("If-None-Match", e);
            }
            if let Some(m) = &v.last_modified {
                req = req.header("If-Modified-Since", m);
            }
        }
        let mut resp = req.call().map_err(|e| self.failure(url, e))?;
        let status = resp.status().as_u16();
        let got = match status {
            304 => Got::NotModified,
            404 | 410 => Got::Missing,
            200 => {
                let validators = validators(resp.headers());
                let body = self.read_body(url, &mut resp)?;
                Got::Fresh { body, validators }
            }
            _ => {
                let e = RemoteError::Http {
                    url: url.to_string(),
                    status,
                };
                return Err(if status >= 500 || status == 429 {
                    Failure::Transient(e)
                } else {
                    Failure::Final(e)
                });
            }
        };
        Ok((status, got))
    }

    /// The whole body, refused when longer than the limit or shorter than Content-Length.
    fn read_body(
        &self,
        url: &str,
        resp: &mut ureq::http::Response<ureq::Body>,
    ) -> Result<Vec<u8>, Failure> {
        let expected = resp
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        let too_large = || {
            Failure::Final(RemoteError::TooLarge {
                url: url.to_string(),
                limit: self.limit,
            })
        };
        if expected.is_some_and(|n| n > self.limit) {
            return Err(too_large());
        }
        let mut reader = resp.body_mut().with_config().limit(u64::MAX).reader();
        let mut body = Vec::with_capacity(expected.unwrap_or(0).min(1 << 20) as usize);
        let mut buf = [0u8; 64 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if expected.is_some() && !is_timeout(&e) => {
                    tracing::debug!(url, error = %e, "body cut short");
                    break;
                }
                Err(e) => return Err(self.io_failure(url, e)),
            };
            body.extend_from_slice(&buf[..n]);
            if body.len() as u64 > self.limit {
                return Err(too_large());
            }
        }
        match expected {
            Some(n) if (body.len() as u64) < n => Err(Failure::Transient(RemoteError::Truncated {
                url: url.to_string(),
                expected: n,
                got: body.len() as u64,
            })),
            _ => Ok(body),
        }
    }

    fn failure(&self, url: &str, e: ureq::Error) -> Failure {
        let network = |message: String| RemoteError::Network {
            url: url.to_string(),
            message,
        };
        match e {
            ureq::Error::Timeout(_) => Failure::Transient(self.timeout(url)),
            ureq::Error::Io(io) => self.io_failure(url, io),
            ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => {
                Failure::Transient(network(e.to_string()))
            }
            ureq::Error::BodyExceedsLimit(limit) => Failure::Final(RemoteError::TooLarge {
                url: url.to_string(),
                limit,
            }),
            other => Failure::Final(network(other.to_string())),
        }
    }

    fn io_failure(&self, url: &str, e: std::io::Error) -> Failure {
        match e.kind() {
            _ if is_timeout(&e) => Failure::Transient(self.timeout(url)),
            _ => Failure::Transient(RemoteError::Network {
                url: url.to_string(),
                message: plain(&e),
            }),
        }
    }

    fn timeout(&self, url: &str) -> RemoteError {
        RemoteError::Timeout {
            url: url.to_string(),
            after: self.settings.timeout,
        }
    }
}

/// Whether a read failed for want of data in time (ureq wraps its own timeouts).
fn is_timeout(e: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    matches!(e.kind(), K::TimedOut | K::WouldBlock)
        || e.get_ref()
            .and_then(|inner| inner.downcast_ref::<ureq::Error>())
            .is_some_and(|u| matches!(u, ureq::Error::Timeout(_)))
}

/// A failed attempt: worth retrying or not.
enum Failure {
    Transient(RemoteError),
    Final(RemoteError),
}

impl Failure {
    fn error(&self) -> &RemoteError {
        match self {
            Failure::Transient(e) | Failure::Final(e) => e,
        }
    }
}

fn validators(headers: &ureq::http::HeaderMap) -> Validators {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    Validators {
        etag: header("etag"),
        last_modified: header("last-modified"),
    }
}

/// An agent with the timeouts of `settings`: `timeout` to connect, for the response to
/// start and between two reads (a stalled server); twenty times that for a whole request.
fn agent(
    settings: &HttpSettings,
    tls: &ureq::tls::TlsConfig,
    proxy: Option<&str>,
) -> Result<ureq::Agent, RemoteError> {
    let proxy = proxy
        .map(|p| {
            ureq::Proxy::new(p).map_err(|e| RemoteError::Network {
                url: p.to_string(),
                message: format!("not a usable proxy: {e}"),
            })
        })
        .transpose()?;
    let t = Some(settings.timeout);
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(proxy)
        .tls_config(tls.clone())
        .timeout_connect(t)
        .timeout_recv_response(t)
        .timeout_per_read(t)
        .timeout_global(Some(settings.timeout * 20))
        .max_idle_connections_per_host(MAX_IN_FLIGHT)
        .build();
    Ok(config.into())
}

/// TLS with the built-in roots, or with the certificates of `ca_file` (`SSL_CERT_FILE`,
/// which, as for curl and git, names the whole bundle of trusted roots).
fn tls_config(ca_file: Option<&Path>) -> Result<ureq::tls::TlsConfig, RemoteError> {
    let builder = ureq::tls::TlsConfig::builder();
    let Some(path) = ca_file else {
        return Ok(builder.build());
    };
    let bad = |message: String| RemoteError::CaFile {
        path: path.to_path_buf(),
        message,
    };
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item.map_err(|e| bad(e.to_string()))? {
            ureq::tls::PemItem::Certificate(c) => certs.push(c),
            _ => continue,
        }
    }
    if certs.is_empty() {
        return Err(bad("holds no PEM certificate".into()));
    }
    Ok(builder
        .root_certs(ureq::tls::RootCerts::from(certs))
        .build())
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// `https://` anywhere; `http://` only to a loopback host.
/// An I/O error's message without the ` (os error N)` the platform appends: the URL the
/// message names is what the user needs, not the errno.
fn plain(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text,
    }
}

/// A registry URL capm.toml may name: `https://` (`http://` only to this machine), and
/// no credentials in it (SRC-002: they would sit in a committed file).
pub fn check_registry_url(url: &str) -> Result<(), RemoteError> {
    let parsed = check_scheme(url)?;
    if !parsed.password().unwrap_or_default().is_empty() || !parsed.username().is_empty() {
        return Err(RemoteError::UrlRefused {
            rule: "SRC-002",
            url: url.to_string(),
            why:
                "the URL holds credentials, which capm.toml would share with everyone who reads it"
                    .into(),
        });
    }
    Ok(())
}

fn check_scheme(url: &str) -> Result<url::Url, RemoteError> {
    let parsed = url::Url::parse(url).map_err(|e| RemoteError::UrlRefused {
        rule: "invalid-url",
        url: url.to_string(),
        why: e.to_string(),
    })?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if is_loopback(&parsed) => Ok(parsed),
        _ => Err(RemoteError::UrlRefused {
            rule: "SRC-003",
            url: url.to_string(),
            why: "only https:// is fetched (http:// only from this machine)".into(),
        }),
    }
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
