//! Running a unit test: the model it tests is rendered with each given input
//! replaced by a CTE of the given rows (cast to the input's column types, as
//! the database reports them), and its rows are compared with the expected
//! ones as a multiset on the expected columns. A failure is a diff.

mod diff;
mod fixture;

use std::sync::Arc;

use crate::adapter::{CatalogColumn, SharedConnection};
use crate::compile::{UnitRender, compile_for_unit_test, inject_ctes};
use crate::diagnostic::{Code, Diagnostic};
use crate::error::{Error, Location};
use crate::files::write_if_changed;
use crate::jinja::context::{RefTarget, Resolver, RunFlags};
use crate::parse::{Parsed, ParsedNode};
use crate::project::unit_tests::{Given, Input, Rows, UnitTestSpec};
use crate::sql::Relation;

use super::NodeFailure;

/// How a unit test went.
#[derive(Debug, Clone)]
pub struct UnitOutcome {
    /// The model's rows equal the expected ones.
    pub passed: bool,
    /// dbt's diff of the two when they differ.
    pub diff: String,
    /// The model's SQL on the fixtures.
    pub compiled_code: String,
}

fn lock<T: ?Sized>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs the unit test `node` on `connection`; `resolver` is the run's.
pub fn run_unit_test(
    parsed: &Parsed,
    resolver: &Arc<Resolver>,
    node: &ParsedNode,
    connection: SharedConnection,
) -> Result<UnitOutcome, NodeFailure> {
    let Some(spec) = node.node.unit.as_deref() else {
        return Err(NodeFailure::new(Diagnostic::error(
            Code::Config,
            format!("{} is not a unit test", node.node.unique_id),
        )));
    };
    let located = |location: &Location, message: String| {
        NodeFailure::new(Diagnostic::error(Code::Config, message).at(location.clone()))
    };
    let Some(model) = parsed.nodes.get(&spec.model_id) else {
        return Err(located(
            &spec.location,
            format!(
                "unit test '{}' tests model '{}', which is not enabled",
                node.node.name, spec.model
            ),
        ));
    };
    let adapter = parsed.target.adapter;
    let mut unit_resolver = resolver.fresh_copy();
    let mut this = model.relation.clone();
    // Each input: its CTE's name and the relation whose columns type its rows.
    let mut inputs: Vec<(&Given, String, Option<Relation>)> = Vec::new();
    for given in &spec.given {
        let cte = cte_name(&given.target, &model.node.name);
        let fixture = Relation::cte(adapter, &cte);
        let not_found = || {
            located(
                &given.location,
                format!(
                    "Unit test '{}' had an input ({}) which was not found in the manifest.",
                    node.node.name, given.input
                ),
            )
        };
        let read_from = match &given.target {
            Input::This => {
                this = fixture;
                Some(model.relation.clone())
            }
            Input::Ref { package, name } => {
                let found = unit_resolver
                    .refs
                    .find_mut(
                        name,
                        package.as_deref(),
                        &model.node.package,
                        &resolver.root,
                    )
                    .ok_or_else(not_found)?;
                let relation = match found {
                    RefTarget::Relation(relation) => Some(relation.clone()),
                    RefTarget::Ephemeral(_) => None,
                };
                *found = RefTarget::Relation(fixture);
                relation
            }
            Input::Source { source, table } => {
                let key = format!("{source}.{table}");
                let found = unit_resolver
                    .sources
                    .find_mut(&key, None, &model.node.package, &resolver.root)
                    .ok_or_else(not_found)?;
                let relation = found.clone();
                *found = fixture;
                Some(relation)
            }
        };
        inputs.push((given, cte, read_from));
    }
    // dbt's rule: every ref and source of the model has its rows given.
    for call in &model.refs {
        let given = spec
            .given
            .iter()
            .any(|g| matches!(&g.target, Input::Ref { name, .. } if *name == call.name));
        if !given {
            return Err(located(
                &spec.location,
                format!(
                    "Unit test '{}' depends on a node named '{}' which was not found: give its rows under `given:` (input: ref('{}'))",
                    node.node.name, call.name, call.name
                ),
            ));
        }
    }
    for (source, table) in &model.sources {
        let given = spec.given.iter().any(|g| {
            matches!(&g.target, Input::Source { source: s, table: t } if s == source && t == table)
        });
        if !given {
            return Err(located(
                &spec.location,
                format!(
                    "Unit test '{}' depends on a source named '{source}.{table}' which was not found: give its rows under `given:` (input: source('{source}', '{table}'))",
                    node.node.name
                ),
            ));
        }
    }

    let flags = RunFlags {
        full_refresh: false,
        is_incremental: spec
            .overrides
            .macros
            .get("is_incremental")
            .is_some_and(truthy),
        batch: None,
    };
    let unit = UnitRender {
        this,
        overrides: &spec.overrides,
    };
    let unit_resolver = Arc::new(unit_resolver);
    let fail = |e: Error| NodeFailure::from_error(&e);
    let sql = compile_for_unit_test(
        parsed,
        &unit_resolver,
        model,
        connection.clone(),
        flags,
        &unit,
    )
    .map_err(fail)?;
    // The fixtures of the inputs the SQL reads, `this` first, then in the
    // order the SQL reads them (dbt's order; an input it never reads is
    // left out).
    let mut used: Vec<(usize, &Given, String, Option<Relation>)> = inputs
        .into_iter()
        .filter_map(|(given, cte, read_from)| {
            let at = match given.target {
                Input::This => 0,
                _ => sql.find(&cte)? + 1,
            };
            Some((at, given, cte, read_from))
        })
        .collect();
    used.sort_by_key(|(at, ..)| *at);
    let mut ctes: Vec<(String, String)> = Vec::new();
    for (_, given, cte, read_from) in used {
        let name = cte.trim_start_matches("__dbt__cte__").to_string();
        let columns = match (&given.rows, read_from) {
            (Rows::Sql(_), _) => Vec::new(),
            (_, Some(relation)) => input_columns(&connection, &relation).map_err(|message| {
                located(
                    &given.location,
                    format!(
                        "Not able to get columns for unit test '{name}' from relation {} because {message}",
                        relation.render()
                    ),
                )
            })?,
            (_, None) => {
                return Err(located(
                    &given.location,
                    format!(
                        "unit test '{}': {} is an ephemeral model, which has no relation to read its columns from; give its rows with `format: sql`",
                        node.node.name, given.input
                    ),
                ));
            }
        };
        if let Some(rows) = given.rows.as_maps() {
            let unknown = fixture::unknown_columns(rows, &columns);
            if let Some(first) = unknown.first() {
                return Err(located(
                    &given.location,
                    format!(
                        "Invalid column name: '{first}' in unit test fixture for '{name}'.\nAccepted columns for '{name}' are: [{}]",
                        quoted_list(&columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>())
                    ),
                ));
            }
        }
        ctes.push((cte, fixture::fixture_query(adapter, &given.rows, &columns)));
    }
    let sql = if ctes.is_empty() {
        sql
    } else {
        inject_ctes(&sql, &ctes)
    };
    write_if_changed(&parsed.compiled_path(node), &sql).map_err(fail)?;
    compare(parsed, node, spec, &sql, &connection)
}

