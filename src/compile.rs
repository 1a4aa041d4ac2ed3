//! Compiling: render each model and test with `ref()` and `source()`
//! resolved to the relations they name, and write the SQL to `target/compiled/`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use minijinja::Value;

use rayon::prelude::*;

use crate::adapter::SharedConnection;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::jinja::context::{
    EphemeralSql, Phase, RefTarget, RenderScope, Resolver, RunFlags, introspection, with_overrides,
};
use crate::jinja::environment::node_template;
use crate::jinja::functions::{capturing_log_output, replay_log_output};
use crate::jinja::generic_test::render_generic_test;
use crate::jinja::render::jinja_error;
use crate::parse::{Parsed, ParsedNode};
use crate::project::node::NodeKind;
use crate::project::unit_tests::Overrides;
use crate::sql::Relation;

/// How many times this process rendered a node to compile it (the count
/// `-v` prints after a run: each node compiles once).
static RENDERS: AtomicUsize = AtomicUsize::new(0);

/// How many node renders compiling has done so far.
pub fn renders() -> usize {
    RENDERS.load(Ordering::Relaxed)
}

/// The relations every `ref()` and `source()` of the project resolves to
/// (with `--defer`, a ref to a node in `deferred`, by name, reads the
/// relation an earlier run built), and `graph` as templates see it.
pub fn resolver(
    parsed: &Parsed,
    graph: Value,
    deferred: &BTreeMap<String, Relation>,
) -> Arc<Resolver> {
    resolver_with(parsed, graph, deferred, false)
}

/// [`resolver`]; with `empty` (`--empty`), every ref and source reads no
/// rows, so a build creates each relation with its columns and nothing in it.
pub fn resolver_with(
    parsed: &Parsed,
    graph: Value,
    deferred: &BTreeMap<String, Relation>,
    empty: bool,
) -> Arc<Resolver> {
    let mut resolver = Resolver {
        root: parsed.project.config.name.clone(),
        graph,
        empty,
        ..Resolver::default()
    };
    for node in crate::graph::referable(parsed) {
        let package = &node.node.package;
        let target = if node.node.is_ephemeral() {
            RefTarget::Ephemeral(node.node.unique_id.clone())
        } else {
            let relation = deferred.get(&node.node.name).unwrap_or(&node.relation);
            // What a microbatch's window filters when it reads the node.
            if let Some(column) = node.node.config.get_str("event_time") {
                resolver
                    .event_times
                    .insert(relation.render(), column.to_string());
            }
            RefTarget::Relation(relation.clone())
        };
        for name in node.node.ref_names() {
            resolver.refs.insert(package, &name, target.clone());
        }
    }
    for source in parsed.project.sources.values() {
        let relation = Relation::new(
            parsed.target.adapter,
            &source.database,
            &source.schema,
            &source.identifier,
        )
        .with_quoting(source.quoting);
        let relation = match &source.external_location {
            Some(location) if parsed.target.adapter == crate::adapter::AdapterKind::DuckDb => {
                Relation {
                    external: Some(location.clone()),
                    ..relation
                }
            }
            _ => relation,
        };
        if let Some(column) = &source.event_time {
            resolver
                .event_times
                .insert(relation.render(), column.clone());
        }
        resolver.sources.insert(
            &source.package,
            &format!("{}.{}", source.source_name, source.name),
            relation,
        );
    }
    Arc::new(resolver)
}

/// Renders the SQL of a model or test, with the ephemeral models it reads
/// inlined as CTEs named `__dbt__cte__<name>` (each once, the ones they read
/// first). With a connection, `run_query` reaches the database.
pub fn compile_node(
    parsed: &Parsed,
    resolver: &Arc<Resolver>,
    node: &ParsedNode,
    connection: Option<SharedConnection>,
    flags: RunFlags,
) -> Result<String> {
    compile_node_inlining(parsed, resolver, node, connection, flags).map(|(sql, _)| sql)
}

