//! `target/manifest.json` in dbt's shape (v12): every node, source and macro
//! with its config, dependencies and checksum, and the parent and child maps,
//! so tools built for dbt's manifest can read kiln's. Keys are sorted, so two
//! parses of the same project write the same file but for the metadata.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use serde_json::{Value as Json, json};

use crate::digest::md5_hex;
use crate::error::Result;
use crate::files::write_file;
use crate::graph::Graph;
use crate::graph::manifest_nodes::{
    docs_json, groups_json, in_manifest_nodes, node_json, resources_of, sources_json,
    unit_test_json,
};
use crate::parse::{Parsed, ParsedNode};
use crate::project::node::NodeKind;

/// Writes `target/manifest.json`.
pub fn write_manifest(parsed: &Parsed, graph: &Graph) -> Result<()> {
    write_manifest_compiled(parsed, graph, &BTreeMap::new())
}

/// Writes `target/manifest.json` with the SQL each node in `compiled` (by
/// unique id) compiled to, as `compiled_code` (dbt's `compile` writes it for
/// every node it compiled).
pub fn write_manifest_compiled(
    parsed: &Parsed,
    graph: &Graph,
    compiled: &BTreeMap<String, String>,
) -> Result<()> {
    let project = &parsed.project.config.name;
    // Each node is serialized on its own, in parallel: the nodes of a large
    // project are never all held as JSON values at once.
    let nodes: Vec<(&String, &ParsedNode)> = parsed
        .nodes
        .iter()
        .filter(|(_, n)| in_manifest_nodes(n.node.kind))
        .collect();
    let unit_tests: BTreeMap<&String, Json> = parsed
        .nodes
        .iter()
        .filter_map(|(id, n)| Some((id, unit_test_json(parsed, n)?)))
        .collect();
    let nodes: Vec<String> = nodes
        .into_par_iter()
        .map(|(id, node)| {
            let mut value = node_json(parsed, graph, node);
            if let Some(code) = compiled.get(id.as_str()) {
                value["compiled"] = Json::Bool(true);
                value["compiled_code"] = Json::from(code.as_str());
            }
            format!("{}:{}", Json::from(id.as_str()), value)
        })
        .collect();
    let sources = sources_json(parsed);
    let macros: BTreeMap<String, Json> = parsed
        .env
        .macros
        .packages
        .values()
        .flat_map(|m| m.values())
        .map(|m| {
            let id = format!("macro.{}.{}", m.package, m.name);
            let path = m
                .template
                .strip_prefix(crate::jinja::BUILTIN_PREFIX)
                .map(|p| format!("templates/{p}"))
                .unwrap_or_else(|| m.template.clone());
            (
                id.clone(),
                json!({
                    "name": m.name,
                    "resource_type": "macro",
                    "package_name": m.package,
                    "path": path,
                    "original_file_path": path,
                    "unique_id": id,
                }),
            )
        })
        .collect();
    let mut parent_map: BTreeMap<&String, BTreeSet<&String>> = BTreeMap::new();
    let mut child_map: BTreeMap<&String, BTreeSet<&String>> = BTreeMap::new();
    for id in parsed.nodes.keys() {
        let parents: BTreeSet<&String> = graph
            .parents
            .get(id)
            .into_iter()
            .flatten()
            .chain(graph.source_parents.get(id).into_iter().flatten())
            .collect();
        for parent in &parents {
            child_map.entry(*parent).or_default().insert(id);
        }
        parent_map.insert(id, parents);
        child_map.entry(id).or_default();
    }
    for id in parsed.project.sources.keys() {
        parent_map.entry(id).or_default();
        child_map.entry(id).or_default();
    }
    let (groups, group_map) = groups_json(parsed);
    let rest = json!({
        "sources": sources,
        "macros": macros,
        "docs": docs_json(parsed),
        "exposures": resources_of(parsed, graph, NodeKind::Exposure),
        "metrics": resources_of(parsed, graph, NodeKind::Metric),
        "groups": groups,
        "selectors": {},
        "disabled": parsed.project.disabled.keys().map(|k| (k.clone(), json!([]))).collect::<BTreeMap<_, _>>(),
        "parent_map": parent_map,
        "child_map": child_map,
        "group_map": group_map,
        "saved_queries": resources_of(parsed, graph, NodeKind::SavedQuery),
        "semantic_models": resources_of(parsed, graph, NodeKind::SemanticModel),
        "unit_tests": unit_tests,
    });
    let metadata = json!({
        "dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
        "dbt_version": "1.10.0",
        "generator": format!("kiln {}", env!("CARGO_PKG_VERSION")),
        "generated_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "invocation_id": parsed.invocation.invocation_id,
        "env": {},
        "project_name": project,
        "project_id": md5_hex(project),
        "adapter_type": parsed.target.adapter.name(),
    });
    let rest = rest.to_string();
    let mut text =
        String::with_capacity(nodes.iter().map(|n| n.len() + 1).sum::<usize>() + rest.len() + 1024);
    text.push_str("{\"metadata\":");
    text.push_str(&metadata.to_string());
    text.push_str(",\"nodes\":{");
    for (i, node) in nodes.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(node);
    }
    drop(nodes);
    text.push_str("},");
    // `rest` is an object: its members follow the nodes.
    text.push_str(&rest[1..]);
    write_file(&parsed.project.target_dir().join("manifest.json"), &text)
}
