//! Checks made while parsing a test node: its `severity`, `warn_if` and
//! `error_if` configs, where a render error of a generic test is reported,
//! and where a keyword argument is written in a file.

use super::Parsed;
use crate::error::{Error, Location, Result};
use crate::jinja::render::jinja_error;
use crate::project::node::{Node, TestMetadata};

/// An error while rendering a generic test, at the test's line in its
/// properties file.
pub(super) fn test_error(
    err: &minijinja::Error,
    parsed: &Parsed,
    node: &Node,
    test: &TestMetadata,
) -> Error {
    match jinja_error(err, &parsed.project.root, Some((&node.unique_id, ""))) {
        Error::Jinja {
            location,
            kind,
            message,
            ..
        } if location.file.as_os_str().is_empty()
            || location.file.to_string_lossy().contains('<') =>
        {
            Error::Jinja {
                location: test.location.clone(),
                kind,
                message: format!("in test {}: {message}", node.name),
                node: None,
            }
        }
        other => other,
    }
}

/// `severity`, `warn_if` and `error_if` are checked before anything runs:
/// a typo there would otherwise be a database error, or no check at all.
pub(super) fn check_test_config(parsed: &Parsed, node: &Node) -> Result<()> {
    let location = match &node.test {
        Some(test) => test.location.clone(),
        None => Location::file(parsed.project.display_path(&node.original_file_path)),
    };
    let severity = match node.config.get("severity") {
        None => "error".to_string(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let severity = severity.as_str();
    if !severity.eq_ignore_ascii_case("error") && !severity.eq_ignore_ascii_case("warn") {
        return Err(Error::config(
            location,
            format!(
                "test {}: severity '{severity}' is neither 'error' nor 'warn'",
                node.name
            ),
        ));
    }
    for key in ["warn_if", "error_if"] {
        if let Some(value) = node.config.get(key) {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if !is_condition(&text) {
                return Err(Error::config(
                    location,
                    format!(
                        "test {}: {key} '{text}' is not a condition on the failure count",
                        node.name
                    ),
                )
                .with_help(r#"write a comparison with a number, such as ">10", "!=0" or ">= 5""#));
            }
        }
    }
    Ok(())
}

/// `">10"`, `"!= 0"`, `"between 1 and 5"`: what dbt appends to the failure count.
fn is_condition(text: &str) -> bool {
    use std::sync::OnceLock;
    static CONDITION: OnceLock<regex::Regex> = OnceLock::new();
    let re = CONDITION.get_or_init(|| {
        regex::Regex::new(
            r"(?i)^\s*(?:(?:=|==|!=|<>|<=|>=|<|>)\s*-?\d+(?:\.\d+)?|(?:not\s+)?between\s+-?\d+(?:\.\d+)?\s+and\s+-?\d+(?:\.\d+)?)\s*$",
        )
        .expect("valid regex")
    });
    re.is_match(text)
}

/// Where `key=` is first written in a file's text.
pub(super) fn keyword_location(text: &str, key: &str, file: &std::path::Path) -> Location {
    for (i, line) in text.lines().enumerate() {
        if let Some(col) = line.find(key)
            && line[col + key.len()..].trim_start().starts_with('=')
        {
            let column = line[..col].chars().count() + 1;
            return Location::at(file, i + 1, Some(column)).spanning(key.chars().count());
        }
    }
    Location::file(file)
}

/// A model's constraints as dbt checks them when it parses the model: with
/// an enforced contract each model-level constraint has a known type, and a
/// primary key is on one column or on the model, not both.
pub(super) fn check_constraints(parsed: &Parsed, node: &Node) -> Result<()> {
    let file = node.patch_path.as_ref().unwrap_or(&node.original_file_path);
    let location = Location::file(parsed.project.display_path(file));
    let type_of = |c: &serde_json::Value| {
        c.get("type")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string)
    };
    if crate::contract::enforced(&node.config)
        && node.constraints.iter().any(|c| {
            !type_of(c).is_some_and(|t| crate::contract::CONSTRAINT_TYPES.contains(&t.as_str()))
        })
    {
        let types: Vec<String> = crate::contract::CONSTRAINT_TYPES
            .iter()
            .map(|t| format!("'{t}'"))
            .collect();
        return Err(Error::config(
            location,
            format!(
                "Invalid constraint type on model {}: Type must be one of [{}]",
                node.name,
                types.join(", ")
            ),
        ));
    }
    let primary_key = |c: &serde_json::Value| type_of(c).as_deref() == Some("primary_key");
    let pk_columns: Vec<String> = node
        .columns
        .iter()
        .filter(|c| c.constraints.iter().any(primary_key))
        .map(|c| format!("'{}'", c.name))
        .collect();
    let mut errors = Vec::new();
    if pk_columns.len() > 1 {
        errors.push(format!(
            "Found {} columns ([{}]) with primary key constraints defined. Primary keys for \
             multiple columns must be defined as a model level constraint.",
            pk_columns.len(),
            pk_columns.join(", ")
        ));
    }
    if !pk_columns.is_empty() && node.constraints.iter().any(primary_key) {
        errors.push(
            "Primary key constraints defined at the model level and the columns level. Primary \
             keys can be defined at the model level or the column level, not both."
                .to_string(),
        );
    }
    if errors.is_empty() {
        return Ok(());
    }
    Err(Error::config(
        location,
        format!(
            "Primary key constraint error: ({})\n{}",
            node.original_file_path.display(),
            errors.join("\n")
        ),
    ))
}

/// A model's `access` is private, protected or public, and its `group` one
/// the properties files declare (dbt's checks and words).
pub(super) fn check_access(parsed: &Parsed, node: &Node) -> Result<()> {
    let file = node.patch_path.as_ref().unwrap_or(&node.original_file_path);
    let location = || Location::file(parsed.project.display_path(file));
    if let Some(access) = node.config.get("access") {
        let text = access
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| access.to_string());
        if !matches!(text.as_str(), "private" | "protected" | "public") {
            return Err(Error::config(
                location(),
                format!(
                    "Node {} has an invalid value ({text}) for the access field",
                    node.unique_id
                ),
            ));
        }
    }
    if let Some(group) = node.config.get_str("group") {
        let known: Vec<&str> = parsed
            .project
            .groups
            .iter()
            .map(|(_, g)| g.name.as_str())
            .collect();
        if !known.contains(&group) {
            let list: Vec<String> = known.iter().map(|g| format!("'{g}'")).collect();
            return Err(Error::config(
                location(),
                format!(
                    "Invalid group '{group}', expected one of [{}]",
                    list.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// A unit test of an incremental model says which way it renders, as dbt
/// requires: `overrides: {macros: {is_incremental: ...}}`, and with `true`
/// a `this` input (the rows already in the table).
pub(super) fn check_unit_test(parsed: &Parsed, node: &Node) -> Result<()> {
    let Some(unit) = &node.unit else {
        return Ok(());
    };
    let Some(model) = parsed.nodes.get(&unit.model_id) else {
        return Ok(());
    };
    if model.node.config.materialized() != "incremental" {
        return Ok(());
    }
    let error = |message: String| Err(Error::config(unit.location.clone(), message));
    match unit.overrides.macros.get("is_incremental") {
        Some(serde_json::Value::Bool(true)) => {
            let has_this = unit
                .given
                .iter()
                .any(|g| g.target == crate::project::unit_tests::Input::This);
            if has_this {
                Ok(())
            } else {
                error(format!(
                    "Unit test '{}' for incremental model '{}' must have a 'this' input",
                    node.name, unit.model
                ))
            }
        }
        Some(serde_json::Value::Bool(false)) => Ok(()),
        _ => error(format!(
            "Boolean override for 'is_incremental' must be provided for unit test '{}' in model '{}'",
            node.name, unit.model
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::is_condition;

    #[test]
    fn conditions_on_the_failure_count() {
        for ok in [
            ">10",
            "!=0",
            "!= 0",
            ">= 5",
            "= 0",
            "<> 1",
            "between 1 and 5",
            "NOT BETWEEN 0 and 2",
        ] {
            assert!(is_condition(ok), "{ok}");
        }
        for bad in [
            "more than three",
            "> x",
            "10",
            "; drop table t",
            ">1; select 1",
        ] {
            assert!(!is_condition(bad), "{bad}");
        }
    }
}
