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
use crate::graph::Graph;
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
            Which::Build => true,
            Which::Run => kind == NodeKind::Model,
            Which::Seed => kind == NodeKind::Seed,
            Which::Snapshot => kind == NodeKind::Snapshot,
            Which::Test => kind == NodeKind::Test,
        }
    }
}

pub fn run(global: &GlobalArgs, args: &RunArgs, which: Which) -> Result<i32> {
    let project = load_project(global)?;
    let _lock = ProjectLock::acquire(&project.target_dir())?;
    let parsed = parse_project(project)?;
    let graph = Graph::build(&parsed)?;
    let mut selected = select_nodes(&parsed, &graph, &args.selection)?;
    // Ephemeral models are never built: their SQL is inlined where they are read.
    selected.retain(|id| {
        let node = &parsed.nodes[id];
        which.includes(node.node.kind) && !crate::compile::is_ephemeral(node)
    });
    let adapter = adapter::for_target(&parsed.target)?;
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
        },
        fail_fast: args.fail_fast,
        tests_gate: which == Which::Build,
    };
    let results = exec::run(
        &parsed,
        &graph,
        &selected,
        adapter.as_ref(),
        options,
        &mut |result, index, total| output::node_line(result, index, total),
    )?;
    output::summary(&results);
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
    if results.failed() {
        Ok(EXIT_FAILURE)
    } else {
        Ok(EXIT_OK)
    }
}
