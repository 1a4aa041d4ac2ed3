//! Reading a selector: one criterion `[@][n+]value[+n]` into a [`Criterion`],
//! checked against the methods kiln knows.

use crate::diagnostic::did_you_mean;
use crate::error::{Error, Result};

/// Selector methods kiln implements.
const METHODS: &[&str] = &[
    "tag",
    "path",
    "file",
    "fqn",
    "config",
    "resource_type",
    "source",
    "test_type",
    "test_name",
    "unit_test",
    "exposure",
    "metric",
    "semantic_model",
    "saved_query",
    "group",
    "access",
    "version",
    "package",
    "state",
    "result",
];

/// Selector methods dbt has that kiln does not implement yet.
const DBT_METHODS: &[&str] = &["source_status"];

/// One criterion: `@`, `n+`, the method and value, `+n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Criterion {
    /// `@`: descendants and all their ancestors.
    pub(super) at: bool,
    /// `+` before: ancestors, to this depth (`None`: all).
    pub(super) parents: Option<Option<usize>>,
    /// `+` after: descendants, to this depth.
    pub(super) children: Option<Option<usize>>,
    pub(super) method: Option<String>,
    pub(super) value: String,
}

/// Reads `[@][n+]value[+n]`, rejecting what kiln cannot read.
pub(super) fn parse_criterion(token: &str) -> Result<Criterion> {
    let error = |message: String, help: Option<String>| Error::Selector {
        selector: token.to_string(),
        message,
        help,
    };
    let (at, rest) = match token.strip_prefix('@') {
        Some(rest) => (true, rest),
        None => (false, token),
    };
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    let (parents, rest) = match rest[digits..].strip_prefix('+') {
        Some(after) => (Some(rest[..digits].parse().ok()), after),
        None if digits > 0 && rest[digits..].is_empty() => (None, rest),
        None => (None, rest),
    };
    let trailing = rest.chars().rev().take_while(char::is_ascii_digit).count();
    let (children, value) = match rest[..rest.len() - trailing].strip_suffix('+') {
        Some(before) => (Some(rest[rest.len() - trailing..].parse().ok()), before),
        None => (None, rest),
    };
    if at && (parents.is_some() || children.is_some()) {
        return Err(error(
            "`@` cannot be combined with `+`".into(),
            Some("write @model, or n+model+n".into()),
        ));
    }
    if value.is_empty() {
        return Err(error("nothing to select".into(), None));
    }
    let (method, value) = match value.split_once(':') {
        Some((method, value)) => (Some(method.to_string()), value.to_string()),
        None => (None, value.to_string()),
    };
    if let Some(method) = &method {
        let base = method.split('.').next().unwrap_or(method);
        if DBT_METHODS.contains(&base) {
            return Err(error(
                format!("the `{base}:` method is not supported yet"),
                Some(format!(
                    "kiln selects by name and {}",
                    METHODS.join(":, ") + ":"
                )),
            ));
        }
        if !METHODS.contains(&base) {
            let known = METHODS.iter().chain(DBT_METHODS).copied();
            return Err(error(
                format!("'{base}' is not a selector method"),
                did_you_mean(base, known),
            ));
        }
        if base == "config" && !method.contains('.') {
            return Err(error(
                "`config` needs the key to compare: config.materialized:table".into(),
                None,
            ));
        }
        if value.is_empty() {
            return Err(error(format!("`{method}:` needs a value"), None));
        }
    }
    Ok(Criterion {
        at,
        parents,
        children,
        method,
        value,
    })
}

pub(super) fn tokens(args: &[String]) -> impl Iterator<Item = &str> {
    args.iter().flat_map(|a| a.split_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Code, Diagnostic};

    #[test]
    fn unknown_methods_are_errors_with_a_suggestion() {
        let err = parse_criterion("tagg:nightly").unwrap_err();
        let diagnostics: Vec<Diagnostic> = (&err).into();
        assert_eq!(diagnostics[0].code, Code::Selector);
        assert_eq!(diagnostics[0].help.as_deref(), Some("did you mean 'tag'?"));
        assert!(parse_criterion("+orders+").is_ok());
        assert!(parse_criterion("+").is_err());
        assert!(parse_criterion("tag:").is_err());
        assert!(parse_criterion("@+orders").is_err());
    }

    #[test]
    fn depths_and_at_are_read() {
        let c = parse_criterion("2+tag:nightly+1").unwrap();
        assert_eq!(c.parents, Some(Some(2)));
        assert_eq!(c.children, Some(Some(1)));
        assert_eq!(c.method.as_deref(), Some("tag"));
        let c = parse_criterion("+orders").unwrap();
        assert_eq!((c.parents, c.children), (Some(None), None));
        assert!(parse_criterion("@orders").unwrap().at);
        // A name may end in digits.
        let c = parse_criterion("orders_2024").unwrap();
        assert_eq!((c.value.as_str(), c.children), ("orders_2024", None));
    }
}
