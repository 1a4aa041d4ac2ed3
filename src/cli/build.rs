//! `kiln build`, `kiln run`, `kiln seed` and `kiln test`: load, parse,
//! build the graph, and execute the selected nodes of the command's kinds.

use super::output;
use super::{
    EXIT_FAILURE, EXIT_OK, GlobalArgs, RunArgs, load_project, parse_project, select_nodes,
};
use crate::adapter;
use crate::artifacts::{self, write_run_results};
use crate::error::Result;
use crate::exec::{self, ExecOptions};
use crate::lock::ProjectLock;
use crate::materialize::Options;
use crate::project::node::NodeKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Build,
    Run,
    Seed,
    Snapshot,
    Test,
}

impl Which {
    fn name(self) -> &'static str {
        match self {
            Which::Build => "build",
            Which::Run => "run",
            Which::Seed => "seed",
            Which::Snapshot => "snapshot",
            Which::Test => "test",
        }
    }

    fn includes(self, kind: NodeKind) -> bool {
        match self {
            // Exposures and saved queries are no-ops in a build, as in dbt;
            // analyses, semantic models and metrics are not in it.
            Which::Build => !matches!(
                kind,
                NodeKind::Analysis | NodeKind::SemanticModel | NodeKind::Metric
            ),
            Which::Run => kind == NodeKind::Model,
            Which::Seed => kind == NodeKind::Seed,
            Which::Snapshot => kind == NodeKind::Snapshot,
            Which::Test => kind.is_test(),
        }
    }
}

pub fn run(global: &GlobalArgs, args: &RunArgs, which: Which) -> Result<i32> {
    run_nodes(global, args, which, None)
}

/// Runs the command on `explicit` nodes when given (`kiln retry`), else on
/// what the arguments select.
pub fn run_nodes(
    global: &GlobalArgs,
    args: &RunArgs,
    which: Which,
    explicit: Option<std::collections::BTreeSet<String>>,
) -> Result<i32> {
    if args.empty && matches!(which, Which::Seed | Which::Test) {
        // dbt has no `--empty` for these: a test that reads no rows always
        // passes, a seed is loaded whole.
        // A wrong argument, told as clap tells one (exit 2).
        clap::Error::raw(
            clap::error::ErrorKind::ArgumentConflict,
            format!(
                "--empty applies to build, run, snapshot and compile, not {}\n",
                which.name()
            ),
        )
        .exit();
    }
    let project = load_project(global)?;
    let _lock = ProjectLock::acquire(&project.target_dir())?;
    let parsed = parse_project(global, project)?;
    let graph = super::build_graph(&parsed)?;
    crate::artifacts::manifest::write_manifest(&parsed, &graph)?;
    let mut selected = match explicit {
        Some(mut ids) => {
            ids.retain(|id| parsed.nodes.contains_key(id));
            ids
        }
        None => select_nodes(&parsed, &graph, &args.selection)?,
    };
    let deferred = match (&args.selection.state, args.defer) {
        (Some(dir), true) => crate::graph::state::State::load(dir)?.deferred(&parsed, &selected),
        _ => Default::default(),
    };
    // Ephemeral models are never built: their SQL is inlined where they are read.
    selected.retain(|id| {
        let node = &parsed.nodes[id];
        which.includes(node.node.kind) && !node.node.is_ephemeral()
    });
    let adapter = adapter::for_target(&parsed.target)?;
    // One run at a time builds into a schema, whichever project it is from.
    let _target_lock = if writes(&parsed, &selected, which) {
        Some(adapter::TargetLock::acquire(
            adapter.as_ref(),
            &parsed.target.database,
            &parsed.target.schema,
        )?)
    } else {
        None
    };
    let resolver =
        crate::compile::resolver_with(&parsed, graph.template_value.clone(), &deferred, args.empty);
    let check = (!args.no_check && which != Which::Seed).then(|| {
        // Models whose SQL reads columns that do not exist never reach the
        // database: they fail here, and what reads them is skipped.
        let connection: Option<crate::adapter::SharedConnection> = adapter
            .connect()
            .ok()
            .map(|c| std::sync::Arc::new(std::sync::Mutex::new(c)));
        let report = crate::check::check_project(
            &parsed,
            &graph,
            &selected,
            &resolver,
            connection,
            args.full_refresh,
        );
        for (id, warning) in &report.warnings {
            if selected.contains(id) {
                output::diagnostic(warning);
            }
        }
        report
    });
    let plan = exec::Plan::new(selected, resolver, check);
    let selected = &plan.selected;
    let threads = args.threads.unwrap_or(parsed.target.threads);
    if selected.is_empty() {
        output::diagnostic(&crate::diagnostic::Diagnostic::warning(
            crate::diagnostic::Code::Selector,
            "nothing to do: the selection matches no nodes",
        ));
    }
    let options = ExecOptions {
        threads,
        materialize: Options {
            full_refresh: args.full_refresh,
            warn_error: global.warn_error,
            batch: None,
        },
        fail_fast: args.fail_fast,
        tests_gate: which == Which::Build,
        event_time: (args.event_time_start, args.event_time_end),
        retry_batches: args.retry_batches.clone(),
    };
    // From here on, Ctrl-C stops the run cleanly (and rolls back) instead
    // of exiting at once.
    crate::cancel::protect_database_work();
    if !parsed.project.run_hooks(true).is_empty() && !selected.is_empty() {
        let connection: crate::adapter::SharedConnection =
            std::sync::Arc::new(std::sync::Mutex::new(adapter.connect()?));
        exec::create_schemas(&parsed, selected, &connection)?;
    }
    let hooks_ok = project_hooks(&parsed, &plan, adapter.as_ref(), "on-run-start", None)?;
    let mut results = if hooks_ok {
        output::start_progress(selected.len());
        exec::run(
            &parsed,
            &graph,
            &plan,
            adapter.as_ref(),
            options,
            &mut |result, index, total| output::node_line(result, index, total),
        )?
    } else {
        if !crate::cancel::cancelled() {
            output::note("on-run-start failed: no node was run");
        }
        exec::RunResults {
            cancelled: crate::cancel::cancelled(),
            ..exec::RunResults::default()
        }
    };
    let end_ok = results.cancelled
        || project_hooks(
            &parsed,
            &plan,
            adapter.as_ref(),
            "on-run-end",
            Some(&results),
        )?;
    if !hooks_ok || !end_ok {
        results.hooks_failed = true;
    }
    output::summary(&results);
    output::compile_renders(crate::compile::renders());
    let run_args = artifacts::RunArgs {
        which: which.name().to_string(),
        select: args.selection.select.clone(),
        exclude: args.selection.exclude.clone(),
        threads,
        full_refresh: args.full_refresh,
        fail_fast: args.fail_fast,
        warn_error: global.warn_error,
    };
    write_run_results(
        &parsed.project.target_dir(),
        &run_args,
        &parsed.invocation,
        &results,
    )?;
    if let Some(path) = &args.junit_xml {
        artifacts::junit::write_junit(path, which.name(), &results)?;
    }
    if results.cancelled {
        output::note(
            "Cancelled (Ctrl-C): statements in flight were rolled back; nothing else ran.",
        );
        return Ok(super::EXIT_CANCELLED);
    }
    if results.failed() || results.hooks_failed {
        Ok(EXIT_FAILURE)
    } else {
        Ok(EXIT_OK)
    }
}

