//! `kiln clone --state DIR` (dbt 1.6): each selected model, seed and
//! snapshot made in the target from the relation the state's run built. On
//! DuckDB and PostgreSQL, which cannot clone a table, it is a view of that
//! relation (the `clone` materialization in templates/), as dbt-duckdb and
//! dbt-postgres make it; one already there is a No-op unless
//! `--full-refresh`.

use clap::Args;

use super::{EXIT_FAILURE, EXIT_OK, GlobalArgs, SelectArgs, load_project, output, parse_project};
use crate::artifacts::{self, write_run_results};
use crate::error::{Error, Location, Result};
use crate::exec::{self, ExecOptions};
use crate::materialize::Options;
use crate::project::node::NodeKind;

#[derive(Debug, Clone, Args)]
pub struct CloneArgs {
    #[command(flatten)]
    pub selection: SelectArgs,
    /// Replace relations already in the target.
    #[arg(long)]
    pub full_refresh: bool,
    #[arg(long)]
    pub threads: Option<usize>,
}

pub fn run(global: &GlobalArgs, args: &CloneArgs) -> Result<i32> {
    let Some(dir) = &args.selection.state else {
        return Err(Error::config(
            Location::file("kiln clone"),
            "kiln clone needs --state DIR: the target/ folder of the run whose relations it clones",
        ));
    };
    let state = crate::graph::state::State::load(dir)?;
    let project = load_project(global)?;
    let mut parsed = parse_project(global, project)?;
    let graph = super::build_graph(&parsed)?;
    let mut selected = super::select_nodes(&parsed, &graph, &args.selection)?;
    selected.retain(|id| {
        let node = &parsed.nodes[id].node;
        matches!(
            node.kind,
            NodeKind::Model | NodeKind::Seed | NodeKind::Snapshot
        ) && !node.is_ephemeral()
    });
    // What the state built, by node; a node it did not build is not cloned.
    let mut missing = Vec::new();
    let mut same = Vec::new();
    for id in selected.clone() {
        match state.relation(&parsed, &id) {
            // The state's relation is this one: there is nothing to clone.
            Some(relation) if relation.render() == parsed.nodes[&id].relation.render() => {
                same.push(parsed.nodes[&id].node.name.clone());
                selected.remove(&id);
            }
            Some(relation) => {
                let node = parsed.nodes.get_mut(&id).expect("selected");
                node.node.kind = NodeKind::Model;
                node.node.raw_code = format!("select * from {}", relation.render());
                node.node.config.merge("materialized", "clone".into());
                for hook in ["pre_hook", "post_hook", "pre-hook", "post-hook"] {
                    node.node.config.0.remove(hook);
                }
            }
            None => {
                missing.push(parsed.nodes[&id].node.name.clone());
                selected.remove(&id);
            }
        }
    }
    if !missing.is_empty() {
        output::note(&format!(
            "not cloned, as the state has no relation for them: {}",
            missing.join(", ")
        ));
    }
    if !same.is_empty() {
        output::note(&format!(
            "not cloned, as the state built them where this target builds them: {}",
            same.join(", ")
        ));
    }
    let adapter = crate::adapter::for_target(&parsed.target)?;
    let resolver =
        crate::compile::resolver(&parsed, graph.template_value.clone(), &Default::default());
    let plan = exec::Plan::new(selected, resolver, None);
    let threads = args.threads.unwrap_or(parsed.target.threads);
    let options = ExecOptions {
        threads,
        materialize: Options {
            full_refresh: args.full_refresh,
            warn_error: global.warn_error,
            batch: None,
        },
        fail_fast: false,
        tests_gate: false,
        event_time: (None, None),
        retry_batches: Default::default(),
    };
    crate::cancel::protect_database_work();
    output::start_progress(plan.selected.len());
    let results = exec::run(
        &parsed,
        &graph,
        &plan,
        adapter.as_ref(),
        options,
        &mut |result, index, total| output::node_line(result, index, total),
    )?;
    output::summary(&results);
    let run_args = artifacts::RunArgs {
        which: "clone".to_string(),
        select: args.selection.select.clone(),
        exclude: args.selection.exclude.clone(),
        threads,
        full_refresh: args.full_refresh,
        fail_fast: false,
        warn_error: global.warn_error,
    };
    write_run_results(
        &parsed.project.target_dir(),
        &run_args,
        &parsed.invocation,
        &results,
    )?;
    Ok(if results.failed() {
        EXIT_FAILURE
    } else {
        EXIT_OK
    })
}