/// [`compile_node`], with the ephemeral models the SQL inlines (and the
/// node itself when it is one), by unique id: their `log()` lines are shown
/// when the first node that inlines them runs (see
/// [`Resolver::take_ephemeral_log`]).
pub fn compile_node_inlining(
    parsed: &Parsed,
    resolver: &Arc<Resolver>,
    node: &ParsedNode,
    connection: Option<SharedConnection>,
    flags: RunFlags,
) -> Result<(String, Vec<String>)> {
    let (sql, ephemerals) = if node.node.is_ephemeral() {
        render_ephemeral(parsed, resolver, node, &connection)?
    } else {
        render_node(parsed, resolver, node, connection.clone(), flags, None)?
    };
    let mut inlined: Vec<String> = Vec::new();
    if node.node.is_ephemeral() {
        inlined.push(node.node.unique_id.clone());
    }
    let (sql, done) = inline_ephemerals(parsed, resolver, sql, ephemerals, &connection)?;
    inlined.extend(done);
    Ok((sql, inlined))
}

/// `sql` with the ephemeral models it reads (and those they read) in front
/// as CTEs; with the unique ids of all it inlined.
fn inline_ephemerals(
    parsed: &Parsed,
    resolver: &Arc<Resolver>,
    sql: String,
    ephemerals: Vec<String>,
    connection: &Option<SharedConnection>,
) -> Result<(String, BTreeSet<String>)> {
    let mut ctes = Vec::new();
    let mut done = BTreeSet::new();
    for id in ephemerals {
        add_cte(parsed, resolver, &id, connection, &mut ctes, &mut done)?;
    }
    if ctes.is_empty() {
        return Ok((sql, done));
    }
    Ok((inject_ctes(&sql, &ctes), done))
}

/// How a unit test renders the model it tests: `{{ this }}` as the fixture
/// given for it, and the macros, vars and env vars it overrides.
pub struct UnitRender<'a> {
    pub this: Relation,
    pub overrides: &'a Overrides,
}

/// The SQL of the model a unit test tests, rendered with `resolver` (whose
/// refs and sources name the test's fixtures) as [`UnitRender`] says, with
/// the ephemeral models it reads inlined.
pub fn compile_for_unit_test(
    parsed: &Parsed,
    resolver: &Arc<Resolver>,
    model: &ParsedNode,
    connection: SharedConnection,
    flags: RunFlags,
    unit: &UnitRender,
) -> Result<String> {
    let (sql, ephemerals) = render_node(
        parsed,
        resolver,
        model,
        Some(connection.clone()),
        flags,
        Some(unit),
    )?;
    inline_ephemerals(parsed, resolver, sql, ephemerals, &Some(connection)).map(|(sql, _)| sql)
}

/// Adds the CTE of the ephemeral model `id` after those of the ephemeral
/// models it reads.
fn add_cte(
    parsed: &Parsed,
    resolver: &Arc<Resolver>,
    id: &str,
    connection: &Option<SharedConnection>,
    ctes: &mut Vec<(String, String)>,
    done: &mut BTreeSet<String>,
) -> Result<()> {
    if !done.insert(id.to_string()) {
        return Ok(());
    }
    let Some(node) = parsed.nodes.get(id) else {
        return Ok(());
    };
    let (sql, inner) = render_ephemeral(parsed, resolver, node, connection)?;
    for inner_id in inner {
        add_cte(parsed, resolver, &inner_id, connection, ctes, done)?;
    }
    ctes.push((format!("__dbt__cte__{}", node.node.name), sql));
    Ok(())
}

/// An ephemeral model's SQL and the ephemeral models it reads, rendered
/// once per resolver (one run) however many models inline it.
fn render_ephemeral(
    parsed: &Parsed,
    resolver: &Arc<Resolver>,
    node: &ParsedNode,
    connection: &Option<SharedConnection>,
) -> Result<(String, Vec<String>)> {
    let cache = || {
        resolver
            .ephemeral_sql
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    };
    if let Some(rendered) = cache().get(&node.node.unique_id) {
        return Ok((rendered.sql.clone(), rendered.reads.clone()));
    }
    // Its log() lines wait for the first node that inlines it to run.
    let ((rendered, seen), log) = capturing_log_output(|| {
        introspection::watch(|| {
            render_node(
                parsed,
                resolver,
                node,
                connection.clone(),
                RunFlags::default(),
                None,
            )
        })
    });
    let (sql, reads) = rendered?;
    cache().insert(
        node.node.unique_id.clone(),
        EphemeralSql {
            sql: sql.clone(),
            reads: reads.clone(),
            read_database: seen.read_database,
            log,
        },
    );
    Ok((sql, reads))
}

