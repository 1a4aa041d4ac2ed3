//! Named selections from `selectors.yml` (`--selector NAME`), written in
//! dbt's YAML form and turned into the command line's syntax: a string is a
//! criterion as typed; `{method, value, parents, children, ...}` one
//! criterion; `union` a space-separated list, `intersection` a
//! comma-joined one, and `exclude` entries become `--exclude` criteria.

use std::path::Path;

use serde_json::Value as Json;

use crate::config::yaml::{parse_yaml, to_json};
use crate::error::{Error, Location, Result};

/// Why a selector's `definition` does not read; it becomes a K1004 config
/// error at selectors.yml, naming the selector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionError {
    /// `union`, `intersection` or `exclude` whose value is not a list.
    #[error("`{0}` must be a list")]
    NotAList(&'static str),
    #[error("a criterion needs `method` and `value`")]
    NoMethodOrValue,
    /// Neither a string nor a mapping.
    #[error("cannot read the criterion {0}")]
    Unreadable(Json),
}

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
    add(&definition, &mut expanded, false).map_err(|error| {
        Error::config(Location::file(&file), format!("selector '{name}': {error}"))
    })?;
    Ok(expanded)
}

/// Adds one definition to the union (or the exclusions when `excluding`).
fn add(
    definition: &Json,
    expanded: &mut Expanded,
    excluding: bool,
) -> std::result::Result<(), DefinitionError> {
    fn list<'a>(
        map: &'a serde_json::Map<String, Json>,
        key: &'static str,
    ) -> std::result::Result<&'a Vec<Json>, DefinitionError> {
        map[key].as_array().ok_or(DefinitionError::NotAList(key))
    }
    match definition {
        Json::Object(map) if map.contains_key("union") => {
            for item in list(map, "union")? {
                add(item, expanded, excluding)?;
            }
        }
        Json::Object(map) if map.contains_key("exclude") => {
            for item in list(map, "exclude")? {
                add(item, expanded, !excluding)?;
            }
        }
        Json::Object(map) if map.contains_key("intersection") => {
            let parts: Vec<String> = list(map, "intersection")?
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
fn criterion(definition: &Json) -> std::result::Result<String, DefinitionError> {
    match definition {
        Json::String(text) => Ok(text.clone()),
        Json::Object(map) => {
            let method = map
                .get("method")
                .and_then(Json::as_str)
                .ok_or(DefinitionError::NoMethodOrValue)?;
            let value = match map.get("value") {
                Some(Json::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => return Err(DefinitionError::NoMethodOrValue),
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
        other => Err(DefinitionError::Unreadable(other.clone())),
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

    #[test]
    fn a_definition_that_does_not_read_is_a_typed_error() {
        let add_one = |definition: Json| add(&definition, &mut Expanded::default(), false);
        assert_eq!(
            add_one(json!({"union": "tag:x"})),
            Err(DefinitionError::NotAList("union"))
        );
        assert_eq!(
            add_one(json!({"intersection": [{"method": "tag"}]})),
            Err(DefinitionError::NoMethodOrValue)
        );
        let err = add_one(json!({"exclude": [3]})).unwrap_err();
        assert_eq!(err, DefinitionError::Unreadable(json!(3)));
        assert_eq!(err.to_string(), "cannot read the criterion 3");
        assert_eq!(
            DefinitionError::NotAList("exclude").to_string(),
            "`exclude` must be a list"
        );
    }

    #[test]
    fn a_bad_definition_is_a_config_error_at_selectors_yml_naming_the_selector() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("selectors.yml"),
            "selectors:\n  - name: nightly\n    definition:\n      union: tag:x\n",
        )
        .unwrap();
        let err = expand(dir.path(), "nightly").unwrap_err();
        assert_eq!(err.code(), crate::diagnostic::Code::Config);
        assert!(
            err.to_string()
                .ends_with("selectors.yml: selector 'nightly': `union` must be a list"),
            "{err}"
        );
    }
}
