//! Exposures and the semantic layer's nodes (semantic models, metrics,
//! saved queries), read from properties files into nodes of the graph.
//! kiln builds nothing for them, but they are in the lineage, the manifest,
//! `ls` and selection as dbt has them; what they read is checked here, with
//! dbt's errors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json, json};

use super::discovery;
use super::node::{Node, NodeKind};
use crate::config::NodeConfig;
use crate::config::dbt_project::DbtProject;
use crate::error::{Error, Location};

/// One entry of an `exposures:`, `semantic_models:`, `metrics:` or
/// `saved_queries:` section, as written.
#[derive(Debug, Clone)]
pub struct ResourceEntry {
    pub kind: NodeKind,
    pub entry: Json,
    /// The properties file, relative to the project.
    pub file: PathBuf,
    /// Where the entry's `name:` is.
    pub location: Location,
}

/// What an exposure or semantic-layer node declares, beyond what every
/// node has.
#[derive(Debug, Clone, PartialEq)]
pub struct DeclaredResource {
    /// Its own fields in the manifest, in dbt's shape (`type`, `owner`,
    /// `type_params`, `measures`, ...).
    pub fields: Map<String, Json>,
    /// The `ref()` and `source()` calls it reads, as Jinja expressions:
    /// an exposure's `depends_on` items, a semantic model's `model`.
    pub calls: Vec<String>,
    /// The metrics it reads by name: a ratio's numerator and denominator,
    /// a derived metric's metrics, a saved query's, an exposure's `metric()`.
    pub metrics: Vec<String>,
    /// The measures a metric reads by name, found in semantic models.
    pub measures: Vec<String>,
    /// The metrics and semantic models it reads, by unique id, once linked.
    pub depends_on: Vec<String>,
    /// Where its entry is.
    pub location: Location,
}

/// The dbt_project.yml tree that configures each kind.
fn config_tree(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Exposure => "exposures",
        NodeKind::Metric => "metrics",
        NodeKind::SemanticModel => "semantic_models",
        _ => "saved_queries",
    }
}

/// The nodes `entries` declare for the project `config`, each at the path
/// of its properties file. A nameless entry is an error at its line.
pub fn resource_nodes(
    config: &DbtProject,
    entries: &[ResourceEntry],
    errors: &mut Vec<Error>,
) -> Vec<Node> {
    let mut nodes: Vec<Node> = Vec::new();
    let folders = config.properties_paths();
    for declared in entries {
        let kind = declared.kind;
        let Some(name) = declared.entry.get("name").and_then(Json::as_str) else {
            errors.push(Error::config(
                declared.location.clone(),
                format!(
                    "every {} needs a `name:`",
                    kind.resource_type().replace('_', " ")
                ),
            ));
            continue;
        };
        let unique_id = format!("{}.{}.{name}", kind.resource_type(), config.name);
        if let Some(first) = nodes.iter().find(|n| n.unique_id == unique_id) {
            errors.push(Error::config(
                declared.location.clone(),
                format!(
                    "{} '{name}' is declared twice: here and in {}",
                    kind.resource_type().replace('_', " "),
                    first.original_file_path.display()
                ),
            ));
            continue;
        }
        let relative = discovery::relative_to_folder(&declared.file, &folders);
        let fqn = discovery::fqn(&config.name, &relative, name);
        let mut node_config = NodeConfig(default_config(kind));
        for level in config.config_levels(config_tree(kind), &fqn) {
            node_config.merge_all(&level);
        }
        node_config.merge_all(&entry_config(&declared.entry));
        let entry = &declared.entry;
        let (fields, calls, metrics, measures) = match kind {
            NodeKind::Exposure => exposure(entry),
            NodeKind::Metric => metric(entry),
            NodeKind::SemanticModel => semantic_model(entry),
            _ => saved_query(entry),
        };
        nodes.push(Node {
            unique_id,
            kind,
            name: name.to_string(),
            package: config.name.clone(),
            original_file_path: declared.file.clone(),
            path: relative,
            fqn,
            raw_code: String::new(),
            config: node_config,
            description: text(entry, "description"),
            columns: Vec::new(),
            constraints: Vec::new(),
            patch_path: None,
            test: None,
            unit: None,
            version: None,
            resource: Some(Box::new(DeclaredResource {
                fields,
                calls,
                metrics,
                measures,
                depends_on: Vec::new(),
                location: declared.location.clone(),
            })),
        });
    }
    nodes
}

