//! Properties files (`schema.yml` and friends): descriptions, columns and
//! configs of models and seeds, and the declared sources.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_yaml::Value as Yaml;

use super::node::{ColumnInfo, Patch};
use crate::config::known_keys::{
    COLUMN_PROPERTY_KEYS, CONFIG_KEYS, NODE_PROPERTY_KEYS, PROPERTIES_FILE_KEYS,
    SOURCE_PROPERTY_KEYS, SOURCE_TABLE_PROPERTY_KEYS, is_config_key, unknown_key,
};
use crate::config::yaml::{from_text, key_string, parse_yaml, to_json};
use crate::config::yaml_locate::{Locator, Seg};
use crate::diagnostic::{Code, Diagnostic};
use crate::error::{Error, Location, Result};

#[derive(Debug, Deserialize, Default)]
struct PropertiesFile {
    #[serde(default)]
    models: Option<Vec<NodeProps>>,
    #[serde(default)]
    seeds: Option<Vec<NodeProps>>,
    #[serde(default)]
    snapshots: Option<Vec<NodeProps>>,
    #[serde(default)]
    sources: Option<Vec<SourceProps>>,
}

#[derive(Debug, Deserialize)]
struct NodeProps {
    name: String,
    /// A snapshot declared in YAML: what it snapshots (`ref('orders')`).
    #[serde(default)]
    relation: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    config: Option<Yaml>,
    #[serde(default)]
    columns: Option<Vec<ColumnProps>>,
    #[serde(default)]
    data_tests: Option<Vec<Yaml>>,
    #[serde(default)]
    tests: Option<Vec<Yaml>>,
}

#[derive(Debug, Clone, Deserialize)]
struct ColumnProps {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    data_type: Option<String>,
    /// Quote the column's name in its tests.
    #[serde(default)]
    quote: Option<bool>,
    #[serde(default)]
    data_tests: Option<Vec<Yaml>>,
    #[serde(default)]
    tests: Option<Vec<Yaml>>,
}

#[derive(Debug, Deserialize)]
struct SourceProps {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    database: Option<String>,
    #[serde(default)]
    schema: Option<String>,
    #[serde(default)]
    tables: Option<Vec<SourceTableProps>>,
    #[serde(default)]
    loaded_at_field: Option<String>,
    #[serde(default, deserialize_with = "present")]
    freshness: Option<Yaml>,
    #[serde(default)]
    quoting: Option<Quoting>,
}

/// `quoting:` of a source or table: which parts of its name are quoted.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
struct Quoting {
    #[serde(default)]
    database: Option<bool>,
    #[serde(default)]
    schema: Option<bool>,
    #[serde(default)]
    identifier: Option<bool>,
}

/// A table's `freshness` over its source's, as dbt merges them: key by key,
/// `warn_after`/`error_after` one level deeper; a table's `null` turns it off.
fn merge_freshness(
    source: Option<serde_json::Value>,
    table: Option<serde_json::Value>,
) -> Option<serde_json::Value> {
    use serde_json::Value as Json;
    match (source, table) {
        (_, Some(Json::Null)) => None,
        (None, table) => table,
        (Some(source), None) => Some(source),
        (Some(Json::Object(mut merged)), Some(Json::Object(table))) => {
            for (key, value) in table {
                match (merged.get_mut(&key), value) {
                    (Some(Json::Object(base)), Json::Object(update)) => {
                        base.extend(update);
                    }
                    (_, value) => {
                        merged.insert(key, value);
                    }
                }
            }
            Some(Json::Object(merged))
        }
        (_, table) => table,
    }
}

/// A key that is present, even as `null` (which turns freshness off).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<Yaml>, D::Error> {
    Yaml::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
struct SourceTableProps {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    identifier: Option<String>,
    #[serde(default)]
    columns: Option<Vec<ColumnProps>>,
    #[serde(default)]
    data_tests: Option<Vec<Yaml>>,
    #[serde(default)]
    tests: Option<Vec<Yaml>>,
    #[serde(default)]
    loaded_at_field: Option<String>,
    #[serde(default, deserialize_with = "present")]
    freshness: Option<Yaml>,
    #[serde(default)]
    quoting: Option<Quoting>,
}

/// What a declared test is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestTarget {
    /// A model (`kind` "model") or seed ("seed"), by name.
    Node {
        kind: &'static str,
        name: String,
    },
    Source {
        source: String,
        table: String,
    },
}

