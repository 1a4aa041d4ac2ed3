//! Run artifacts in `target/`: `run_results.json`, `manifest.json` and
//! `sources.json` in dbt's shapes, and JUnit XML.

pub mod junit;
pub mod manifest;

use std::path::Path;

use serde_json::json;

use crate::error::Result;
use crate::exec::{RunResults, Status};
use crate::files::write_file;
use crate::parse::Invocation;
use crate::secrets;

/// Writes the results of `kiln source freshness` (dbt's sources.json, v3).
pub fn write_sources(
    path: &Path,
    invocation: &Invocation,
    results: &[crate::freshness::FreshnessResult],
    elapsed: f64,
) -> Result<()> {
    let document = json!({
        "metadata": {
            "dbt_schema_version": "https://schemas.getdbt.com/dbt/sources/v3.json",
            "dbt_version": "1.10.0",
            "generator": format!("kiln {}", env!("CARGO_PKG_VERSION")),
            "generated_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "invocation_id": invocation.invocation_id,
            "env": {},
        },
        "results": results.iter().map(|r| r.to_json()).collect::<Vec<_>>(),
        "elapsed_time": elapsed,
    });
    let text = serde_json::to_string_pretty(&document).unwrap_or_default();
    write_file(path, &text)
}

/// What the command line asked for, as `args` in run_results.json.
#[derive(Debug, Clone, Default)]
pub struct RunArgs {
    pub which: String,
    pub select: Vec<String>,
    pub exclude: Vec<String>,
    pub threads: usize,
    pub full_refresh: bool,
    pub fail_fast: bool,
    pub warn_error: bool,
}

/// Writes `target/run_results.json` in dbt's shape (schema v6), sorted by
/// unique id so two runs compare line by line.
pub fn write_run_results(
    target_dir: &Path,
    args: &RunArgs,
    invocation: &Invocation,
    results: &RunResults,
) -> Result<()> {
    let mut sorted = results.results.clone();
    sorted.sort_by(|a, b| a.unique_id.cmp(&b.unique_id));
    let entries: Vec<serde_json::Value> = sorted
        .iter()
        .map(|r| {
            let timing = match &r.timing {
                Some((started, completed)) => json!([
                    {"name": "compile", "started_at": started, "completed_at": started},
                    {"name": "execute", "started_at": started, "completed_at": completed},
                ]),
                None => json!([]),
            };
            let message = match r.status {
                Status::Pass | Status::Skipped => serde_json::Value::Null,
                _ => json!(secrets::redact(&r.message)),
            };
            json!({
                "status": r.status.as_str(),
                "timing": timing,
                "thread_id": r.thread_id,
                "execution_time": r.seconds,
                "adapter_response": {},
                "message": message,
                "failures": r.failures,
                "unique_id": r.unique_id,
                "compiled": r.compiled_code.is_some(),
                "compiled_code": r.compiled_code,
                // dbt names the relation of models and snapshots here; a
                // seed's is null in run_results.json (its manifest has it).
                "relation_name": if r.unique_id.starts_with("seed.") {
                    None
                } else {
                    r.relation.as_deref()
                },
                "batch_results": r.batch_results.as_ref().map(|b| {
                    let windows = |list: &[(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)]| {
                        list.iter()
                            .map(|(start, end)| {
                                json!([
                                    crate::materialize::microbatch::Batch::json_time(*start),
                                    crate::materialize::microbatch::Batch::json_time(*end)
                                ])
                            })
                            .collect::<Vec<_>>()
                    };
                    json!({"successful": windows(&b.successful), "failed": windows(&b.failed)})
                }),
            })
        })
        .collect();
    let document = json!({
        "metadata": {
            "dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json",
            "dbt_version": "1.10.0",
            "generator": format!("kiln {}", env!("CARGO_PKG_VERSION")),
            "generated_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "invocation_id": invocation.invocation_id,
            "env": {},
        },
        "results": entries,
        "elapsed_time": results.elapsed,
        "args": {
            "which": args.which,
            "select": args.select,
            "exclude": args.exclude,
            "threads": args.threads,
            "full_refresh": args.full_refresh,
            "fail_fast": args.fail_fast,
            "warn_error": args.warn_error,
        },
    });
    let text = serde_json::to_string_pretty(&document).unwrap_or_default();
    write_file(&target_dir.join("run_results.json"), &text)
}
