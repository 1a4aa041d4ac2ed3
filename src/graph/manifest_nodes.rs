//! The project's nodes and sources in dbt's manifest shape: the nodes of
//! `target/manifest.json`, and the `graph` variable templates read (dbt's
//! flat manifest), which the graph stage builds once.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use super::Graph;
use crate::parse::{Parsed, ParsedNode};
use crate::project::node::NodeKind;

/// The project's sources as the manifest lists them, by unique id.
pub fn sources_json(parsed: &Parsed) -> BTreeMap<&String, Json> {
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
pub(super) fn graph_value(parsed: &Parsed, graph: &Graph) -> minijinja::Value {
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
    // Unit tests, exposures and the semantic layer's nodes are not in
    // dbt's `graph.nodes`: they have sections of their own.
    let nodes: BTreeMap<&String, Json> = parsed
        .nodes
        .iter()
        .filter(|(_, node)| in_manifest_nodes(node.node.kind))
        .map(|(id, node)| (id, node_json(parsed, graph, node)))
        .collect();
    crate::jinja::json_value(&json!({
        "nodes": nodes,
        "sources": sources_json(parsed),
        "exposures": resources_of(parsed, graph, NodeKind::Exposure),
        "metrics": resources_of(parsed, graph, NodeKind::Metric),
        "groups": groups_json(parsed).0,
        "semantic_models": resources_of(parsed, graph, NodeKind::SemanticModel),
        "saved_queries": resources_of(parsed, graph, NodeKind::SavedQuery),
    }))
}

/// Whether a node of `kind` is in the manifest's `nodes` (models, seeds,
/// snapshots, data tests, analyses), not in a section of its own.
pub fn in_manifest_nodes(kind: NodeKind) -> bool {
    kind != NodeKind::UnitTest && !kind.is_declared_resource()
}

/// The columns a properties file describes, by name, as the manifest (and
/// `graph`, which packages such as codegen read) gives them.
fn columns_json(columns: &[crate::project::node::ColumnInfo]) -> BTreeMap<&String, Json> {
    columns
        .iter()
        .map(|c| {
            (
                &c.name,
                json!({
                    "name": c.name,
                    "description": c.description,
                    "data_type": c.data_type,
                    "meta": {},
                    "tags": [],
                    "quote": c.quote,
                    "constraints": c.constraints.iter().map(|k| crate::contract::constraint_json(k, false)).collect::<Vec<_>>(),
                }),
            )
        })
        .collect()
}

pub fn node_json(parsed: &Parsed, graph: &Graph, node: &ParsedNode) -> Json {
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
        NodeKind::Test | NodeKind::Analysis => None,
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
        "checksum": {"name": n.checksum_name(&parsed.project.root), "checksum": checksum},
        "config": n.config.0,
        "tags": n.config.tags(),
        "description": n.description,
        "columns": columns,
        "meta": n.config.get("meta").cloned().unwrap_or(json!({})),
        // dbt keeps a file's contents stripped.
        "raw_code": n.raw_code.trim(),
        "language": "sql",
        "refs": node.refs.iter().map(|r| {
            let (name, version) = match r.name.rsplit_once(".v") {
                Some((name, v)) => (name, Some(version_json(v))),
                None => (r.name.as_str(), None),
            };
            json!({"name": name, "package": r.package, "version": version})
        }).collect::<Vec<_>>(),
        "sources": node.sources.iter().map(|(s, t)| json!([s, t])).collect::<Vec<_>>(),
        "depends_on": {"macros": [], "nodes": depends_on},
        "compiled_path": n.kind.has_sql().then(|| parsed.compiled_path(node)),
        "relation_name": relation_name,
        "patch_path": n.patch_path.as_ref().map(|p| format!("{}://{}", n.package, p.display())),
    });
    value["group"] = json!(n.config.get_str("group"));
    if n.kind == NodeKind::Model {
        let version = n.version.as_deref();
        value["version"] = json!(version.map(|v| version_json(&v.v)));
        value["latest_version"] = json!(version.map(|v| version_json(&v.latest)));
        value["deprecation_date"] = json!(version.and_then(|v| v.deprecation_date.clone()));
    }
    if n.kind == NodeKind::Model {
        value["access"] = json!(n.config.get_str("access").unwrap_or("protected"));
        value["contract"] = crate::contract::contract_json(&n.config);
        value["constraints"] = n
            .constraints
            .iter()
            .map(|k| crate::contract::constraint_json(k, true))
            .collect();
    }
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

/// A version as dbt's manifest writes it: a number when it is one.
fn version_json(v: &str) -> Json {
    v.parse::<i64>()
        .map(Json::from)
        .or_else(|_| v.parse::<f64>().map(Json::from))
        .unwrap_or_else(|_| Json::from(v))
}

/// The manifest's `groups` (by unique id `group.<package>.<name>`, the
/// owner with dbt's `name` and `email` keys) and `group_map` (each group's
/// nodes).
pub fn groups_json(parsed: &Parsed) -> (BTreeMap<String, Json>, BTreeMap<String, Vec<String>>) {
    let mut groups = BTreeMap::new();
    for (package, group) in &parsed.project.groups {
        let id = format!("group.{package}.{}", group.name);
        let mut owner = json!({"email": null, "name": null});
        if let Json::Object(given) = &group.owner {
            for (k, v) in given {
                owner[k] = v.clone();
            }
        }
        let path = group
            .file
            .components()
            .skip(1)
            .collect::<std::path::PathBuf>();
        groups.insert(
            id.clone(),
            json!({
                "name": group.name,
                "resource_type": "group",
                "package_name": package,
                "path": path,
                "original_file_path": group.file,
                "unique_id": id,
                "owner": owner,
                "description": group.description,
                "config": {"meta": {}},
            }),
        );
    }
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (id, node) in &parsed.nodes {
        if let Some(group) = node.node.config.get_str("group") {
            map.entry(group.to_string()).or_default().push(id.clone());
        }
    }
    (groups, map)
}

