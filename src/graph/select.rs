//! Node selection (`--select`, `--exclude`): names, `+` for ancestors and
//! descendants, and the `tag:`, `path:`, `resource_type:` methods.

use std::collections::{BTreeSet, VecDeque};

use super::Graph;
use crate::parse::Parsed;

/// The unique ids that `select` (all nodes when empty) minus `exclude` picks.
pub fn select(
    parsed: &Parsed,
    graph: &Graph,
    select: &[String],
    exclude: &[String],
) -> BTreeSet<String> {
    let mut chosen: BTreeSet<String> = if select.is_empty() {
        parsed.nodes.keys().cloned().collect()
    } else {
        tokens(select)
            .flat_map(|t| matches(parsed, graph, t))
            .collect()
    };
    for token in tokens(exclude) {
        for id in matches(parsed, graph, token) {
            chosen.remove(&id);
        }
    }
    chosen
}

fn tokens(args: &[String]) -> impl Iterator<Item = &str> {
    args.iter().flat_map(|a| a.split_whitespace())
}

fn matches(parsed: &Parsed, graph: &Graph, token: &str) -> BTreeSet<String> {
    let (ancestors, rest) = match token.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, token),
    };
    let (descendants, pattern) = match rest.strip_suffix('+') {
        Some(p) => (true, p),
        None => (false, rest),
    };
    let base: BTreeSet<String> = parsed
        .nodes
        .values()
        .filter(|n| {
            let node = &n.node;
            if let Some(tag) = pattern.strip_prefix("tag:") {
                node.config.tags().iter().any(|t| t == tag)
            } else if let Some(path) = pattern.strip_prefix("path:") {
                node.original_file_path
                    .starts_with(path.trim_end_matches('/'))
            } else if let Some(kind) = pattern.strip_prefix("resource_type:") {
                node.kind.resource_type() == kind
            } else {
                node.name == pattern || node.fqn.join(".") == pattern
            }
        })
        .map(|n| n.node.unique_id.clone())
        .collect();
    let mut found = base.clone();
    if ancestors {
        let mut queue: VecDeque<String> = found.iter().cloned().collect();
        while let Some(id) = queue.pop_front() {
            for parent in graph.parents.get(&id).into_iter().flatten() {
                if found.insert(parent.clone()) {
                    queue.push_back(parent.clone());
                }
            }
        }
    }
    if descendants {
        for id in &base {
            found.extend(graph.descendants(id));
        }
    }
    found
}
