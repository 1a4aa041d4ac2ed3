//! `kiln lineage`: the DAG of the selected nodes as dot, Mermaid or JSON (with
//! column edges), or, with `--column model.column`, the tree of upstream
//! columns one column is computed from. No database is needed; when one is
//! at hand, it tells the columns of sources no properties file describes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{EXIT_OK, GlobalArgs, SelectArgs, load_project, parse_project, select_nodes};
use crate::error::{Error, Location, Result};
use crate::graph::Graph;
use crate::lineage::export::{self, ExportGraph};
use crate::lineage::project::{ColumnTree, DatabaseColumns, ProjectLineage};
use crate::parse::Parsed;
use crate::project::node::NodeKind;

#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum Format {
    /// Graphviz (`dot -Tsvg`)
    #[default]
    Dot,
    /// a Mermaid flowchart
    Mermaid,
    /// nodes, edges and column edges
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct LineageArgs {
    #[command(flatten)]
    pub selection: SelectArgs,
    /// How to write the graph.
    #[arg(long, value_enum, default_value_t = Format::Dot)]
    pub format: Format,
    /// Write to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Include data tests as nodes.
    #[arg(long)]
    pub tests: bool,
    /// Print the upstream tree of one column: `orders.amount`.
    #[arg(long, value_name = "MODEL.COLUMN")]
    pub column: Option<String>,
}

pub fn run(global: &GlobalArgs, args: &LineageArgs) -> Result<i32> {
    let project = load_project(global)?;
    let parsed = parse_project(global, project)?;
    let graph = super::build_graph(&parsed)?;
    let connection = database_connection(&parsed);
    let lookup = |parts: &[String]| {
        columns_from(&connection, parts)
            .map(|columns| columns.into_iter().map(|c| c.name).collect())
    };
    let (_, lineage) = project_lineage(&parsed, &graph, Some(&lookup))?;
    if let Some(column) = &args.column {
        let tree = column_tree(&parsed, &lineage, column)?;
        let mut text = String::new();
        write_tree(&parsed, &tree, "", true, true, &mut text);
        return emit(args, &text);
    }
    let mut selected = select_nodes(&parsed, &graph, &args.selection)?;
    if !args.tests {
        selected.retain(|id| !parsed.nodes[id].node.kind.is_test());
    }
    let exported = ExportGraph::new(&parsed, &graph, &selected);
    let text = match args.format {
        Format::Dot => export::dot(&exported),
        Format::Mermaid => export::mermaid(&exported),
        Format::Json => {
            let mut text = serde_json::to_string_pretty(&export::json(&exported, &lineage))
                .expect("JSON values serialize");
            text.push('\n');
            text
        }
    };
    emit(args, &text)
}

fn emit(args: &LineageArgs, text: &str) -> Result<i32> {
    match &args.output {
        Some(path) => crate::files::write_file(path, text)?,
        None => print!("{text}"),
    }
    Ok(EXIT_OK)
}

/// Every model's compiled SQL (by unique id) and its lineage, with the
/// columns `database` reports for relations nothing else describes.
pub fn project_lineage(
    parsed: &Parsed,
    graph: &Graph,
    database: Option<DatabaseColumns<'_>>,
) -> Result<(BTreeMap<String, String>, ProjectLineage)> {
    let models: BTreeSet<String> = parsed
        .nodes
        .values()
        .filter(|n| matches!(n.node.kind, NodeKind::Model | NodeKind::Snapshot))
        .map(|n| n.node.unique_id.clone())
        .collect();
    let compiled = crate::compile::compile_selected(parsed, graph, &models, false)?;
    let lineage = crate::lineage::project::analyze(parsed, graph, &compiled, database);
    Ok((compiled, lineage))
}

/// The columns of a relation (`[database, schema, name]`) as `connection`
/// reports them; none without a connection or for a relation it lacks.
pub fn columns_from(
    connection: &Option<std::sync::Mutex<Box<dyn crate::adapter::Connection>>>,
    parts: &[String],
) -> Option<Vec<crate::adapter::CatalogColumn>> {
    let [database, schema, name] = parts else {
        return None;
    };
    let columns = connection
        .as_ref()?
        .lock()
        .ok()?
        .list_columns(database, schema, name)
        .ok()?;
    (!columns.is_empty()).then_some(columns)
}

/// A connection to the target's database when one is at hand (a DuckDB file
/// that exists, a server that answers); none otherwise, and no error.
pub fn database_connection(
    parsed: &Parsed,
) -> Option<std::sync::Mutex<Box<dyn crate::adapter::Connection>>> {
    if !parsed.target.database_exists() {
        return None;
    }
    let adapter = crate::adapter::for_target(&parsed.target).ok()?;
    adapter.connect().ok().map(std::sync::Mutex::new)
}

fn column_tree(parsed: &Parsed, lineage: &ProjectLineage, wanted: &str) -> Result<ColumnTree> {
    let bad = |message: String| Error::config(Location::file(PathBuf::from("--column")), message);
    let (model, column) = wanted.rsplit_once('.').ok_or_else(|| {
        bad(format!(
            "--column '{wanted}': write it model.column (orders.amount)"
        ))
    })?;
    let node = parsed
        .nodes
        .values()
        .find(|n| !n.node.kind.is_test() && n.node.name == model)
        .ok_or_else(|| {
            bad(format!(
                "--column '{wanted}': there is no model, seed or snapshot named '{model}'"
            ))
        })?;
    let id = &node.node.unique_id;
    let known = lineage.columns.get(id).cloned().unwrap_or_default();
    if !known.is_empty() && !known.iter().any(|c| c.eq_ignore_ascii_case(column)) {
        return Err(bad(format!(
            "--column '{wanted}': {model} has no column '{column}'; it has {}",
            known.join(", ")
        )));
    }
    Ok(crate::lineage::project::upstream_tree(lineage, id, column))
}

/// The name a user knows a node by: a model's name, `source.table`.
fn display_name(parsed: &Parsed, id: &str) -> String {
    if let Some(node) = parsed.nodes.get(id) {
        return node.node.name.clone();
    }
    if let Some(source) = parsed.project.sources.get(id) {
        return format!("{}.{}", source.source_name, source.name);
    }
    id.to_string()
}

fn write_tree(
    parsed: &Parsed,
    tree: &ColumnTree,
    prefix: &str,
    last: bool,
    root: bool,
    out: &mut String,
) {
    let label = format!("{}.{}", display_name(parsed, &tree.node), tree.column);
    let kind = match tree.kind {
        Some(kind) => format!(
            " ({})",
            serde_json::to_value(kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        ),
        None => String::new(),
    };
    if root {
        out.push_str(&format!("{label}\n"));
    } else {
        out.push_str(&format!(
            "{prefix}{}{label}{kind}\n",
            if last { "└── " } else { "├── " }
        ));
    }
    let child_prefix = if root {
        String::new()
    } else {
        format!("{prefix}{}", if last { "    " } else { "│   " })
    };
    for (i, child) in tree.upstream.iter().enumerate() {
        write_tree(
            parsed,
            child,
            &child_prefix,
            i + 1 == tree.upstream.len(),
            false,
            out,
        );
    }
}
