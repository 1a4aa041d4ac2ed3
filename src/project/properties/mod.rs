//! Properties files (`schema.yml` and friends): descriptions, columns and
//! configs of models and seeds, and the declared sources.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_yaml::Value as Yaml;

use super::node::{ColumnInfo, NodeKind, Patch};
use super::resources::ResourceEntry;
use super::unit_tests::{DeclaredUnitTest, UnitTestProps};
use crate::config::yaml::{from_text, parse_yaml, to_json};
use crate::config::yaml_locate::{Locator, Seg};
use crate::diagnostic::Diagnostic;
use crate::error::{Error, Location, Result};

mod entries;
mod warnings;

use entries::{column_infos, declared_tests, scalar_text, to_patch, version_patches};
use warnings::{unknown_keys, unused_sections};

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
    #[serde(default)]
    unit_tests: Option<Vec<UnitTestProps>>,
    #[serde(default)]
    groups: Option<Vec<GroupProps>>,
    #[serde(default)]
    analyses: Option<Vec<NodeProps>>,
}

/// A `groups:` entry (dbt 1.5): a name and who owns it.
#[derive(Debug, Deserialize)]
struct GroupProps {
    name: String,
    #[serde(default)]
    owner: Option<Yaml>,
    #[serde(default)]
    description: Option<String>,
}

/// A group a properties file declares.
#[derive(Debug, Clone)]
pub struct DeclaredGroup {
    pub name: String,
    /// `owner:` as written (`name`, `email`, ...).
    pub owner: serde_json::Value,
    pub description: Option<String>,
    /// The properties file, relative to the project.
    pub file: PathBuf,
    pub location: Location,
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
    /// Model-level constraints (dbt 1.5).
    #[serde(default)]
    constraints: Option<Vec<Yaml>>,
    /// `contract:` beside `config:`, which dbt moves into the config.
    #[serde(default)]
    contract: Option<Yaml>,
    /// `access:` and `group:` beside `config:` (dbt 1.5's place), moved
    /// into the config as dbt 1.10 does.
    #[serde(default)]
    access: Option<Yaml>,
    #[serde(default)]
    group: Option<Yaml>,
    /// A versioned model's versions (dbt 1.5).
    #[serde(default)]
    versions: Option<Vec<Yaml>>,
    #[serde(default)]
    latest_version: Option<Yaml>,
    #[serde(default)]
    deprecation_date: Option<Yaml>,
}

