//! MCP Registries as registries (not readable yet).

use super::{Net, Release, RemoteError, Source};

/// An MCP Registry.
pub struct McpRegistry {
    location: String,
}

impl McpRegistry {
    pub fn open(location: &str, _net: &Net) -> Result<McpRegistry, RemoteError> {
        Err(RemoteError::InvalidSource {
            what: location.to_string(),
            message: "MCP Registries cannot be read yet".into(),
        })
    }
}

impl Source for McpRegistry {
    fn releases(
        &self,
        _names: &[String],
        _net: &Net,
    ) -> Result<Vec<(String, Vec<Release>)>, RemoteError> {
        Err(RemoteError::InvalidSource {
            what: self.location.clone(),
            message: "MCP Registries cannot be read yet".into(),
        })
    }
}
