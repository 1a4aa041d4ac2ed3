//! The SQL of kiln's built-in templates on DuckDB and on PostgreSQL: each
//! cross-database macro (the calls of `tests/fixtures/cross_database`, whose
//! results `tests/it/cross_database.rs` checks on both databases), each
//! generic test as the properties files of `tests/fixtures/data_tests` declare
//! it, and the test materialization's query (`snippets/`).

use std::fmt::Write;

use super::{ADAPTERS, CompiledNode, compile_project, in_crate, profiles, relative_to};
use crate::project::node::NodeKind;

/// Each adapter's SQL under a `-- <adapter>` line.
fn by_adapter(mut sql_on: impl FnMut(usize) -> String) -> String {
    let mut out = String::new();
    for (i, adapter) in ADAPTERS.iter().enumerate() {
        let _ = write!(out, "-- {adapter}\n{}\n\n", sql_on(i));
    }
    out.trim_end().to_string()
}

/// The fixture project at `relative` compiled on each adapter.
fn compiled_on_each(relative: &str, profile: &str) -> Vec<Vec<CompiledNode>> {
    let profiles = profiles(profile);
    ADAPTERS
        .iter()
        .map(|adapter| compile_project(&in_crate(relative), profiles.path(), adapter))
        .collect()
}

#[test]
fn cross_database_macros() {
    let dir = in_crate("tests/fixtures/cross_database");
    let compiled = compiled_on_each("tests/fixtures/cross_database", "kiln_test");
    insta::glob!(
        "../../tests/fixtures/cross_database",
        "models/*.sql",
        |path| {
            let file = relative_to(path, &dir);
            insta::assert_snapshot!(by_adapter(|i| {
                compiled[i]
                    .iter()
                    .find(|n| n.kind == NodeKind::Model && n.file == file)
                    .map(|n| n.sql.clone())
                    .expect("the model compiled")
            }));
        }
    );
}

#[test]
fn generic_tests() {
    let dir = in_crate("tests/fixtures/data_tests");
    let compiled = compiled_on_each("tests/fixtures/data_tests", "shop");
    insta::glob!(
        "../../tests/fixtures/data_tests",
        "models/**/*.yml",
        |path| {
            let file = relative_to(path, &dir);
            insta::assert_snapshot!(by_adapter(|i| {
                let tests: Vec<String> = compiled[i]
                    .iter()
                    .filter(|n| n.kind == NodeKind::Test && n.file == file)
                    .map(|n| format!("-- {}\n{}", n.name, n.sql))
                    .collect();
                assert!(!tests.is_empty(), "{} declares tests", file.display());
                tests.join("\n\n")
            }));
        }
    );
}

/// Each file of `snippets/` as the one model of a project of its own (with
/// `orders`, `select 1 as id`, to `ref`).
#[test]
fn snippets() {
    insta::glob!("snippets/*.sql", |path| {
        let project = tempfile::tempdir().expect("a temporary directory");
        let models = project.path().join("models");
        std::fs::create_dir_all(&models).expect("models/");
        std::fs::write(
            project.path().join("dbt_project.yml"),
            "name: snippets\nversion: '1.0.0'\nconfig-version: 2\nprofile: snippets\n",
        )
        .expect("dbt_project.yml");
        std::fs::write(models.join("orders.sql"), "select 1 as id\n").expect("orders.sql");
        let name = path.file_name().expect("a file");
        std::fs::copy(path, models.join(name)).expect("the snippet copied");
        let profiles = profiles("snippets");
        let file = std::path::Path::new("models").join(name);
        insta::assert_snapshot!(by_adapter(|i| {
            compile_project(project.path(), profiles.path(), ADAPTERS[i])
                .into_iter()
                .find(|n| n.file == file)
                .map(|n| n.sql)
                .expect("the snippet compiled")
        }));
    });
}
