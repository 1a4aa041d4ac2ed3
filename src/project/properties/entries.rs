//! What an entry of a properties file becomes: its declared tests (the
//! entry's and its columns'), its columns, and the patch of a model, seed
//! or snapshot.

use std::collections::BTreeMap;
use std::path::Path;

use serde_yaml::Value as Yaml;

use super::{ColumnProps, DeclaredTest, TestTarget};
use crate::config::yaml::to_json;
use crate::config::yaml_locate::Seg;
use crate::error::Location;
use crate::project::node::{ColumnInfo, Patch};

/// The tests of one entry (a model, seed or source table) and of its
/// columns, each with the line it is declared on. dbt reads `data_tests:`,
/// and `tests:` as its older name.
pub(super) fn declared_tests(
    target: &TestTarget,
    entry_path: &[Seg],
    data_tests: Option<&[Yaml]>,
    tests: Option<&[Yaml]>,
    columns: Option<&[ColumnProps]>,
    relative: &Path,
    at: &dyn Fn(&[Seg]) -> Location,
) -> Vec<DeclaredTest> {
    let mut found = Vec::new();
    let mut add = |path: &[Seg],
                   column: Option<String>,
                   data_tests: Option<&[Yaml]>,
                   tests: Option<&[Yaml]>| {
        for (key, list) in [("data_tests", data_tests), ("tests", tests)] {
            for (k, entry) in list.unwrap_or_default().iter().enumerate() {
                let mut item = path.to_vec();
                item.extend([Seg::key(key), Seg::Item(k)]);
                found.push(DeclaredTest {
                    target: target.clone(),
                    column: column.clone(),
                    entry: to_json(entry),
                    file: relative.to_path_buf(),
                    location: at(&item),
                });
            }
        }
    };
    add(entry_path, None, data_tests, tests);
    for (j, column) in columns.unwrap_or_default().iter().enumerate() {
        let mut path = entry_path.to_vec();
        path.extend([Seg::key("columns"), Seg::Item(j)]);
        let name = if column.quote == Some(true) {
            format!("\"{}\"", column.name.replace('"', "\"\""))
        } else {
            column.name.clone()
        };
        add(
            &path,
            Some(name),
            column.data_tests.as_deref(),
            column.tests.as_deref(),
        );
    }
    found
}

pub(super) fn column_infos(columns: Option<Vec<ColumnProps>>) -> Vec<ColumnInfo> {
    columns
        .unwrap_or_default()
        .into_iter()
        .map(|c| ColumnInfo {
            name: c.name,
            quote: c.quote.unwrap_or(false),
            description: c.description.unwrap_or_default(),
            data_type: c.data_type,
            constraints: c.constraints.iter().flatten().map(to_json).collect(),
        })
        .collect()
}

pub(super) fn to_patch(
    description: Option<String>,
    config: Option<Yaml>,
    columns: Option<Vec<ColumnProps>>,
    relative: &Path,
    location: Location,
) -> Patch {
    let config = match config.as_ref().map(to_json) {
        Some(serde_json::Value::Object(map)) => map.into_iter().collect(),
        _ => BTreeMap::new(),
    };
    Patch {
        description: description.unwrap_or_default(),
        config,
        columns: column_infos(columns),
        file: relative.to_path_buf(),
        location,
        relation: None,
        constraints: Vec::new(),
        versions: Vec::new(),
        latest_version: None,
        deprecation_date: None,
    }
}

/// A scalar (`2`, `1.1`, `"v2"`, a date) as text.
pub(super) fn scalar_text(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The `versions:` of a model entry: each `v`, `defined_in`, `config`,
/// `deprecation_date`, and `columns` (an `include`/`exclude` item over the
/// model's columns, and columns of its own).
pub(super) fn version_patches(
    versions: &[Yaml],
    at: &dyn Fn(&[Seg]) -> Location,
    entry_path: &[Seg],
    warnings: &mut Vec<crate::diagnostic::Diagnostic>,
) -> Result<Vec<crate::project::node::VersionPatch>, crate::error::Error> {
    /// The keys of a version kiln acts on.
    const READ: &[&str] = &["v", "defined_in", "config", "columns", "deprecation_date"];
    let mut patches = Vec::new();
    for (i, entry) in versions.iter().enumerate() {
        let mut path = entry_path.to_vec();
        path.extend([Seg::key("versions"), Seg::Item(i)]);
        // dbt reads more of a version (its description, tests, constraints,
        // access): what kiln does not act on is said, not dropped.
        for key in entry
            .as_mapping()
            .into_iter()
            .flat_map(|m| m.keys())
            .filter_map(Yaml::as_str)
            .filter(|k| !READ.contains(k))
        {
            let mut at_key = path.clone();
            at_key.push(Seg::key(key));
            warnings.push(
                crate::diagnostic::Diagnostic::warning(
                    crate::diagnostic::Code::UnknownKey,
                    format!("kiln does not act on `{key}` of a model version yet: it is ignored"),
                )
                .at(at(&at_key)),
            );
        }
        let Some(v) = entry.get("v").and_then(scalar_text) else {
            return Err(crate::error::Error::config(
                at(&path),
                "each entry of `versions:` needs its `v:` (the version, e.g. `v: 2`)",
            ));
        };
        let mut patch = crate::project::node::VersionPatch {
            v,
            defined_in: entry.get("defined_in").and_then(scalar_text),
            deprecation_date: entry.get("deprecation_date").and_then(scalar_text),
            ..Default::default()
        };
        if let Some(serde_json::Value::Object(config)) = entry.get("config").map(to_json) {
            patch.config = config.into_iter().collect();
        }
        let names = |value: Option<&Yaml>| -> Option<Vec<String>> {
            match value? {
                Yaml::String(s) if s == "all" || s == "*" => None,
                Yaml::String(s) => Some(vec![s.clone()]),
                Yaml::Sequence(items) => Some(items.iter().filter_map(scalar_text).collect()),
                _ => None,
            }
        };
        for (j, column) in entry
            .get("columns")
            .and_then(Yaml::as_sequence)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if column.get("include").is_some() || column.get("exclude").is_some() {
                patch.include = names(column.get("include"));
                patch.exclude = names(column.get("exclude")).unwrap_or_default();
                continue;
            }
            match serde_yaml::from_value::<ColumnProps>(column.clone()) {
                Ok(props) => patch.columns.extend(column_infos(Some(vec![props]))),
                Err(e) => {
                    let mut at_column = path.clone();
                    at_column.extend([Seg::key("columns"), Seg::Item(j)]);
                    return Err(crate::error::Error::config(
                        at(&at_column),
                        format!(
                            "a version's column is `include`/`exclude` or a column with its `name`: {e}"
                        ),
                    ));
                }
            }
        }
        patches.push(patch);
    }
    Ok(patches)
}