/// `sql` with `ctes` in front: joined to its own `with` when it has one.
pub fn inject_ctes(sql: &str, ctes: &[(String, String)]) -> String {
    let definitions: Vec<String> = ctes
        .iter()
        .map(|(name, body)| format!("{name} as (\n{}\n)", body.trim()))
        .collect();
    let definitions = definitions.join(", ");
    let start = first_token(sql);
    let (before, rest) = sql.split_at(start);
    let lower = rest.to_ascii_lowercase();
    let starts_with = |word: &str| {
        lower.starts_with(word)
            && lower[word.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_whitespace() || c == '(')
    };
    if starts_with("with") {
        let after_with = rest[4..].trim_start();
        if after_with.to_ascii_lowercase().starts_with("recursive")
            && after_with[9..].starts_with(char::is_whitespace)
        {
            return format!(
                "{before}with recursive {definitions},\n{}",
                after_with[9..].trim_start()
            );
        }
        return format!("{before}with {definitions},\n{after_with}");
    }
    format!("{before}with {definitions}\n{rest}")
}

/// Where the first SQL token starts, past whitespace and comments.
fn first_token(sql: &str) -> usize {
    let mut i = 0;
    loop {
        let rest = &sql[i..];
        let trimmed = rest.trim_start();
        i += rest.len() - trimmed.len();
        if trimmed.starts_with("--") {
            i += trimmed.find('\n').map(|n| n + 1).unwrap_or(trimmed.len());
        } else if trimmed.starts_with("/*") {
            i += trimmed.find("*/").map(|n| n + 2).unwrap_or(trimmed.len());
        } else {
            return i;
        }
    }
}

/// Renders a node's SQL; returns it with the ephemeral models it read.
fn render_node(
    parsed: &Parsed,
    resolver: &Arc<Resolver>,
    node: &ParsedNode,
    connection: Option<SharedConnection>,
    flags: RunFlags,
    unit: Option<&UnitRender>,
) -> Result<(String, Vec<String>)> {
    RENDERS.fetch_add(1, Ordering::Relaxed);
    let mut scope = RenderScope::new(
        Phase::Compile,
        &node.node.unique_id,
        node.node.config.clone(),
    )
    .with_resolver(resolver.clone())
    .with_flags(flags);
    if let Some(connection) = connection {
        scope = scope.with_connection(connection);
    }
    let scope = Arc::new(scope);
    let this = unit.map_or_else(|| node.relation.clone(), |u| u.this.clone());
    let mut ctx = parsed.context(&node.node, scope.clone(), this, None, Vec::new());
    if let Some(unit) = unit {
        ctx = with_overrides(
            &ctx,
            &parsed.env.env,
            &parsed.vars,
            &node.node.package,
            unit.overrides,
        );
    }
    let sql = if let Some(test) = &node.node.test {
        let macro_name = test.macro_name(&parsed.project.config.name);
        render_generic_test(&parsed.env, &macro_name, &test.kwargs, &ctx)
            .map_err(|e| jinja_error(&e, &parsed.project.root, Some((&node.node.unique_id, ""))))?
    } else {
        let template = node_template(&node.node);
        parsed
            .env
            .render(&template, &node.node.raw_code, &ctx)
            .map_err(|e| {
                jinja_error(
                    &e,
                    &parsed.project.root,
                    Some((&node.node.unique_id, &template)),
                )
            })?
    };
    Ok((sql, scope.ephemerals()))
}

