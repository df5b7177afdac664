//! Every MCP field capm renders, as OpenCode 1.18.33 reads it: `cwd`, `timeout`, `enabled`
//! and `oauth` reach `opencode debug config` as capm wrote them, and the file capm writes
//! validates against the `Config` schema of OpenCode's own OpenAPI document (`/doc`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::client::{OpenCode, binary};
use crate::mcp_fields_fixture::{BUNDLE, with_bundle};
use crate::support::capm_with;

const ENV: [(&str, &str); 2] = [
    ("EXAMPLE_CLIENT_ID", "client-123"),
    ("EXAMPLE_CLIENT_SECRET", "secret-456"),
];

/// The project with the `fields` bundle installed by capm.
fn installed() -> tempfile::TempDir {
    let dir = with_bundle(BUNDLE);
    let d = dir.path();
    let run = capm_with(d, &["install", "--yes"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    dir
}

#[test]
fn opencode_reads_every_rendered_mcp_field_as_capm_wrote_it() {
    let Some(bin) = binary("opencode_reads_every_rendered_mcp_field_as_capm_wrote_it") else {
        return;
    };
    let oc = OpenCode::new(bin);
    let dir = installed();
    let d = dir.path();
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("opencode.json")).unwrap()).unwrap();
    let secret = &written["mcp"]["remote-tool"]["oauth"]["clientSecret"];
    assert_eq!(secret, "{env:EXAMPLE_CLIENT_SECRET}", "{written:#}");

    let config = oc.config(d, &ENV);
    let mcp = &config["mcp"];
    assert_eq!(
        mcp["local-tool"], written["mcp"]["local-tool"],
        "{config:#}"
    );
    assert_eq!(mcp["local-tool"]["cwd"], "tools");
    assert_eq!(mcp["local-tool"]["timeout"], 120000);
    assert_eq!(mcp["local-tool"]["enabled"], false);
    // OpenCode expands the references capm wrote in place of the client's credentials; it
    // shows the secret masked.
    assert_eq!(
        mcp["remote-tool"],
        json!({
            "type": "remote", "url": "https://mcp.example.com/mcp", "enabled": true,
            "timeout": 45000,
            "oauth": {"clientId": "client-123", "clientSecret": "***", "scope": "read write"}
        }),
        "{config:#}"
    );
    assert_eq!(mcp["no-oauth"]["oauth"], false, "{config:#}");
}

#[test]
fn the_rendered_config_validates_against_opencodes_schema() {
    let Some(bin) = binary("the_rendered_config_validates_against_opencodes_schema") else {
        return;
    };
    let oc = OpenCode::new(bin);
    let dir = installed();
    let d = dir.path();
    let doc = openapi_doc(&oc, d);
    assert!(doc["info"]["version"].is_string(), "{}", doc["info"]);
    // The whole document, entered at its `Config` type, so its `$ref`s resolve.
    let mut schema = doc.clone();
    schema["$ref"] = json!("#/components/schemas/Config");
    let validator = jsonschema::validator_for(&schema).expect("OpenCode's schema compiles");
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("opencode.json")).unwrap()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&written)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{written:#}");
    // The schema is strict enough to notice a field OpenCode does not take.
    let mut wrong = written.clone();
    wrong["mcp"]["local-tool"]["transport"] = json!("stdio");
    assert!(!validator.is_valid(&wrong));
}

/// OpenCode's OpenAPI document: `opencode serve` on a free port of 127.0.0.1, GET /doc.
fn openapi_doc(oc: &OpenCode, project: &Path) -> Value {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Server(serve(oc, project, port));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(body) = get(port, "/doc") {
            let _ = server.0.kill();
            return serde_json::from_str(&body).expect("/doc is JSON");
        }
        let exited = server.0.try_wait().unwrap();
        assert!(
            exited.is_none() && Instant::now() < deadline,
            "no /doc: {exited:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(oc: &OpenCode, project: &Path, port: u16) -> Child {
    let port = port.to_string();
    let args = ["serve", "--hostname", "127.0.0.1", "--port", &port];
    oc.command(project, &args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("opencode serve starts")
}

/// The body of a 200 answer to `GET path`, or `None` while the server is not up. The
/// server may keep the connection open: the body is read to its `Content-Length`.
fn get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    s.write_all(request.as_bytes()).ok()?;
    let mut bytes = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        let n = s.read(&mut buf).ok()?;
        bytes.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&bytes);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            });
            if n == 0 || length.is_some_and(|len| body.len() >= len) {
                return head.starts_with("HTTP/1.1 200").then(|| body.to_string());
            }
        }
        if n == 0 {
            return None;
        }
    }
}
