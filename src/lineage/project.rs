//! Column lineage of a whole project: each node's columns, found in graph
//! order (seeds from their CSV header, sources from their properties file or
//! the database's catalog, models by tracing their compiled SQL over what is
//! known upstream, else their properties file), and for each model column the
//! upstream node columns it is computed from.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

use serde::Serialize;

use super::columns::{Catalog, EdgeKind, ParseFailure, UnknownColumn, trace};
use crate::graph::Graph;
use crate::parse::Parsed;
use crate::project::node::NodeKind;

/// One upstream column of a model's column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnEdge {
    pub node: String,
    pub column: String,
    pub kind: EdgeKind,
}

#[derive(Debug, Default)]
pub struct ProjectLineage {
    /// The known columns of each node and source, in order, by unique id.
    pub columns: BTreeMap<String, Vec<String>>,
    /// For each model: its columns with their upstream columns, in order.
    pub edges: BTreeMap<String, Vec<(String, Vec<ColumnEdge>)>>,
    /// Models whose SQL kiln's parser cannot read.
    pub failures: BTreeMap<String, ParseFailure>,
    /// References to columns an upstream relation does not have, by model.
    pub unknown: BTreeMap<String, Vec<UnknownColumn>>,
}

/// The columns the database reports for a relation (`[database, schema,
/// name]`), when a connection is at hand.
pub type DatabaseColumns<'a> = &'a dyn Fn(&[String]) -> Option<Vec<String>>;

/// The columns snapshots add to what they select.
const SNAPSHOT_COLUMNS: &[&str] = &[
    "dbt_scd_id",
    "dbt_updated_at",
    "dbt_valid_from",
    "dbt_valid_to",
];

/// What is known of each relation's columns, found by the relation's last
/// name part (a project of ten thousand models is looked up often).
#[derive(Debug, Default)]
struct KnownColumns {
    /// Last name part (lowercase) → each relation's full name and columns.
    by_name: HashMap<String, Vec<Known>>,
}

#[derive(Debug)]
struct Known {
    parts: Vec<String>,
    columns: Vec<String>,
    /// Every column (a seed's header, a full trace, the database's catalog),
    /// not some (a properties file).
    complete: bool,
}

impl KnownColumns {
    fn insert(&mut self, parts: Vec<String>, columns: Vec<String>, complete: bool) {
        let Some(last) = parts.last() else { return };
        let entries = self.by_name.entry(last.to_lowercase()).or_default();
        match entries.iter_mut().find(|k| same_parts(&k.parts, &parts)) {
            Some(entry) => {
                entry.columns = columns;
                entry.complete = complete;
            }
            None => entries.push(Known {
                parts,
                columns,
                complete,
            }),
        }
    }

    fn find(&self, relation: &[String]) -> Option<&Known> {
        let entries = self.by_name.get(&relation.last()?.to_lowercase())?;
        let mut found = entries.iter().filter(|k| ends_with(&k.parts, relation));
        match (found.next(), found.next()) {
            (Some(known), None) => Some(known),
            _ => None,
        }
    }
}

impl Catalog for KnownColumns {
    fn columns(&self, relation: &[String]) -> Option<Vec<String>> {
        self.find(relation).map(|k| k.columns.clone())
    }

    fn is_complete(&self, relation: &[String]) -> bool {
        self.find(relation).is_some_and(|k| k.complete)
    }
}

fn same_parts(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
}

fn ends_with(full: &[String], parts: &[String]) -> bool {
    full.len() >= parts.len() && same_parts(&full[full.len() - parts.len()..], parts)
}

/// One node's part of the lineage, found in parallel with the others of its
/// level of the graph.
struct NodeLineage {
    /// The node's columns, and whether they are all of them.
    known: Option<(Vec<String>, bool)>,
    edges: Option<Vec<(String, Vec<ColumnEdge>)>>,
    failure: Option<ParseFailure>,
    unknown: Vec<UnknownColumn>,
}

/// Traces every node with compiled SQL in `compiled`: level by level of the
/// graph (each node after every node it reads), the nodes of a level in
/// parallel.
pub fn analyze(
    parsed: &Parsed,
    graph: &Graph,
    compiled: &BTreeMap<String, String>,
    database: Option<DatabaseColumns<'_>>,
) -> ProjectLineage {
    let mut lineage = ProjectLineage::default();
    let mut catalog = KnownColumns::default();
    let from_database = |parts: &[String]| -> Option<Vec<String>> { database?(parts) };
    let mut relations = Relations::default();
    for source in parsed.project.sources.values() {
        let parts = vec![
            source.database.clone(),
            source.schema.clone(),
            source.identifier.clone(),
        ];
        relations.insert(parts.clone(), source.unique_id.clone());
        let declared: Vec<String> = source.columns.iter().map(|c| c.name.clone()).collect();
        let known = match from_database(&parts) {
            Some(columns) => Some((columns, true)),
            None => (!declared.is_empty()).then_some((declared, false)),
        };
        if let Some((known, complete)) = known {
            catalog.insert(parts, known.clone(), complete);
            lineage.columns.insert(source.unique_id.clone(), known);
        }
    }
    let mut depth: HashMap<&str, usize> = HashMap::new();
    let mut levels: Vec<Vec<&str>> = Vec::new();
    for id in &graph.order {
        let node = &parsed.nodes[id];
        if node.node.kind.is_test() {
            continue;
        }
        relations.insert(relation_parts(&node.relation), id.clone());
        let level = graph
            .parents
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|p| depth.get(p.as_str()))
            .map(|d| d + 1)
            .max()
            .unwrap_or(0);
        depth.insert(id, level);
        if levels.len() <= level {
            levels.resize_with(level + 1, Vec::new);
        }
        levels[level].push(id);
    }
    let dialect = parsed.target.adapter.dialect();
    for level in levels {
        let found: Vec<(&str, NodeLineage)> = level
            .par_iter()
            .map(|id| {
                (
                    *id,
                    node_lineage(parsed, id, compiled, dialect, &catalog, &relations),
                )
            })
            .collect();
        for (id, found) in found {
            let node = &parsed.nodes[id];
            if let Some(edges) = found.edges {
                lineage.edges.insert(id.to_string(), edges);
            }
            if let Some(failure) = found.failure {
                lineage.failures.insert(id.to_string(), failure);
            }
            if !found.unknown.is_empty() {
                lineage.unknown.insert(id.to_string(), found.unknown);
            }
            let parts = relation_parts(&node.relation);
            let declared: Vec<String> = node.node.columns.iter().map(|c| c.name.clone()).collect();
            let known = found
                .known
                .or_else(|| from_database(&parts).map(|c| (c, true)))
                .or_else(|| (!declared.is_empty()).then_some((declared, false)));
            if let Some((known, complete)) = known {
                catalog.insert(parts, known.clone(), complete);
                lineage.columns.insert(id.to_string(), known);
            }
        }
    }
    lineage
}