/// One item of a `data_tests:` list, as written.
#[derive(Debug, Clone)]
pub struct DeclaredTest {
    pub target: TestTarget,
    /// The column it tests, quoted when the column says `quote: true`.
    pub column: Option<String>,
    pub entry: serde_json::Value,
    /// The properties file, relative to the project.
    pub file: PathBuf,
    /// The test's line in the properties file.
    pub location: Location,
}

/// A source table as a properties file declares it, before target defaults.
#[derive(Debug, Clone)]
pub struct DeclaredSource {
    pub source_name: String,
    pub table_name: String,
    pub database: Option<String>,
    pub schema: Option<String>,
    pub identifier: Option<String>,
    pub description: String,
    pub file: PathBuf,
    /// The table's `loaded_at_field`, else its source's.
    pub loaded_at_field: Option<String>,
    /// The table's `freshness`, else its source's (`null` turns it off).
    pub freshness: Option<serde_json::Value>,
    /// Where the table is declared.
    pub location: Location,
    /// Whether database, schema and identifier are quoted (the table's
    /// `quoting:` over its source's; quoted by default).
    pub quoting: [bool; 3],
    /// The table's `columns:`.
    pub columns: Vec<ColumnInfo>,
}

/// Everything the properties files of a project say.
#[derive(Debug, Default)]
pub struct Properties {
    pub models: BTreeMap<String, Patch>,
    pub seeds: BTreeMap<String, Patch>,
    pub snapshots: BTreeMap<String, Patch>,
    pub sources: Vec<DeclaredSource>,
    /// Generic tests of models, seeds, sources and their columns.
    pub tests: Vec<DeclaredTest>,
    /// Unknown keys, with where they are.
    pub warnings: Vec<Diagnostic>,
}

impl Properties {
    /// Reads one properties file (`display` is its path as the user sees it,
    /// `relative` the path within the project) and adds what it declares. A
    /// model described twice is an error; an unknown key is a warning.
    pub fn add_file(&mut self, text: &str, display: &Path) -> Result<()> {
        self.add_file_at(text, display, display)
    }

    pub fn add_file_at(&mut self, text: &str, display: &Path, relative: &Path) -> Result<()> {
        if text.trim().is_empty() {
            return Ok(());
        }
        let yaml = parse_yaml(text, display)?;
        let file: PropertiesFile = from_text(text, display)?;
        let locator = Locator::new(text);
        let at = |path: &[Seg]| match locator.locate(path) {
            Some(p) => Location::at(display, p.line, Some(p.column)).spanning(p.length),
            None => Location::file(display),
        };
        self.warnings.extend(unknown_keys(&yaml, &at));
        self.warnings.extend(unused_sections(&yaml, display, &at));
        for (kind, list, target) in [
            ("model", file.models, &mut self.models),
            ("seed", file.seeds, &mut self.seeds),
            ("snapshot", file.snapshots, &mut self.snapshots),
        ] {
            let key = format!("{kind}s");
            for (i, props) in list.unwrap_or_default().into_iter().enumerate() {
                let entry = [Seg::key(&key), Seg::Item(i), Seg::key("name")];
                let location = at(&entry);
                if let Some(existing) = target.get(&props.name) {
                    return Err(Error::config(
                        location,
                        format!(
                            "{kind} '{}' is described twice: here and in {}",
                            props.name, existing.location
                        ),
                    )
                    .with_help("merge the two entries into one"));
                }
                if props
                    .config
                    .as_ref()
                    .is_some_and(|c| !c.is_mapping() && !c.is_null())
                {
                    return Err(Error::config(
                        at(&[Seg::key(&key), Seg::Item(i), Seg::key("config")]),
                        "`config:` must be a mapping of config keys",
                    ));
                }
                let entry_path = vec![Seg::key(&key), Seg::Item(i)];
                let test_target = TestTarget::Node {
                    kind,
                    name: props.name.clone(),
                };
                self.tests.extend(declared_tests(
                    &test_target,
                    &entry_path,
                    props.data_tests.as_deref(),
                    props.tests.as_deref(),
                    props.columns.as_deref(),
                    relative,
                    &at,
                ));
                let mut patch = to_patch(
                    props.description,
                    props.config,
                    props.columns,
                    relative,
                    location,
                );
                patch.relation = props.relation;
                target.insert(props.name, patch);
            }
        }
        for (i, source) in file.sources.unwrap_or_default().into_iter().enumerate() {
            for (j, table) in source.tables.unwrap_or_default().into_iter().enumerate() {
                let entry_path = vec![
                    Seg::key("sources"),
                    Seg::Item(i),
                    Seg::key("tables"),
                    Seg::Item(j),
                ];
                let test_target = TestTarget::Source {
                    source: source.name.clone(),
                    table: table.name.clone(),
                };
                self.tests.extend(declared_tests(
                    &test_target,
                    &entry_path,
                    table.data_tests.as_deref(),
                    table.tests.as_deref(),
                    table.columns.as_deref(),
                    relative,
                    &at,
                ));
                let freshness = merge_freshness(
                    source.freshness.as_ref().map(to_json),
                    table.freshness.as_ref().map(to_json),
                );
                let location = at(&[
                    Seg::key("sources"),
                    Seg::Item(i),
                    Seg::key("tables"),
                    Seg::Item(j),
                    Seg::key("name"),
                ]);
                let source_quoting = source.quoting.unwrap_or_default();
                let table_quoting = table.quoting.unwrap_or_default();
                let quoted =
                    |own: Option<bool>, inherited: Option<bool>| own.or(inherited).unwrap_or(true);
                let quoting = [
                    quoted(table_quoting.database, source_quoting.database),
                    quoted(table_quoting.schema, source_quoting.schema),
                    quoted(table_quoting.identifier, source_quoting.identifier),
                ];
                self.sources.push(DeclaredSource {
                    quoting,
                    columns: column_infos(table.columns.clone()),
                    loaded_at_field: table
                        .loaded_at_field
                        .clone()
                        .or_else(|| source.loaded_at_field.clone()),
                    freshness: freshness.filter(|f| !f.is_null()),
                    location,
                    source_name: source.name.clone(),
                    table_name: table.name,
                    database: source.database.clone(),
                    schema: source.schema.clone(),
                    identifier: table.identifier,
                    description: table
                        .description
                        .or_else(|| source.description.clone())
                        .unwrap_or_default(),
                    file: relative.to_path_buf(),
                });
            }
        }
        Ok(())
    }
}

