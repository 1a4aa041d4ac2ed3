//! Named selections from `selectors.yml` (`--selector NAME`), written in
//! dbt's YAML form and turned into the command line's syntax: a string is a
//! criterion as typed; `{method, value, parents, children, ...}` one
//! criterion; `union` a space-separated list, `intersection` a
//! comma-joined one, and `exclude` entries become `--exclude` criteria.

use std::path::Path;

use serde_json::Value as Json;

use crate::config::yaml::{parse_yaml, to_json};
use crate::error::{Error, Location, Result};

/// What a selector stands for on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expanded {
    pub select: Vec<String>,
    pub exclude: Vec<String>,
}

/// The definition of selector `name` in `root/selectors.yml`.
pub fn expand(root: &Path, name: &str) -> Result<Expanded> {
    let file = crate::files::display_join(root, Path::new("selectors.yml"));
    let text = std::fs::read_to_string(root.join("selectors.yml")).map_err(|e| {
        Error::config(
            Location::file(&file),
            format!("--selector {name}: cannot read selectors.yml ({e})"),
        )
    })?;
    let yaml = to_json(&parse_yaml(&text, &file)?);
    let selectors = yaml
        .get("selectors")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    let names: Vec<String> = selectors
        .iter()
        .filter_map(|s| s.get("name").and_then(Json::as_str).map(str::to_string))
        .collect();
    let Some(selector) = selectors
        .iter()
        .find(|s| s.get("name").and_then(Json::as_str) == Some(name))
    else {
        let error = Error::config(
            Location::file(&file),
            format!(
                "no selector named '{name}' in selectors.yml; it has: {}",
                names.join(", ")
            ),
        );
        return Err(
            match crate::diagnostic::did_you_mean(name, names.iter().map(String::as_str)) {
                Some(help) => error.with_help(help),
                None => error,
            },
        );
    };
    let definition = selector.get("definition").cloned().unwrap_or(Json::Null);
    let mut expanded = Expanded::default();
    add(&definition, &mut expanded, false).map_err(|message| {
        Error::config(
            Location::file(&file),
            format!("selector '{name}': {message}"),
        )
    })?;
    Ok(expanded)
}

/// Adds one definition to the union (or the exclusions when `excluding`).
fn add(
    definition: &Json,
    expanded: &mut Expanded,
    excluding: bool,
) -> std::result::Result<(), String> {
    match definition {
        Json::Object(map) if map.contains_key("union") => {
            for item in map["union"].as_array().ok_or("`union` must be a list")? {
                add(item, expanded, excluding)?;
            }
        }
        Json::Object(map) if map.contains_key("exclude") => {
            for item in map["exclude"]
                .as_array()
                .ok_or("`exclude` must be a list")?
            {
                add(item, expanded, !excluding)?;
            }
        }
        Json::Object(map) if map.contains_key("intersection") => {
            let parts: Vec<String> = map["intersection"]
                .as_array()
                .ok_or("`intersection` must be a list")?
                .iter()
                .map(criterion)
                .collect::<std::result::Result<_, _>>()?;
            push(expanded, excluding, parts.join(","));
        }
        other => push(expanded, excluding, criterion(other)?),
    }
    Ok(())
}

fn push(expanded: &mut Expanded, excluding: bool, value: String) {
    if excluding {
        expanded.exclude.push(value);
    } else {
        expanded.select.push(value);
    }
}

/// One criterion in the command line's syntax.
fn criterion(definition: &Json) -> std::result::Result<String, String> {
    match definition {
        Json::String(text) => Ok(text.clone()),
        Json::Object(map) => {
            let method = map
                .get("method")
                .and_then(Json::as_str)
                .ok_or("a criterion needs `method` and `value`")?;
            let value = match map.get("value") {
                Some(Json::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => return Err("a criterion needs `method` and `value`".into()),
            };
            let flag = |key: &str| map.get(key).and_then(Json::as_bool).unwrap_or(false);
            let depth = |key: &str| map.get(key).and_then(Json::as_u64);
            let body = if method == "fqn" && !value.contains(':') {
                value
            } else {
                format!("{method}:{value}")
            };
            if flag("childrens_parents") {
                return Ok(format!("@{body}"));
            }
            let before = match (flag("parents"), depth("parents_depth")) {
                (_, Some(n)) => format!("{n}+"),
                (true, None) => "+".into(),
                _ => String::new(),
            };
            let after = match (flag("children"), depth("children_depth")) {
                (_, Some(n)) => format!("+{n}"),
                (true, None) => "+".into(),
                _ => String::new(),
            };
            Ok(format!("{before}{body}{after}"))
        }
        other => Err(format!("cannot read the criterion {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn definitions_become_command_line_criteria() {
        let mut expanded = Expanded::default();
        add(
            &json!({"union": [
                {"method": "tag", "value": "nightly", "children": true, "parents_depth": 1},
                "path:models/staging",
                {"intersection": [{"method": "fqn", "value": "marts"}, "resource_type:model"]},
                {"exclude": [{"method": "config.materialized", "value": "ephemeral"}]},
            ]}),
            &mut expanded,
            false,
        )
        .unwrap();
        assert_eq!(
            expanded.select,
            [
                "1+tag:nightly+",
                "path:models/staging",
                "marts,resource_type:model"
            ]
        );
        assert_eq!(expanded.exclude, ["config.materialized:ephemeral"]);
    }
}
