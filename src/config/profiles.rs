//! `profiles.yml`: where it is found, and the target (connection) it selects.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_yaml::Value as Yaml;

use super::yaml::{key_string, parse_yaml, render_strings, to_json};
use super::yaml_locate::{Seg, locate};
use crate::adapter::kind::AdapterKind;
use crate::adapter::kind::{DUCKDB_EXTENSIONS, missing_duckdb_extension};
pub use crate::adapter::target::Target;
use crate::diagnostic::did_you_mean;
use crate::error::{Error, Location, Result};
use crate::jinja_base::config_renderer::ConfigRenderer;
use crate::secrets;

pub const PROFILES_FILE: &str = "profiles.yml";

/// Where to look for profiles.yml, in dbt's order: `--profiles-dir`,
/// `$DBT_PROFILES_DIR`, the current directory, then `~/.dbt/`.
pub fn find_profiles_file(profiles_dir: Option<&Path>) -> Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = profiles_dir {
        let file = dir.join(PROFILES_FILE);
        if file.is_file() {
            return Ok(file);
        }
        return Err(Error::profile(
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
    Err(Error::profile(
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
    named_at: &Location,
    target_name: Option<&str>,
    renderer: &ConfigRenderer,
) -> Result<Target> {
    let renderer = &renderer.allowing_secrets();
    let text = std::fs::read_to_string(file).map_err(|e| Error::io(file, &e))?;
    let mut yaml = parse_yaml(&text, file)?;
    let location = || Location::file(file);
    let at = |path: &[&str]| {
        let path: Vec<Seg> = path.iter().map(|k| Seg::key(*k)).collect();
        match locate(&text, &path) {
            Some(p) => Location::at(file, p.line, Some(p.column)).spanning(p.length),
            None => Location::file(file),
        }
    };
    let Some(profiles) = yaml.as_mapping_mut() else {
        return Err(Error::profile(
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
        let help = did_you_mean(profile_name, known.iter().map(String::as_str));
        return Err(Error::profile(
            named_at.clone(),
            format!(
                "profile '{profile_name}' is not in {}; it has: {}",
                file.display(),
                if known.is_empty() {
                    "no profiles".into()
                } else {
                    known.join(", ")
                }
            ),
        )
        .with_help(help.unwrap_or_else(|| {
            format!("add a `{profile_name}:` profile, or set `profile:` in dbt_project.yml")
        })));
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
    let from_command_line = target_name.is_some();
    let target_name = match target_name.map(str::to_string).or(default_target) {
        Some(t) => t,
        None => {
            return Err(Error::profile(
                location(),
                format!("profile '{profile_name}' names no `target:` and no --target was given"),
            ));
        }
    };
    let Some(outputs) = profile
        .get_mut(&outputs_key)
        .and_then(|o| o.as_mapping_mut())
    else {
        return Err(Error::profile(
            location(),
            format!("profile '{profile_name}' has no `outputs:` mapping"),
        ));
    };
    let Some(output) = outputs.get_mut(target_name.as_str()) else {
        let mut known: Vec<String> = outputs.keys().map(key_string).collect();
        known.sort();
        let help = did_you_mean(&target_name, known.iter().map(String::as_str));
        let place = if from_command_line {
            at(&[profile_name, "outputs"])
        } else {
            at(&[profile_name, "target"])
        };
        let error = Error::profile(
            place,
            format!(
                "target '{target_name}'{} is not an output of profile '{profile_name}'; its outputs are: {}",
                if from_command_line {
                    " (from --target)"
                } else {
                    ""
                },
                known.join(", ")
            ),
        );
        return Err(match help {
            Some(help) => error.with_help(help),
            None => error,
        });
    };
    render_strings(output, renderer, file, &[])?;
    let settings: BTreeMap<String, serde_json::Value> = match to_json(output) {
        serde_json::Value::Object(map) => map.into_iter().collect(),
        _ => {
            return Err(Error::profile(
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
            return Err(Error::profile(
                location(),
                format!(
                    "output '{target_name}' of profile '{profile_name}' needs a `type:` (duckdb or postgres)"
                ),
            ));
        }
    };
    let Some(adapter) = AdapterKind::from_type(&type_name) else {
        return Err(Error::profile(
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
                return Err(Error::profile(
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
            let output = [profile_name, "outputs", target_name.as_str()];
            check_duckdb_extensions(&settings, &text, file, &output)?;
            check_duckdb_keys(&settings, &text, file, &output)?;
            let path = get("path").unwrap_or_else(|| ":memory:".into());
            let database = get("database").unwrap_or_else(|| duckdb_database_name(&path));
            let schema = get("schema").unwrap_or_else(|| adapter.default_schema().into());
            (database, schema)
        }
        AdapterKind::Postgres => {
            let Some(database) = get("dbname").or_else(|| get("database")) else {
                return Err(Error::profile(
                    location(),
                    format!("output '{target_name}' needs `dbname:` for postgres"),
                ));
            };
            let Some(schema) = get("schema") else {
                return Err(Error::profile(
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

/// The dbt-duckdb keys kiln cannot serve, and the shapes of `settings:` and
/// `attach:`: errors at their line, never ignored.
fn check_duckdb_keys(
    settings: &BTreeMap<String, serde_json::Value>,
    text: &str,
    file: &Path,
    output: &[&str],
) -> Result<()> {
    let place = |keys: &[Seg]| {
        let mut path: Vec<Seg> = output.iter().map(|k| Seg::key(*k)).collect();
        path.extend_from_slice(keys);
        match locate(text, &path) {
            Some(p) => Location::at(file, p.line, Some(p.column)).spanning(p.length),
            None => Location::file(file),
        }
    };
    const PYTHON_ONLY: [(&str, &str); 4] = [
        ("plugins", "dbt-duckdb's plugins are Python modules"),
        ("module_paths", "it adds folders to Python's import path"),
        ("filesystems", "its filesystems are Python's fsspec"),
        (
            "secrets",
            "its secrets serve DuckDB's httpfs and cloud extensions",
        ),
    ];
    for (key, why) in PYTHON_ONLY {
        if settings.get(key).is_some_and(|v| !v.is_null()) {
            return Err(Error::profile(
                place(&[Seg::key(key)]),
                format!("`{key}:` is not supported by kiln: {why}, which a Rust binary cannot run or load"),
            )
            .with_help(format!(
                "remove `{key}:` from this output; kiln reads files on local disk (sources' `external_location`, `attach:`)"
            )));
        }
    }
    if let Some(value) = settings.get("settings")
        && !value.is_null()
        && !value.is_object()
    {
        return Err(Error::profile(
            place(&[Seg::key("settings")]),
            "`settings:` must be a mapping of DuckDB settings to values (`memory_limit: 4GB`)",
        ));
    }
    match settings.get("attach") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Array(entries)) => {
            for (i, entry) in entries.iter().enumerate() {
                let at = |key: Option<&str>| {
                    let mut keys = vec![Seg::key("attach"), Seg::Item(i)];
                    keys.extend(key.map(Seg::key));
                    place(&keys)
                };
                if !entry.get("path").is_some_and(|p| p.is_string()) {
                    return Err(Error::profile(
                        at(None),
                        "each entry of `attach:` needs a `path:` (the DuckDB file to attach)",
                    ));
                }
                if let Some(kind) = entry.get("type").and_then(|t| t.as_str())
                    && kind != "duckdb"
                {
                    return Err(Error::profile(
                        at(Some("type")),
                        format!(
                            "attaching a `type: {kind}` database needs DuckDB's {kind} extension, which this kiln does not have (it attaches DuckDB files)"
                        ),
                    ));
                }
                if let Some(map) = entry.as_object()
                    && let Some(unknown) = map.keys().find(|k| {
                        !["path", "alias", "read_only", "type", "options"].contains(&k.as_str())
                    })
                {
                    return Err(Error::profile(
                        at(Some(unknown)),
                        format!(
                            "`{unknown}` is not a key of an `attach:` entry; it takes path, alias, read_only, type and options"
                        ),
                    ));
                }
            }
        }
        Some(_) => {
            return Err(Error::profile(
                place(&[Seg::key("attach")]),
                "`attach:` must be a list of databases to attach, each with a `path:`",
            ));
        }
    }
    Ok(())
}

/// dbt-duckdb's `extensions:` (names, or mappings with a `name:`), each one
/// kiln must have compiled in: an error at the line of one it has not.
fn check_duckdb_extensions(
    settings: &BTreeMap<String, serde_json::Value>,
    text: &str,
    file: &Path,
    output: &[&str],
) -> Result<()> {
    let Some(list) = settings.get("extensions") else {
        return Ok(());
    };
    let mut path: Vec<Seg> = output.iter().map(|k| Seg::key(*k)).collect();
    path.push(Seg::key("extensions"));
    let place = |path: &[Seg]| match locate(text, path) {
        Some(p) => Location::at(file, p.line, Some(p.column)).spanning(p.length),
        None => Location::file(file),
    };
    let items = match list {
        serde_json::Value::Null => return Ok(()),
        serde_json::Value::Array(items) => items,
        _ => {
            return Err(Error::profile(
                place(&path),
                "`extensions:` must be a list of DuckDB extension names",
            ));
        }
    };
    for (i, item) in items.iter().enumerate() {
        let name = match item {
            serde_json::Value::String(name) => Some(name.as_str()),
            serde_json::Value::Object(map) => map.get("name").and_then(|n| n.as_str()),
            _ => None,
        };
        let mut at = path.clone();
        at.push(Seg::Item(i));
        let Some(name) = name else {
            return Err(Error::profile(
                place(&at),
                "each of `extensions:` is an extension name (or a mapping with `name:`)",
            ));
        };
        if !DUCKDB_EXTENSIONS.contains(&name) && name != "core_functions" {
            return Err(Error::profile(place(&at), missing_duckdb_extension(name)).with_help(
                "remove it from `extensions:`; kiln runs DuckDB offline with the extensions it was built with (see the README)",
            ));
        }
    }
    Ok(())
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