/// The tests of one entry (a model, seed or source table) and of its
/// columns, each with the line it is declared on. dbt reads `data_tests:`,
/// and `tests:` as its older name.
fn declared_tests(
    target: &TestTarget,
    entry_path: &[Seg],
    data_tests: Option<&[Yaml]>,
    tests: Option<&[Yaml]>,
    columns: Option<&[ColumnProps]>,
    relative: &Path,
    at: &dyn Fn(&[Seg]) -> Location,
) -> Vec<DeclaredTest> {
    let mut found = Vec::new();
    let mut add = |path: &[Seg],
                   column: Option<String>,
                   data_tests: Option<&[Yaml]>,
                   tests: Option<&[Yaml]>| {
        for (key, list) in [("data_tests", data_tests), ("tests", tests)] {
            for (k, entry) in list.unwrap_or_default().iter().enumerate() {
                let mut item = path.to_vec();
                item.extend([Seg::key(key), Seg::Item(k)]);
                found.push(DeclaredTest {
                    target: target.clone(),
                    column: column.clone(),
                    entry: to_json(entry),
                    file: relative.to_path_buf(),
                    location: at(&item),
                });
            }
        }
    };
    add(entry_path, None, data_tests, tests);
    for (j, column) in columns.unwrap_or_default().iter().enumerate() {
        let mut path = entry_path.to_vec();
        path.extend([Seg::key("columns"), Seg::Item(j)]);
        let name = if column.quote == Some(true) {
            format!("\"{}\"", column.name.replace('"', "\"\""))
        } else {
            column.name.clone()
        };
        add(
            &path,
            Some(name),
            column.data_tests.as_deref(),
            column.tests.as_deref(),
        );
    }
    found
}

/// Warnings for the keys of a properties file dbt does not know, in entries
/// and in their `config:` blocks.
/// The sections of a properties file that dbt acts on and kiln does not
/// (yet): each entry's singular and plural, and what is lost.
const UNUSED_SECTIONS: &[(&str, &str, &str, &str)] = &[
    (
        "unit_tests",
        "unit test",
        "unit tests",
        "kiln does not run unit tests yet: they are neither run nor counted",
    ),
    (
        "semantic_models",
        "semantic model",
        "semantic models",
        "kiln has no semantic layer: they are not read",
    ),
    (
        "metrics",
        "metric",
        "metrics",
        "kiln has no semantic layer: they are not read",
    ),
    (
        "saved_queries",
        "saved query",
        "saved queries",
        "kiln has no semantic layer: they are not read",
    ),
    (
        "exposures",
        "exposure",
        "exposures",
        "kiln does not read exposures: they are not in the lineage, the manifest or selection",
    ),
    (
        "groups",
        "group",
        "groups",
        "kiln does not read groups: access and ownership are not checked",
    ),
    (
        "analyses",
        "analysis",
        "analyses",
        "kiln does not read the properties of analyses",
    ),
    (
        "macros",
        "macro",
        "macros",
        "kiln does not read the properties of macros (descriptions, arguments)",
    ),
];

