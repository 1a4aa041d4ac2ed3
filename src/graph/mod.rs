//! The lineage DAG: nodes joined by their `ref()`s (sources are leaves outside
//! it), a topological order with a stable tie-break by name, and errors for
//! cycles and unknown refs that name the files involved.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};

pub mod manifest_nodes;
pub mod select;
pub mod selectors;
pub mod state;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::diagnostic::did_you_mean;
use crate::error::{CycleMember, Error, Location, Result};
use crate::jinja::context::RefCall;
use crate::parse::{Parsed, ParsedNode};
use crate::project::lookup::ByPackage;
use crate::project::node::NodeKind;

pub struct Graph {
    /// Edges run from a parent to the nodes that ref it.
    pub dag: DiGraph<String, ()>,
    pub index: BTreeMap<String, NodeIndex>,
    /// Every node, parents before children; ties broken by name.
    pub order: Vec<String>,
    pub parents: BTreeMap<String, BTreeSet<String>>,
    pub children: BTreeMap<String, BTreeSet<String>>,
    /// Sources each node reads, by unique id.
    pub source_parents: BTreeMap<String, BTreeSet<String>>,
    /// What templates see as dbt's `graph` (the manifest's nodes and
    /// sources); undefined when no template of the project mentions it.
    pub template_value: minijinja::Value,
}

impl Graph {
    pub fn build(parsed: &Parsed) -> Result<Graph> {
        let mut by_name: ByPackage<&ParsedNode> = ByPackage::default();
        for node in referable(parsed) {
            for name in node.node.ref_names() {
                by_name.insert(&node.node.package, &name, node);
            }
        }
        let mut dag = DiGraph::new();
        let mut index = BTreeMap::new();
        for id in parsed.nodes.keys() {
            index.insert(id.clone(), dag.add_node(id.clone()));
        }
        let mut parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut children: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut source_parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut errors = Vec::new();
        for node in parsed.nodes.values() {
            let id = &node.node.unique_id;
            parents.entry(id.clone()).or_default();
            children.entry(id.clone()).or_default();
            for call in &node.refs {
                match resolve_ref(parsed, &by_name, call, &node.node.package) {
                    Ok(parent) => {
                        if let Err(message) = access_allows(parsed, node, &parent) {
                            errors.push(Error::config(
                                call_location(parsed, node, &call.name),
                                message,
                            ));
                        }
                        link(&mut dag, &index, &mut parents, &mut children, &parent, id);
                    }
                    Err((message, help)) => errors.push(Error::UnknownReference {
                        location: call_location(parsed, node, &call.name),
                        message: match &node.node.resource {
                            // dbt's words for an exposure's or semantic model's ref.
                            Some(_) => format!(
                                "{} '{id}' ({}) depends on a node named '{}' which was not found",
                                crate::project::resources::dbt_kind_word(node.node.kind),
                                node.node.original_file_path.display(),
                                call.name
                            ),
                            None => message,
                        },
                        help,
                    }),
                }
            }
            // A metric's semantic models and metrics, a saved query's metrics.
            for parent in node.node.resource.iter().flat_map(|r| r.depends_on.iter()) {
                if index.contains_key(parent) {
                    link(&mut dag, &index, &mut parents, &mut children, parent, id);
                }
            }
            for (source, table) in &node.sources {
                let source_id = parsed
                    .project
                    .find_source(source, table, &node.node.package)
                    .map(|s| s.unique_id.clone())
                    .unwrap_or_default();
                if parsed.project.sources.contains_key(&source_id) {
                    source_parents
                        .entry(id.clone())
                        .or_default()
                        .insert(source_id);
                } else {
                    let known: Vec<String> = parsed
                        .project
                        .sources
                        .values()
                        .map(|s| format!("{}.{}", s.source_name, s.name))
                        .collect();
                    let wanted = format!("{source}.{table}");
                    errors.push(Error::UnknownReference {
                        location: call_location(parsed, node, table),
                        message: format!(
                            "source('{source}', '{table}') is not declared in any properties file"
                        ),
                        help: did_you_mean(&wanted, known.iter().map(String::as_str)),
                    });
                }
            }
        }
        errors.extend(shared_relations(parsed));
        if let Some(error) = Error::from_many(errors) {
            return Err(error);
        }
        let order = match topological_order(&dag, parsed) {
            Some(order) => order,
            None => return Err(cycle_error(&dag, parsed)),
        };
        let mut graph = Graph {
            dag,
            index,
            order,
            parents,
            children,
            source_parents,
            template_value: minijinja::Value::UNDEFINED,
        };
        graph.template_value = manifest_nodes::graph_value(parsed, &graph);
        Ok(graph)
    }

