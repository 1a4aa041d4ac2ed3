//! Reading YAML files into `serde_yaml::Value`, with errors that name the file,
//! line and column, and rendering of the Jinja inside string values
//! (`{{ env_var('X') }}`, `{{ var('y') }}`), as dbt does for its config files.
//!
//! serde_yaml stays behind this module so a maintained fork can replace it here.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_yaml::Value as Yaml;

use crate::error::{Error, Location, Result};
use crate::jinja_base::config_renderer::ConfigRenderer;

/// Parses YAML text (`display` names its file in errors). An empty text is
/// an empty mapping.
pub fn parse_yaml(text: &str, display: &Path) -> Result<Yaml> {
    if text.trim().is_empty() {
        return Ok(Yaml::Mapping(Default::default()));
    }
    serde_yaml::from_str::<Yaml>(text).map_err(|e| yaml_error(&e, text, display))
}

fn yaml_error(err: &serde_yaml::Error, text: &str, display: &Path) -> Error {
    let mut location = error_location(err, display);
    let mut message = strip_location(&err.to_string());
    // At the end of the file, the cause is above: show the last line.
    let last_line = text.trim_end().lines().count().max(1);
    if location.line.is_some_and(|line| line > last_line) {
        location = Location::at(display, last_line, None);
        message.push_str(": is a quote, bracket or brace left open above?");
    }
    Error::Yaml {
        location,
        message,
        key_path: None,
    }
}

fn error_location(err: &serde_yaml::Error, display: &Path) -> Location {
    match err.location() {
        Some(loc) => Location::at(display, loc.line(), Some(loc.column())),
        None => Location::file(display),
    }
}

/// Deserializes a typed value out of `text`, the file `display`. A value of the
/// wrong shape is reported at its line and column with its key path
/// (`models[1].columns`).
pub fn from_text<T: DeserializeOwned>(text: &str, display: &Path) -> Result<T> {
    let deserializer = serde_yaml::Deserializer::from_str(text);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = strip_location(&inner.to_string());
        // serde_yaml starts its message with the path, which is shown apart.
        let message = message
            .strip_prefix(&format!("{path}: "))
            .map(str::to_string)
            .unwrap_or(message);
        let key_path = (path != "." && !path.is_empty()).then_some(path);
        Error::Yaml {
            location: error_location(&inner, display),
            message,
            key_path,
        }
    })
}

fn strip_location(message: &str) -> String {
    // serde_yaml appends " at line X column Y"; the location already says it.
    match message.find(" at line ") {
        Some(cut) => message[..cut].to_string(),
        None => message.to_string(),
    }
}

/// Renders the Jinja in every string of `value`, except under keys in `skip`
/// (hooks, for instance, are rendered later, when they run).
pub fn render_strings(
    value: &mut Yaml,
    renderer: &ConfigRenderer,
    display: &Path,
    skip: &[&str],
) -> Result<()> {
    match value {
        Yaml::String(s) if s.contains("{{") || s.contains("{%") => {
            let rendered = renderer
                .render(s)
                .map_err(|error| error.at(Location::file(display)))?;
            *value = rendered;
        }
        Yaml::Sequence(items) => {
            for item in items {
                render_strings(item, renderer, display, skip)?;
            }
        }
        Yaml::Mapping(map) => {
            for (key, item) in map.iter_mut() {
                let key = key.as_str().unwrap_or_default();
                let bare = key.trim_start_matches('+').replace('-', "_");
                if skip.contains(&bare.as_str()) {
                    continue;
                }
                render_strings(item, renderer, display, skip)?;
            }
        }
        Yaml::Tagged(tagged) => render_strings(&mut tagged.value, renderer, display, skip)?,
        _ => {}
    }
    Ok(())
}

/// Converts YAML to JSON values, the form kiln keeps configs and vars in.
pub fn to_json(value: &Yaml) -> serde_json::Value {
    match value {
        Yaml::Null => serde_json::Value::Null,
        Yaml::Bool(b) => serde_json::Value::Bool(*b),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                serde_json::Value::from(i)
            } else if let Some(u) = n.as_u64() {
                serde_json::Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(serde_json::Value::Number)
                    .unwrap_or(serde_json::Value::Null)
            }
        }
        Yaml::String(s) => serde_json::Value::String(s.clone()),
        Yaml::Sequence(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Yaml::Mapping(map) => serde_json::Value::Object(
            map.iter()
                .map(|(k, v)| (key_string(k), to_json(v)))
                .collect(),
        ),
        Yaml::Tagged(tagged) => to_json(&tagged.value),
    }
}

/// A mapping key as a string (YAML allows numbers and booleans as keys).
pub fn key_string(key: &Yaml) -> String {
    match key {
        Yaml::String(s) => s.clone(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Number(n) => n.to_string(),
        Yaml::Null => "null".to_string(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_error_names_line_and_column() {
        let err = parse_yaml("name: shop\nmodels: [a, b\n", Path::new("dbt_project.yml"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("dbt_project.yml:"), "{err}");
        assert!(err.contains(":3:") || err.contains(":2:"), "{err}");
    }

    #[test]
    fn empty_file_is_an_empty_mapping() {
        let value = parse_yaml("  \n", Path::new("x.yml")).unwrap();
        assert!(value.as_mapping().unwrap().is_empty());
    }
}