/// The config each kind has before any is given, as dbt writes it.
fn default_config(kind: NodeKind) -> BTreeMap<String, Json> {
    let config = match kind {
        NodeKind::Exposure => json!({"enabled": true, "meta": {}, "tags": []}),
        NodeKind::SavedQuery => json!({
            "cache": {"enabled": false},
            "enabled": true,
            "export_as": null,
            "group": null,
            "meta": {},
            "schema": null,
        }),
        _ => json!({"enabled": true, "group": null, "meta": {}}),
    };
    match config {
        Json::Object(map) => map.into_iter().collect(),
        _ => BTreeMap::new(),
    }
}

/// An entry's `config:`, with the `meta`, `tags` and `group` it sets
/// beside it (dbt moves them in).
fn entry_config(entry: &Json) -> BTreeMap<String, Json> {
    let mut config: BTreeMap<String, Json> = match entry.get("config") {
        Some(Json::Object(map)) => map.clone().into_iter().collect(),
        _ => BTreeMap::new(),
    };
    for key in ["meta", "tags", "group"] {
        if let Some(value) = entry.get(key) {
            config
                .entry(key.to_string())
                .or_insert_with(|| value.clone());
        }
    }
    if let Some(Json::String(tag)) = config.get("tags").cloned() {
        config.insert("tags".into(), json!([tag]));
    }
    config
}

/// What the four builders give: the manifest fields, the Jinja calls, the
/// metric names and the measure names the entry reads.
type Parts = (Map<String, Json>, Vec<String>, Vec<String>, Vec<String>);

fn text(entry: &Json, key: &str) -> String {
    entry
        .get(key)
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string()
}

/// `given` with each of `defaults` filled in where it is not given.
fn filled(given: Option<&Json>, defaults: Json) -> Json {
    let mut merged = match defaults {
        Json::Object(map) => map,
        _ => Map::new(),
    };
    if let Some(Json::Object(given)) = given {
        for (key, value) in given {
            merged.insert(key.clone(), value.clone());
        }
    }
    Json::Object(merged)
}

fn object(value: Json) -> Map<String, Json> {
    match value {
        Json::Object(map) => map,
        _ => Map::new(),
    }
}

/// `metric('name')` as an exposure's `depends_on` item writes it.
fn metric_call(item: &str) -> Option<String> {
    let inner = item.trim().strip_prefix("metric(")?.strip_suffix(')')?;
    let name = inner.trim().trim_matches(|c| c == '\'' || c == '"');
    (!name.is_empty()).then(|| name.to_string())
}

fn exposure(entry: &Json) -> Parts {
    let mut calls = Vec::new();
    let mut metrics = Vec::new();
    for item in entry
        .get("depends_on")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
    {
        match metric_call(item) {
            Some(name) => metrics.push(name),
            None => calls.push(item.to_string()),
        }
    }
    let fields = object(json!({
        "type": entry.get("type"),
        "owner": filled(entry.get("owner"), json!({"email": null, "name": null})),
        "label": entry.get("label"),
        "maturity": entry.get("maturity"),
        "url": entry.get("url"),
        "meta": entry.get("meta").cloned().unwrap_or(json!({})),
    }));
    (fields, calls, metrics, Vec::new())
}

