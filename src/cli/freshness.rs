//! `kiln source freshness`: checks each source table's last load against its
//! criteria, prints a line each, writes `target/sources.json`, and exits 1
//! when one is stale past `error_after` (or could not be checked).

use clap::{Args, Subcommand};

use super::{EXIT_FAILURE, EXIT_OK, GlobalArgs, load_project, output, parse_project};
use crate::adapter;
use crate::artifacts::write_sources;
use crate::error::Result;
use crate::freshness::{self, FreshnessStatus};

#[derive(Debug, Subcommand)]
pub enum SourceCommand {
    /// Check how recently each source table was loaded.
    Freshness(FreshnessArgs),
}

#[derive(Debug, Clone, Args)]
pub struct FreshnessArgs {
    /// Sources to check: `source:raw` or `source:raw.orders` (all when absent).
    #[arg(long, short = 's', num_args = 1..)]
    pub select: Vec<String>,
    /// Where to write the results (default: target/sources.json).
    #[arg(long, short = 'o')]
    pub output: Option<std::path::PathBuf>,
}

pub fn run(global: &GlobalArgs, command: &SourceCommand) -> Result<i32> {
    let SourceCommand::Freshness(args) = command;
    let project = load_project(global)?;
    let parsed = parse_project(global, project)?;
    let tables = freshness::tables_to_check(&parsed, &args.select);
    if tables.is_empty() {
        return Err(freshness::nothing_to_check());
    }
    // As in dbt, the graph is linked first: a project override of
    // collect_freshness may call ref() and source(), and read `graph`.
    let graph = super::build_graph(&parsed)?;
    let resolver = crate::compile::resolver(&parsed, graph.template_value, &Default::default());
    let adapter = adapter::for_target(&parsed.target)?;
    let started = std::time::Instant::now();
    let results = freshness::check(
        &parsed,
        &resolver,
        adapter.as_ref(),
        &tables,
        &mut |r, i, n| output::freshness_line(r, i, n),
    )?;
    let path = args
        .output
        .clone()
        .unwrap_or_else(|| parsed.project.target_dir().join("sources.json"));
    write_sources(
        &path,
        &parsed.invocation,
        &results,
        started.elapsed().as_secs_f64(),
    )?;
    let failed = results.iter().any(|r| {
        matches!(
            r.status,
            FreshnessStatus::Error | FreshnessStatus::RuntimeError
        )
    });
    Ok(if failed { EXIT_FAILURE } else { EXIT_OK })
}
