//! insta fixtures that run in-process, without a database (issue 19, item 7):
//! the SQL kiln's templates give for fixed inputs, and the compiled SQL of a
//! fixture project, each a snapshot in `snapshots/` here. A project is loaded,
//! parsed and compiled as `kiln compile` does, with no connection, so a
//! snapshot is what the SQL is before any database sees it (a macro that asks
//! the database, such as `dbt.date_spine`, takes its no-database answer).
//!
//! When a template changes on purpose, review the new SQL and accept it with
//! `INSTA_UPDATE=always cargo test --lib insta_tests` (or `cargo insta review`).

mod compiled;
mod templates;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::jinja::context::RunFlags;
use crate::project::node::NodeKind;
use crate::project::{LoadOptions, Project};

/// The databases the template snapshots are rendered for.
const ADAPTERS: [&str; 2] = ["duckdb", "postgres"];

/// A profiles.yml (in a directory of its own) whose profile `profile` has a
/// target for each of [`ADAPTERS`], with fixed names: relations render as
/// `"snap"."main".x` on DuckDB and `"test"."kiln".x` on PostgreSQL.
fn profiles(profile: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let text = format!(
        "{profile}:\n  target: duckdb\n  outputs:\n    duckdb:\n      type: duckdb\n      path: snap.duckdb\n      schema: main\n    postgres:\n      type: postgres\n      host: 127.0.0.1\n      port: 5432\n      user: postgres\n      password: ''\n      dbname: test\n      schema: kiln\n"
    );
    std::fs::write(dir.path().join("profiles.yml"), text).expect("profiles.yml written");
    dir
}

/// One compiled node: where it was declared and its SQL.
struct CompiledNode {
    name: String,
    /// The file of a model, or the properties file of a generic test.
    file: PathBuf,
    kind: NodeKind,
    sql: String,
}

/// Every model and test of the project at `dir` compiled for `target` of
/// `profiles`, in unique-id order. The project is compiled from a copy, so
/// that nothing (not even a parse's `target/partial_parse.json`) is written
/// into the repository.
fn compile_project(dir: &Path, profiles: &Path, target: &str) -> Vec<CompiledNode> {
    let copy = tempfile::tempdir().expect("a temporary directory");
    for entry in walkdir::WalkDir::new(dir) {
        let entry = entry.expect("the fixture can be walked");
        let relative = entry.path().strip_prefix(dir).expect("inside the fixture");
        if relative.starts_with("target") {
            continue;
        }
        let to = copy.path().join(relative);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).expect("a folder of the copy");
        } else {
            std::fs::copy(entry.path(), &to).expect("a file of the copy");
        }
    }
    let project = Project::load(&LoadOptions {
        project_dir: copy.path().to_path_buf(),
        profiles_dir: Some(profiles.to_path_buf()),
        target: Some(target.to_string()),
        vars: BTreeMap::new(),
    })
    .unwrap_or_else(|e| panic!("{} loads: {e}", dir.display()));
    let parsed =
        crate::parse::parse(project).unwrap_or_else(|e| panic!("{} parses: {e}", dir.display()));
    let graph = crate::graph::Graph::build(&parsed)
        .unwrap_or_else(|e| panic!("{} has a graph: {e}", dir.display()));
    let resolver =
        crate::compile::resolver(&parsed, graph.template_value.clone(), &BTreeMap::new());
    parsed
        .nodes
        .values()
        .filter(|node| matches!(node.node.kind, NodeKind::Model | NodeKind::Test))
        .map(|node| {
            let sql =
                crate::compile::compile_node(&parsed, &resolver, node, None, RunFlags::default())
                    .unwrap_or_else(|e| panic!("{} compiles: {e}", node.node.unique_id));
            CompiledNode {
                name: node.node.name.clone(),
                file: node.node.original_file_path.clone(),
                kind: node.node.kind,
                sql: sql.trim().to_string(),
            }
        })
        .collect()
}

/// `relative` (from the crate's root) as an absolute path.
fn in_crate(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// `path` relative to the project at `dir`.
fn relative_to(path: &Path, dir: &Path) -> PathBuf {
    let dir = dir.canonicalize().expect("the project exists");
    let path = path.canonicalize().expect("the file exists");
    path.strip_prefix(&dir)
        .expect("the file is inside the project")
        .to_path_buf()
}
