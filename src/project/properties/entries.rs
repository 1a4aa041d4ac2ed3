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
    }
}