/// A measure as a metric names it: a name, or a mapping with `name`.
fn measure_input(value: &Json) -> Json {
    let given = match value {
        Json::String(name) => json!({"name": name}),
        other => other.clone(),
    };
    filled(
        Some(&given),
        json!({"alias": null, "fill_nulls_with": null, "filter": null, "join_to_timespine": false, "name": null}),
    )
}

/// A metric input (a ratio's numerator, a derived metric's metric).
fn metric_input(value: &Json) -> Json {
    let given = match value {
        Json::String(name) => json!({"name": name}),
        other => other.clone(),
    };
    filled(
        Some(&given),
        json!({"alias": null, "filter": null, "name": null, "offset_to_grain": null, "offset_window": null}),
    )
}

fn name_of(value: &Json) -> Option<String> {
    value.get("name").and_then(Json::as_str).map(str::to_string)
}

fn metric(entry: &Json) -> Parts {
    let params = entry.get("type_params").cloned().unwrap_or(json!({}));
    let mut measures = Vec::new();
    let mut metrics = Vec::new();
    let measure = params.get("measure").map(measure_input);
    if let Some(name) = measure.as_ref().and_then(name_of) {
        measures.push(name);
    }
    let cumulative = params.get("cumulative_type_params").cloned();
    let numerator = params.get("numerator").map(metric_input);
    let denominator = params.get("denominator").map(metric_input);
    for input in numerator.iter().chain(denominator.iter()) {
        metrics.extend(name_of(input));
    }
    let inputs: Vec<Json> = params
        .get("metrics")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .map(metric_input)
        .collect();
    for input in &inputs {
        metrics.extend(name_of(input));
    }
    let conversion = params.get("conversion_type_params").cloned();
    if let Some(conversion) = &conversion {
        for key in ["base_measure", "conversion_measure"] {
            if let Some(name) = conversion
                .get(key)
                .map(measure_input)
                .and_then(|m| name_of(&m))
            {
                measures.push(name);
            }
        }
    }
    let type_params = json!({
        "conversion_type_params": conversion,
        "cumulative_type_params": cumulative,
        "denominator": denominator,
        "expr": params.get("expr"),
        "grain_to_date": params.get("grain_to_date"),
        "input_measures": [],
        "measure": measure,
        "metric_aggregation_params": params.get("metric_aggregation_params"),
        "metrics": inputs,
        "numerator": numerator,
        "window": params.get("window"),
    });
    let fields = object(json!({
        "label": entry.get("label"),
        "type": entry.get("type"),
        "type_params": type_params,
        "filter": entry.get("filter"),
        "metadata": null,
        "time_granularity": entry.get("time_granularity"),
        "meta": entry.get("meta").cloned().unwrap_or(json!({})),
        "group": entry.get("group").or_else(|| entry.get("config").and_then(|c| c.get("group"))),
        "metrics": [],
        "refs": [],
        "sources": [],
    }));
    (fields, Vec::new(), metrics, measures)
}

fn semantic_model(entry: &Json) -> Parts {
    let list = |key: &str, defaults: Json| -> Vec<Json> {
        entry
            .get(key)
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .map(|item| filled(Some(item), defaults.clone()))
            .collect()
    };
    let entities = list(
        "entities",
        json!({"config": {"meta": {}}, "description": null, "expr": null, "label": null, "name": null, "role": null, "type": null}),
    );
    let dimensions: Vec<Json> = list(
        "dimensions",
        json!({"config": {"meta": {}}, "description": null, "expr": null, "is_partition": false, "label": null, "metadata": null, "name": null, "type": null, "type_params": null}),
    )
    .into_iter()
    .map(|mut dimension| {
        if let Some(params) = dimension.get("type_params").filter(|p| !p.is_null()) {
            dimension["type_params"] = filled(
                Some(params),
                json!({"time_granularity": null, "validity_params": null}),
            );
        }
        dimension
    })
    .collect();
    let measures = list(
        "measures",
        json!({"agg": null, "agg_params": null, "agg_time_dimension": null, "config": {"meta": {}}, "create_metric": false, "description": null, "expr": null, "label": null, "name": null, "non_additive_dimension": null}),
    );
    let calls: Vec<String> = entry
        .get("model")
        .and_then(Json::as_str)
        .map(|model| vec![model.to_string()])
        .unwrap_or_default();
    let fields = object(json!({
        "model": entry.get("model"),
        "defaults": entry.get("defaults"),
        "entities": entities,
        "dimensions": dimensions,
        "measures": measures,
        "primary_entity": entry.get("primary_entity"),
        "label": entry.get("label"),
        "metadata": null,
        "group": entry.get("group").or_else(|| entry.get("config").and_then(|c| c.get("group"))),
    }));
    (fields, calls, Vec::new(), Vec::new())
}

