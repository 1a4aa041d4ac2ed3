//! `kiln ls`: the selected nodes, one a line, in unique-id order as `dbt ls`
//! prints them.

use crate::project::node::NodeKind;
use clap::{Args, ValueEnum};

use super::{
    EXIT_OK, GlobalArgs, SelectArgs, load_project, parse_project, select_nodes_and_sources,
};
use crate::error::Result;

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum LsOutput {
    /// `project.folder.name` (dbt's default)
    #[default]
    Selector,
    /// the node's name
    Name,
    /// the file, relative to the project
    Path,
    /// one JSON object a node: name, resource_type, unique_id, config, depends_on, ...
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct LsArgs {
    #[command(flatten)]
    pub selection: SelectArgs,
    /// What to print for each node.
    #[arg(long, short = 'o', value_enum, default_value_t = LsOutput::Selector)]
    pub output: LsOutput,
}

pub fn run(global: &GlobalArgs, args: &LsArgs) -> Result<i32> {
    let project = load_project(global)?;
    let parsed = parse_project(global, project)?;
    let graph = super::build_graph(&parsed)?;
    let (mut selected, sources) = select_nodes_and_sources(&parsed, &graph, &args.selection)?;
    // As `dbt ls`: analyses only when `--resource-type` asks for them.
    let analyses = ["analysis", "all"];
    if !args
        .selection
        .resource_type
        .iter()
        .any(|t| analyses.contains(&t.as_str()))
    {
        selected.retain(|id| parsed.nodes[id].node.kind != NodeKind::Analysis);
    }
    // Nodes and sources together, in unique-id order as dbt lists them.
    let mut lines: Vec<(&String, String)> = sources
        .iter()
        .map(|id| (id, source_line(&parsed.project.sources[id], args.output)))
        .collect();
    lines.extend(
        selected
            .iter()
            .map(|id| (id, &parsed.nodes[id].node))
            .map(|(id, n)| {
                let line = match args.output {
                    // dbt prints a unit test as `unit_test:<package>.<name>`, and
                    // so an exposure (`exposure:shop.dash`), a metric, ...
                    LsOutput::Selector
                        if n.kind == NodeKind::UnitTest || n.kind.is_declared_resource() =>
                    {
                        format!("{}:{}.{}", n.kind.resource_type(), n.package, n.name)
                    }
                    LsOutput::Selector => n.fqn.join("."),
                    LsOutput::Name => n.name.clone(),
                    LsOutput::Path => n.original_file_path.to_string_lossy().to_string(),
                    LsOutput::Json => {
                        let parsed_node = &parsed.nodes[&n.unique_id];
                        let mut depends_on: Vec<&String> = graph.parents[&n.unique_id]
                            .iter()
                            .chain(graph.source_parents.get(&n.unique_id).into_iter().flatten())
                            .collect();
                        depends_on.sort();
                        serde_json::json!({
                            "name": n.name,
                            "resource_type": n.kind.resource_type(),
                            "package_name": n.package,
                            "original_file_path": n.original_file_path.to_string_lossy(),
                            "unique_id": n.unique_id,
                            "alias": parsed_node.relation.identifier(),
                            "config": n.config.0,
                            "tags": n.config.tags(),
                            "depends_on": {"nodes": depends_on},
                        })
                        .to_string()
                    }
                };
                (id, line)
            }),
    );
    lines.sort();
    for (_, line) in lines {
        super::output::line(&line);
    }
    Ok(EXIT_OK)
}

/// A source as `dbt ls` prints it: `source:shop.raw.events`, `raw.events`.
fn source_line(source: &crate::project::node::SourceTable, output: LsOutput) -> String {
    match output {
        LsOutput::Selector => format!(
            "source:{}.{}.{}",
            source.package, source.source_name, source.name
        ),
        LsOutput::Name => format!("{}.{}", source.source_name, source.name),
        LsOutput::Path => source.original_file_path.to_string_lossy().to_string(),
        LsOutput::Json => serde_json::json!({
            "name": source.name,
            "resource_type": "source",
            "package_name": source.package,
            "original_file_path": source.original_file_path.to_string_lossy(),
            "unique_id": source.unique_id,
            "source_name": source.source_name,
            "tags": [],
            "config": {"enabled": true, "loaded_at_field": source.loaded_at_field, "freshness": source.freshness},
        })
        .to_string(),
    }
}