/// Runs the model's SQL beside the expected rows and compares them.
fn compare(
    parsed: &Parsed,
    node: &ParsedNode,
    spec: &UnitTestSpec,
    sql: &str,
    connection: &SharedConnection,
) -> Result<UnitOutcome, NodeFailure> {
    let adapter = parsed.target.adapter;
    let run_file = parsed.run_path(node);
    let database_error = |message: String, sql: &str| {
        let _ = write_if_changed(&run_file, &format!("{sql};\n"));
        NodeFailure {
            diagnostic: Box::new(
                Diagnostic::error(Code::Database, message).at(Location::file(&run_file)),
            ),
            run_file: Some(run_file.clone()),
        }
    };
    let model_columns = lock(connection)
        .query_column_types(sql)
        .map_err(|e| database_error(e.message, sql))?;
    let compared = fixture::compared_columns(&spec.expect, &model_columns);
    if let Some(rows) = spec.expect.as_maps() {
        let unknown = fixture::unknown_columns(rows, &model_columns);
        if let Some(first) = unknown.first() {
            return Err(NodeFailure::new(
                Diagnostic::error(
                    Code::Config,
                    format!(
                        "Invalid column name: '{first}' in unit test fixture for expected output.\nAccepted columns for expected output are: [{}]",
                        quoted_list(
                            &model_columns
                                .iter()
                                .map(|c| c.name.clone())
                                .collect::<Vec<_>>()
                        )
                    ),
                )
                .at(spec.expect_location.clone()),
            ));
        }
    }
    let expected_sql = fixture::fixture_query(adapter, &spec.expect, &compared);
    let comparison = fixture::comparison_query(adapter, sql, &expected_sql, &compared);
    let result = lock(connection)
        .query(&comparison)
        .map_err(|e| database_error(e.message, &comparison))?;
    let _ = write_if_changed(&run_file, &format!("{comparison};\n"));
    let width = compared.len();
    let (mut actual, mut expected) = (Vec::new(), Vec::new());
    for row in result.rows {
        let tag = row.get(width).map(|c| c.to_string()).unwrap_or_default();
        let values: Vec<crate::adapter::Cell> = row.into_iter().take(width).collect();
        if tag == "expected" {
            expected.push(values);
        } else {
            actual.push(values);
        }
    }
    let names: Vec<String> = compared.iter().map(|c| c.name.clone()).collect();
    let diff = diff::differences(&names, &actual, &expected);
    Ok(UnitOutcome {
        passed: diff.is_none(),
        diff: diff.unwrap_or_default(),
        compiled_code: sql.to_string(),
    })
}

/// The CTE that stands in for an input, named as dbt names its fixtures.
fn cte_name(input: &Input, model: &str) -> String {
    match input {
        Input::Ref { name, .. } => format!("__dbt__cte__{name}"),
        Input::Source { table, .. } => format!("__dbt__cte__{table}"),
        Input::This => format!("__dbt__cte__{model}"),
    }
}

/// An input's columns and their types, read from the relation it names.
fn input_columns(
    connection: &SharedConnection,
    relation: &Relation,
) -> Result<Vec<CatalogColumn>, String> {
    let columns = lock(connection)
        .query_column_types(&format!("select * from {}", relation.render()))
        .map_err(|e| {
            let first = e
                .message
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_string();
            format!("the relation doesn't exist or cannot be read ({first})")
        })?;
    if columns.is_empty() {
        return Err("it has no columns".into());
    }
    Ok(columns)
}

fn truthy(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::String(s) => s.eq_ignore_ascii_case("true"),
        serde_json::Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        _ => false,
    }
}

fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}
