//! `target/manifest.json` in dbt's shape (v12): every node, source and macro
//! with its config, dependencies and checksum, and the parent and child maps,
//! so tools built for dbt's manifest can read kiln's. Keys are sorted, so two
//! parses of the same project write the same file but for the metadata.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use serde_json::{Value as Json, json};

use crate::compile::compiled_path;
use crate::error::Result;
use crate::files::write_file;
use crate::graph::Graph;
use crate::parse::{Parsed, ParsedNode};
use crate::project::data_tests::md5_hex;
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
    let nodes: Vec<(&String, &ParsedNode)> = parsed.nodes.iter().collect();
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
    let rest = json!({
        "sources": sources,
        "macros": macros,
        "docs": {},
        "exposures": {},
        "metrics": {},
        "groups": {},
        "selectors": {},
        "disabled": parsed.project.disabled.keys().map(|k| (k.clone(), json!([]))).collect::<BTreeMap<_, _>>(),
        "parent_map": parent_map,
        "child_map": child_map,
        "group_map": {},
        "saved_queries": {},
        "semantic_models": {},
        "unit_tests": {},
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

/// The project's sources as the manifest lists them, by unique id.
fn sources_json(parsed: &Parsed) -> BTreeMap<&String, Json> {
    parsed
        .project
        .sources
        .iter()
        .map(|(id, s)| {
            let relation = crate::sql::Relation::new(
                parsed.target.adapter,
                &s.database,
                &s.schema,
                &s.identifier,
            )
            .with_quoting(s.quoting);
            (
                id,
                json!({
                    "database": s.database,
                    "schema": s.schema,
                    "name": s.name,
                    "resource_type": "source",
                    "package_name": s.package,
                    "path": s.original_file_path,
                    "original_file_path": s.original_file_path,
                    "unique_id": s.unique_id,
                    "fqn": [&s.package, &s.source_name, &s.name],
                    "source_name": s.source_name,
                    "identifier": s.identifier,
                    "loaded_at_field": s.loaded_at_field,
                    "freshness": s.freshness,
                    "description": s.description,
                    "columns": columns_json(&s.columns),
                    "relation_name": relation.render(),
                }),
            )
        })
        .collect()
}

/// dbt's `graph` context variable: the manifest's nodes and sources, for
/// templates that walk the project (`graph.nodes.values()`). Built only
/// when some template mentions `graph`.
pub fn graph_value(parsed: &Parsed, graph: &Graph) -> minijinja::Value {
    let mentioned = parsed
        .project
        .macros
        .iter()
        .any(|m| m.source.contains("graph"))
        || parsed
            .nodes
            .values()
            .any(|n| n.node.raw_code.contains("graph"));
    if !mentioned {
        return minijinja::Value::UNDEFINED;
    }
    let nodes: BTreeMap<&String, Json> = parsed
        .nodes
        .iter()
        .map(|(id, node)| (id, node_json(parsed, graph, node)))
        .collect();
    crate::jinja::json_value(&json!({
        "nodes": nodes,
        "sources": sources_json(parsed),
        "exposures": {},
        "metrics": {},
        "groups": {},
        "semantic_models": {},
        "saved_queries": {},
    }))
}

/// The columns a properties file describes, by name, as the manifest (and
/// `graph`, which packages such as codegen read) gives them.
fn columns_json(columns: &[crate::project::node::ColumnInfo]) -> BTreeMap<&String, Json> {
    columns
        .iter()
        .map(|c| {
            (
                &c.name,
                json!({"name": c.name, "description": c.description, "data_type": c.data_type, "meta": {}, "tags": [], "quote": c.quote}),
            )
        })
        .collect()
}

fn node_json(parsed: &Parsed, graph: &Graph, node: &ParsedNode) -> Json {
    let n = &node.node;
    let id = &n.unique_id;
    let mut depends_on: Vec<&String> = graph
        .parents
        .get(id)
        .into_iter()
        .flatten()
        .chain(graph.source_parents.get(id).into_iter().flatten())
        .collect();
    depends_on.sort();
    let checksum = n.checksum(&parsed.project.root);
    let columns = columns_json(&n.columns);
    let relation_name = match n.kind {
        NodeKind::Test => None,
        NodeKind::Model if n.is_ephemeral() => None,
        _ => Some(node.relation.render()),
    };
    let mut value = json!({
        "database": node.relation.database,
        "schema": node.relation.schema,
        "name": n.name,
        "resource_type": n.kind.resource_type(),
        "package_name": n.package,
        "path": n.path,
        "original_file_path": n.original_file_path,
        "unique_id": id,
        "fqn": n.fqn,
        "alias": node.relation.identifier(),
        "checksum": {"name": "sha256", "checksum": checksum},
        "config": n.config.0,
        "tags": n.config.tags(),
        "description": n.description,
        "columns": columns,
        "meta": n.config.get("meta").cloned().unwrap_or(json!({})),
        "raw_code": n.raw_code,
        "language": "sql",
        "refs": node.refs.iter().map(|r| json!({"name": r.name, "package": r.package, "version": null})).collect::<Vec<_>>(),
        "sources": node.sources.iter().map(|(s, t)| json!([s, t])).collect::<Vec<_>>(),
        "depends_on": {"macros": [], "nodes": depends_on},
        "compiled_path": (n.kind != NodeKind::Seed).then(|| compiled_path(parsed, node)),
        "relation_name": relation_name,
        "patch_path": n.patch_path.as_ref().map(|p| format!("{}://{}", n.package, p.display())),
    });
    if let Some(test) = &n.test {
        value["test_metadata"] = json!({
            "name": test.name,
            "kwargs": test.kwargs,
            "namespace": test.namespace,
        });
        value["column_name"] = json!(test.column_name);
        value["attached_node"] =
            json!((!test.attached_to.starts_with("source.")).then_some(&test.attached_to));
    }
    value
}
