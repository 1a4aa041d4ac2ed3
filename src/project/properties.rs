//! Properties files (`schema.yml` and friends): descriptions, columns and
//! configs of models and seeds, and the declared sources.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_yaml::Value as Yaml;

use super::node::{ColumnInfo, Patch};
use crate::config::yaml::to_json;
use crate::error::{Error, Location, Result};

#[derive(Debug, Deserialize, Default)]
struct PropertiesFile {
    #[serde(default)]
    models: Option<Vec<NodeProps>>,
    #[serde(default)]
    seeds: Option<Vec<NodeProps>>,
    #[serde(default)]
    sources: Option<Vec<SourceProps>>,
}

#[derive(Debug, Deserialize)]
struct NodeProps {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    config: Option<Yaml>,
    #[serde(default)]
    columns: Option<Vec<ColumnProps>>,
}

#[derive(Debug, Deserialize)]
struct ColumnProps {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    data_type: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SourceProps {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    database: Option<String>,
    #[serde(default)]
    schema: Option<String>,
    #[serde(default)]
    tables: Option<Vec<SourceTableProps>>,
}

#[derive(Debug, Deserialize)]
struct SourceTableProps {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    identifier: Option<String>,
}

/// A source table as a properties file declares it, before target defaults.
#[derive(Debug, Clone)]
pub struct DeclaredSource {
    pub source_name: String,
    pub table_name: String,
    pub database: Option<String>,
    pub schema: Option<String>,
    pub identifier: Option<String>,
    pub description: String,
    pub file: PathBuf,
}

/// Everything the properties files of a project say.
#[derive(Debug, Default)]
pub struct Properties {
    pub models: BTreeMap<String, Patch>,
    pub seeds: BTreeMap<String, Patch>,
    pub sources: Vec<DeclaredSource>,
}

impl Properties {
    /// Reads one properties file (`display` is its path relative to the project)
    /// and adds what it declares. A model described twice is an error.
    pub fn add_file(&mut self, text: &str, display: &Path) -> Result<()> {
        if text.trim().is_empty() {
            return Ok(());
        }
        let file: PropertiesFile = serde_yaml::from_str(text).map_err(|e| {
            let location = match e.location() {
                Some(l) => Location::at(display, l.line(), Some(l.column())),
                None => Location::file(display),
            };
            let message = e.to_string();
            let message = match message.find(" at line ") {
                Some(cut) => message[..cut].to_string(),
                None => message,
            };
            Error::Yaml { location, message }
        })?;
        for (kind, list, target) in [
            ("model", file.models, &mut self.models),
            ("seed", file.seeds, &mut self.seeds),
        ] {
            for props in list.unwrap_or_default() {
                if let Some(existing) = target.get(&props.name) {
                    return Err(Error::config(
                        Location::file(display),
                        format!(
                            "{kind} '{}' is described twice: here and in {}",
                            props.name,
                            existing.file.display()
                        ),
                    ));
                }
                let patch = to_patch(props.description, props.config, props.columns, display)?;
                target.insert(props.name, patch);
            }
        }
        for source in file.sources.unwrap_or_default() {
            for table in source.tables.unwrap_or_default() {
                self.sources.push(DeclaredSource {
                    source_name: source.name.clone(),
                    table_name: table.name,
                    database: source.database.clone(),
                    schema: source.schema.clone(),
                    identifier: table.identifier,
                    description: table
                        .description
                        .or_else(|| source.description.clone())
                        .unwrap_or_default(),
                    file: display.to_path_buf(),
                });
            }
        }
        Ok(())
    }
}

fn to_patch(
    description: Option<String>,
    config: Option<Yaml>,
    columns: Option<Vec<ColumnProps>>,
    display: &Path,
) -> Result<Patch> {
    let config = match config.as_ref().map(to_json) {
        None | Some(serde_json::Value::Null) => BTreeMap::new(),
        Some(serde_json::Value::Object(map)) => map.into_iter().collect(),
        Some(_) => {
            return Err(Error::config(
                Location::file(display),
                "`config:` must be a mapping of config keys",
            ));
        }
    };
    Ok(Patch {
        description: description.unwrap_or_default(),
        config,
        columns: columns
            .unwrap_or_default()
            .into_iter()
            .map(|c| ColumnInfo {
                name: c.name,
                description: c.description.unwrap_or_default(),
                data_type: c.data_type,
            })
            .collect(),
        file: display.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_models_columns_and_sources() {
        let mut props = Properties::default();
        props
            .add_file(
                "version: 2\nmodels:\n  - name: orders\n    description: One row an order\n    config: {materialized: table}\n    columns:\n      - name: order_id\n        description: key\nsources:\n  - name: raw\n    schema: landing\n    tables:\n      - name: events\n",
                Path::new("models/schema.yml"),
            )
            .unwrap();
        let orders = &props.models["orders"];
        assert_eq!(orders.description, "One row an order");
        assert_eq!(orders.columns[0].name, "order_id");
        assert_eq!(orders.config["materialized"], "table");
        assert_eq!(props.sources[0].schema.as_deref(), Some("landing"));
    }

    #[test]
    fn wrong_shape_names_file_and_line() {
        let mut props = Properties::default();
        let err = props
            .add_file(
                "version: 2\nmodels:\n  - name: orders\n    columns: 3\n",
                Path::new("models/schema.yml"),
            )
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("models/schema.yml:4:"), "{err}");
    }
}
