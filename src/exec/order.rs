//! The order a run must respect: which selected nodes each selected node
//! waits for. Edges run through unselected nodes (a selected grandparent
//! still comes first), and in `build` a node also waits for the tests of
//! the models it reads, as dbt's build does: a test gates every node
//! downstream of all the nodes it tests. A unit test waits for what its
//! model reads, and the model for its unit tests, as in dbt's build.

use std::collections::{BTreeMap, BTreeSet};

use crate::graph::Graph;
use crate::parse::Parsed;
use crate::project::node::NodeKind;

#[derive(Debug, Default)]
pub struct Order {
    /// For each selected node, the selected nodes that must finish first.
    pub deps: BTreeMap<String, BTreeSet<String>>,
    /// The reverse of `deps`.
    pub dependents: BTreeMap<String, BTreeSet<String>>,
}

impl Order {
    pub fn new(
        parsed: &Parsed,
        graph: &Graph,
        selected: &BTreeSet<String>,
        tests_gate: bool,
    ) -> Order {
        let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for id in selected {
            // A unit test reads what its model reads, and runs before it.
            let reads = match &parsed.nodes[id].node.unit {
                Some(unit) => &unit.model_id,
                None => id,
            };
            deps.insert(
                id.clone(),
                nearest_selected_ancestors(graph, selected, reads),
            );
        }
        let mut units_of: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
        for id in selected {
            if let Some(unit) = &parsed.nodes[id].node.unit {
                units_of.entry(&unit.model_id).or_default().push(id);
                if let Some(model) = deps.get_mut(&unit.model_id) {
                    model.insert(id.clone());
                }
            }
        }
        // In `build`, dbt runs a model's unit tests one after another and
        // skips the rest (and the model) once one fails: each waits for the
        // one before it (kiln's order: by name).
        if tests_gate {
            for units in units_of.values() {
                for pair in units.windows(2) {
                    if let Some(later) = deps.get_mut(pair[1]) {
                        later.insert(pair[0].clone());
                    }
                }
            }
        }
        if tests_gate {
            let mut descendants: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
            for test in selected
                .iter()
                .filter(|id| parsed.nodes[*id].node.kind == NodeKind::Test)
            {
                // What it tests: its refs and its sources (a source's
                // descendants are the nodes that read it, and theirs).
                let tested: Vec<&String> = graph.parents[test]
                    .iter()
                    .chain(graph.source_parents.get(test).into_iter().flatten())
                    .collect();
                let mut gated: Option<BTreeSet<String>> = None;
                for parent in tested {
                    let below = descendants.entry(parent.as_str()).or_insert_with(|| {
                        if parent.starts_with("source.") {
                            source_descendants(graph, parent)
                        } else {
                            graph.descendants(parent)
                        }
                    });
                    gated = Some(match gated {
                        None => below.clone(),
                        Some(so_far) => so_far.intersection(below).cloned().collect(),
                    });
                }
                for node in gated.unwrap_or_default() {
                    let kind = parsed.nodes[&node].node.kind;
                    if selected.contains(&node) && !kind.is_test() {
                        deps.entry(node).or_default().insert(test.clone());
                    }
                }
            }
        }
        let mut dependents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (id, ds) in &deps {
            for d in ds {
                dependents.entry(d.clone()).or_default().insert(id.clone());
            }
        }
        Order { deps, dependents }
    }

    /// Every node that waits, directly or not, on `id`.
    pub fn downstream(&self, id: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&str> = vec![id];
        while let Some(current) = stack.pop() {
            for next in self.dependents.get(current).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next);
                }
            }
        }
        seen
    }
}

/// The nodes that read `source` and everything downstream of them.
fn source_descendants(graph: &Graph, source: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (node, sources) in &graph.source_parents {
        if sources.contains(source) && found.insert(node.clone()) {
            found.extend(graph.descendants(node));
        }
    }
    found
}

/// The selected nodes reached first on each path up from `id`.
fn nearest_selected_ancestors(
    graph: &Graph,
    selected: &BTreeSet<String>,
    id: &str,
) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut stack: Vec<&str> = graph
        .parents
        .get(id)
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    while let Some(parent) = stack.pop() {
        if !seen.insert(parent) {
            continue;
        }
        if selected.contains(parent) {
            found.insert(parent.to_string());
        } else {
            stack.extend(
                graph
                    .parents
                    .get(parent)
                    .into_iter()
                    .flatten()
                    .map(String::as_str),
            );
        }
    }
    found
}
