//! The warnings of a properties file: keys dbt does not know, and the
//! sections dbt acts on and kiln does not.

use std::path::Path;

use serde_yaml::Value as Yaml;

use crate::config::known_keys::{
    ANALYSIS_PROPERTY_KEYS, COLUMN_PROPERTY_KEYS, CONFIG_KEYS, EXPOSURE_KEYS, METRIC_KEYS,
    NODE_PROPERTY_KEYS, PROPERTIES_FILE_KEYS, SAVED_QUERY_KEYS, SEMANTIC_MODEL_KEYS,
    SOURCE_PROPERTY_KEYS, SOURCE_TABLE_PROPERTY_KEYS, is_config_key, unknown_key,
};
use crate::config::yaml::key_string;
use crate::config::yaml_locate::Seg;
use crate::diagnostic::{Code, Diagnostic};
use crate::error::Location;

/// Warnings for the keys of a properties file dbt does not know, in entries
/// and in their `config:` blocks.
/// The sections of a properties file that dbt acts on and kiln does not
/// (yet): each entry's singular and plural, and what is lost.
const UNUSED_SECTIONS: &[(&str, &str, &str, &str)] = &[(
    "macros",
    "macro",
    "macros",
    "kiln does not read the properties of macros (descriptions, arguments)",
)];

/// A warning for each section kiln does not act on, with how many entries
/// it has and their names, at the section's line: nothing a user wrote is
/// dropped in silence.
pub(super) fn unused_sections(
    yaml: &Yaml,
    display: &Path,
    at: &dyn Fn(&[Seg]) -> Location,
) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    for (key, one, many, lost) in UNUSED_SECTIONS {
        let Some(section) = yaml.get(*key) else {
            continue;
        };
        let names: Vec<String> = match section {
            Yaml::Sequence(items) => items
                .iter()
                .map(|item| {
                    item.get("name")
                        .and_then(Yaml::as_str)
                        .unwrap_or("?")
                        .to_string()
                })
                .collect(),
            Yaml::Mapping(map) => map.keys().map(key_string).collect(),
            _ => continue,
        };
        if names.is_empty() {
            continue;
        }
        let count = names.len();
        let noun = if count == 1 { one } else { many };
        let mut shown: Vec<String> = names.iter().take(5).cloned().collect();
        if count > shown.len() {
            shown.push(format!("and {} more", count - shown.len()));
        }
        warnings.push(
            Diagnostic::warning(
                Code::Config,
                format!(
                    "{} declares {count} {noun} under `{key}:` ({}), which kiln ignores; {lost}",
                    display.display(),
                    shown.join(", "),
                ),
            )
            .at(at(&[Seg::key(*key)]))
            .with_label(format!("{count} {noun} ignored")),
        );
    }
    warnings
}

pub(super) fn unknown_keys(yaml: &Yaml, at: &dyn Fn(&[Seg]) -> Location) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    let mut check = |map: &Yaml, path: &[Seg], known: &[&str], what: &str| {
        let Some(map) = map.as_mapping() else { return };
        for key in map.keys() {
            let key = key_string(key);
            // Config keys are known however they are written (`+pre-hook`).
            let known_key =
                known.contains(&key.as_str()) || (known == CONFIG_KEYS && is_config_key(&key));
            if !known_key {
                let mut path = path.to_vec();
                path.push(Seg::key(&key));
                warnings.push(unknown_key(&key, what, known, at(&path)));
            }
        }
    };
    check(yaml, &[], PROPERTIES_FILE_KEYS, "a properties file");
    let items = |key: &str| -> Vec<(Vec<Seg>, Yaml)> {
        yaml.get(key)
            .and_then(Yaml::as_sequence)
            .map(|list| {
                list.iter()
                    .enumerate()
                    .map(|(i, v)| (vec![Seg::key(key), Seg::Item(i)], v.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let name_of = |v: &Yaml| {
        v.get("name")
            .and_then(Yaml::as_str)
            .unwrap_or("?")
            .to_string()
    };
    let mut entries: Vec<(Vec<Seg>, Yaml, &[&str], String)> = Vec::new();
    for kind in ["models", "seeds", "snapshots"] {
        for (path, value) in items(kind) {
            let what = format!("{} '{}'", kind.trim_end_matches('s'), name_of(&value));
            entries.push((path, value, NODE_PROPERTY_KEYS, what));
        }
    }
    for (path, value) in items("analyses") {
        let what = format!("analysis '{}'", name_of(&value));
        entries.push((path, value, ANALYSIS_PROPERTY_KEYS, what));
    }
    // Exposures and the semantic layer's nodes: their own keys (their
    // `config:` holds keys of their own too, such as a saved query's `cache`).
    for (section, known, one) in [
        ("exposures", EXPOSURE_KEYS, "exposure"),
        ("metrics", METRIC_KEYS, "metric"),
        ("semantic_models", SEMANTIC_MODEL_KEYS, "semantic model"),
        ("saved_queries", SAVED_QUERY_KEYS, "saved query"),
    ] {
        for (path, value) in items(section) {
            check(
                &value,
                &path,
                known,
                &format!("{one} '{}'", name_of(&value)),
            );
        }
    }
    for (path, source) in items("sources") {
        let what = format!("source '{}'", name_of(&source));
        if let Some(tables) = source.get("tables").and_then(Yaml::as_sequence) {
            for (i, table) in tables.iter().enumerate() {
                let mut table_path = path.clone();
                table_path.extend([Seg::key("tables"), Seg::Item(i)]);
                let what = format!("table '{}' of {what}", name_of(table));
                entries.push((table_path, table.clone(), SOURCE_TABLE_PROPERTY_KEYS, what));
            }
        }
        entries.push((path, source, SOURCE_PROPERTY_KEYS, what));
    }
    for (path, value, known, what) in &entries {
        check(value, path, known, what);
        if let Some(config) = value.get("config") {
            let mut config_path = path.clone();
            config_path.push(Seg::key("config"));
            check(
                config,
                &config_path,
                CONFIG_KEYS,
                &format!("the config of {what}"),
            );
        }
        if let Some(columns) = value.get("columns").and_then(Yaml::as_sequence) {
            for (i, column) in columns.iter().enumerate() {
                let mut column_path = path.clone();
                column_path.extend([Seg::key("columns"), Seg::Item(i)]);
                let what = format!("column '{}' of {what}", name_of(column));
                check(column, &column_path, COLUMN_PROPERTY_KEYS, &what);
            }
        }
    }
    warnings
}
