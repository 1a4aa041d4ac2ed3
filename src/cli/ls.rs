//! `kiln ls`: the selected nodes, one a line, in unique-id order as `dbt ls`
//! prints them.

use clap::{Args, ValueEnum};

use super::{EXIT_OK, GlobalArgs, SelectArgs, load_project, parse_project, select_nodes};
use crate::error::Result;
use crate::graph::Graph;

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum LsOutput {
    /// `project.folder.name` (dbt's default)
    #[default]
    Selector,
    /// the node's name
    Name,
    /// the file, relative to the project
    Path,
}

#[derive(Debug, Clone, Args)]
pub struct LsArgs {
    #[command(flatten)]
    pub selection: SelectArgs,
    /// What to print for each node.
    #[arg(long, short = 'o', value_enum, default_value_t = LsOutput::Selector)]
    pub output: LsOutput,
    /// Only nodes of this kind (model, seed).
    #[arg(long)]
    pub resource_type: Vec<String>,
}

pub fn run(global: &GlobalArgs, args: &LsArgs) -> Result<i32> {
    let project = load_project(global)?;
    let parsed = parse_project(project)?;
    let graph = Graph::build(&parsed)?;
    let selected = select_nodes(&parsed, &graph, &args.selection)?;
    let lines: Vec<String> = selected
        .iter()
        .map(|id| &parsed.nodes[id].node)
        .filter(|n| {
            args.resource_type.is_empty()
                || args
                    .resource_type
                    .iter()
                    .any(|t| t == n.kind.resource_type())
        })
        .map(|n| match args.output {
            LsOutput::Selector => n.fqn.join("."),
            LsOutput::Name => n.name.clone(),
            LsOutput::Path => n.original_file_path.to_string_lossy().to_string(),
        })
        .collect();
    for line in lines {
        super::output::line(&line);
    }
    Ok(EXIT_OK)
}
