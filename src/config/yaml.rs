//! Reading YAML files into `serde_yaml::Value`, with errors that name the file,
//! line and column, and rendering of the Jinja inside string values
//! (`{{ env_var('X') }}`, `{{ var('y') }}`), as dbt does for its config files.
//!
//! serde_yaml stays behind this module so a maintained fork can replace it here.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_yaml::Value as Yaml;

use crate::error::{Error, Location, Result};
use crate::jinja::config_renderer::ConfigRenderer;

/// Reads and parses a YAML file. An empty file is an empty mapping.
pub fn read_yaml(path: &Path, display: &Path) -> Result<Yaml> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(display, &e))?;
    parse_yaml(&text, display)
}

pub fn parse_yaml(text: &str, display: &Path) -> Result<Yaml> {
    if text.trim().is_empty() {
        return Ok(Yaml::Mapping(Default::default()));
    }
    serde_yaml::from_str::<Yaml>(text).map_err(|e| yaml_error(&e, display))
}

fn yaml_error(err: &serde_yaml::Error, display: &Path) -> Error {
    let location = match err.location() {
        Some(loc) => Location::at(display, loc.line(), Some(loc.column())),
        None => Location::file(display),
    };
    // serde_yaml appends " at line X column Y"; the location already says it.
    let message = err.to_string();
    let message = match message.find(" at line ") {
        Some(cut) => message[..cut].to_string(),
        None => message,
    };
    Error::Yaml { location, message }
}

/// Deserializes a typed value out of YAML; a shape error names the file and `what`.
pub fn from_yaml<T: DeserializeOwned>(value: Yaml, display: &Path, what: &str) -> Result<T> {
    serde_yaml::from_value(value).map_err(|e| Error::Yaml {
        location: Location::file(display),
        message: format!("{what}: {}", strip_location(&e.to_string())),
    })
}

fn strip_location(message: &str) -> String {
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
            let rendered = renderer.render(s).map_err(|message| Error::Config {
                location: Location::file(display),
                message,
            })?;
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