fn saved_query(entry: &Json) -> Parts {
    let params = entry.get("query_params").cloned().unwrap_or(json!({}));
    let metrics: Vec<String> = params
        .get("metrics")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .map(str::to_string)
        .collect();
    let query_params = filled(
        Some(&params),
        json!({"group_by": [], "limit": null, "metrics": [], "order_by": [], "where": null}),
    );
    let exports: Vec<Json> = entry
        .get("exports")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .map(|export| {
            let given = export.get("config").cloned().unwrap_or(json!({}));
            json!({
                "name": export.get("name"),
                "config": {
                    "alias": given.get("alias").or_else(|| export.get("name")),
                    "export_as": given.get("export_as"),
                    "schema_name": given.get("schema"),
                    "database": given.get("database"),
                },
                "unrendered_config": given,
            })
        })
        .collect();
    let fields = object(json!({
        "label": entry.get("label"),
        "query_params": query_params,
        "exports": exports,
        "metadata": null,
        "group": entry.get("group").or_else(|| entry.get("config").and_then(|c| c.get("group"))),
        "refs": [],
    }));
    (fields, Vec::new(), metrics, Vec::new())
}

/// Joins the metrics and semantic models of every package by name: each
/// metric's measures to the semantic model that has them, and every name
/// of a metric to the metric. A name nothing has is dbt's error.
pub fn link(nodes: &mut BTreeMap<String, Node>, root: &Path) -> Vec<Error> {
    let mut errors = Vec::new();
    let mut measure_owner: BTreeMap<String, String> = BTreeMap::new();
    let mut metric_ids: BTreeMap<String, String> = BTreeMap::new();
    for node in nodes.values() {
        let Some(resource) = &node.resource else {
            continue;
        };
        match node.kind {
            NodeKind::SemanticModel => {
                for measure in resource
                    .fields
                    .get("measures")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(name_of)
                {
                    measure_owner
                        .entry(measure)
                        .or_insert_with(|| node.unique_id.clone());
                }
            }
            NodeKind::Metric => {
                metric_ids
                    .entry(node.name.clone())
                    .or_insert_with(|| node.unique_id.clone());
            }
            _ => {}
        }
    }
    let input_measures = input_measures(nodes);
    for node in nodes.values_mut() {
        let kind = node.kind;
        let unique_id = node.unique_id.clone();
        let name = node.name.clone();
        let Some(resource) = node.resource.as_mut() else {
            continue;
        };
        let file = crate::files::display_join(root, &node.original_file_path);
        let mut depends_on = Vec::new();
        for measure in &resource.measures {
            match measure_owner.get(measure) {
                Some(owner) if !depends_on.contains(owner) => depends_on.push(owner.clone()),
                Some(_) => {}
                None => errors.push(Error::config(
                    resource.location.clone(),
                    format!(
                        "Parsing Error in metric {name} ({}): A semantic model having a measure `{measure}` does not exist but was referenced.",
                        file.display()
                    ),
                )),
            }
        }
        for metric in &resource.metrics {
            match metric_ids.get(metric) {
                Some(id) if !depends_on.contains(id) => depends_on.push(id.clone()),
                Some(_) => {}
                None if kind == NodeKind::Metric => errors.push(Error::config(
                    resource.location.clone(),
                    format!(
                        "Parsing Error in metric {name} ({}): The metric `{metric}` does not exist but was referenced.",
                        file.display()
                    ),
                )),
                None => errors.push(Error::config(
                    resource.location.clone(),
                    format!(
                        "{} '{unique_id}' ({}) depends on a metric named '{metric}' which was not found",
                        dbt_kind_word(kind),
                        file.display()
                    ),
                )),
            }
        }
        resource.depends_on = depends_on;
        if kind == NodeKind::Metric
            && let Some(params) = resource.fields.get_mut("type_params")
        {
            params["input_measures"] =
                Json::Array(input_measures.get(&unique_id).cloned().unwrap_or_default());
        }
        if kind == NodeKind::Exposure {
            resource.fields.insert(
                "metrics".into(),
                Json::Array(resource.metrics.iter().map(|m| json!([m])).collect()),
            );
        }
    }
    errors
}

