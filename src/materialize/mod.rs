//! Turning one node into a relation: compile it, then run its
//! materialization macro (from `templates/`, or the project's own of the same
//! name) inside one transaction, rolled back if anything fails.

pub mod external;
pub mod microbatch;
pub mod operation;
pub mod seed_csv;
pub mod unit_test;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use minijinja::Value;

use crate::adapter::SharedConnection;
use crate::compile::{Compiled, compile_node_inlining, run_flags};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::error::{Error, Location};
use crate::files::write_if_changed;
use crate::jinja::context::{Phase, RenderScope, Resolver};
use crate::jinja::functions::replay_log_output;
use crate::jinja::render::jinja_error;
use crate::parse::{Parsed, ParsedNode};
use crate::project::node::NodeKind;

/// Why a node failed.
#[derive(Debug, Clone)]
pub struct NodeFailure {
    pub diagnostic: Box<Diagnostic>,
    /// The file with the SQL that was sent, when the database refused it.
    pub run_file: Option<PathBuf>,
}

impl NodeFailure {
    pub fn new(diagnostic: Diagnostic) -> NodeFailure {
        NodeFailure {
            diagnostic: Box::new(diagnostic),
            run_file: None,
        }
    }

    /// The first diagnostic of a kiln error.
    pub fn from_error(error: &Error) -> NodeFailure {
        let diagnostics: Vec<Diagnostic> = error.into();
        let diagnostic = diagnostics
            .into_iter()
            .next()
            .unwrap_or_else(|| Diagnostic::error(error.code(), error.to_string()));
        NodeFailure::new(diagnostic)
    }
}

/// What a successful materialization did, e.g. `CREATE TABLE`.
#[derive(Debug, Clone)]
pub struct Materialized {
    pub message: String,
    /// For a test: the row its materialization's `main` statement returned.
    pub test: Option<TestCounts>,
    /// The compiled SQL of a model or test.
    pub compiled_code: Option<String>,
    /// The relation a test stored its failing rows in.
    pub relation: Option<String>,
}

/// The outcome of a test's query: the failure count (`fail_calc` over the
/// failing rows) and whether it meets `warn_if` and `error_if`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestCounts {
    pub failures: i64,
    pub should_warn: bool,
    pub should_error: bool,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub full_refresh: bool,
    /// `--warn-error`: a test that would warn fails.
    pub warn_error: bool,
    /// The window a microbatch model is built for, one batch a call.
    pub batch: Option<microbatch::Batch>,
}

/// Where a batch's SQL goes: `<folder>/<model>/<model>_<batch>.sql`, as
/// dbt writes it; a node's own path otherwise.
fn batch_path(path: std::path::PathBuf, batch: Option<microbatch::Batch>) -> std::path::PathBuf {
    let Some(batch) = batch else {
        return path;
    };
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    path.with_extension("")
        .join(format!("{stem}_{}.sql", batch.file_suffix()))
}