/// A unit test as the manifest's `unit_tests` section gives it (dbt 1.10's
/// fields: the model, `given` and `expect` as written, `overrides`, config).
pub fn unit_test_json(parsed: &Parsed, node: &ParsedNode) -> Option<Json> {
    let n = &node.node;
    let unit = n.unit.as_ref()?;
    let mut config = n.config.0.clone();
    config
        .entry("tags".to_string())
        .or_insert_with(|| json!(n.config.tags()));
    config
        .entry("meta".to_string())
        .or_insert_with(|| json!({}));
    config.entry("enabled".to_string()).or_insert(json!(true));
    Some(json!({
        "database": node.relation.database,
        "schema": node.relation.schema,
        "name": n.name,
        "resource_type": "unit_test",
        "package_name": n.package,
        "path": n.path,
        "original_file_path": n.original_file_path,
        "unique_id": n.unique_id,
        "fqn": n.fqn,
        "description": n.description,
        "model": unit.model,
        "given": unit.given.iter().map(|g| g.written.clone()).collect::<Vec<_>>(),
        "expect": unit.expect_written,
        "overrides": unit.overrides_written,
        "depends_on": {"macros": [], "nodes": [unit.model_id]},
        "config": config,
        "checksum": null,
        "schema_version": null,
        "created_at": 0.0,
        "versions": null,
        "version": null,
        "compiled_path": parsed.compiled_path(node),
    }))
}

/// An exposure, semantic model, metric or saved query as its manifest
/// section gives it: what every node has, then the fields of its kind.
pub fn resource_json(parsed: &Parsed, graph: &Graph, node: &ParsedNode) -> Option<Json> {
    let n = &node.node;
    let resource = n.resource.as_ref()?;
    let id = &n.unique_id;
    // In the order dbt gives them: refs, sources, then metrics and
    // semantic models.
    let mut depends_on: Vec<&String> = Vec::new();
    for parent in graph
        .parents
        .get(id)
        .into_iter()
        .flatten()
        .filter(|p| !resource.depends_on.contains(p))
        .chain(graph.source_parents.get(id).into_iter().flatten())
        .chain(resource.depends_on.iter())
    {
        if !depends_on.contains(&parent) {
            depends_on.push(parent);
        }
    }
    let mut config = n.config.0.clone();
    if n.kind == NodeKind::Exposure {
        config.insert("tags".into(), json!(n.config.tags()));
    }
    let mut value = json!({
        "name": n.name,
        "resource_type": n.kind.resource_type(),
        "package_name": n.package,
        "path": n.path,
        "original_file_path": n.original_file_path,
        "unique_id": id,
        "fqn": n.fqn,
        "description": n.description,
        "config": config,
        "unrendered_config": {},
        "created_at": 0.0,
        "depends_on": {"macros": [], "nodes": depends_on},
    });
    if matches!(n.kind, NodeKind::Exposure | NodeKind::SemanticModel) {
        value["refs"] = node
            .refs
            .iter()
            .map(|r| json!({"name": r.name, "package": r.package, "version": null}))
            .collect();
    }
    if n.kind == NodeKind::Exposure {
        value["sources"] = node.sources.iter().map(|(s, t)| json!([s, t])).collect();
        value["tags"] = json!(n.config.tags());
    }
    if n.kind == NodeKind::SavedQuery || n.kind == NodeKind::Metric {
        value["tags"] = json!(n.config.tags());
    }
    for (key, field) in &resource.fields {
        value[key] = field.clone();
    }
    match n.kind {
        NodeKind::SemanticModel => {
            // The relation of the model it reads, as dbt records it.
            let model = graph
                .parents
                .get(id)
                .into_iter()
                .flatten()
                .find_map(|p| parsed.nodes.get(p));
            value["node_relation"] = match model {
                Some(model) => json!({
                    "alias": model.relation.identifier(),
                    "database": model.relation.database,
                    "schema_name": model.relation.schema,
                    "relation_name": model.relation.render(),
                }),
                None => Json::Null,
            };
        }
        NodeKind::SavedQuery => {
            // An export's schema and database default to the target's.
            if let Some(Json::Array(exports)) = value.get_mut("exports") {
                for export in exports {
                    let config = &mut export["config"];
                    if config["schema_name"].is_null() {
                        config["schema_name"] = json!(parsed.target.schema);
                    }
                    if config["database"].is_null() {
                        config["database"] = json!(parsed.target.database);
                    }
                }
            }
        }
        _ => {}
    }
    Some(value)
}

/// The manifest's `docs`: every `{% docs %}` block by unique id.
pub fn docs_json(parsed: &Parsed) -> BTreeMap<String, Json> {
    parsed
        .project
        .docs
        .iter()
        .map(|block| {
            let id = block.unique_id();
            (
                id.clone(),
                json!({
                    "name": block.name,
                    "resource_type": "doc",
                    "package_name": block.package,
                    "path": block.path,
                    "original_file_path": block.original_file_path,
                    "unique_id": id,
                    "block_contents": block.contents,
                }),
            )
        })
        .collect()
}

/// The declared resources of `kind`, by unique id, in manifest shape.
pub fn resources_of(parsed: &Parsed, graph: &Graph, kind: NodeKind) -> BTreeMap<String, Json> {
    parsed
        .nodes
        .iter()
        .filter(|(_, n)| n.node.kind == kind)
        .filter_map(|(id, n)| Some((id.clone(), resource_json(parsed, graph, n)?)))
        .collect()
}
