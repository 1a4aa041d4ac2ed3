//! The Jinja that needs no project: the functions and filters every
//! environment has (`env_var()`, `var()`, the `as_*` filters), the renderer of
//! config files (profiles.yml, dbt_project.yml, properties, packages.yml), and
//! the `target` value. Below `config`, `packages` and `project`, which render
//! with it; `crate::jinja` (the dbt context for nodes) re-exports it.

pub mod config_renderer;
pub mod functions;

use std::collections::BTreeMap;

use minijinja::Value;

use crate::adapter::Target;

/// A JSON value (configs, vars) as a Jinja value.
pub fn json_value<T: serde::Serialize + ?Sized>(value: &T) -> minijinja::Value {
    use serde::Deserialize;
    serde_json::to_value(value)
        .ok()
        .and_then(|json| minijinja::Value::deserialize(json).ok())
        .unwrap_or(minijinja::Value::UNDEFINED)
}

/// `target`: the profile's output, without its password.
pub fn target_value(target: &Target) -> Value {
    let mut map: BTreeMap<String, Value> = BTreeMap::new();
    for (key, value) in &target.settings {
        if key == "password" || key.contains("secret") || key.contains("token") {
            continue;
        }
        map.insert(key.clone(), json_value(value));
    }
    map.insert("name".into(), Value::from(target.name.clone()));
    map.insert("target_name".into(), Value::from(target.name.clone()));
    map.insert("type".into(), Value::from(target.adapter.name()));
    map.insert("schema".into(), Value::from(target.schema.clone()));
    map.insert("database".into(), Value::from(target.database.clone()));
    map.insert("threads".into(), Value::from(target.threads));
    map.insert(
        "profile_name".into(),
        Value::from(target.profile_name.clone()),
    );
    Value::from_object(map)
}
