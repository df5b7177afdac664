//! Keyword enumerations shared by the manifests: product modes, tiers, resource kinds and
//! the like. Each is spelled in TOML as a kebab-case string.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::decode::Keyword;

macro_rules! keyword_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal, $code:literal { $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant, )+
        }

        impl Keyword for $name {
            const WHAT: &'static str = $what;
            const CODE: &'static str = $code;
            fn all() -> &'static [Self] {
                &[$($name::$variant),+]
            }
            fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

keyword_enum! {
    /// Where the agent runtime runs. Every mode but `desktop-local` is remote.
    ProductMode, "product mode", "unknown-product-mode" {
        DesktopLocal = "desktop-local",
        DesktopCloud = "desktop-cloud",
        CloudWeb = "cloud-web",
        CloudChannelGateway = "cloud-channel-gateway",
        StandaloneGateway = "standalone-gateway",
        PairedDesktop = "paired-desktop",
        HeadlessHost = "headless-host",
    }
}

impl ProductMode {
    pub fn is_remote(self) -> bool {
        self != ProductMode::DesktopLocal
    }
}

keyword_enum! {
    /// How far a bundle or plugin is trusted in a product mode.
    Tier, "tier", "invalid-tier" {
        Supported = "supported",
        Experimental = "experimental",
        Blocked = "blocked",
        Unsupported = "unsupported",
    }
}

keyword_enum! {
    /// The kinds of resource a bundle provides, as written in `KIND:NAME`.
    ResourceKind, "resource kind", "invalid-requires" {
        Mcp = "mcp",
        Skill = "skill",
        Plugin = "plugin",
        Agent = "agent",
        Command = "command",
    }
}

keyword_enum! {
    /// The transport of a remote MCP server.
    Transport, "transport", "invalid-transport" {
        StreamableHttp = "streamable-http",
        Sse = "sse",
    }
}

keyword_enum! {
    /// What a permission asks the user to accept.
    PermissionKind, "permission kind", "invalid-permission-kind" {
        Provider = "provider",
        Filesystem = "filesystem",
        Mcp = "mcp",
        Shell = "shell",
        Workflow = "workflow",
        Plugin = "plugin",
        Network = "network",
        Credential = "credential",
    }
}

keyword_enum! {
    /// The client whose configuration receives resources.
    Target, "target", "unsupported-target" {
        Opencode = "opencode",
        ClaudeCode = "claude-code",
        Gemini = "gemini",
        Codex = "codex",
        Copilot = "copilot",
        Qwen = "qwen",
        Cursor = "cursor",
        Vscode = "vscode",
    }
}

keyword_enum! {
    /// Which configuration a project installs into.
    Scope, "scope", "invalid-scope" {
        Project = "project",
        Global = "global",
    }
}

/// The naming rule shared by bundles, resources and skills: `^[a-z0-9]+(-[a-z0-9]+)*$`,
/// 1 to 64 characters.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// An environment variable name as POSIX shells accept it: a letter or `_`, then letters,
/// digits and `_`.
pub fn is_env_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b == b'_' || b.is_ascii_alphabetic())
        && bytes.all(|b| b == b'_' || b.is_ascii_alphanumeric())
}

/// The variables a template references as `{env:NAME}`, or the first malformed reference.
pub fn template_vars(t: &str) -> Result<Vec<&str>, String> {
    let mut vars = Vec::new();
    let mut rest = t;
    while let Some(i) = rest.find("{env:") {
        let after = &rest[i + 5..];
        let Some(end) = after.find('}') else {
            return Err(format!("unclosed `{{env:` in `{t}`"));
        };
        let name = &after[..end];
        if !is_env_name(name) {
            return Err(format!(
                "`{{env:{name}}}` does not name a valid environment variable"
            ));
        }
        vars.push(name);
        rest = &after[end + 1..];
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_rule() {
        for good in ["a", "github", "code-review", "x1-2y", &"a".repeat(64)] {
            assert!(is_valid_name(good), "{good}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "a--b",
            "Code",
            "a_b",
            "a.b",
            "é",
            &"a".repeat(65),
        ] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }
}
