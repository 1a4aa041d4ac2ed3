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