fn node_lineage(
    parsed: &Parsed,
    id: &str,
    compiled: &BTreeMap<String, String>,
    dialect: &(dyn sqlparser::dialect::Dialect + Sync),
    catalog: &KnownColumns,
    relations: &Relations,
) -> NodeLineage {
    let node = &parsed.nodes[id];
    let mut found = NodeLineage {
        known: None,
        edges: None,
        failure: None,
        unknown: Vec::new(),
    };
    if node.node.kind == NodeKind::Seed {
        // The seed's columns as its table will have them: read with the
        // seed's own delimiter and named as the loader names them.
        found.known = crate::materialize::seed_csv::read_column_names(
            &parsed.project.root.join(&node.node.original_file_path),
            crate::materialize::seed_csv::delimiter(&node.node.config),
        )
        .map(|header| (header, true));
        return found;
    }
    let Some(sql) = compiled.get(id) else {
        return found;
    };
    match trace(sql, dialect, catalog) {
        Ok(traced) => {
            found.unknown = traced.unknown.clone();
            let columns: Vec<(String, Vec<ColumnEdge>)> = traced
                .columns
                .iter()
                .map(|c| {
                    let edges = c
                        .sources
                        .iter()
                        .filter_map(|s| {
                            Some(ColumnEdge {
                                node: relations.find(&s.relation)?,
                                column: s.column.clone(),
                                kind: s.kind,
                            })
                        })
                        .collect();
                    (c.name.clone(), edges)
                })
                .collect();
            if !columns.is_empty() {
                let mut names: Vec<String> = columns.iter().map(|(n, _)| n.clone()).collect();
                if node.node.kind == NodeKind::Snapshot {
                    names.extend(SNAPSHOT_COLUMNS.iter().map(|c| c.to_string()));
                }
                found.known = Some((names, traced.complete));
                found.edges = Some(columns);
            }
        }
        Err(failure) => found.failure = Some(failure),
    }
    found
}

/// Every node's and source's relation, to find which one a name in SQL is.
#[derive(Debug, Default)]
struct Relations {
    by_name: HashMap<String, Vec<(Vec<String>, String)>>,
}

impl Relations {
    fn insert(&mut self, parts: Vec<String>, id: String) {
        if let Some(last) = parts.last() {
            self.by_name
                .entry(last.to_lowercase())
                .or_default()
                .push((parts, id));
        }
    }

    /// The node whose relation `parts` (one to three, as the SQL names it)
    /// name: the only one whose trailing parts they equal.
    fn find(&self, parts: &[String]) -> Option<String> {
        let entries = self.by_name.get(&parts.last()?.to_lowercase())?;
        let mut found = entries.iter().filter(|(full, _)| ends_with(full, parts));
        match (found.next(), found.next()) {
            (Some((_, id)), None) => Some(id.clone()),
            _ => None,
        }
    }
}

fn relation_parts(relation: &crate::sql::Relation) -> Vec<String> {
    [&relation.database, &relation.schema, &relation.identifier]
        .into_iter()
        .flatten()
        .cloned()
        .collect()
}

/// One column and the tree of columns it is computed from, down to seeds
/// and sources.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnTree {
    pub node: String,
    pub column: String,
    /// How this column is made from its parent in the tree (none at the root).
    pub kind: Option<EdgeKind>,
    pub upstream: Vec<ColumnTree>,
}

/// The upstream tree of `node`'s `column`.
pub fn upstream_tree(lineage: &ProjectLineage, node: &str, column: &str) -> ColumnTree {
    fn build(
        lineage: &ProjectLineage,
        node: &str,
        column: &str,
        kind: Option<EdgeKind>,
        depth: usize,
    ) -> ColumnTree {
        let upstream = if depth > 64 {
            Vec::new()
        } else {
            lineage
                .edges
                .get(node)
                .and_then(|cols| cols.iter().find(|(c, _)| c.eq_ignore_ascii_case(column)))
                .map(|(_, edges)| {
                    edges
                        .iter()
                        .map(|e| build(lineage, &e.node, &e.column, Some(e.kind), depth + 1))
                        .collect()
                })
                .unwrap_or_default()
        };
        ColumnTree {
            node: node.to_string(),
            column: column.to_string(),
            kind,
            upstream,
        }
    }
    build(lineage, node, column, None, 0)
}
