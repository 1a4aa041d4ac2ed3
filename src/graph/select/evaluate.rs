//! Evaluating parsed criteria against the graph: what each picks, `+` and `@`
//! walks, the match of each method, and which tests come along (`--indirect-selection`).

use std::collections::{BTreeSet, VecDeque};

use super::parse::Criterion;
use super::{Graph, Indirect, State};
use crate::diagnostic::{Code, Diagnostic};
use crate::parse::{Parsed, ParsedNode};
use crate::project::node::NodeKind;

/// What an intersection picks directly, and the tests that may come with it,
/// as dbt combines them: each criterion first takes the tests of what it
/// picks (all of them when `eager`; see [`expand`]), then the criteria's
/// direct picks are intersected, and so are their direct and possible picks.
/// So `customers,test_type:data` picks the tests of customers.
pub(super) fn evaluate(
    parsed: &Parsed,
    graph: &Graph,
    intersection: &[(String, Criterion)],
    state: Option<&State>,
    mode: Indirect,
    warnings: &mut Vec<Diagnostic>,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut direct: Option<BTreeSet<String>> = None;
    let mut reach: Option<BTreeSet<String>> = None;
    for (text, criterion) in intersection {
        let found = matches(parsed, graph, criterion, state);
        let candidates = tests_of(parsed, graph, &found);
        if found.is_empty() && candidates.is_empty() {
            warnings.push(Diagnostic::warning(
                Code::Selector,
                format!("the selection criterion '{text}' does not match any enabled node"),
            ));
        }
        let (picked, possible) = expand(graph, found, candidates, mode);
        let with_possible: BTreeSet<String> = picked.union(&possible).cloned().collect();
        direct = Some(match direct {
            None => picked,
            Some(so_far) => so_far.intersection(&picked).cloned().collect(),
        });
        reach = Some(match reach {
            None => with_possible,
            Some(so_far) => so_far.intersection(&with_possible).cloned().collect(),
        });
    }
    let direct = direct.unwrap_or_default();
    let indirect = reach
        .unwrap_or_default()
        .difference(&direct)
        .cloned()
        .collect();
    (direct, indirect)
}

/// One criterion's picks `found` with the `candidates` (the tests of what it
/// picks) added as dbt adds them: with `eager` every test; `cautious`, the
/// tests all of whose nodes are picked; `buildable`, those whose nodes are
/// picked or upstream of what is; `empty`, none. Gives the picks and the
/// tests left possible, which a wider selection may still take.
fn expand(
    graph: &Graph,
    mut found: BTreeSet<String>,
    candidates: BTreeSet<String>,
    mode: Indirect,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut possible = BTreeSet::new();
    let upstream = upstream_of(graph, &found, mode);
    let mut taken = Vec::new();
    for test in candidates {
        let take = match mode {
            Indirect::Eager => true,
            Indirect::Cautious => tested_by(graph, &test).all(|p| found.contains(p)),
            Indirect::Buildable => {
                tested_by(graph, &test).all(|p| found.contains(p) || upstream.contains(p))
            }
            Indirect::Empty => continue,
        };
        if take {
            taken.push(test);
        } else {
            possible.insert(test);
        }
    }
    found.extend(taken);
    (found, possible)
}

/// Everything upstream of `ids` (only needed, so only computed, for `buildable`).
fn upstream_of(graph: &Graph, ids: &BTreeSet<String>, mode: Indirect) -> BTreeSet<String> {
    if mode != Indirect::Buildable {
        return BTreeSet::new();
    }
    ids.iter()
        .flat_map(|id| walk(id, usize::MAX, &|id| parents_of(graph, id)))
        .collect()
}

/// The tests of any of `ids` (through refs or sources).
fn tests_of(parsed: &Parsed, graph: &Graph, ids: &BTreeSet<String>) -> BTreeSet<String> {
    parsed
        .nodes
        .values()
        .filter(|n| n.node.kind.is_test())
        .filter(|n| tested_by(graph, &n.node.unique_id).any(|p| ids.contains(p)))
        .map(|n| n.node.unique_id.clone())
        .collect()
}

/// The nodes and sources a test reads.
fn tested_by<'a>(graph: &'a Graph, test: &str) -> impl Iterator<Item = &'a String> {
    graph
        .parents
        .get(test)
        .into_iter()
        .flatten()
        .chain(graph.source_parents.get(test).into_iter().flatten())
}

