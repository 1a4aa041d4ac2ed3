//! A node's config, and how dbt merges it from its three sources:
//! dbt_project.yml (by folder) < properties files < `{{ config() }}` in the file.

use std::collections::BTreeMap;

use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

use super::known_keys::is_config_key;
use super::yaml::to_json;

/// Keys whose values add up across levels instead of replacing each other.
const APPENDED: &[&str] = &["tags", "pre_hook", "post_hook"];
/// Keys whose mappings are merged key by key.
const UPDATED: &[&str] = &[
    "column_types",
    "meta",
    "quoting",
    "grants",
    "docs",
    "contract",
];

/// dbt writes some keys with dashes (`pre-hook`); kiln keeps them with underscores.
pub use super::known_keys::normalize_config_key as normalize_key;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeConfig(pub BTreeMap<String, Json>);

impl NodeConfig {
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Json::as_str)
    }

    pub fn materialized(&self) -> &str {
        self.get_str("materialized").unwrap_or("view")
    }

    pub fn enabled(&self) -> bool {
        self.get("enabled").and_then(Json::as_bool).unwrap_or(true)
    }

    pub fn tags(&self) -> Vec<String> {
        match self.get("tags") {
            Some(Json::Array(items)) => items
                .iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect(),
            Some(Json::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    /// `pre_hook` or `post_hook` as a list of SQL strings.
    pub fn hooks(&self, key: &str) -> Vec<String> {
        match self.get(key) {
            Some(Json::Array(items)) => items
                .iter()
                .filter_map(|h| match h {
                    Json::String(s) => Some(s.clone()),
                    Json::Object(o) => o.get("sql").and_then(Json::as_str).map(str::to_string),
                    _ => None,
                })
                .collect(),
            Some(Json::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    /// Applies one level of config on top of this one, with dbt's merge rules.
    pub fn merge(&mut self, key: &str, value: Json) {
        let key = normalize_key(key);
        let value = normalize_value(&key, value);
        if APPENDED.contains(&key.as_str()) {
            let mut items = match self.0.remove(&key) {
                Some(Json::Array(items)) => items,
                Some(Json::Null) | None => Vec::new(),
                Some(other) => vec![other],
            };
            match value {
                Json::Array(new) => {
                    for item in new {
                        if key != "tags" || !items.contains(&item) {
                            items.push(item);
                        }
                    }
                }
                Json::Null => {}
                other => items.push(other),
            }
            self.0.insert(key, Json::Array(items));
        } else if UPDATED.contains(&key.as_str()) {
            match (self.0.get_mut(&key), value) {
                // dbt's `grants`: `+select: [...]` adds to the grantees
                // inherited, `select: [...]` replaces them.
                (Some(Json::Object(existing)), Json::Object(new)) if key == "grants" => {
                    for (k, v) in new {
                        match k.strip_prefix('+') {
                            Some(privilege) => {
                                let mut grantees = grantee_list(existing.remove(privilege));
                                for grantee in grantee_list(Some(v)) {
                                    if !grantees.contains(&grantee) {
                                        grantees.push(grantee);
                                    }
                                }
                                existing.insert(privilege.to_string(), Json::Array(grantees));
                            }
                            None => {
                                existing.insert(k, v);
                            }
                        }
                    }
                }
                (Some(Json::Object(existing)), Json::Object(new)) => {
                    for (k, v) in new {
                        existing.insert(k, v);
                    }
                }
                (_, Json::Object(new)) if key == "grants" => {
                    let stripped = new
                        .into_iter()
                        .map(|(k, v)| (k.trim_start_matches('+').to_string(), v))
                        .collect();
                    self.0.insert(key, Json::Object(stripped));
                }
                (_, value) => {
                    self.0.insert(key, value);
                }
            }
        } else {
            self.0.insert(key, value);
        }
    }

    pub fn merge_all(&mut self, other: &BTreeMap<String, Json>) {
        for (k, v) in other {
            self.merge(k, v.clone());
        }
    }
}

/// A privilege's grantees as a list (a single one may be a string).
fn grantee_list(value: Option<Json>) -> Vec<Json> {
    match value {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(items)) => items,
        Some(other) => vec![other],
    }
}

fn normalize_value(key: &str, value: Json) -> Json {
    match (key, value) {
        ("tags", Json::String(s)) => Json::Array(vec![Json::String(s)]),
        ("pre_hook" | "post_hook", Json::String(s)) => Json::Array(vec![Json::String(s)]),
        (_, value) => value,
    }
}

/// The configs that a dbt_project.yml tree (`models:`, `seeds:`) gives the node
/// at `fqn` (`[project, folder, ..., name]`), outermost level first.
pub fn configs_from_tree(tree: &Yaml, fqn: &[String]) -> Vec<BTreeMap<String, Json>> {
    let mut levels = Vec::new();
    let mut current = Some(tree);
    let mut depth = 0;
    while let Some(node) = current {
        let Some(map) = node.as_mapping() else { break };
        let mut level = BTreeMap::new();
        let mut next = None;
        for (key, value) in map {
            let Some(key) = key.as_str() else { continue };
            let is_config = key.starts_with('+')
                || (is_config_key(key)
                    && !(value.is_mapping() && fqn.get(depth).is_some_and(|p| p == key)));
            if is_config {
                level.insert(normalize_key(key), to_json(value));
            } else if fqn.get(depth).is_some_and(|part| part == key) {
                next = Some(value);
            }
        }
        levels.push(level);
        current = next;
        depth += 1;
    }
    levels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_merge_as_dbt_merges_them() {
        // As dbt 1.10: a folder's `+grants: {select: [reporter]}`, then a
        // model's `select` replaces the list and its `+select` adds to it.
        let folder = serde_json::json!({"select": ["reporter"]});
        let mut replaced = NodeConfig::default();
        replaced.merge("grants", folder.clone());
        replaced.merge("grants", serde_json::json!({"select": ["analyst"]}));
        assert_eq!(
            replaced.get("grants"),
            Some(&serde_json::json!({"select": ["analyst"]}))
        );
        let mut added = NodeConfig::default();
        added.merge("grants", folder);
        added.merge("grants", serde_json::json!({"+select": "analyst"}));
        assert_eq!(
            added.get("grants"),
            Some(&serde_json::json!({"select": ["reporter", "analyst"]}))
        );
        let mut alone = NodeConfig::default();
        alone.merge("+grants", serde_json::json!({"+select": ["analyst"]}));
        assert_eq!(
            alone.get("grants"),
            Some(&serde_json::json!({"select": ["analyst"]}))
        );
    }

    fn yaml(s: &str) -> Yaml {
        serde_yaml::from_str(s).unwrap()
    }

    #[test]
    fn folder_configs_apply_outermost_first() {
        let tree = yaml(
            "shop:\n  +materialized: view\n  marts:\n    materialized: table\n    +tags: [mart]\n    finance:\n      +schema: finance\n",
        );
        let fqn: Vec<String> = ["shop", "marts", "finance", "revenue"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut config = NodeConfig::default();
        for level in configs_from_tree(&tree, &fqn) {
            config.merge_all(&level);
        }
        assert_eq!(config.materialized(), "table");
        assert_eq!(config.get_str("schema"), Some("finance"));
        assert_eq!(config.tags(), vec!["mart".to_string()]);
    }

    #[test]
    fn other_folders_do_not_apply() {
        let tree = yaml("shop:\n  staging:\n    +materialized: table\n");
        let fqn: Vec<String> = ["shop", "marts", "orders"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut config = NodeConfig::default();
        for level in configs_from_tree(&tree, &fqn) {
            config.merge_all(&level);
        }
        assert_eq!(config.materialized(), "view");
    }

    #[test]
    fn tags_and_hooks_accumulate() {
        let mut config = NodeConfig::default();
        config.merge("tags", Json::String("a".into()));
        config.merge("+tags", serde_json::json!(["b", "a"]));
        config.merge("pre-hook", Json::String("select 1".into()));
        config.merge("pre_hook", Json::String("select 2".into()));
        assert_eq!(config.tags(), vec!["a", "b"]);
        assert_eq!(config.hooks("pre_hook"), vec!["select 1", "select 2"]);
    }
}