    /// Every node downstream of `id`.
    pub fn descendants(&self, id: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut queue: VecDeque<&str> = VecDeque::from([id]);
        while let Some(current) = queue.pop_front() {
            for child in self.children.get(current).into_iter().flatten() {
                if seen.insert(child.clone()) {
                    queue.push_back(child);
                }
            }
        }
        seen
    }
}

/// Joins `child` to `parent` once: in both maps and as an edge of the DAG.
fn link(
    dag: &mut DiGraph<String, ()>,
    index: &BTreeMap<String, NodeIndex>,
    parents: &mut BTreeMap<String, BTreeSet<String>>,
    children: &mut BTreeMap<String, BTreeSet<String>>,
    parent: &str,
    child: &str,
) {
    if parents
        .entry(child.to_string())
        .or_default()
        .insert(parent.to_string())
    {
        children
            .entry(parent.to_string())
            .or_default()
            .insert(child.to_string());
        dag.add_edge(index[parent], index[child], ());
    }
}

/// The nodes a `ref()` can name, in the order they are registered under
/// their names: seeds before models, so that a model wins a name it shares
/// with a seed.
pub fn referable(parsed: &Parsed) -> Vec<&ParsedNode> {
    let mut ordered: Vec<&ParsedNode> = parsed
        .nodes
        .values()
        .filter(|n| n.node.kind.builds_relation())
        .collect();
    ordered.sort_by_key(|n| n.node.kind == NodeKind::Model);
    ordered
}

fn resolve_ref(
    parsed: &Parsed,
    by_name: &ByPackage<&ParsedNode>,
    call: &RefCall,
    calling: &str,
) -> Result<String, (String, Option<String>)> {
    let project = &parsed.project.config.name;
    if let Some(package) = &call.package
        && package != project
        && !parsed.project.packages.iter().any(|p| &p.name == package)
    {
        return Err((
            format!(
                "ref('{package}', '{}') names package '{package}', which is not installed (this project is '{project}')",
                call.name
            ),
            Some("add it to packages.yml and run `kiln deps`".into()),
        ));
    }
    if let Some(node) = by_name.find(&call.name, call.package.as_deref(), calling, project) {
        return Ok(node.node.unique_id.clone());
    }
    if parsed
        .project
        .disabled
        .values()
        .any(|n| n.name == call.name)
    {
        return Err((
            format!(
                "ref('{}') points at a node that is disabled (enabled: false)",
                call.name
            ),
            Some("enable it, or remove the ref".into()),
        ));
    }
    Err((
        format!("ref('{}') does not match any model or seed", call.name),
        did_you_mean(&call.name, by_name.names()),
    ))
}

