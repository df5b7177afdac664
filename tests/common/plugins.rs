//! A path bundle `marker` whose plugin writes a file named `marker-loaded` into `$MARK_DIR`
//! when its module is imported, so a test can tell whether OpenCode loaded it.

use std::path::Path;

use super::support::write_files;

pub const MANIFEST: &str = r#"[bundle]
name = "marker"
version = "1.0.0"
description = "A plugin that leaves a mark"
license = "MIT"

[compatibility.product-modes]
desktop-local = "supported"

[plugins.marker]
path = "plugins/marker.ts"
tier = "supported"
"#;

pub const PLUGIN: &str = r#"import { writeFileSync } from "node:fs";
import { join } from "node:path";

writeFileSync(join(process.env.MARK_DIR ?? ".", "marker-loaded"), "loaded");
export const Marker = async () => ({});
"#;

/// Writes the bundle into `project/marker/`, its plugin followed by `extra`, and asks for it.
pub fn add_marker(project: &Path, extra: &str) {
    let plugin = format!("{PLUGIN}{extra}");
    write_files(
        project,
        &[
            ("marker/bundle.toml", MANIFEST),
            ("marker/plugins/marker.ts", &plugin),
        ],
    );
    let path = project.join("capm.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("marker = { path = \"marker\" }\n");
    std::fs::write(path, text).unwrap();
}
