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
    ask_for_marker(project);
}

/// Adds `marker` to the project's capm.toml, unless it asks for it already.
fn ask_for_marker(project: &Path) {
    let path = project.join("capm.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    if !text.contains("marker = ") {
        text.push_str("marker = { path = \"marker\" }\n");
        std::fs::write(path, text).unwrap();
    }
}

/// The entry of the plugin as a directory: it imports its helper, and writes the helper's
/// value into the mark, so a mark proves both files loaded.
pub const INDEX: &str = r#"import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { helper } from "./lib/helper";

writeFileSync(join(process.env.MARK_DIR ?? ".", "marker-loaded"), helper);
export const Marker = async () => ({});
"#;

/// The helper `INDEX` imports.
pub const HELPER: &str = "export const helper = \"loaded with its helper\";\n";

/// Writes the bundle `marker` with its plugin as the directory `plugins/marker/` holding
/// `files` (paths relative to it), and asks for it.
pub fn add_marker_dir(project: &Path, files: &[(&str, &str)]) {
    let manifest = MANIFEST.replace("plugins/marker.ts", "plugins/marker");
    let mut all: Vec<(String, &str)> = vec![("marker/bundle.toml".into(), manifest.as_str())];
    all.extend(
        files
            .iter()
            .map(|(p, t)| (format!("marker/plugins/marker/{p}"), *t)),
    );
    let refs: Vec<(&str, &str)> = all.iter().map(|(p, t)| (p.as_str(), *t)).collect();
    write_files(project, &refs);
    ask_for_marker(project);
}