/// Whether `node` may ref `parent` under the parent's `access` (dbt 1.5):
/// a private model only from its own group, a protected one from another
/// package only when its package does not `restrict-access`. Tests may
/// read anything. The error is dbt's.
fn access_allows(parsed: &Parsed, node: &ParsedNode, parent: &str) -> Result<(), String> {
    if node.node.kind.is_test() {
        return Ok(());
    }
    let Some(target) = parsed.nodes.get(parent) else {
        return Ok(());
    };
    let config = &target.node.config;
    let denied = |access: &str, scope: &str, kind: &str| {
        Err(format!(
            "Node {} attempted to reference node {parent}, which is not allowed because the referenced node is {access} to the '{scope}' {kind}.",
            node.node.unique_id
        ))
    };
    match config.get_str("access").unwrap_or("protected") {
        "private" => {
            let group = config.get_str("group");
            if group.is_some() && node.node.config.get_str("group") == group {
                Ok(())
            } else {
                denied("private", group.unwrap_or_default(), "group")
            }
        }
        "protected" if target.node.package != node.node.package => {
            let restricted = parsed
                .project
                .packages
                .iter()
                .chain(std::iter::once(&parsed.project.config))
                .any(|p| p.name == target.node.package && p.restrict_access);
            if restricted {
                denied("protected", &target.node.package, "package")
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

/// Two nodes that would build the same relation (a package's model named as
/// one of the project's, both in one schema): an error naming both, as dbt
/// gives, rather than one silently replacing the other.
fn shared_relations(parsed: &Parsed) -> Vec<Error> {
    let mut built: BTreeMap<String, &ParsedNode> = BTreeMap::new();
    let mut errors = Vec::new();
    for node in parsed.nodes.values() {
        if !node.node.kind.builds_relation() || node.node.is_ephemeral() {
            continue;
        }
        let name = node.relation.render().to_lowercase();
        if let Some(first) = built.insert(name.clone(), node) {
            errors.push(
                Error::config(
                    Location::file(parsed.project.display_path(&node.node.original_file_path)),
                    format!(
                        "{} and {} would both be built as {}",
                        first.node.unique_id,
                        node.node.unique_id,
                        node.relation.render()
                    ),
                )
                .with_help("give one an `alias` or a `schema` of its own, or disable one"),
            );
        }
    }
    errors
}

/// The file and line where `name` is first quoted in the node's file.
fn call_location(parsed: &Parsed, node: &ParsedNode, name: &str) -> Location {
    if let Some(test) = &node.node.test {
        return test.location.clone();
    }
    if let Some(resource) = &node.node.resource {
        return resource.location.clone();
    }
    let file = parsed.project.display_path(&node.node.original_file_path);
    for (i, line) in node.node.raw_code.lines().enumerate() {
        for quote in ['\'', '"'] {
            if let Some(col) = line.find(&format!("{quote}{name}{quote}")) {
                let column = line[..col].chars().count() + 1;
                return Location::at(file, i + 1, Some(column)).spanning(name.chars().count() + 2);
            }
        }
    }
    Location::file(file)
}

/// Kahn's algorithm, taking the ready node with the smallest (name, id) first.
fn topological_order(dag: &DiGraph<String, ()>, parsed: &Parsed) -> Option<Vec<String>> {
    let key = |i: NodeIndex| {
        let id = &dag[i];
        (parsed.nodes[id].node.name.clone(), id.clone())
    };
    let mut indegree: BTreeMap<NodeIndex, usize> = dag
        .node_indices()
        .map(|i| {
            (
                i,
                dag.neighbors_directed(i, petgraph::Direction::Incoming)
                    .count(),
            )
        })
        .collect();
    let mut ready: BinaryHeap<Reverse<((String, String), NodeIndex)>> = indegree
        .iter()
        .filter(|(_, d)| **d == 0)
        .map(|(i, _)| Reverse((key(*i), *i)))
        .collect();
    let mut order = Vec::with_capacity(dag.node_count());
    while let Some(Reverse((_, i))) = ready.pop() {
        order.push(dag[i].clone());
        for child in dag.neighbors_directed(i, petgraph::Direction::Outgoing) {
            if let Some(d) = indegree.get_mut(&child) {
                *d -= 1;
                if *d == 0 {
                    ready.push(Reverse((key(child), child)));
                }
            }
        }
    }
    (order.len() == dag.node_count()).then_some(order)
}

/// An error naming every node of one cycle, in the order the refs run.
fn cycle_error(dag: &DiGraph<String, ()>, parsed: &Parsed) -> Error {
    let mut components: Vec<Vec<NodeIndex>> = tarjan_scc(dag)
        .into_iter()
        .filter(|c| c.len() > 1 || dag.contains_edge(c[0], c[0]))
        .collect();
    components.sort_by_key(|c| c.iter().map(|i| dag[*i].clone()).min());
    let Some(component) = components.into_iter().next() else {
        return Error::Cycle {
            members: Vec::new(),
        };
    };
    let members: BTreeSet<NodeIndex> = component.iter().copied().collect();
    let start = *members
        .iter()
        .min_by_key(|i| dag[**i].clone())
        .expect("a component is never empty");
    // Walk parent -> child inside the component until back at the start.
    let mut path = vec![start];
    let mut previous: BTreeMap<NodeIndex, NodeIndex> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    let mut closing = None;
    while let Some(current) = queue.pop_front() {
        let mut next: Vec<NodeIndex> = dag
            .neighbors_directed(current, petgraph::Direction::Outgoing)
            .filter(|n| members.contains(n))
            .collect();
        next.sort_by_key(|n| dag[*n].clone());
        for n in next {
            if n == start {
                closing = Some(current);
                break;
            }
            if let std::collections::btree_map::Entry::Vacant(e) = previous.entry(n) {
                e.insert(current);
                queue.push_back(n);
            }
        }
        if closing.is_some() {
            break;
        }
    }
    if let Some(mut current) = closing {
        let mut back = Vec::new();
        while current != start {
            back.push(current);
            current = previous[&current];
        }
        back.reverse();
        path.extend(back);
    }
    // Each member refs the one before it (the last is the parent of the first).
    let ids: Vec<String> = path.into_iter().map(|i| dag[i].clone()).collect();
    let members = ids
        .iter()
        .enumerate()
        .map(|(k, id)| {
            let parent = &ids[(k + ids.len() - 1) % ids.len()];
            let location = match (parsed.nodes.get(id), parsed.nodes.get(parent)) {
                (Some(node), Some(parent)) => call_location(parsed, node, &parent.node.name),
                (Some(node), None) => {
                    Location::file(parsed.project.display_path(&node.node.original_file_path))
                }
                _ => Location::default(),
            };
            CycleMember {
                unique_id: id.clone(),
                location,
            }
        })
        .collect();
    Error::Cycle { members }
}
