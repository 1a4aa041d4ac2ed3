//! `kiln retry`: runs again, with the same command, the nodes that errored,
//! failed or were skipped in the last run (read from target/run_results.json).

use std::collections::BTreeSet;

use super::build::{Which, run_nodes};
use super::{EXIT_OK, GlobalArgs, RunArgs, output};
use crate::error::{Error, Location, Result};
use crate::files::display_join;

pub fn run(global: &GlobalArgs) -> Result<i32> {
    // The target path is the default one: the project is loaded again by the run.
    let path = display_join(
        &global.project_dir,
        std::path::Path::new("target/run_results.json"),
    );
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::config(
            Location::file(&path),
            format!(
                "kiln retry reads the last run's results, but {}: {e}",
                path.display()
            ),
        )
        .with_help("run kiln build (or run, test, seed, snapshot) first")
    })?;
    let results: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::config(
            Location::at(&path, e.line(), Some(e.column())),
            format!("not a run_results.json: {e}"),
        )
    })?;
    let which = match results.pointer("/args/which").and_then(|w| w.as_str()) {
        Some("build") => Which::Build,
        Some("run") => Which::Run,
        Some("seed") => Which::Seed,
        Some("test") => Which::Test,
        Some("snapshot") => Which::Snapshot,
        other => {
            return Err(Error::config(
                Location::file(&path),
                format!("cannot retry the command {other:?}"),
            ));
        }
    };
    let ids: BTreeSet<String> = results["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            matches!(
                r["status"].as_str(),
                Some("error" | "fail" | "skipped" | "runtime error" | "partial success")
            )
        })
        .filter_map(|r| r["unique_id"].as_str().map(str::to_string))
        .collect();
    if ids.is_empty() {
        output::line("Nothing to retry: the last run had no errors, failures or skipped nodes.");
        return Ok(EXIT_OK);
    }
    let args = RunArgs {
        full_refresh: results.pointer("/args/full_refresh") == Some(&serde_json::json!(true)),
        retry_batches: failed_batches(&results),
        ..RunArgs::default()
    };
    run_nodes(global, &args, which, Some(ids))
}

/// The batches of each microbatch model that partly failed: only those
/// are built again, as `dbt retry` does.
fn failed_batches(results: &serde_json::Value) -> crate::exec::RetryBatches {
    let time = |v: &serde_json::Value| {
        v.as_str()
            .and_then(crate::materialize::microbatch::parse_time)
    };
    let mut batches = crate::exec::RetryBatches::new();
    for result in results["results"].as_array().into_iter().flatten() {
        if result["status"].as_str() != Some("partial success") {
            continue;
        }
        let Some(id) = result["unique_id"].as_str() else {
            continue;
        };
        let windows: Vec<_> = result
            .pointer("/batch_results/failed")
            .and_then(|f| f.as_array())
            .into_iter()
            .flatten()
            .filter_map(|pair| Some((time(pair.get(0)?)?, time(pair.get(1)?)?)))
            .collect();
        if !windows.is_empty() {
            batches.insert(id.to_string(), windows);
        }
    }
    batches
}
