//! The HTTP transport of remote sources: GET with conditional requests (ETag /
//! Last-Modified), refusing plain `http://` except to a loopback address.

use super::{HttpSettings, RemoteError};

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

/// A blocking HTTP client shared by the threads of one capm process.
pub struct HttpClient {
    agent: ureq::Agent,
}

impl HttpClient {
    pub fn new(settings: &HttpSettings) -> Result<HttpClient, RemoteError> {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(settings.timeout))
            .build();
        Ok(HttpClient {
            agent: config.into(),
        })
    }

    /// GET `url`; with `have`, a conditional request.
    pub fn get(&self, url: &str, have: Option<&Validators>) -> Result<Got, RemoteError> {
        check_scheme(url)?;
        let mut req = self.agent.get(url);
        if let Some(v) = have {
            if let Some(e) = &v.etag {
                req = req.header("If-None-Match", e);
            }
            if let Some(m) = &v.last_modified {
                req = req.header("If-Modified-Since", m);
            }
        }
        let network = |e: ureq::Error| RemoteError::Network {
            url: url.to_string(),
            message: e.to_string(),
        };
        let mut resp = req.call().map_err(network)?;
        match resp.status().as_u16() {
            304 => return Ok(Got::NotModified),
            404 | 410 => return Ok(Got::Missing),
            200 => {}
            status => {
                return Err(RemoteError::Http {
                    url: url.to_string(),
                    status,
                });
            }
        }
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let validators = Validators {
            etag: header("etag"),
            last_modified: header("last-modified"),
        };
        let body = resp
            .body_mut()
            .with_config()
            .limit(crate::manifest::tree::MAX_BUNDLE_BYTES)
            .read_to_vec()
            .map_err(network)?;
        Ok(Got::Fresh { body, validators })
    }
}

/// `https://` anywhere; `http://` only to a loopback host.
fn check_scheme(url: &str) -> Result<(), RemoteError> {
    let parsed = url::Url::parse(url).map_err(|e| RemoteError::UrlRefused {
        rule: "invalid-url",
        url: url.to_string(),
        why: e.to_string(),
    })?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(RemoteError::UrlRefused {
            rule: "SRC-003",
            url: url.to_string(),
            why: "only https:// is fetched (http:// only from this machine)".into(),
        }),
    }
}