/// `--full-refresh`, and whether an incremental model adds to its table: it
/// does when the table exists and neither `--full-refresh` nor the model's
/// `full_refresh` config asks for a rebuild (`full_refresh: false` protects
/// it from `--full-refresh`).
pub fn run_flags(
    node: &ParsedNode,
    connection: &SharedConnection,
    full_refresh: bool,
) -> Result<RunFlags> {
    let mut flags = RunFlags {
        full_refresh,
        is_incremental: false,
        batch: None,
    };
    if node.node.kind != NodeKind::Model || node.node.config.materialized() != "incremental" {
        return Ok(flags);
    }
    let full_refresh = node
        .node
        .config
        .get("full_refresh")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(full_refresh);
    let relation = &node.relation;
    let exists = connection
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .find_relation(
            relation.database.as_deref().unwrap_or_default(),
            relation.schema.as_deref().unwrap_or_default(),
            relation.identifier(),
        )
        .map_err(|e| Error::connection(format!("reading the catalog: {e}")))?
        .is_some_and(|r| r.kind == crate::adapter::RelationType::Table);
    flags.is_incremental = exists && !full_refresh;
    Ok(flags)
}

/// A node compiled ahead of its run (by the SQL check before a build): the
/// flags it was compiled with, its SQL, and what its `log()` calls said. The
/// run uses it as it is when the flags are still the same.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub flags: RunFlags,
    pub sql: String,
    pub log: Vec<String>,
    /// The ephemeral models its SQL inlines, by unique id.
    pub inlined: Vec<String>,
}

/// Compiles every selected model and test in parallel, and writes the
/// files. All errors are reported together, in graph order.
pub fn compile_selected(
    parsed: &Parsed,
    graph: &Graph,
    selected: &std::collections::BTreeSet<String>,
    empty: bool,
) -> Result<BTreeMap<String, String>> {
    let resolver = resolver_with(
        parsed,
        graph.template_value.clone(),
        &BTreeMap::new(),
        empty,
    );
    let nodes: Vec<&ParsedNode> = graph
        .order
        .iter()
        .filter(|id| selected.contains(*id))
        .map(|id| &parsed.nodes[id])
        // A unit test compiles against its inputs' columns, in the
        // database: it runs, and writes its SQL, in `test` and `build`.
        .filter(|node| node.node.kind.has_sql() && node.node.kind != NodeKind::UnitTest)
        .collect();
    let results: Vec<Result<String>> = nodes
        .par_iter()
        .map(|node| {
            let (sql, inlined) =
                compile_node_inlining(parsed, &resolver, node, None, RunFlags::default())?;
            replay_log_output(&resolver.take_ephemeral_log(&inlined));
            crate::files::write_if_changed(&parsed.compiled_path(node), &sql)?;
            Ok(sql)
        })
        .collect();
    let mut compiled = BTreeMap::new();
    let mut errors = Vec::new();
    for (node, result) in nodes.iter().zip(results) {
        match result {
            Ok(sql) => {
                compiled.insert(node.node.unique_id.clone(), sql);
            }
            Err(e) => errors.push(e),
        }
    }
    match Error::from_many(errors) {
        Some(e) => Err(e),
        None => Ok(compiled),
    }
}

#[cfg(test)]
mod tests {
    use super::inject_ctes;

    fn ctes() -> Vec<(String, String)> {
        vec![("__dbt__cte__a".into(), "select 1 as x\n".into())]
    }

    #[test]
    fn ctes_go_in_front_or_join_the_models_own_with() {
        assert_eq!(
            inject_ctes("select * from __dbt__cte__a", &ctes()),
            "with __dbt__cte__a as (\nselect 1 as x\n)\nselect * from __dbt__cte__a"
        );
        assert_eq!(
            inject_ctes("-- note\nWITH b as (select 2) select * from b", &ctes()),
            "-- note\nwith __dbt__cte__a as (\nselect 1 as x\n),\nb as (select 2) select * from b"
        );
        assert_eq!(
            inject_ctes("with recursive r as (select 1) select * from r", &ctes()),
            "with recursive __dbt__cte__a as (\nselect 1 as x\n),\nr as (select 1) select * from r"
        );
        assert!(inject_ctes("without_a_with", &ctes()).starts_with("with __dbt__cte__a"));
    }
}
