//! The lineage graph written out: Graphviz `dot`, Mermaid, and JSON (nodes,
//! edges and column edges). Nodes and edges come in a stable order.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value as Json, json};

use super::project::ProjectLineage;
use crate::graph::Graph;
use crate::parse::Parsed;
use crate::project::node::NodeKind;

/// A node of the exported graph.
#[derive(Debug, Clone)]
pub struct ExportNode {
    pub id: String,
    pub name: String,
    /// `model`, `seed`, `snapshot`, `test` or `source`.
    pub kind: &'static str,
    pub materialization: Option<String>,
    pub path: String,
    pub package: String,
}

/// The selected nodes, the sources they read, and the edges among them.
#[derive(Debug, Clone, Default)]
pub struct ExportGraph {
    pub nodes: Vec<ExportNode>,
    pub edges: BTreeSet<(String, String)>,
}

impl ExportGraph {
    /// The graph of `selected` (unique ids), with the sources they read.
    pub fn new(parsed: &Parsed, graph: &Graph, selected: &BTreeSet<String>) -> ExportGraph {
        let mut nodes = Vec::new();
        let mut edges = BTreeSet::new();
        let mut sources = BTreeSet::new();
        for id in selected {
            let Some(parsed_node) = parsed.nodes.get(id) else {
                continue;
            };
            let node = &parsed_node.node;
            nodes.push(ExportNode {
                id: id.clone(),
                name: node.name.clone(),
                kind: node.kind.resource_type(),
                materialization: match node.kind {
                    NodeKind::Model | NodeKind::Seed | NodeKind::Snapshot => {
                        Some(node.config.materialized().to_string())
                    }
                    _ => None,
                },
                path: node.original_file_path.to_string_lossy().to_string(),
                package: node.package.clone(),
            });
            for parent in graph.parents.get(id).into_iter().flatten() {
                if selected.contains(parent) {
                    edges.insert((parent.clone(), id.clone()));
                }
            }
            for source in graph.source_parents.get(id).into_iter().flatten() {
                sources.insert(source.clone());
                edges.insert((source.clone(), id.clone()));
            }
        }
        for id in sources {
            if let Some(source) = parsed.project.sources.get(&id) {
                nodes.push(ExportNode {
                    id: id.clone(),
                    name: format!("{}.{}", source.source_name, source.name),
                    kind: "source",
                    materialization: None,
                    path: source.original_file_path.to_string_lossy().to_string(),
                    package: source.package.clone(),
                });
            }
        }
        nodes.sort_by(|a, b| a.id.cmp(&b.id));
        ExportGraph { nodes, edges }
    }
}

fn fill(kind: &str) -> &'static str {
    match kind {
        "source" => "#dcfce7",
        "seed" => "#fef3c7",
        "snapshot" => "#ede9fe",
        "test" => "#f3f4f6",
        _ => "#dbeafe",
    }
}

fn dot_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Graphviz: `dot -Tsvg lineage.dot > lineage.svg`.
pub fn dot(graph: &ExportGraph) -> String {
    let mut out = String::from(
        "digraph lineage {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n",
    );
    for node in &graph.nodes {
        out.push_str(&format!(
            "  {} [label={}, fillcolor=\"{}\"];\n",
            dot_string(&node.id),
            dot_string(&node.name),
            fill(node.kind)
        ));
    }
    for (from, to) in &graph.edges {
        out.push_str(&format!("  {} -> {};\n", dot_string(from), dot_string(to)));
    }
    out.push_str("}\n");
    out
}

/// Mermaid, for Markdown that renders it (GitHub does).
pub fn mermaid(graph: &ExportGraph) -> String {
    let ids: BTreeMap<&str, String> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), format!("n{i}")))
        .collect();
    let mut out = String::from("flowchart LR\n");
    for node in &graph.nodes {
        let label = node.name.replace('"', "#quot;");
        out.push_str(&format!(
            "  {}[\"{label}\"]:::{}\n",
            ids[node.id.as_str()],
            node.kind
        ));
    }
    for (from, to) in &graph.edges {
        if let (Some(a), Some(b)) = (ids.get(from.as_str()), ids.get(to.as_str())) {
            out.push_str(&format!("  {a} --> {b}\n"));
        }
    }
    for kind in ["model", "seed", "snapshot", "source", "test"] {
        out.push_str(&format!(
            "  classDef {kind} fill:{},stroke:#64748b\n",
            fill(kind)
        ));
    }
    out
}

/// JSON: `nodes` (id, name, kind, materialization, path, package, columns),
/// `edges` (`from`, `to`) and `column_edges` (`from` and `to` as node and
/// column, and `kind`: passthrough or transformed).
pub fn json(graph: &ExportGraph, lineage: &ProjectLineage) -> Json {
    let in_graph: BTreeSet<&str> = graph.nodes.iter().map(|n| n.id.as_str()).collect();
    let nodes: Vec<Json> = graph
        .nodes
        .iter()
        .map(|n| {
            json!({
                "id": n.id,
                "name": n.name,
                "kind": n.kind,
                "materialization": n.materialization,
                "path": n.path,
                "package": n.package,
                "columns": lineage.columns.get(&n.id).cloned().unwrap_or_default(),
            })
        })
        .collect();
    let edges: Vec<Json> = graph
        .edges
        .iter()
        .map(|(from, to)| json!({"from": from, "to": to}))
        .collect();
    let mut column_edges = Vec::new();
    for (node, columns) in &lineage.edges {
        if !in_graph.contains(node.as_str()) {
            continue;
        }
        for (column, upstream) in columns {
            for edge in upstream {
                column_edges.push(json!({
                    "from": {"node": edge.node, "column": edge.column},
                    "to": {"node": node, "column": column},
                    "kind": edge.kind,
                }));
            }
        }
    }
    json!({"nodes": nodes, "edges": edges, "column_edges": column_edges})
}
