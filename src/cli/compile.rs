//! `kiln compile`: render every selected model to `target/compiled/`,
//! without opening a database connection.

use super::{EXIT_OK, GlobalArgs, SelectArgs, load_project};
use crate::compile::compile_selected;
use crate::error::Result;
use crate::graph::Graph;
use crate::graph::select::select;
use crate::parse::parse;

pub fn run(global: &GlobalArgs, args: &SelectArgs) -> Result<i32> {
    let project = load_project(global)?;
    let parsed = parse(project)?;
    let graph = Graph::build(&parsed)?;
    let selected = select(&parsed, &graph, &args.select, &args.exclude);
    let compiled = compile_selected(&parsed, &graph, &selected)?;
    super::output::line(&format!(
        "Compiled {} model{} to {}",
        compiled.len(),
        if compiled.len() == 1 { "" } else { "s" },
        parsed.project.target_dir().join("compiled").display()
    ));
    Ok(EXIT_OK)
}
