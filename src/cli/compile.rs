//! `kiln compile`: render every selected model to `target/compiled/`,
//! without opening a database connection.

use super::{EXIT_OK, GlobalArgs, SelectArgs, load_project, parse_project, select_nodes};
use crate::compile::compile_selected;
use crate::error::Result;
use crate::graph::Graph;
use crate::lock::ProjectLock;
use crate::project::node::NodeKind;

pub fn run(global: &GlobalArgs, args: &SelectArgs) -> Result<i32> {
    let project = load_project(global)?;
    let _lock = ProjectLock::acquire(&project.target_dir())?;
    let parsed = parse_project(global, project)?;
    let graph = Graph::build(&parsed)?;
    let selected = select_nodes(&parsed, &graph, args)?;
    // The manifest is written while the models compile.
    let (manifest, compiled) = rayon::join(
        || crate::artifacts::manifest::write_manifest(&parsed, &graph),
        || compile_selected(&parsed, &graph, &selected),
    );
    manifest?;
    let compiled = compiled?;
    let tests = compiled
        .keys()
        .filter(|id| parsed.nodes[*id].node.kind == NodeKind::Test)
        .count();
    let models = compiled.len() - tests;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    super::output::line(&format!(
        "Compiled {} and {} to {}",
        plural(models, "model"),
        plural(tests, "test"),
        parsed.project.target_dir().join("compiled").display()
    ));
    Ok(EXIT_OK)
}
