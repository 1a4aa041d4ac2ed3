//! `profiles.yml`: where it is found, and the target (connection) it selects.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_yaml::Value as Yaml;

use super::yaml::{key_string, read_yaml, render_strings, to_json};
use crate::adapter::kind::AdapterKind;
use crate::error::{Error, Location, Result};
use crate::jinja::config_renderer::ConfigRenderer;
use crate::secrets;

pub const PROFILES_FILE: &str = "profiles.yml";

/// The connection a run uses: one output of one profile.
#[derive(Debug, Clone)]
pub struct Target {
    pub profile_name: String,
    pub name: String,
    pub adapter: AdapterKind,
    pub schema: String,
    pub database: String,
    pub threads: usize,
    /// Every key of the output as rendered, secrets included: never print it whole.
    pub settings: BTreeMap<String, serde_json::Value>,
    /// The file the target came from.
    pub file: PathBuf,
}

impl Target {
    pub fn setting_str(&self, key: &str) -> Option<String> {
        match self.settings.get(key)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// The DuckDB file path (`:memory:` when absent).
    pub fn duckdb_path(&self) -> String {
        self.setting_str("path")
            .unwrap_or_else(|| ":memory:".to_string())
    }
}

/// Where to look for profiles.yml, in dbt's order: `--profiles-dir`,
/// `$DBT_PROFILES_DIR`, the current directory, then `~/.dbt/`.
pub fn find_profiles_file(profiles_dir: Option<&Path>) -> Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = profiles_dir {
        let file = dir.join(PROFILES_FILE);
        if file.is_file() {
            return Ok(file);
        }
        return Err(Error::config(
            Location::file(file),
            "profiles.yml not found in the directory given by --profiles-dir",
        ));
    }
    if let Some(dir) = std::env::var_os("DBT_PROFILES_DIR") {
        candidates.push(PathBuf::from(dir).join(PROFILES_FILE));
    }
    candidates.push(PathBuf::from(PROFILES_FILE));
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(PathBuf::from(home).join(".dbt").join(PROFILES_FILE));
    }
    for candidate in &candidates {
        if candidate.is_file() {
            return Ok(candidate.clone());
        }
    }
    let looked: Vec<String> = candidates.iter().map(|c| c.display().to_string()).collect();
    Err(Error::config(
        Location::file(PROFILES_FILE),
        format!(
            "profiles.yml not found; looked in: {} (pass --profiles-dir or set DBT_PROFILES_DIR)",
            looked.join(", ")
        ),
    ))
}

/// Reads the profile `profile_name` from `file` and picks `target_name` (or
/// the profile's own `target:`).
pub fn load_target(
    file: &Path,
    profile_name: &str,
    target_name: Option<&str>,
    renderer: &ConfigRenderer,
) -> Result<Target> {
    let mut yaml = read_yaml(file, file)?;
    let location = || Location::file(file);
    let Some(profiles) = yaml.as_mapping_mut() else {
        return Err(Error::config(
            location(),
            "expected a mapping of profile names",
        ));
    };
    let Some(profile) = profiles.get_mut(profile_name) else {
        let mut known: Vec<String> = profiles
            .keys()
            .map(key_string)
            .filter(|k| k != "config")
            .collect();
        known.sort();
        return Err(Error::config(
            location(),
            format!(
                "profile '{profile_name}' (named in dbt_project.yml) is not in this file; it has: {}",
                if known.is_empty() {
                    "no profiles".into()
                } else {
                    known.join(", ")
                }
            ),
        ));
    };
    let outputs_key = Yaml::String("outputs".into());
    let default_target = match profile.get("target") {
        Some(t) => {
            let mut t = t.clone();
            render_strings(&mut t, renderer, file, &[])?;
            t.as_str().map(str::to_string)
        }
        None => None,
    };
    let target_name = match target_name.map(str::to_string).or(default_target) {
        Some(t) => t,
        None => {
            return Err(Error::config(
                location(),
                format!("profile '{profile_name}' names no `target:` and no --target was given"),
            ));
        }
    };
    let Some(outputs) = profile
        .get_mut(&outputs_key)
        .and_then(|o| o.as_mapping_mut())
    else {
        return Err(Error::config(
            location(),
            format!("profile '{profile_name}' has no `outputs:` mapping"),
        ));
    };
    let Some(output) = outputs.get_mut(target_name.as_str()) else {
        let mut known: Vec<String> = outputs.keys().map(key_string).collect();
        known.sort();
        return Err(Error::config(
            location(),
            format!(
                "target '{target_name}' is not an output of profile '{profile_name}'; its outputs are: {}",
                known.join(", ")
            ),
        ));
    };
    render_strings(output, renderer, file, &[])?;
    let settings: BTreeMap<String, serde_json::Value> = match to_json(output) {
        serde_json::Value::Object(map) => map.into_iter().collect(),
        _ => {
            return Err(Error::config(
                location(),
                format!("output '{target_name}' of profile '{profile_name}' must be a mapping"),
            ));
        }
    };
    if let Some(serde_json::Value::String(password)) = settings.get("password") {
        secrets::register(password);
    }
    let type_name = match settings.get("type") {
        Some(serde_json::Value::String(t)) => t.clone(),
        _ => {
            return Err(Error::config(
                location(),
                format!(
                    "output '{target_name}' of profile '{profile_name}' needs a `type:` (duckdb or postgres)"
                ),
            ));
        }
    };
    let Some(adapter) = AdapterKind::from_type(&type_name) else {
        return Err(Error::config(
            location(),
            format!(
                "unknown adapter type '{type_name}' in output '{target_name}'; kiln supports: duckdb, postgres"
            ),
        ));
    };
    let threads = match settings.get("threads") {
        None | Some(serde_json::Value::Null) => 1,
        Some(v) => match v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        {
            Some(n) if n >= 1 => n as usize,
            _ => {
                return Err(Error::config(
                    location(),
                    format!(
                        "`threads` of output '{target_name}' must be a positive integer, not {v}"
                    ),
                ));
            }
        },
    };
    let get = |key: &str| match settings.get(key) {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    let (database, schema) = match adapter {
        AdapterKind::DuckDb => {
            let path = get("path").unwrap_or_else(|| ":memory:".into());
            let database = get("database").unwrap_or_else(|| duckdb_database_name(&path));
            let schema = get("schema").unwrap_or_else(|| adapter.default_schema().into());
            (database, schema)
        }
        AdapterKind::Postgres => {
            let Some(database) = get("dbname").or_else(|| get("database")) else {
                return Err(Error::config(
                    location(),
                    format!("output '{target_name}' needs `dbname:` for postgres"),
                ));
            };
            let Some(schema) = get("schema") else {
                return Err(Error::config(
                    location(),
                    format!("output '{target_name}' needs `schema:` for postgres"),
                ));
            };
            (database, schema)
        }
    };
    Ok(Target {
        profile_name: profile_name.to_string(),
        name: target_name,
        adapter,
        schema,
        database,
        threads,
        settings,
        file: file.to_path_buf(),
    })
}

/// The catalog name DuckDB gives an attached file: its stem (`memory` in memory).
pub fn duckdb_database_name(path: &str) -> String {
    if path == ":memory:" || path.is_empty() {
        return "memory".to_string();
    }
    Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "memory".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duckdb_database_is_the_file_stem() {
        assert_eq!(
            duckdb_database_name("dir/jaffle_shop.duckdb"),
            "jaffle_shop"
        );
        assert_eq!(duckdb_database_name(":memory:"), "memory");
    }
}
