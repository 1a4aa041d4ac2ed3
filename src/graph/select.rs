//! Node selection (`--select`, `--exclude`): names, `+` for ancestors and
//! descendants, and the `tag:`, `path:`, `resource_type:` methods. Unknown
//! methods are errors with a suggestion.

use std::collections::{BTreeSet, VecDeque};

use super::Graph;
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::error::{Error, Result};
use crate::parse::Parsed;
use crate::project::node::NodeKind;

/// Selector methods kiln implements.
const METHODS: &[&str] = &["tag", "path", "resource_type"];

/// Selector methods dbt has that kiln does not implement yet.
const DBT_METHODS: &[&str] = &[
    "config",
    "exposure",
    "file",
    "fqn",
    "group",
    "metric",
    "package",
    "result",
    "saved_query",
    "semantic_model",
    "source",
    "source_status",
    "state",
    "test_name",
    "test_type",
    "unit_test",
    "version",
    "access",
];

/// What a selection picked, and a warning for each criterion that matched nothing.
#[derive(Debug, Default)]
pub struct Selection {
    pub ids: BTreeSet<String>,
    pub warnings: Vec<Diagnostic>,
}

/// The unique ids that `select` (all nodes when empty) minus `exclude` picks.
/// A malformed criterion or an unknown method is an error; one that matches
/// nothing is a warning, as in dbt.
pub fn select(
    parsed: &Parsed,
    graph: &Graph,
    select: &[String],
    exclude: &[String],
) -> Result<Selection> {
    let mut errors = Vec::new();
    for token in tokens(select).chain(tokens(exclude)) {
        if let Err(e) = check(token) {
            errors.push(e);
        }
    }
    if let Some(error) = Error::from_many(errors) {
        return Err(error);
    }
    let mut warnings = Vec::new();
    let chosen: BTreeSet<String> = if select.is_empty() {
        parsed.nodes.keys().cloned().collect()
    } else {
        let mut chosen = BTreeSet::new();
        for token in tokens(select) {
            let found = matches(parsed, graph, token);
            if found.is_empty() {
                warnings.push(Diagnostic::warning(
                    Code::Selector,
                    format!("the selection criterion '{token}' does not match any enabled node"),
                ));
            }
            chosen.extend(found);
        }
        chosen
    };
    let chosen = with_tests(parsed, graph, chosen);
    let mut excluded = BTreeSet::new();
    for token in tokens(exclude) {
        excluded.extend(matches(parsed, graph, token));
    }
    let excluded = with_tests(parsed, graph, excluded);
    let chosen = chosen.difference(&excluded).cloned().collect();
    Ok(Selection {
        ids: chosen,
        warnings,
    })
}

/// Rejects a criterion kiln cannot read: an unknown method, or nothing to select.
fn check(token: &str) -> Result<()> {
    let error = |message: String, help: Option<String>| Error::Selector {
        selector: token.to_string(),
        message,
        help,
    };
    let pattern = token
        .strip_prefix('@')
        .unwrap_or(token)
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .trim_start_matches('+')
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .trim_end_matches('+');
    if pattern.is_empty() {
        return Err(error("nothing to select".into(), None));
    }
    if pattern.contains(',') {
        return Err(error(
            "intersections (a,b) are not supported yet".into(),
            Some("select each criterion on its own".into()),
        ));
    }
    let Some((method, value)) = pattern.split_once(':') else {
        return Ok(());
    };
    let method = method.split('.').next().unwrap_or(method);
    if METHODS.contains(&method) {
        if value.is_empty() {
            return Err(error(format!("`{method}:` needs a value"), None));
        }
        return Ok(());
    }
    if DBT_METHODS.contains(&method) {
        return Err(error(
            format!("the `{method}:` method is not supported yet"),
            Some("kiln selects by name, +, tag:, path: and resource_type:".to_string()),
        ));
    }
    let known = METHODS.iter().chain(DBT_METHODS).copied();
    Err(error(
        format!("'{method}' is not a selector method"),
        did_you_mean(method, known),
    ))
}

/// `ids` and every test of them: dbt's eager indirect selection, where a
/// test comes with any node it tests.
fn with_tests(parsed: &Parsed, graph: &Graph, mut ids: BTreeSet<String>) -> BTreeSet<String> {
    let tests: Vec<String> = parsed
        .nodes
        .values()
        .filter(|n| n.node.kind == NodeKind::Test && !ids.contains(&n.node.unique_id))
        .filter(|n| {
            let id = &n.node.unique_id;
            graph.parents[id]
                .iter()
                .chain(graph.source_parents.get(id).into_iter().flatten())
                .any(|p| ids.contains(p))
        })
        .map(|n| n.node.unique_id.clone())
        .collect();
    ids.extend(tests);
    ids
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_are_errors_with_a_suggestion() {
        let err = check("tagg:nightly").unwrap_err();
        let diagnostics: Vec<Diagnostic> = (&err).into();
        assert_eq!(diagnostics[0].code, Code::Selector);
        assert_eq!(diagnostics[0].help.as_deref(), Some("did you mean 'tag'?"));
        assert!(check("+orders+").is_ok());
        assert!(check("2+tag:nightly+1").is_ok());
        assert!(check("+").is_err());
        assert!(check("tag:").is_err());
    }
}
