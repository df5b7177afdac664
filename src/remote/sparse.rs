//! The static registry layout (docs/spec.md §5): `config.json`, one index file per bundle
//! name, one archive per version; read from a directory or over HTTP.

/// The file at a registry's root that marks the static layout.
pub const CONFIG_FILE: &str = "config.json";
