//! Literal secrets never leave capm: a bundle carrying them in env values, arguments, a URL
//! query, a header and a template is refused, and neither `capm plan` (human and JSON) nor
//! `capm lint` (JSON and SARIF) nor `capm serve`'s plan result prints a byte of them.

use crate::support::{capm, serve_once, tempdir, write_files};

/// Fake credentials of real shapes, each distinct so that a leak names its place.
const SECRETS: &[&str] = &[
    "AIzaSyZk3Qp9LmX2vB7nR4tY8wE1aS6dF0gH5jK",
    "Qm7Rt2Vx9Lp4Nb8Kc3Hd6Fs1Gj5Wz0Ey",
    "Tg4Hk8Lm2Np6Qr0St5Uv9Wx3Yz7Ab1Cd",
    "tvly-Xa9Yb8Zc7Wd6Ve5Uf4Tg3Sh2Ri1Qj",
    "Pw3Rd9Kx2Lm8Nq4",
    "Hk5Jm1Np7Qs3Tv9Wx",
    "Zy8Xw7Vu6Ts5Rq4Po3Nm2Lk1Ji0Hg",
];

/// A bundle manifest named `name` with the given servers.
fn manifest(name: &str, servers: &str) -> String {
    format!(
        "[bundle]\nname = \"{name}\"\nversion = \"1.0.0\"\ndescription = \"Servers\"\n\n\
         [compatibility.product-modes]\ndesktop-local = \"supported\"\n\n{servers}"
    )
}

fn bundle() -> String {
    let s = SECRETS;
    let servers = format!(
        r#"[mcp.local]
command = "npx"
args = ["-y", "mcp-remote@0.1.0", "https://mcp.example.com/mcp", "--header", "Authorization: Bearer {}", "--upstream-key", "{}"]
env.MAPS = "{}"
env.DATABASE_URL = "postgresql://app:{}@db.example.com/app"

[mcp.remote]
url = "https://mcp.tavily.com/mcp/?tavilyApiKey={}"
headers.X-API-Key = "{}"
headers.Authorization = {{ template = "Bearer {}{{env:SUFFIX}}", secret = true }}
"#,
        s[1], s[2], s[0], s[4], s[3], s[5], s[6]
    );
    manifest("leaky", &servers)
}

fn project() -> tempfile::TempDir {
    let dir = tempdir();
    write_files(&dir.path().join("leaky"), &[("bundle.toml", &bundle())]);
    write_files(
        dir.path(),
        &[("capm.toml", "[bundles]\nleaky = { path = \"leaky\" }\n")],
    );
    dir
}

fn assert_no_secret(what: &str, out: &str) {
    for s in SECRETS {
        assert!(!out.contains(s), "{what} shows the secret `{s}`:\n{out}");
    }
}

#[test]
fn plans_refuse_literal_secrets_and_show_none() {
    let dir = project();
    for format in ["human", "json"] {
        let run = capm(dir.path(), &["plan", "install", "--format", format]);
        assert_eq!(run.code, 1, "{format}: {}", run.transcript());
        let all = format!("{}{}", run.stdout, run.stderr);
        assert_no_secret(&format!("plan --format {format}"), &all);
        for rule in ["ENV-001", "URL-010", "URL-011"] {
            assert!(all.contains(rule), "{format}: no {rule}:\n{all}");
        }
    }
    assert!(
        !dir.path().join("opencode.json").exists(),
        "a refused plan writes nothing"
    );
}

#[test]
fn a_served_plan_shows_no_secret() {
    let dir = project();
    let request = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "plan",
        "params": {"project": dir.path(), "operation": "install", "bundles": ["leaky"]}});
    let out = serve_once(dir.path(), &[request]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("ENV-001"), "{stdout}");
    assert_no_secret("serve's plan", &stdout);
    assert_no_secret("serve's stderr", &String::from_utf8_lossy(&out.stderr));
}

#[test]
fn lint_reports_every_place_by_kind_and_shows_no_value() {
    let dir = project();
    for format in ["json", "sarif"] {
        let run = capm(dir.path(), &["lint", "leaky", "--format", format]);
        assert_eq!(run.code, 1, "{format}: {}", run.transcript());
        assert_no_secret(&format!("lint --format {format}"), &run.stdout);
        assert_no_secret(&format!("lint --format {format} (stderr)"), &run.stderr);
    }
    let json = capm(dir.path(), &["lint", "leaky", "--format", "json"]).stdout;
    for what in [
        "a Google API key",
        "a password in a connection string",
        "the header `Authorization` a literal value",
        "`--upstream-key`",
        "tavilyApiKey",
        "the header `X-API-Key`",
        "the template of the header `Authorization`",
    ] {
        assert!(json.contains(what), "no finding naming {what}:\n{json}");
    }
}

#[test]
fn references_in_the_same_places_pass() {
    let dir = tempdir();
    let servers = r#"[mcp.local]
command = "npx"
args = ["-y", "mcp-remote@0.1.0", "https://mcp.example.com/mcp", "--header", "Authorization: Bearer ${AUTH_TOKEN}"]
env.AUTH_TOKEN = { from-env = "AUTH_TOKEN", secret = true }
env.DATABASE_URL = { template = "postgresql://app:{env:DB_PASSWORD}@db.example.com/app", secret = true }

[mcp.remote]
url = "https://mcp.example.com/mcp?page=2&workspace=123e4567-e89b-12d3-a456-426614174000"
headers.X-API-Key = { from-env = "EXAMPLE_API_KEY", secret = true }
"#;
    let text = manifest("tidy", servers);
    write_files(&dir.path().join("tidy"), &[("bundle.toml", &text)]);
    let run = capm(dir.path(), &["lint", "tidy", "--format", "json"]);
    for rule in ["ENV-001", "URL-010", "URL-011"] {
        assert!(!run.stdout.contains(rule), "{rule}: {}", run.transcript());
    }
}