/// `direct` and those of the `candidates` (tests left possible by each
/// criterion) that a union or an intersection completes: with `cautious`,
/// the tests all of whose nodes are now picked; `buildable`, those whose
/// nodes are picked or upstream of what is. (`eager` took every test
/// already, and `empty` takes none.)
pub(super) fn with_tests(
    parsed: &Parsed,
    graph: &Graph,
    mut direct: BTreeSet<String>,
    candidates: BTreeSet<String>,
    mode: Indirect,
) -> BTreeSet<String> {
    let upstream = upstream_of(graph, &direct, mode);
    let keep: Vec<String> = candidates
        .into_iter()
        .filter(|id| parsed.nodes.get(id).is_some_and(|n| n.node.kind.is_test()))
        .filter(|id| match mode {
            Indirect::Eager | Indirect::Empty => false,
            Indirect::Cautious => tested_by(graph, id).all(|p| direct.contains(p)),
            Indirect::Buildable => {
                tested_by(graph, id).all(|p| direct.contains(p) || upstream.contains(p))
            }
        })
        .collect();
    direct.extend(keep);
    direct
}

/// The nodes one criterion picks, before tests are added. A `source:`
/// criterion picks sources, which are not nodes: their children are what
/// `+` reaches, and their tests what indirect selection adds.
fn matches(
    parsed: &Parsed,
    graph: &Graph,
    criterion: &Criterion,
    state: Option<&State>,
) -> BTreeSet<String> {
    let base: BTreeSet<String> = match criterion.method.as_deref() {
        Some("source") => parsed
            .project
            .sources
            .values()
            .filter(|s| {
                let full = format!("{}.{}.{}", s.package, s.source_name, s.name);
                fqn_match(
                    &criterion.value,
                    &full.split('.').map(str::to_string).collect::<Vec<_>>(),
                ) || criterion.value == s.source_name
                    || criterion.value == format!("{}.{}", s.source_name, s.name)
            })
            .map(|s| s.unique_id.clone())
            .collect(),
        _ => parsed
            .nodes
            .values()
            .filter(|n| match (criterion.method.as_deref(), state) {
                (Some("state"), Some(state)) => state.matches(parsed, n, &criterion.value),
                (Some("result"), Some(state)) => state
                    .results
                    .get(&n.node.unique_id)
                    .is_some_and(|status| glob(&criterion.value, status)),
                _ => node_matches(n, criterion),
            })
            .map(|n| n.node.unique_id.clone())
            .collect(),
    };
    // Sources are picked too (`dbt ls` lists them); the callers keep them
    // apart from the nodes.
    let mut found: BTreeSet<String> = base.clone();
    // Sources reach their readers through `source_parents`.
    let children_of = |id: &str| -> Vec<String> {
        let mut children: Vec<String> = graph
            .children
            .get(id)
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        if id.starts_with("source.") {
            children.extend(
                graph
                    .source_parents
                    .iter()
                    .filter(|(_, sources)| sources.contains(id))
                    .map(|(node, _)| node.clone()),
            );
        }
        children
    };
    if criterion.at {
        let mut below = BTreeSet::new();
        for id in &base {
            below.extend(walk(id, usize::MAX, &children_of));
        }
        below.extend(found.iter().cloned());
        let mut all = below.clone();
        for id in &below {
            all.extend(walk(id, usize::MAX, &|id| parents_and_sources(graph, id)));
        }
        return all;
    }
    if let Some(depth) = criterion.parents {
        for id in &base {
            found.extend(walk(id, depth.unwrap_or(usize::MAX), &|id| {
                parents_and_sources(graph, id)
            }));
        }
    }
    if let Some(depth) = criterion.children {
        for id in &base {
            found.extend(walk(id, depth.unwrap_or(usize::MAX), &children_of));
        }
    }
    found.retain(|id| parsed.nodes.contains_key(id) || parsed.project.sources.contains_key(id));
    found
}

/// The nodes `id` refs and the sources it reads.
fn parents_and_sources(graph: &Graph, id: &str) -> Vec<String> {
    let mut parents = parents_of(graph, id);
    parents.extend(graph.source_parents.get(id).into_iter().flatten().cloned());
    parents
}

/// The nodes `id` refs.
fn parents_of(graph: &Graph, id: &str) -> Vec<String> {
    graph
        .parents
        .get(id)
        .into_iter()
        .flatten()
        .cloned()
        .collect()
}

/// Every node `next` reaches from `start`, up to `depth` steps.
fn walk(start: &str, depth: usize, next: &dyn Fn(&str) -> Vec<String>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<(String, usize)> = VecDeque::from([(start.to_string(), 0)]);
    while let Some((id, d)) = queue.pop_front() {
        if d >= depth {
            continue;
        }
        for n in next(&id) {
            if seen.insert(n.clone()) {
                queue.push_back((n, d + 1));
            }
        }
    }
    seen
}