/// A warning for each section kiln does not act on, with how many entries
/// it has and their names, at the section's line: nothing a user wrote is
/// dropped in silence.
fn unused_sections(
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

fn unknown_keys(yaml: &Yaml, at: &dyn Fn(&[Seg]) -> Location) -> Vec<Diagnostic> {
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

fn column_infos(columns: Option<Vec<ColumnProps>>) -> Vec<ColumnInfo> {
    columns
        .unwrap_or_default()
        .into_iter()
        .map(|c| ColumnInfo {
            name: c.name,
            quote: c.quote.unwrap_or(false),
            description: c.description.unwrap_or_default(),
            data_type: c.data_type,
        })
        .collect()
}

fn to_patch(
    description: Option<String>,
    config: Option<Yaml>,
    columns: Option<Vec<ColumnProps>>,
    relative: &Path,
    location: Location,
) -> Patch {
    let config = match config.as_ref().map(to_json) {
        Some(serde_json::Value::Object(map)) => map.into_iter().collect(),
        _ => BTreeMap::new(),
    };
    Patch {
        description: description.unwrap_or_default(),
        config,
        columns: column_infos(columns),
        file: relative.to_path_buf(),
        location,
        relation: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_models_columns_and_sources() {
        let mut props = Properties::default();
        props
            .add_file(
                "version: 2\nmodels:\n  - name: orders\n    description: One row an order\n    config: {materialized: table}\n    columns:\n      - name: order_id\n        description: key\nsources:\n  - name: raw\n    schema: landing\n    tables:\n      - name: events\n",
                Path::new("models/schema.yml"),
            )
            .unwrap();
        let orders = &props.models["orders"];
        assert_eq!(orders.description, "One row an order");
        assert_eq!(orders.columns[0].name, "order_id");
        assert_eq!(orders.config["materialized"], "table");
        assert_eq!(props.sources[0].schema.as_deref(), Some("landing"));
    }

    #[test]
    fn wrong_shape_names_file_and_line() {
        let mut props = Properties::default();
        let err = props
            .add_file(
                "version: 2\nmodels:\n  - name: orders\n    columns: 3\n",
                Path::new("models/schema.yml"),
            )
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("models/schema.yml:4:"), "{err}");
        assert!(err.contains("models[0].columns"), "{err}");
    }

    #[test]
    fn sections_kiln_does_not_act_on_are_each_a_warning_with_count_and_line() {
        let mut props = Properties::default();
        props
            .add_file(
                "version: 2\nmodels:\n  - name: orders\nunit_tests:\n  - name: t1\n    model: orders\n  - name: t2\n    model: orders\nexposures:\n  - name: dash\n",
                Path::new("models/schema.yml"),
            )
            .unwrap();
        let found: Vec<(String, Option<usize>)> = props
            .warnings
            .iter()
            .map(|w| (w.message.clone(), w.location.as_ref().and_then(|l| l.line)))
            .collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            found[0].0,
            "models/schema.yml declares 2 unit tests under `unit_tests:` (t1, t2), which kiln ignores; kiln does not run unit tests yet: they are neither run nor counted"
        );
        assert_eq!(found[0].1, Some(4));
        assert!(
            found[1]
                .0
                .contains("declares 1 exposure under `exposures:` (dash)"),
            "{found:?}"
        );
        assert_eq!(found[1].1, Some(9));
    }

    #[test]
    fn unknown_keys_warn_with_a_suggestion_at_their_line() {
        let mut props = Properties::default();
        props
            .add_file(
                "version: 2\nmodels:\n  - name: orders\n    colums: []\n    config:\n      materialzed: table\n",
                Path::new("models/schema.yml"),
            )
            .unwrap();
        let found: Vec<(String, Option<usize>, Option<String>)> = props
            .warnings
            .iter()
            .map(|w| {
                (
                    w.message.clone(),
                    w.location.as_ref().and_then(|l| l.line),
                    w.help.clone(),
                )
            })
            .collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].0.contains("'colums'") && found[0].1 == Some(4),
            "{found:?}"
        );
        assert_eq!(found[0].2.as_deref(), Some("did you mean 'columns'?"));
        assert!(
            found[1].0.contains("'materialzed'") && found[1].1 == Some(6),
            "{found:?}"
        );
        assert_eq!(found[1].2.as_deref(), Some("did you mean 'materialized'?"));
    }
}
