//! SQL that runs outside any node: the project's `on-run-start` and
//! `on-run-end` hooks, and `kiln run-operation` macros. Each renders in a
//! context of its own (as dbt's operation nodes do), reaches the database
//! through one connection, and runs in one transaction.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::Value;
use minijinja::value::Kwargs;

use super::lock;
use crate::adapter::SharedConnection;
use crate::config::NodeConfig;
use crate::diagnostic::{Code, Diagnostic};
use crate::error::Location;
use crate::jinja::context::{Phase, RenderScope, Resolver};
use crate::jinja::render::{jinja_error, with_context};
use crate::parse::Parsed;
use crate::project::node::{Node, NodeKind};
use crate::sql::Relation;

/// The stand-in node an operation renders as (`operation.<project>.<name>`).
pub fn operation_node(parsed: &Parsed, name: &str) -> Node {
    let project = &parsed.project.config.name;
    Node {
        unique_id: format!("operation.{project}.{name}"),
        kind: NodeKind::Model,
        name: name.to_string(),
        package: project.clone(),
        original_file_path: "dbt_project.yml".into(),
        path: "dbt_project.yml".into(),
        fqn: vec![project.clone(), name.to_string()],
        raw_code: String::new(),
        config: NodeConfig::default(),
        description: String::new(),
        columns: Vec::new(),
        constraints: Vec::new(),
        patch_path: None,
        test: None,
        unit: None,
        version: None,
        resource: None,
    }
}

/// A context and its scope for an operation named `name`.
fn operation_context(
    parsed: &Parsed,
    resolver: &Arc<Resolver>,
    connection: &SharedConnection,
    name: &str,
    extra: Vec<(&'static str, Value)>,
) -> (Arc<RenderScope>, Value) {
    let node = operation_node(parsed, name);
    let scope = Arc::new(
        RenderScope::new(Phase::Execute, &node.unique_id, NodeConfig::default())
            .with_resolver(resolver.clone())
            .with_connection(connection.clone())
            .with_query_comment(super::query_comment(parsed, &node.unique_id)),
    );
    let this = Relation::new(
        parsed.target.adapter,
        &parsed.target.database,
        &parsed.target.schema,
        name,
    );
    let ctx = parsed.context(&node, scope.clone(), this, None, extra);
    (scope, ctx)
}

/// Why an operation failed: the database's message, or the template error.
fn failure(parsed: &Parsed, what: &str, err: &minijinja::Error, scope: &RenderScope) -> Diagnostic {
    if let Some(failed) = scope.failed() {
        return Diagnostic::error(
            Code::Database,
            format!("database error in {what}: {}", failed.error.message.trim()),
        );
    }
    let error = jinja_error(err, &parsed.project.root, None);
    let diagnostics: Vec<Diagnostic> = (&error).into();
    let mut diagnostic = diagnostics
        .into_iter()
        .next()
        .unwrap_or_else(|| Diagnostic::error(error.code(), error.to_string()));
    diagnostic.message = format!("in {what}: {}", diagnostic.message);
    diagnostic
}

/// Runs `body` in a transaction on `connection`; rolls back when it fails.
fn in_transaction<T>(
    connection: &SharedConnection,
    body: impl FnOnce() -> Result<T, Box<Diagnostic>>,
) -> Result<T, Box<Diagnostic>> {
    lock(connection).begin().map_err(|e| {
        Diagnostic::error(Code::Database, format!("cannot begin a transaction: {e}"))
    })?;
    match body() {
        Ok(value) => {
            lock(connection)
                .commit()
                .map_err(|e| Diagnostic::error(Code::Database, format!("commit failed: {e}")))?;
            Ok(value)
        }
        Err(diagnostic) => {
            let _ = lock(connection).rollback();
            Err(diagnostic)
        }
    }
}

/// Renders the hook `sql` (the `index`th of `kind`, `on-run-start` or
/// `on-run-end`) and runs what it renders to.
pub fn run_project_hook(
    parsed: &Parsed,
    resolver: &Arc<Resolver>,
    connection: &SharedConnection,
    kind: &str,
    index: usize,
    sql: &str,
    extra: Vec<(&'static str, Value)>,
) -> Result<(), Box<Diagnostic>> {
    let name = format!("{}-{kind}-{index}", parsed.project.config.name);
    let what = format!("{kind} hook {}", index + 1);
    let (scope, ctx) = operation_context(parsed, resolver, connection, &name, extra);
    in_transaction(connection, || {
        let rendered = with_context(&ctx, || parsed.env.env.render_str(sql, ctx.clone()))
            .map_err(|e| Box::new(failure(parsed, &what, &e, &scope)))?;
        let rendered = rendered.trim();
        if rendered.is_empty() {
            return Ok(());
        }
        lock(connection).execute(rendered).map_err(|e| {
            Box::new(
                Diagnostic::error(
                    Code::Database,
                    format!("database error in {what}: {}", e.message.trim()),
                )
                .at(Location::file(
                    parsed
                        .project
                        .display_path(std::path::Path::new("dbt_project.yml")),
                ))
                .with_note(format!("the SQL sent:\n{rendered}")),
            )
        })
    })
}

/// Calls the macro `name` with `args` as keyword arguments; returns what it
/// returned (or rendered).
pub fn run_operation(
    parsed: &Parsed,
    resolver: &Arc<Resolver>,
    connection: &SharedConnection,
    name: &str,
    args: &BTreeMap<String, serde_json::Value>,
) -> Result<Value, Box<Diagnostic>> {
    if !parsed.env.has_macro(name) {
        let known = parsed.env.macros.names();
        return Err(Box::new(
            Diagnostic::error(
                Code::UndefinedMacro,
                format!("run-operation: there is no macro named '{name}'"),
            )
            .with_help(crate::diagnostic::did_you_mean(name, known)),
        ));
    }
    let what = format!("operation {name}");
    let (scope, ctx) = operation_context(parsed, resolver, connection, name, Vec::new());
    in_transaction(connection, || {
        let kwargs: Kwargs = args
            .iter()
            .map(|(k, v)| (k.clone(), crate::jinja::json_value(v)))
            .collect();
        let call_args = if args.is_empty() {
            Vec::new()
        } else {
            vec![Value::from(kwargs)]
        };
        parsed
            .env
            .call_macro(name, &ctx, &call_args)
            .map_err(|e| Box::new(failure(parsed, &what, &e, &scope)))
    })
}