/// Builds `node` on `connection`; with the SQL the check before the run
/// compiled it to (`precompiled`), which is used as it is when it was
/// compiled with the flags the node runs with.
pub fn materialize(
    parsed: &Parsed,
    resolver: &Arc<Resolver>,
    node: &ParsedNode,
    connection: SharedConnection,
    options: Options,
    precompiled: Option<&Compiled>,
) -> Result<Materialized, NodeFailure> {
    let fail = |e: Error| NodeFailure::from_error(&e);
    let source_file = parsed.project.display_path(&node.node.original_file_path);
    let materialized = match node.node.kind {
        NodeKind::Test => "test".to_string(),
        NodeKind::UnitTest => "unit".to_string(),
        NodeKind::Model => node.node.config.materialized().to_string(),
        other => other.resource_type().to_string(),
    };
    let macro_name = [
        format!(
            "materialization_{materialized}_{}",
            parsed.target.adapter.name()
        ),
        format!("materialization_{materialized}_default"),
    ]
    .into_iter()
    .find(|m| parsed.env.has_macro(m))
    .ok_or_else(|| {
        NodeFailure::new(
            Diagnostic::error(
                Code::Config,
                format!("unknown materialization '{materialized}'"),
            )
            .at(Location::file(&source_file))
            .with_help(Some(
                did_you_mean(&materialized, ["view", "table", "incremental", "ephemeral"])
                    .unwrap_or_else(|| "kiln has: view, table, incremental, ephemeral".into()),
            )),
        )
    })?;

    let mut flags = run_flags(node, &connection, options.full_refresh).map_err(fail)?;
    flags.batch = options.batch;
    let mut extra: Vec<(&'static str, Value)> = Vec::new();
    let sql = match node.node.kind {
        NodeKind::Seed => None,
        _ => {
            let (sql, inlined) = match precompiled.filter(|c| c.flags == flags) {
                Some(compiled) => {
                    replay_log_output(&compiled.log);
                    (compiled.sql.clone(), compiled.inlined.clone())
                }
                None => {
                    compile_node_inlining(parsed, resolver, node, Some(connection.clone()), flags)
                        .map_err(fail)?
                }
            };
            replay_log_output(&resolver.take_ephemeral_log(&inlined));
            write_if_changed(&batch_path(parsed.compiled_path(node), flags.batch), &sql)
                .map_err(fail)?;
            Some(sql)
        }
    };
    let mut seed_rows = 0;
    let mut scope = RenderScope::new(
        Phase::Execute,
        &node.node.unique_id,
        node.node.config.clone(),
    )
    .with_resolver(resolver.clone())
    .with_connection(connection.clone())
    .with_query_comment(query_comment(parsed, &node.node.unique_id))
    .with_flags(flags);
    if node.node.kind == NodeKind::Seed {
        let seed = read_seed(parsed, node).map_err(fail)?.ok_or_else(|| {
            NodeFailure::new(
                Diagnostic::error(
                    Code::Database,
                    "cancelled (Ctrl-C) while its file was read: nothing was loaded",
                )
                .at(Location::file(&source_file)),
            )
        })?;
        let columns: Vec<Value> = seed
            .columns
            .iter()
            .map(|c| minijinja::context! { name => c.name.clone(), data_type => c.data_type.clone() })
            .collect();
        extra.push(("seed_columns", Value::from(columns)));
        seed_rows = seed.row_count;
        scope = scope.with_seed(seed);
    }
    if let Some(batch) = flags.batch {
        extra.push((
            "batch",
            minijinja::context! {
                id => batch.file_suffix(),
                event_time_start => microbatch::Batch::sql_time(batch.start),
                event_time_end => microbatch::Batch::sql_time(batch.end),
            },
        ));
    }
    extra.push(("pre_hooks", Value::from(node.node.config.hooks("pre_hook"))));
    extra.push((
        "post_hooks",
        Value::from(node.node.config.hooks("post_hook")),
    ));
    let scope = Arc::new(scope);
    let ctx = parsed.context(&node.node, scope.clone(), node.relation.clone(), sql, extra);

    let run_file = batch_path(parsed.run_path(node), flags.batch);
    let begin = lock(&connection).begin();
    if let Err(e) = begin {
        return Err(NodeFailure::new(Diagnostic::error(
            Code::Database,
            format!("cannot begin a transaction: {}", e.message),
        )));
    }
    let outcome = parsed.env.call_macro(&macro_name, &ctx, &[]);
    let executed = scope.executed();
    let _ = write_if_changed(&run_file, &format!("{};\n", executed.join(";\n\n")));
    match outcome {
        Ok(returned) => {
            if let Err(e) = lock(&connection).commit() {
                let _ = lock(&connection).rollback();
                scope.finish_replaced_files(false);
                return Err(NodeFailure {
                    diagnostic: Box::new(
                        Diagnostic::error(Code::Database, format!("commit failed: {}", e.message))
                            .at(Location::file(&run_file)),
                    ),
                    run_file: Some(run_file),
                });
            }
            scope.finish_replaced_files(true);
            let test = match node.node.kind {
                NodeKind::Test => Some(test_counts(&scope).map_err(|diagnostic| {
                    NodeFailure::new(diagnostic.at(Location::file(&run_file)))
                })?),
                _ => None,
            };
            let relation = returned
                .get_attr("relations")
                .ok()
                .and_then(|r| r.try_iter().ok()?.next())
                .map(|r| r.to_string());
            let no_op = returned.get_attr("no_op").ok().is_some_and(|v| v.is_true());
            Ok(Materialized {
                message: match node.node.kind {
                    _ if no_op => "No-op".to_string(),
                    NodeKind::Model if materialized == "clone" => "OK".to_string(),
                    NodeKind::Seed => format!("INSERT {}", seed_rows),
                    NodeKind::Test | NodeKind::UnitTest => "OK".to_string(),
                    NodeKind::Snapshot => "SNAPSHOT".to_string(),
                    NodeKind::Model if flags.is_incremental => "INSERT".to_string(),
                    NodeKind::Model if materialized == "incremental" => "CREATE TABLE".to_string(),
                    _ => format!("CREATE {}", materialized.to_uppercase().replace('_', " ")),
                },
                test,
                compiled_code: ctx
                    .get_attr("sql")
                    .ok()
                    .and_then(|s| s.as_str().map(str::to_string)),
                relation,
            })
        }
        Err(err) => {
            let _ = lock(&connection).rollback();
            scope.finish_replaced_files(false);
            Err(describe_failure(
                parsed, node, &err, &scope, &executed, run_file,
            ))
        }
    }
}

/// The one row of a test's `main` statement: failures, should_warn, should_error.
fn test_counts(scope: &RenderScope) -> Result<TestCounts, Box<Diagnostic>> {
    use crate::adapter::Cell;
    let wrong = |message: String| Box::new(Diagnostic::error(Code::Database, message));
    let result = scope.query_result("main").ok_or_else(|| {
        wrong("the test materialization ran no `main` statement that fetched its result".into())
    })?;
    let row = match result.rows.as_slice() {
        [row] if row.len() >= 3 => row,
        rows => {
            return Err(wrong(format!(
                "a test's query must return one row of failures, should_warn and should_error; it returned {} row(s)",
                rows.len()
            )));
        }
    };
    let number = |cell: &Cell| -> Result<i64, Box<Diagnostic>> {
        match cell {
            Cell::Null => Ok(0),
            Cell::Int(i) => Ok(*i),
            Cell::Float(f) => Ok(*f as i64),
            Cell::Bool(b) => Ok(i64::from(*b)),
            Cell::Text(t) => t
                .trim()
                .parse::<f64>()
                .map(|f| f as i64)
                .map_err(|_| wrong(format!("the failure count '{t}' is not a number"))),
        }
    };
    let truth = |cell: &Cell| match cell {
        Cell::Bool(b) => *b,
        Cell::Int(i) => *i != 0,
        Cell::Text(t) => matches!(t.as_str(), "true" | "t" | "1"),
        _ => false,
    };
    Ok(TestCounts {
        failures: number(&row[0])?,
        should_warn: truth(&row[1]),
        should_error: truth(&row[2]),
    })
}

/// The query comment of `node_id`'s statements, as the project configures it.
/// None on DuckDB, which keeps no log of statements for it to mark (and
/// drops comments from the text it runs).
pub fn query_comment(parsed: &Parsed, node_id: &str) -> Option<(String, bool)> {
    if parsed.target.adapter == crate::adapter::AdapterKind::DuckDb {
        return None;
    }
    parsed.project.config.query_comment.render(
        &parsed.target.profile_name,
        &parsed.target.name,
        node_id,
    )
}

fn lock<T: ?Sized>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The seed's file, or `None` when Ctrl-C stopped the reading.
fn read_seed(
    parsed: &Parsed,
    node: &ParsedNode,
) -> Result<Option<crate::jinja::context::SeedData>, Error> {
    let column_types: BTreeMap<String, String> = match node.node.config.get("column_types") {
        Some(serde_json::Value::Object(map)) => map
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|t| (k.clone(), t.to_string())))
            .collect(),
        _ => BTreeMap::new(),
    };
    let delimiter = seed_csv::delimiter(&node.node.config);
    let path = parsed.project.root.join(&node.node.original_file_path);
    // A file the database can read as it is goes to its own CSV reader,
    // typed by kiln; any other is read here, its values normalized.
    if let Some(plain) =
        seed_csv::scan_plain(&path, &column_types, delimiter, &crate::cancel::cancelled)?
    {
        return Ok(Some(crate::jinja::context::SeedData {
            columns: plain.columns,
            rows: Vec::new(),
            row_count: plain.rows,
            file: Some(crate::adapter::CsvFile {
                path,
                delimiter,
                short_rows: plain.short_rows,
                null_words: plain.null_words,
            }),
        }));
    }
    seed_csv::read_seed(
        &path,
        &parsed.project.display_path(&node.node.original_file_path),
        &column_types,
        delimiter,
        &crate::cancel::cancelled,
    )
}