/// How dbt names a kind in its "depends on ... which was not found" errors.
pub fn dbt_kind_word(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Exposure => "Exposure",
        NodeKind::SavedQuery => "Saved_Query",
        NodeKind::Metric => "Metric",
        NodeKind::SemanticModel => "Semantic_Model",
        _ => "Node",
    }
}

/// Each metric's `input_measures` as dbt gives them: a simple metric's
/// measure, and the measures of the metrics a ratio or derived metric
/// reads, in order, each once.
fn input_measures(nodes: &BTreeMap<String, Node>) -> BTreeMap<String, Vec<Json>> {
    let by_name: BTreeMap<&str, &Node> = nodes
        .values()
        .filter(|n| n.kind == NodeKind::Metric)
        .map(|n| (n.name.as_str(), n))
        .collect();
    fn collect(
        node: &Node,
        by_name: &BTreeMap<&str, &Node>,
        seen: &mut Vec<String>,
        out: &mut Vec<Json>,
    ) {
        if seen.contains(&node.name) {
            return;
        }
        seen.push(node.name.clone());
        let Some(resource) = &node.resource else {
            return;
        };
        for measure in &resource.measures {
            let input = measure_input(&json!(measure));
            if !out.iter().any(|m| name_of(m).as_deref() == Some(measure)) {
                out.push(input);
            }
        }
        for metric in &resource.metrics {
            if let Some(inner) = by_name.get(metric.as_str()) {
                collect(inner, by_name, seen, out);
            }
        }
    }
    by_name
        .values()
        .map(|node| {
            let mut out = Vec::new();
            collect(node, &by_name, &mut Vec::new(), &mut out);
            (node.unique_id.clone(), out)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exposure_splits_its_metric_calls_from_its_refs() {
        let (fields, calls, metrics, _) = exposure(&json!({
            "name": "dash",
            "type": "dashboard",
            "owner": {"email": "a@b.c"},
            "depends_on": ["ref('orders')", "metric('revenue')", "source('raw', 'events')"],
        }));
        assert_eq!(calls, vec!["ref('orders')", "source('raw', 'events')"]);
        assert_eq!(metrics, vec!["revenue"]);
        // dbt fills the owner's missing name with null.
        assert_eq!(fields["owner"], json!({"email": "a@b.c", "name": null}));
    }

    #[test]
    fn a_ratio_metric_reads_its_numerator_and_denominator() {
        let (fields, _, metrics, measures) = metric(&json!({
            "name": "per_order",
            "type": "ratio",
            "type_params": {"numerator": "revenue", "denominator": {"name": "orders", "filter": "x"}},
        }));
        assert_eq!(metrics, vec!["revenue", "orders"]);
        assert!(measures.is_empty());
        assert_eq!(fields["type_params"]["denominator"]["filter"], "x");
        assert_eq!(fields["type_params"]["numerator"]["alias"], Json::Null);
    }
}
