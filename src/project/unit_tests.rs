//! Unit tests (dbt 1.8): the `unit_tests:` entries of properties files as
//! nodes. Each names the model it tests, the rows given for the model's
//! inputs (`ref(...)`, `source(...)`, or `this` for an incremental model),
//! the rows expected, and what it overrides (macros, vars, env vars). Rows
//! come as `dict` (the default), `csv` or `sql`, written inline or kept in a
//! fixture file under `<test path>/fixtures/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

use super::discovery;
use super::node::{Node, NodeKind};
use crate::config::NodeConfig;
use crate::config::dbt_project::DbtProject;
use crate::config::yaml::to_json;
use crate::config::yaml_locate::Seg;
use crate::error::{Error, Location};

/// A `unit_tests:` entry as written (a key dbt does not know is an error,
/// as in dbt).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UnitTestProps {
    pub name: String,
    pub model: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub given: Option<Vec<GivenProps>>,
    #[serde(default)]
    pub expect: Option<FixtureProps>,
    #[serde(default)]
    pub overrides: Option<OverridesProps>,
    #[serde(default)]
    pub config: Option<Yaml>,
    #[serde(default)]
    pub versions: Option<Yaml>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct GivenProps {
    pub input: String,
    #[serde(flatten)]
    pub fixture: FixtureProps,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct FixtureProps {
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub rows: Option<Yaml>,
    #[serde(default)]
    pub fixture: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct OverridesProps {
    #[serde(default)]
    pub macros: Option<BTreeMap<String, Yaml>>,
    #[serde(default)]
    pub vars: Option<BTreeMap<String, Yaml>>,
    #[serde(default)]
    pub env_vars: Option<BTreeMap<String, Yaml>>,
}

/// A unit test declared in a properties file, before it is a node.
#[derive(Debug, Clone)]
pub struct DeclaredUnitTest {
    pub(super) props: UnitTestProps,
    /// The properties file, relative to the project.
    pub file: PathBuf,
    /// The entry's `name:` line.
    pub location: Location,
    /// Each `given:` item's line.
    pub given_locations: Vec<Location>,
    /// The `expect:` line (the entry's when there is none).
    pub expect_location: Location,
}

impl DeclaredUnitTest {
    pub(super) fn new(
        props: UnitTestProps,
        file: &Path,
        index: usize,
        at: &dyn Fn(&[Seg]) -> Location,
    ) -> DeclaredUnitTest {
        let entry = [Seg::key("unit_tests"), Seg::Item(index)];
        let with = |tail: &[Seg]| {
            let mut path = entry.to_vec();
            path.extend_from_slice(tail);
            at(&path)
        };
        let location = with(&[Seg::key("name")]);
        let given_locations = (0..props.given.as_ref().map_or(0, Vec::len))
            .map(|i| with(&[Seg::key("given"), Seg::Item(i)]))
            .collect();
        let expect_location = if props.expect.is_some() {
            with(&[Seg::key("expect")])
        } else {
            location.clone()
        };
        DeclaredUnitTest {
            props,
            file: file.to_path_buf(),
            location,
            given_locations,
            expect_location,
        }
    }

    pub fn name(&self) -> &str {
        &self.props.name
    }
}

/// A key of a `given:` item, `expect:` or `overrides:` that dbt does not
/// know is an error at its line, as in dbt ("Additional properties are not
/// allowed"); serde alone would drop it in silence.
pub(super) fn check_keys(
    file: &Yaml,
    index: usize,
    at: &dyn Fn(&[Seg]) -> Location,
) -> Result<(), Error> {
    let Some(entry) = file.get("unit_tests").and_then(|u| u.get(index)) else {
        return Ok(());
    };
    let base = [Seg::key("unit_tests"), Seg::Item(index)];
    let check = |value: Option<&Yaml>, path: Vec<Seg>, known: &[&str]| -> Result<(), Error> {
        let Some(Yaml::Mapping(map)) = value else {
            return Ok(());
        };
        for key in map.keys().filter_map(Yaml::as_str) {
            if !known.contains(&key) {
                let mut at_key = path.clone();
                at_key.push(Seg::key(key));
                return Err(Error::config(
                    at(&at_key),
                    format!(
                        "Additional properties are not allowed ('{key}' was unexpected); expected one of: {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    };
    let with = |tail: &[Seg]| {
        let mut path = base.to_vec();
        path.extend_from_slice(tail);
        path
    };
    const FIXTURE: &[&str] = &["rows", "format", "fixture"];
    for (i, item) in entry
        .get("given")
        .and_then(Yaml::as_sequence)
        .into_iter()
        .flatten()
        .enumerate()
    {
        check(
            Some(item),
            with(&[Seg::key("given"), Seg::Item(i)]),
            &["input", "rows", "format", "fixture"],
        )?;
    }
    check(entry.get("expect"), with(&[Seg::key("expect")]), FIXTURE)?;
    check(
        entry.get("overrides"),
        with(&[Seg::key("overrides")]),
        &["macros", "vars", "env_vars"],
    )?;
    Ok(())
}

/// How a fixture's rows are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rows {
    /// `format: dict`: one mapping of column to value a row.
    Dict(Vec<serde_json::Map<String, Json>>),
    /// `format: csv`: a header line and a line a row; every value is text.
    Csv(Vec<serde_json::Map<String, Json>>),
    /// `format: sql`: a query that gives the rows (all columns).
    Sql(String),
}

impl Rows {
    /// The rows as mappings, for `dict` and `csv`.
    pub fn as_maps(&self) -> Option<&[serde_json::Map<String, Json>]> {
        match self {
            Rows::Dict(rows) | Rows::Csv(rows) => Some(rows),
            Rows::Sql(_) => None,
        }
    }
}

/// One `given:` item: an input of the model and its rows.
#[derive(Debug, Clone)]
pub struct Given {
    /// As written: `ref('stg_orders')`, `source('raw', 'orders')`, `this`.
    pub input: String,
    pub target: Input,
    pub rows: Rows,
    pub location: Location,
    /// As the manifest records it: `input`, `rows`, `format`, `fixture`.
    pub written: Json,
}

/// What a `given:` item stands in for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Ref {
        package: Option<String>,
        name: String,
    },
    Source {
        source: String,
        table: String,
    },
    /// The model's own relation (`{{ this }}`, in an incremental model).
    This,
}

impl Input {
    /// Reads `ref('m')`, `ref('pkg', 'm')`, `ref('m', v=2)`,
    /// `source('raw', 'orders')` or `this`.
    pub fn parse(text: &str) -> Option<Input> {
        let text = text.trim();
        if text == "this" {
            return Some(Input::This);
        }
        let (function, rest) = text.split_once('(')?;
        let inner = rest.trim_end().strip_suffix(')')?;
        let mut names = Vec::new();
        for argument in inner.split(',') {
            let argument = argument.trim();
            if argument.contains('=') {
                // `v=2` / `version=2`: one version a model in kiln.
                continue;
            }
            let unquoted = argument
                .strip_prefix('\'')
                .and_then(|a| a.strip_suffix('\''))
                .or_else(|| argument.strip_prefix('"').and_then(|a| a.strip_suffix('"')))?;
            names.push(unquoted.to_string());
        }
        match (function.trim(), names.as_slice()) {
            ("ref", [name]) => Some(Input::Ref {
                package: None,
                name: name.clone(),
            }),
            ("ref", [package, name]) => Some(Input::Ref {
                package: Some(package.clone()),
                name: name.clone(),
            }),
            ("source", [source, table]) => Some(Input::Source {
                source: source.clone(),
                table: table.clone(),
            }),
            _ => None,
        }
    }
}

/// What a unit test overrides while the model renders.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Macros and the value each returns (`is_incremental: true`).
    pub macros: BTreeMap<String, Json>,
    pub vars: BTreeMap<String, Json>,
    pub env_vars: BTreeMap<String, String>,
}

/// What a run needs of a unit test.
#[derive(Debug, Clone)]
pub struct UnitTestSpec {
    /// The tested model's name.
    pub model: String,
    /// The tested model's unique id.
    pub model_id: String,
    pub given: Vec<Given>,
    pub expect: Rows,
    pub expect_location: Location,
    pub overrides: Overrides,
    /// Where the entry is declared (its `name:` line).
    pub location: Location,
    /// As the console names it: `orders::test_name` (`dim::test_v2` for a
    /// version).
    pub shown_as: String,
    /// `expect` and `overrides` as the manifest records them.
    pub expect_written: Json,
    pub overrides_written: Json,
}

/// The unit tests of a project as nodes, `unit_test.<project>.<model>.<name>`,
/// configured by the project's `unit_tests:` tree and the entry's `config:`.
/// A model that does not exist, a format kiln does not know, a fixture file
/// that is not there: each an error at the entry's line. `loaded` are the
/// package's models, seeds and snapshots, `disabled` its disabled ones.
pub fn unit_test_nodes(
    root: &Path,
    config: &DbtProject,
    declared: &[DeclaredUnitTest],
    loaded: &BTreeMap<String, Node>,
    disabled: &BTreeMap<String, Node>,
    errors: &mut Vec<Error>,
) -> Vec<Node> {
    let mut nodes: Vec<Node> = Vec::new();
    for test in declared {
        let props = &test.props;
        let model_id = format!("model.{}.{}", config.name, props.model);
        // The model, or (dbt 1.5) each of its versions the test includes.
        let mut targets: Vec<&Node> = loaded
            .get(&model_id)
            .or_else(|| disabled.get(&model_id))
            .into_iter()
            .collect();
        let versioned = targets.is_empty();
        if versioned {
            targets = loaded
                .values()
                .chain(disabled.values())
                .filter(|n| n.kind == NodeKind::Model && n.name == props.model)
                .filter(|n| {
                    n.version
                        .as_ref()
                        .is_some_and(|v| version_included(props.versions.as_ref(), &v.v))
                })
                .collect();
            targets.sort_by_key(|n| n.unique_id.clone());
        }
        if targets.is_empty() {
            let known = loaded
                .values()
                .filter(|n| n.kind == NodeKind::Model)
                .map(|n| n.name.as_str());
            // dbt 1.10's words.
            let mut error = Error::config(
                test.location.clone(),
                format!(
                    "Unable to find model '{}.{}' for unit test '{}' in {}",
                    config.name,
                    props.model,
                    props.name,
                    test.file.display()
                ),
            );
            if let Some(help) = crate::diagnostic::did_you_mean(&props.model, known) {
                error = error.with_help(help);
            }
            errors.push(error);
            continue;
        }
        if !versioned && props.versions.is_some() {
            errors.push(Error::config(
                test.location.clone(),
                format!(
                    "Unit test '{}' should not have a versions include or exclude when referencing non-versioned model '{}'",
                    props.name, props.model
                ),
            ));
            continue;
        }
        for model in targets {
            // One test a version: `<name>_v<v>` in its unique id, as dbt.
            let suffix = model
                .version
                .as_ref()
                .map(|v| format!("_v{}", v.v))
                .unwrap_or_default();
            let unique_id = format!(
                "unit_test.{}.{}.{}{suffix}",
                config.name, props.model, props.name
            );
            if nodes.iter().any(|n| n.unique_id == unique_id) {
                errors.push(Error::config(
                    test.location.clone(),
                    format!(
                        "model '{}' has two unit tests named '{}'; names must be unique",
                        props.model, props.name
                    ),
                ));
                continue;
            }
            let mut spec = match spec_of(root, config, test, &model.unique_id, loaded) {
                Ok(spec) => spec,
                Err(error) => {
                    errors.push(error);
                    continue;
                }
            };
            spec.shown_as = format!("{}::{}{suffix}", props.model, props.name);
            let mut fqn = model.fqn.clone();
            if model.version.is_some() {
                fqn.pop();
            }
            fqn.push(props.name.clone());
            let mut node_config = NodeConfig::default();
            for level in config.config_levels("unit_tests", &fqn) {
                node_config.merge_all(&level);
            }
            if let Some(Yaml::Mapping(own)) = &props.config {
                for (key, value) in own {
                    if let Some(key) = key.as_str() {
                        node_config.merge(key, to_json(value));
                    }
                }
            }
            // A unit test of a disabled model is disabled with it.
            if !model.config.enabled() {
                node_config.merge("enabled", Json::Bool(false));
            }
            nodes.push(Node {
                unique_id,
                kind: NodeKind::UnitTest,
                name: props.name.clone(),
                package: config.name.clone(),
                original_file_path: test.file.clone(),
                path: discovery::relative_to_folder(&test.file, &config.model_paths),
                fqn,
                raw_code: String::new(),
                config: node_config,
                description: props.description.clone().unwrap_or_default(),
                columns: Vec::new(),
                constraints: Vec::new(),
                patch_path: None,
                test: None,
                unit: Some(Box::new(spec)),
                version: None,
                resource: None,
            });
        }
    }
    nodes
}

/// Whether a unit test's `versions: {include: [...], exclude: [...]}` takes
/// version `v` (all of them when it says nothing).
fn version_included(versions: Option<&Yaml>, v: &str) -> bool {
    let listed = |key: &str| -> Option<Vec<String>> {
        let items = versions?.get(key)?.as_sequence()?;
        Some(
            items
                .iter()
                .filter_map(|i| match i {
                    Yaml::Number(n) => Some(n.to_string()),
                    Yaml::String(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
        )
    };
    listed("include").is_none_or(|l| l.iter().any(|x| x == v))
        && !listed("exclude").is_some_and(|l| l.iter().any(|x| x == v))
}

fn spec_of(
    root: &Path,
    config: &DbtProject,
    test: &DeclaredUnitTest,
    model_id: &str,
    nodes: &BTreeMap<String, Node>,
) -> Result<UnitTestSpec, Error> {
    let props = &test.props;
    let mut given = Vec::new();
    for (i, item) in props.given.iter().flatten().enumerate() {
        let location = test.given_locations[i].clone();
        let input = item.input.trim().to_string();
        let Some(target) = Input::parse(&input) else {
            return Err(Error::config(
                location,
                format!(
                    "unit test '{}': input '{input}' must be ref('model'), source('source', 'table') or this",
                    props.name
                ),
            ));
        };
        let omitted = item.fixture.rows.is_none() && item.fixture.fixture.is_none();
        let rows = match (&target, omitted) {
            // A seed given without rows: its own file's rows, as dbt reads them.
            (Input::Ref { name, .. }, true) if item.fixture.format.as_deref() != Some("sql") => {
                let seed = nodes.get(&format!("seed.{}.{name}", config.name));
                let Some(seed) = seed else {
                    return Err(Error::config(
                        location,
                        format!(
                            "Unable to find seed '{}.{name}' for unit tests in directories: [{}]",
                            config.name,
                            config
                                .seed_paths
                                .iter()
                                .map(|p| format!("'{p}'"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                };
                let text = std::fs::read_to_string(root.join(&seed.original_file_path))
                    .map_err(|e| Error::io(&seed.original_file_path, &e))?;
                Rows::Csv(csv_rows(&text).map_err(|m| Error::config(location.clone(), m))?)
            }
            _ => rows_of(
                root,
                config,
                &item.fixture,
                &location,
                &props.name,
                &test.file,
            )?,
        };
        let mut written = written_fixture(&item.fixture, &rows);
        written["input"] = Json::String(input.clone());
        given.push(Given {
            input,
            target,
            rows,
            location,
            written,
        });
    }
    if props.given.is_none() {
        return Err(Error::config(
            test.location.clone(),
            format!(
                "unit test '{}': 'given' is a required property (the rows of each input of the model)",
                props.name
            ),
        ));
    }
    let Some(expect) = &props.expect else {
        return Err(Error::config(
            test.location.clone(),
            format!(
                "unit test '{}': 'expect' is a required property (the rows the model should give)",
                props.name
            ),
        ));
    };
    let expect_rows = rows_of(
        root,
        config,
        expect,
        &test.expect_location,
        &props.name,
        &test.file,
    )?;
    let expect_written = written_fixture(expect, &expect_rows);
    let expect = expect_rows;
    let overrides_written = match &props.overrides {
        None => Json::Null,
        Some(o) => serde_json::json!({
            "macros": o.macros.as_ref().map(|m| m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect::<serde_json::Map<_, _>>()).unwrap_or_default(),
            "vars": o.vars.as_ref().map(|m| m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect::<serde_json::Map<_, _>>()).unwrap_or_default(),
            "env_vars": o.env_vars.as_ref().map(|m| m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect::<serde_json::Map<_, _>>()).unwrap_or_default(),
        }),
    };
    let overrides = props.overrides.clone().unwrap_or_default();
    let strings = |map: Option<BTreeMap<String, Yaml>>| -> BTreeMap<String, String> {
        map.unwrap_or_default()
            .into_iter()
            .map(|(k, v)| {
                let text = match to_json(&v) {
                    Json::String(s) => s,
                    other => other.to_string(),
                };
                (k, text)
            })
            .collect()
    };
    let json = |map: Option<BTreeMap<String, Yaml>>| -> BTreeMap<String, Json> {
        map.unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, to_json(&v)))
            .collect()
    };
    Ok(UnitTestSpec {
        model: props.model.clone(),
        model_id: model_id.to_string(),
        given,
        expect,
        expect_location: test.expect_location.clone(),
        overrides: Overrides {
            macros: json(overrides.macros),
            vars: json(overrides.vars),
            env_vars: strings(overrides.env_vars),
        },
        location: test.location.clone(),
        shown_as: String::new(),
        expect_written,
        overrides_written,
    })
}

/// A fixture as dbt's manifest records it (inline CSV as the rows it reads to).
fn written_fixture(fixture: &FixtureProps, rows: &Rows) -> Json {
    let written_rows = match (rows, &fixture.rows) {
        (Rows::Csv(maps), Some(_)) => Some(Json::from(
            maps.iter().cloned().map(Json::Object).collect::<Vec<_>>(),
        )),
        (_, written) => written.as_ref().map(to_json),
    };
    serde_json::json!({
        "rows": written_rows,
        "format": fixture.format.as_deref().unwrap_or("dict"),
        "fixture": fixture.fixture,
    })
}

/// A fixture's rows, read from the entry or from its fixture file.
fn rows_of(
    root: &Path,
    config: &DbtProject,
    fixture: &FixtureProps,
    location: &Location,
    test_name: &str,
    file: &Path,
) -> Result<Rows, Error> {
    let format = fixture.format.as_deref().unwrap_or("dict");
    let error = |message: String| Error::config(location.clone(), message);
    if !matches!(format, "dict" | "csv" | "sql") {
        return Err(error(format!(
            "unit test '{test_name}': format '{format}' is not one of ['csv', 'dict', 'sql']"
        )));
    }
    let text = match (&fixture.rows, &fixture.fixture) {
        (Some(_), Some(_)) => {
            return Err(error(format!(
                "unit test '{test_name}': give either `rows` or `fixture`, not both"
            )));
        }
        (None, Some(name)) => {
            if format == "dict" {
                return Err(error(format!(
                    "unit test '{test_name}': a `fixture` file needs `format: csv` or `format: sql`"
                )));
            }
            Some(read_fixture(root, config, name, format).map_err(|looked| {
                error(format!(
                    "File not found for fixture '{name}' in unit tests in {} ({looked})",
                    file.display()
                ))
            })?)
        }
        (Some(Yaml::String(text)), None) => Some(text.clone()),
        _ => None,
    };
    match format {
        "sql" => match text {
            Some(sql) => Ok(Rows::Sql(sql)),
            None => Err(error(format!(
                "Unit test {test_name} has input rows or fixtures which do not match format sql.  Expected string."
            ))),
        },
        "csv" => match text {
            Some(csv) => csv_rows(&csv).map(Rows::Csv).map_err(error),
            None if fixture.rows.is_none() => Ok(Rows::Csv(Vec::new())),
            None => Err(error(format!(
                "Unit test {test_name} has input rows or fixtures which do not match format csv.  Expected string."
            ))),
        },
        _ => dict_rows(fixture.rows.as_ref())
            .map(Rows::Dict)
            .map_err(|m| {
                error(format!(
                    "Unit test {test_name} has input rows which do not match format dict: {m}"
                ))
            }),
    }
}

fn dict_rows(rows: Option<&Yaml>) -> Result<Vec<serde_json::Map<String, Json>>, String> {
    match rows {
        None | Some(Yaml::Null) => Ok(Vec::new()),
        Some(Yaml::Sequence(items)) => items
            .iter()
            .map(|item| match to_json(item) {
                Json::Object(map) => Ok(map),
                other => Err(format!(
                    "each row of `format: dict` is a mapping of column to value, not {other}"
                )),
            })
            .collect(),
        Some(_) => Err("`rows` of `format: dict` is a list of mappings of column to value".into()),
    }
}

/// Rows of CSV text: the header names the columns; every value is text,
/// and an empty one is null.
fn csv_rows(text: &str) -> Result<Vec<serde_json::Map<String, Json>>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.trim().as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("its CSV rows cannot be read: {e}"))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("its CSV rows cannot be read: {e}"))?;
        let mut row = serde_json::Map::new();
        for (column, value) in header.iter().zip(record.iter()) {
            let value = if value.is_empty() {
                Json::Null
            } else {
                Json::String(value.to_string())
            };
            row.insert(column.clone(), value);
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The text of fixture file `name` (`.csv` or `.sql` by the format) from
/// the first `fixtures/` folder of the test paths that has it.
fn read_fixture(
    root: &Path,
    config: &DbtProject,
    name: &str,
    format: &str,
) -> Result<String, String> {
    let file_name = format!("{name}.{format}");
    if name.contains("..") || Path::new(name).is_absolute() {
        return Err(format!(
            "fixture '{name}' must be a file name in a fixtures/ folder of the test paths"
        ));
    }
    let mut looked = Vec::new();
    for test_path in &config.test_paths {
        let folder = root.join(test_path).join("fixtures");
        let mut found = None;
        find_named(&folder, &file_name, &mut found);
        if let Some(path) = found {
            return std::fs::read_to_string(&path)
                .map_err(|e| format!("fixture file {} cannot be read: {e}", path.display()));
        }
        looked.push(format!("{test_path}/fixtures"));
    }
    Err(format!(
        "looked for {file_name} in {}",
        looked.join(" and ")
    ))
}

fn find_named(folder: &Path, file_name: &str, found: &mut Option<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if found.is_some() {
            return;
        }
        if path.is_dir() {
            find_named(&path, file_name, found);
        } else if path.file_name().is_some_and(|n| n == file_name) {
            *found = Some(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_refs_sources_or_this() {
        assert_eq!(
            Input::parse("ref('stg_orders')"),
            Some(Input::Ref {
                package: None,
                name: "stg_orders".into()
            })
        );
        assert_eq!(
            Input::parse("ref(\"pkg\", 'm', v=2)"),
            Some(Input::Ref {
                package: Some("pkg".into()),
                name: "m".into()
            })
        );
        assert_eq!(
            Input::parse(" source('raw', 'orders') "),
            Some(Input::Source {
                source: "raw".into(),
                table: "orders".into()
            })
        );
        assert_eq!(Input::parse("this"), Some(Input::This));
        assert_eq!(Input::parse("orders"), None);
        assert_eq!(Input::parse("ref(orders)"), None);
    }

    #[test]
    fn csv_values_are_text_and_empty_ones_null() {
        let rows = csv_rows("id,name\n1,a\n2,\n").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["id"], Json::String("1".into()));
        assert_eq!(rows[1]["name"], Json::Null);
    }

    #[test]
    fn dict_rows_must_be_mappings() {
        let yaml: Yaml = serde_yaml::from_str("[{id: 1}, 3]").unwrap();
        assert!(dict_rows(Some(&yaml)).unwrap_err().contains("mapping"));
        let yaml: Yaml = serde_yaml::from_str("[{id: 1, name: a}]").unwrap();
        assert_eq!(dict_rows(Some(&yaml)).unwrap()[0]["id"], Json::from(1));
    }
}