/// Whether the command builds relations (and so must hold the target's
/// lock): all but `kiln test`, which does when a test stores its failures.
fn writes(
    parsed: &crate::parse::Parsed,
    selected: &std::collections::BTreeSet<String>,
    which: Which,
) -> bool {
    which != Which::Test
        || selected.iter().any(|id| {
            parsed.nodes[id]
                .node
                .config
                .get("store_failures")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false)
        })
}

/// Runs the project's `on-run-start` or `on-run-end` hooks on a connection
/// of their own, one line each; false when one failed (it is reported).
fn project_hooks(
    parsed: &crate::parse::Parsed,
    plan: &exec::Plan,
    adapter: &dyn crate::adapter::Adapter,
    kind: &str,
    results: Option<&exec::RunResults>,
) -> Result<bool> {
    let hooks = parsed.project.run_hooks(kind == "on-run-start");
    if hooks.is_empty() {
        return Ok(true);
    }
    let connection: crate::adapter::SharedConnection =
        std::sync::Arc::new(std::sync::Mutex::new(adapter.connect()?));
    let resolver = &plan.resolver;
    let extra = results.map(|r| hook_results(parsed, r)).unwrap_or_default();
    for (index, sql) in hooks.iter().enumerate() {
        if crate::cancel::cancelled() {
            // Ctrl-C: the hooks left are not run.
            return Ok(false);
        }
        let started = std::time::Instant::now();
        let outcome = crate::materialize::operation::run_project_hook(
            parsed,
            resolver,
            &connection,
            kind,
            index,
            sql,
            extra.clone(),
        );
        output::hook_line(
            kind,
            index,
            hooks.len(),
            started.elapsed().as_secs_f64(),
            outcome.is_ok(),
        );
        if let Err(diagnostic) = outcome {
            output::diagnostic(&diagnostic);
            return Ok(false);
        }
    }
    Ok(true)
}

/// `results` and `schemas` as on-run-end hooks see them in dbt.
fn hook_results(
    parsed: &crate::parse::Parsed,
    results: &exec::RunResults,
) -> Vec<(&'static str, minijinja::Value)> {
    let entries: Vec<serde_json::Value> = results
        .results
        .iter()
        .map(|r| {
            serde_json::json!({
                "status": r.status.as_str(),
                "message": r.message,
                "failures": r.failures,
                "execution_time": r.seconds,
                "node": {"unique_id": r.unique_id, "name": r.name, "resource_type": r.kind.resource_type()},
            })
        })
        .collect();
    let mut schemas: Vec<String> = results
        .results
        .iter()
        .filter_map(|r| parsed.nodes.get(&r.unique_id))
        .filter(|n| !n.node.kind.is_test())
        .filter_map(|n| n.relation.schema.clone())
        .collect();
    schemas.sort();
    schemas.dedup();
    let database_schemas: Vec<(String, String)> = schemas
        .iter()
        .map(|s| (parsed.target.database.clone(), s.clone()))
        .collect();
    vec![
        ("results", crate::jinja::json_value(&entries)),
        ("schemas", crate::jinja::json_value(&schemas)),
        (
            "database_schemas",
            crate::jinja::json_value(&database_schemas),
        ),
    ]
}
