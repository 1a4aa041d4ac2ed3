//! Turning one node into a relation: compile it, then run its
//! materialization macro (from `templates/`, or the project's own of the same
//! name) inside one transaction, rolled back if anything fails.

pub mod seed_csv;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use minijinja::Value;

use crate::adapter::SharedConnection;
use crate::compile::{compile_node, compiled_path, run_path, write_file};
use crate::error::Error;
use crate::jinja::context::{DATABASE_ERROR_MARK, Phase, RenderScope, Resolver};
use crate::jinja::render::jinja_error;
use crate::parse::{Parsed, ParsedNode};
use crate::project::node::NodeKind;
use crate::secrets;

/// Why a node failed.
#[derive(Debug, Clone)]
pub struct NodeFailure {
    pub message: String,
    /// The file with the SQL that was sent, when the database refused it.
    pub run_file: Option<PathBuf>,
}

/// What a successful materialization did, e.g. `CREATE TABLE`.
#[derive(Debug, Clone)]
pub struct Materialized {
    pub message: String,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub full_refresh: bool,
}

/// Builds `node` on `connection`.
pub fn materialize(
    parsed: &Parsed,
    resolver: &Arc<Resolver>,
    node: &ParsedNode,
    connection: SharedConnection,
    _options: Options,
) -> Result<Materialized, NodeFailure> {
    let fail = |e: Error| NodeFailure {
        message: secrets::redact(&e.to_string()),
        run_file: None,
    };
    let materialized = match node.node.kind {
        NodeKind::Seed => "seed".to_string(),
        NodeKind::Model => node.node.config.materialized().to_string(),
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
    .ok_or_else(|| NodeFailure {
        message: format!(
            "{}: unknown materialization '{materialized}' (kiln has: view, table, seed)",
            parsed
                .project
                .display_path(&node.node.original_file_path)
                .display()
        ),
        run_file: None,
    })?;

    let mut extra: Vec<(&'static str, Value)> = Vec::new();
    let sql = match node.node.kind {
        NodeKind::Model => {
            let sql =
                compile_node(parsed, resolver, node, Some(connection.clone())).map_err(fail)?;
            write_file(&compiled_path(parsed, node), &sql).map_err(fail)?;
            Some(sql)
        }
        NodeKind::Seed => None,
    };
    let mut seed_rows = 0;
    let mut scope = RenderScope::new(
        Phase::Execute,
        &node.node.unique_id,
        node.node.config.clone(),
    )
    .with_resolver(resolver.clone())
    .with_connection(connection.clone());
    if node.node.kind == NodeKind::Seed {
        let seed = read_seed(parsed, node).map_err(fail)?;
        let columns: Vec<Value> = seed
            .columns
            .iter()
            .map(|c| minijinja::context! { name => c.name.clone(), data_type => c.data_type.clone() })
            .collect();
        extra.push(("seed_columns", Value::from(columns)));
        seed_rows = seed.rows.len();
        scope = scope.with_seed(seed);
    }
    extra.push(("pre_hooks", Value::from(node.node.config.hooks("pre_hook"))));
    extra.push((
        "post_hooks",
        Value::from(node.node.config.hooks("post_hook")),
    ));
    let scope = Arc::new(scope);
    let ctx = parsed.context(&node.node, scope.clone(), node.relation.clone(), sql, extra);

    let run_file = run_path(parsed, node);
    let begin = lock(&connection).begin();
    if let Err(e) = begin {
        return Err(NodeFailure {
            message: format!(
                "cannot begin a transaction: {}",
                secrets::redact(&e.message)
            ),
            run_file: None,
        });
    }
    let outcome = parsed.env.call_macro(&macro_name, &ctx, &[]);
    let executed = scope.executed();
    let _ = write_file(&run_file, &format!("{};\n", executed.join(";\n\n")));
    match outcome {
        Ok(_) => {
            if let Err(e) = lock(&connection).commit() {
                let _ = lock(&connection).rollback();
                return Err(NodeFailure {
                    message: format!("commit failed: {}", secrets::redact(&e.message)),
                    run_file: Some(run_file),
                });
            }
            Ok(Materialized {
                message: match node.node.kind {
                    NodeKind::Seed => format!("INSERT {}", seed_rows),
                    NodeKind::Model => format!("CREATE {}", materialized.to_uppercase()),
                },
            })
        }
        Err(err) => {
            let _ = lock(&connection).rollback();
            Err(describe_failure(parsed, node, &err, run_file))
        }
    }
}

fn lock<T: ?Sized>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn read_seed(parsed: &Parsed, node: &ParsedNode) -> Result<crate::jinja::context::SeedData, Error> {
    let column_types: BTreeMap<String, String> = match node.node.config.get("column_types") {
        Some(serde_json::Value::Object(map)) => map
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|t| (k.clone(), t.to_string())))
            .collect(),
        _ => BTreeMap::new(),
    };
    let delimiter = node
        .node
        .config
        .get_str("delimiter")
        .and_then(|d| d.bytes().next())
        .unwrap_or(b',');
    seed_csv::read_seed(
        &parsed.project.root.join(&node.node.original_file_path),
        &parsed.project.display_path(&node.node.original_file_path),
        &column_types,
        delimiter,
    )
}

/// A failure message: the database's own words with the model and the file
/// holding the SQL it was sent, or the template error at its line.
fn describe_failure(
    parsed: &Parsed,
    node: &ParsedNode,
    err: &minijinja::Error,
    run_file: PathBuf,
) -> NodeFailure {
    let detail = full_detail(err);
    let source = parsed.project.display_path(&node.node.original_file_path);
    if let Some(db_message) = detail
        .strip_suffix(DATABASE_ERROR_MARK)
        .or_else(|| detail.find(DATABASE_ERROR_MARK).map(|i| &detail[..i]))
    {
        return NodeFailure {
            message: format!(
                "Database error in {} {} ({})\n  {}\n  the SQL sent is in {}",
                node.node.kind.resource_type(),
                node.node.name,
                source.display(),
                secrets::redact(db_message.trim()),
                run_file.display()
            ),
            run_file: Some(run_file),
        };
    }
    let error = jinja_error(err, &parsed.project.root, Some((&node.node.unique_id, "")));
    NodeFailure {
        message: secrets::redact(&error.to_string()),
        run_file: None,
    }
}

/// The detail of an error and of every error it wraps.
fn full_detail(err: &minijinja::Error) -> String {
    let mut parts = Vec::new();
    if let Some(d) = err.detail() {
        parts.push(d.to_string());
    }
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        if let Some(inner) = inner.downcast_ref::<minijinja::Error>()
            && let Some(d) = inner.detail()
        {
            parts.push(d.to_string());
        }
        source = inner.source();
    }
    match parts.iter().find(|p| p.contains(DATABASE_ERROR_MARK)) {
        Some(db) => db.clone(),
        None => parts.join(": "),
    }
}
