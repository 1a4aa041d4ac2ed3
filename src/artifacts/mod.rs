//! Run artifacts in `target/`: `run_results.json` in dbt's shape.

use std::path::Path;

use serde_json::json;

use crate::compile::write_file;
use crate::error::Result;
use crate::exec::RunResults;
use crate::parse::Invocation;

/// Writes `target/run_results.json`.
pub fn write_run_results(
    target_dir: &Path,
    command: &str,
    invocation: &Invocation,
    results: &RunResults,
) -> Result<()> {
    let mut sorted = results.results.clone();
    sorted.sort_by(|a, b| a.unique_id.cmp(&b.unique_id));
    let entries: Vec<serde_json::Value> = sorted
        .iter()
        .map(|r| {
            json!({
                "unique_id": r.unique_id,
                "status": r.status.as_str(),
                "execution_time": r.seconds,
                "message": r.message,
                "failures": null,
                "relation_name": r.relation,
                "thread_id": null,
                "adapter_response": {},
            })
        })
        .collect();
    let document = json!({
        "metadata": {
            "dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json",
            "generator": format!("kiln {}", env!("CARGO_PKG_VERSION")),
            "generated_at": chrono::Utc::now().to_rfc3339(),
            "invocation_id": invocation.invocation_id,
        },
        "results": entries,
        "elapsed_time": results.elapsed,
        "args": { "which": command },
    });
    let text = serde_json::to_string_pretty(&document).unwrap_or_default();
    write_file(&target_dir.join("run_results.json"), &text)
}
