//! `kiln compile`: render every selected model to `target/compiled/`,
//! without opening a database connection.

use clap::Args;

use super::{
    EXIT_ERROR, EXIT_OK, GlobalArgs, SelectArgs, load_project, parse_project, select_nodes,
};
use crate::compile::compile_selected;
use crate::error::Result;
use crate::lock::ProjectLock;
use crate::project::node::NodeKind;

#[derive(Debug, Clone, Args)]
pub struct CompileArgs {
    #[command(flatten)]
    pub selection: SelectArgs,
    /// Skip kiln's SQL check (for SQL its parser misreads).
    #[arg(long)]
    pub no_check: bool,
    /// Every ref and source reads no rows (`(select * from x where false
    /// limit 0)`), as dbt's `--empty` compiles them.
    #[arg(long)]
    pub empty: bool,
}

pub fn run(global: &GlobalArgs, args: &CompileArgs) -> Result<i32> {
    let project = load_project(global)?;
    let _lock = ProjectLock::acquire(&project.target_dir())?;
    let parsed = parse_project(global, project)?;
    let graph = super::build_graph(&parsed)?;
    let selected = select_nodes(&parsed, &graph, &args.selection)?;
    let compiled = compile_selected(&parsed, &graph, &selected, args.empty);
    // Written once the nodes compiled, with their compiled code (and without
    // it when compiling failed: the parse is still worth having).
    let none = std::collections::BTreeMap::new();
    crate::artifacts::manifest::write_manifest_compiled(
        &parsed,
        &graph,
        compiled.as_ref().unwrap_or(&none),
    )?;
    let compiled = compiled?;
    let mut failed = false;
    if !args.no_check {
        let lineage = crate::lineage::project::analyze(&parsed, &graph, &compiled, None);
        let report = crate::check::check(&parsed, &lineage);
        for warning in report.warnings.values() {
            super::output::diagnostic(warning);
        }
        for diagnostics in report.errors.values() {
            for diagnostic in diagnostics {
                super::output::diagnostic(diagnostic);
            }
        }
        failed = !report.errors.is_empty();
    }
    let count = |kind: NodeKind| {
        compiled
            .keys()
            .filter(|id| parsed.nodes[*id].node.kind == kind)
            .count()
    };
    let (tests, analyses) = (count(NodeKind::Test), count(NodeKind::Analysis));
    let models = compiled.len() - tests - analyses;
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts = vec![plural(models, "model", "models")];
    if analyses > 0 {
        parts.push(plural(analyses, "analysis", "analyses"));
    }
    let last = plural(tests, "test", "tests");
    super::output::line(&format!(
        "Compiled {} and {last} to {}",
        parts.join(", "),
        parsed.project.target_dir().join("compiled").display()
    ));
    Ok(if failed { EXIT_ERROR } else { EXIT_OK })
}