#[derive(Debug, Clone, Deserialize)]
struct ColumnProps {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    data_type: Option<String>,
    /// Column-level constraints (dbt 1.5).
    #[serde(default)]
    constraints: Option<Vec<Yaml>>,
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
    #[serde(default)]
    config: Option<Yaml>,
    #[serde(default)]
    meta: Option<Yaml>,
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

/// dbt-duckdb's `external_location` of a source or table: in its `meta`,
/// its `config`, or its `config`'s `meta`.
fn external_location(meta: &Option<Yaml>, config: &Option<Yaml>) -> Option<String> {
    let get = |map: Option<&Yaml>| {
        map?.get("external_location")
            .and_then(Yaml::as_str)
            .map(str::to_string)
    };
    get(meta.as_ref())
        .or_else(|| get(config.as_ref()))
        .or_else(|| get(config.as_ref().and_then(|c| c.get("meta"))))
}

/// The string values of a source's or table's `meta` (and its `config`'s).
fn meta_strings(meta: &Option<Yaml>, config: &Option<Yaml>) -> Vec<(String, String)> {
    [config.as_ref().and_then(|c| c.get("meta")), meta.as_ref()]
        .into_iter()
        .flatten()
        .filter_map(Yaml::as_mapping)
        .flat_map(|m| m.iter())
        .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string())))
        .collect()
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
    #[serde(default)]
    config: Option<Yaml>,
    #[serde(default)]
    meta: Option<Yaml>,
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
    /// The `event_time` of its `config:` (else its source's): the column
    /// a microbatch model's window filters when it reads the table.
    pub event_time: Option<String>,
    /// dbt-duckdb's `external_location` (the table's `meta`, else its
    /// `config`, else its source's), its placeholders not yet filled in.
    pub external_location: Option<String>,
    /// The string values of its `meta` (the table's over its source's),
    /// for an `external_location`'s placeholders.
    pub meta_strings: Vec<(String, String)>,
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
    /// The `unit_tests:` entries.
    pub unit_tests: Vec<DeclaredUnitTest>,
    /// The `groups:` entries.
    pub groups: Vec<DeclaredGroup>,
    /// What the `analyses:` entries say of analyses.
    pub analyses: BTreeMap<String, Patch>,
    /// The exposures, semantic models, metrics and saved queries.
    pub resources: Vec<ResourceEntry>,
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
        for (kind, key, list, target) in [
            ("model", "models", file.models, &mut self.models),
            ("seed", "seeds", file.seeds, &mut self.seeds),
            ("snapshot", "snapshots", file.snapshots, &mut self.snapshots),
            ("analysis", "analyses", file.analyses, &mut self.analyses),
        ] {
            for (i, props) in list.unwrap_or_default().into_iter().enumerate() {
                let entry = [Seg::key(key), Seg::Item(i), Seg::key("name")];
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
                        at(&[Seg::key(key), Seg::Item(i), Seg::key("config")]),
                        "`config:` must be a mapping of config keys",
                    ));
                }
                let entry_path = vec![Seg::key(key), Seg::Item(i)];
                let test_target = TestTarget::Node {
                    kind,
                    name: props.name.clone(),
                };
                // An analysis has no relation to test.
                let tested = kind != "analysis";
                self.tests.extend(declared_tests(
                    &test_target,
                    &entry_path,
                    props.data_tests.as_deref().filter(|_| tested),
                    props.tests.as_deref().filter(|_| tested),
                    props.columns.as_deref().filter(|_| tested),
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
                patch.versions = version_patches(
                    props.versions.as_deref().unwrap_or_default(),
                    &at,
                    &entry_path,
                    &mut self.warnings,
                )?;
                patch.latest_version = props.latest_version.as_ref().and_then(scalar_text);
                patch.deprecation_date = props.deprecation_date.as_ref().and_then(scalar_text);
                patch.constraints = props.constraints.iter().flatten().map(to_json).collect();
                for (key, value) in [
                    ("contract", props.contract),
                    ("access", props.access),
                    ("group", props.group),
                ] {
                    if let Some(value) = value {
                        patch
                            .config
                            .entry(key.to_string())
                            .or_insert_with(|| to_json(&value));
                    }
                }
                target.insert(props.name, patch);
            }
        }
        for (kind, key) in [
            (NodeKind::Exposure, "exposures"),
            (NodeKind::SemanticModel, "semantic_models"),
            (NodeKind::Metric, "metrics"),
            (NodeKind::SavedQuery, "saved_queries"),
        ] {
            let Some(section) = yaml.get(key) else {
                continue;
            };
            let Some(items) = section.as_sequence() else {
                return Err(Error::config(
                    at(&[Seg::key(key)]),
                    format!("`{key}:` must be a list of entries, each with a `name:`"),
                ));
            };
            for (i, item) in items.iter().enumerate() {
                let mut location = at(&[Seg::key(key), Seg::Item(i), Seg::key("name")]);
                if item.get("name").is_none() {
                    location = at(&[Seg::key(key), Seg::Item(i)]);
                }
                self.resources.push(ResourceEntry {
                    kind,
                    entry: to_json(item),
                    file: relative.to_path_buf(),
                    location,
                });
            }
        }
        for (i, group) in file.groups.unwrap_or_default().into_iter().enumerate() {
            let location = at(&[Seg::key("groups"), Seg::Item(i), Seg::key("name")]);
            if let Some(first) = self.groups.iter().find(|g| g.name == group.name) {
                return Err(Error::config(
                    location,
                    format!(
                        "group '{}' is declared twice: here and in {}",
                        group.name, first.location
                    ),
                ));
            }
            self.groups.push(DeclaredGroup {
                name: group.name,
                owner: group.owner.as_ref().map(to_json).unwrap_or_default(),
                description: group.description,
                file: relative.to_path_buf(),
                location,
            });
        }
        for (i, props) in file.unit_tests.unwrap_or_default().into_iter().enumerate() {
            super::unit_tests::check_keys(&yaml, i, &at)?;
            self.unit_tests
                .push(DeclaredUnitTest::new(props, relative, i, &at));
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
                let event_time = |config: &Option<Yaml>| {
                    config
                        .as_ref()
                        .and_then(|c| c.get("event_time"))
                        .and_then(Yaml::as_str)
                        .map(str::to_string)
                };
                let external_location = external_location(&table.meta, &table.config)
                    .or_else(|| external_location(&source.meta, &source.config));
                let mut meta = meta_strings(&source.meta, &source.config);
                meta.extend(meta_strings(&table.meta, &table.config));
                self.sources.push(DeclaredSource {
                    external_location,
                    meta_strings: meta,
                    event_time: event_time(&table.config).or_else(|| event_time(&source.config)),
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
                "version: 2\nmodels:\n  - name: orders\nunit_tests:\n  - name: t1\n    model: orders\n  - name: t2\n    model: orders\nmacros:\n  - name: dash\n",
                Path::new("models/schema.yml"),
            )
            .unwrap();
        let found: Vec<(String, Option<usize>)> = props
            .warnings
            .iter()
            .map(|w| (w.message.clone(), w.location.as_ref().and_then(|l| l.line)))
            .collect();
        // Unit tests are read (and run), so only the macros' properties warn.
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .0
                .contains("declares 1 macro under `macros:` (dash)"),
            "{found:?}"
        );
        assert_eq!(found[0].1, Some(9));
        let names: Vec<&str> = props.unit_tests.iter().map(|t| t.name()).collect();
        assert_eq!(names, ["t1", "t2"]);
        assert_eq!(props.unit_tests[1].location.line, Some(7));
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
