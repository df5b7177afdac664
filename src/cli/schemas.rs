//! The JSON Schemas of capm's files and machine output, generated from the Rust types.
//! The checked-in copies under `schemas/` are compared against these by a test.

use schemars::{JsonSchema, generate::SchemaSettings};

use super::render::DiagnosticsDocument;
use crate::manifest::bundle::BundleManifest;
use crate::manifest::lock::Lockfile;
use crate::manifest::project::ProjectManifest;

fn schema_of<T: JsonSchema>() -> serde_json::Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let mut v =
        serde_json::to_value(generator.into_root_schema_for::<T>()).expect("schemas serialise");
    drop_null(&mut v);
    v
}

/// Optional fields are absent, never `null` (TOML has no null, and capm never writes one),
/// so `null` is taken out of every type.
fn drop_null(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(alts)) = map.get_mut("anyOf") {
                alts.retain(|a| a.get("type").is_none_or(|t| t != "null"));
                if alts.len() == 1 {
                    let only = alts.remove(0);
                    map.remove("anyOf");
                    if let Value::Object(o) = only {
                        map.extend(o);
                    }
                }
            }
            map.values_mut().for_each(drop_null);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null),
        _ => {}
    }
}

/// Every schema, by file name.
pub fn all() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        ("bundle.schema.json", schema_of::<BundleManifest>()),
        ("project.schema.json", schema_of::<ProjectManifest>()),
        ("lock.schema.json", schema_of::<Lockfile>()),
        ("plan.schema.json", schema_of::<crate::plan::model::Plan>()),
        (
            "diagnostics.schema.json",
            schema_of::<DiagnosticsDocument<'static>>(),
        ),
        ("error.schema.json", schema_of::<super::ErrorDoc>()),
        ("list.schema.json", schema_of::<super::graph::ListDoc>()),
        ("info.schema.json", schema_of::<super::info::InfoDoc>()),
        ("probe.schema.json", schema_of::<super::probe::ProbeDoc>()),
        (
            "outdated.schema.json",
            schema_of::<super::outdated::OutdatedDoc>(),
        ),
        (
            "rpc-request.schema.json",
            schema_of::<super::serve::Request>(),
        ),
        (
            "rpc-response.schema.json",
            schema_of::<super::serve::Response>(),
        ),
        (
            "rpc-params-validate.schema.json",
            schema_of::<super::serve::ValidateParams>(),
        ),
        (
            "rpc-params-plan.schema.json",
            schema_of::<super::serve::PlanParams>(),
        ),
        (
            "rpc-params-status.schema.json",
            schema_of::<super::serve::StatusParams>(),
        ),
        (
            "rpc-params-explain.schema.json",
            schema_of::<super::serve::ExplainParams>(),
        ),
        (
            "rpc-params-initialize.schema.json",
            schema_of::<super::serve::InitializeParams>(),
        ),
        (
            "rpc-params-cancel.schema.json",
            schema_of::<super::serve::CancelParams>(),
        ),
        (
            "initialize.schema.json",
            schema_of::<super::serve::InitializeResult>(),
        ),
        (
            "rpc-progress.schema.json",
            schema_of::<super::serve::ProgressNotification>(),
        ),
        (
            "apply.schema.json",
            schema_of::<super::apply::ApplyDoc<'static>>(),
        ),
        (
            "doctor.schema.json",
            schema_of::<crate::ops::doctor::DoctorReport>(),
        ),
        ("tree.schema.json", schema_of::<super::graph::TreeDoc>()),
        ("why.schema.json", schema_of::<super::graph::WhyDoc>()),
        ("graph.schema.json", schema_of::<super::graph::GraphDoc>()),
        (
            "search.schema.json",
            schema_of::<super::registry::SearchDoc>(),
        ),
        (
            "explain.schema.json",
            schema_of::<super::explain::ExplainDoc>(),
        ),
        (
            "explain-list.schema.json",
            schema_of::<super::explain::ExplainListDoc>(),
        ),
        (
            "lock-result.schema.json",
            schema_of::<super::results::LockDoc>(),
        ),
        ("init.schema.json", schema_of::<super::results::InitDoc>()),
        ("new.schema.json", schema_of::<super::results::NewDoc>()),
        (
            "publish.schema.json",
            schema_of::<super::results::PublishDoc>(),
        ),
        ("cache.schema.json", schema_of::<super::cache::CacheDoc>()),
        ("yank.schema.json", schema_of::<super::results::YankDoc>()),
        (
            "export.schema.json",
            schema_of::<super::export::ExportDoc>(),
        ),
        (
            "rpc-params-doctor.schema.json",
            schema_of::<super::serve::ProjectParams>(),
        ),
        (
            "rpc-params-list.schema.json",
            schema_of::<super::serve::ProjectParams>(),
        ),
        (
            "rpc-params-outdated.schema.json",
            schema_of::<super::serve::ProjectParams>(),
        ),
        (
            "rpc-params-info.schema.json",
            schema_of::<super::serve::InfoParams>(),
        ),
        (
            "rpc-params-search.schema.json",
            schema_of::<super::serve::SearchParams>(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    /// Regenerate with `UPDATE_SCHEMAS=1 cargo test schemas`.
    #[test]
    fn checked_in_schemas_match_the_types() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
        let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
        let mut stale = Vec::new();
        for (name, schema) in super::all() {
            let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
            let path = dir.join(name);
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &text).unwrap();
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                stale.push(name);
            }
        }
        assert!(
            stale.is_empty(),
            "schemas/{stale:?} differ from the Rust types; run `UPDATE_SCHEMAS=1 cargo test schemas` and review the diff"
        );
    }
}