fn node_matches(parsed: &ParsedNode, criterion: &Criterion) -> bool {
    let node = &parsed.node;
    let value = criterion.value.as_str();
    match criterion.method.as_deref() {
        None => {
            // dbt's default: a path when it looks like one, else an fqn.
            if value.contains('/') || value.ends_with(".sql") || value.ends_with(".csv") {
                path_matches(node, value)
            } else {
                fqn_match(value, &node.fqn)
            }
        }
        Some("tag") => node.config.tags().iter().any(|t| glob(value, t)),
        Some("path") => path_matches(node, value),
        Some("file") => node
            .original_file_path
            .file_name()
            .map(|f| f.to_string_lossy())
            .is_some_and(|f| {
                glob(value, &f)
                    || node
                        .original_file_path
                        .file_stem()
                        .is_some_and(|stem| glob(value, &stem.to_string_lossy()))
            }),
        Some("fqn") => fqn_match(value, &node.fqn),
        Some("resource_type") => node.kind.resource_type() == value,
        Some("package") => glob(value, &node.package),
        Some("test_type") => match node.kind {
            NodeKind::Test => match value {
                "generic" | "schema" => node.test.is_some(),
                "singular" => node.test.is_none(),
                // dbt 1.10: every data test, generic or singular.
                "data" => true,
                _ => false,
            },
            NodeKind::UnitTest => value == "unit",
            _ => false,
        },
        Some("group") => node.config.get_str("group").is_some_and(|g| glob(value, g)),
        // `version:latest`, `version:prerelease`, `version:old`.
        Some("version") => node.version.as_ref().is_some_and(|v| v.kind() == value),
        Some("access") => {
            node.kind == NodeKind::Model
                && node.config.get_str("access").unwrap_or("protected") == value
        }
        // `unit_test:name`, or its fqn (`unit_test:shop.orders.test_x`).
        Some("unit_test") => {
            node.kind == NodeKind::UnitTest
                && (glob(value, &node.name) || fqn_match(value, &node.fqn))
        }
        // `exposure:name`, `metric:name`, ...: by name or `package.name`.
        Some(method @ ("exposure" | "metric" | "semantic_model" | "saved_query")) => {
            node.kind.resource_type() == method
                && (glob(value, &node.name)
                    || glob(value, &format!("{}.{}", node.package, node.name)))
        }
        Some("test_name") => node.test.as_ref().is_some_and(|t| glob(value, &t.name)),
        Some(method) if method.starts_with("config.") => {
            let key = crate::config::node_config::normalize_key(&method["config.".len()..]);
            if key == "materialized" {
                let effective = match node.kind {
                    NodeKind::Model => node.config.materialized(),
                    other => other.resource_type(),
                };
                return glob(value, effective);
            }
            // `true`, `5`: compared as the values they are.
            let literal = serde_json::from_str::<serde_json::Value>(value).ok();
            let same = |v: &serde_json::Value| match v {
                serde_json::Value::String(s) => glob(value, s),
                other => literal.as_ref() == Some(other),
            };
            match node.config.get(&key) {
                Some(serde_json::Value::Array(items)) => items.iter().any(same),
                Some(other) => same(other),
                None => false,
            }
        }
        _ => false,
    }
}

fn path_matches(node: &crate::project::node::Node, value: &str) -> bool {
    let value = value.trim_end_matches('/');
    node.original_file_path.starts_with(value)
        || glob(value, &node.original_file_path.to_string_lossy())
}

/// dbt's fqn match: the node's name, or the selector's dotted parts as a
/// prefix of the fqn (with or without the project), wildcards matching the
/// rest as a glob.
fn fqn_match(selector: &str, fqn: &[String]) -> bool {
    if fqn.last().is_some_and(|name| name == selector) {
        return true;
    }
    let scoped = fqn_prefix_match(selector, fqn);
    scoped || (fqn.len() > 1 && fqn_prefix_match(selector, &fqn[1..]))
}

fn fqn_prefix_match(selector: &str, fqn: &[String]) -> bool {
    let flat: Vec<&str> = fqn.iter().flat_map(|s| s.split('.')).collect();
    let parts: Vec<&str> = selector.split('.').collect();
    if flat.len() < parts.len() {
        return false;
    }
    for (i, part) in parts.iter().enumerate() {
        if part.contains(['*', '?', '[', ']']) {
            return glob(&parts[i..].join("."), &flat[i..].join("."));
        }
        if flat[i] != *part {
            return false;
        }
    }
    true
}

/// Shell-style matching (`*`, `?`, `[...]`), as Python's fnmatch.
fn glob(pattern: &str, text: &str) -> bool {
    if !pattern.contains(['*', '?', '[']) {
        return pattern == text;
    }
    globset::Glob::new(pattern)
        .map(|g| g.compile_matcher().is_match(text))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fqn_matching_is_dbts() {
        let fqn: Vec<String> = ["shop", "staging", "stg_orders"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(fqn_match("stg_orders", &fqn));
        assert!(fqn_match("staging", &fqn));
        assert!(fqn_match("shop.staging.*", &fqn));
        assert!(fqn_match("shop.*", &fqn));
        // A wildcard matches from where it stands in the fqn: dbt selects
        // nothing with `stg_*`.
        assert!(!fqn_match("stg_*", &fqn));
        assert!(!fqn_match("marts", &fqn));
    }
}