/// A failure: the database's own words at the line of the file under
/// `target/run/` that holds the SQL sent, or the template error at its line.
fn describe_failure(
    parsed: &Parsed,
    node: &ParsedNode,
    err: &minijinja::Error,
    scope: &RenderScope,
    executed: &[String],
    run_file: PathBuf,
) -> NodeFailure {
    let source = parsed.project.display_path(&node.node.original_file_path);
    let kind = node.node.kind.resource_type();
    if let Some(failed) = scope.failed() {
        // Statements are written one after another with a blank line between.
        let first_line: usize = 1 + executed[..failed.index.min(executed.len())]
            .iter()
            .map(|s| s.matches('\n').count() + 2)
            .sum::<usize>();
        let location = Location::at(
            &run_file,
            first_line + failed.error.line.unwrap_or(1) - 1,
            failed.error.column,
        );
        // DuckDB repeats the line with a caret; the snippet shows it already.
        let message = failed
            .error
            .message
            .split("\n\nLINE ")
            .next()
            .unwrap_or_default();
        let diagnostic = Diagnostic::error(
            Code::Database,
            format!(
                "database error in {kind} {}: {}",
                node.node.name,
                message.trim()
            ),
        )
        .at(location)
        .with_note(match &node.node.test {
            Some(test) => format!("{kind} {} is declared at {}", node.node.name, test.location),
            None => format!(
                "{kind} {} is defined in {}",
                node.node.name,
                source.display()
            ),
        })
        .with_note(format!("the SQL sent is in {}", run_file.display()));
        return NodeFailure {
            diagnostic: Box::new(diagnostic),
            run_file: Some(run_file),
        };
    }
    let error = jinja_error(err, &parsed.project.root, Some((&node.node.unique_id, "")));
    NodeFailure::from_error(&error)
}
