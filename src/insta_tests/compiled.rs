//! The compiled SQL of each model of `example_project/` on DuckDB: refs and
//! sources resolved to relations, the project's own macros expanded.

use super::{compile_project, in_crate, profiles, relative_to};
use crate::project::node::NodeKind;

#[test]
fn example_project_models() {
    let dir = in_crate("example_project");
    let profiles = profiles("shop");
    let compiled = compile_project(&dir, profiles.path(), "duckdb");
    insta::glob!("../../example_project", "models/**/*.sql", |path| {
        let file = relative_to(path, &dir);
        let model = compiled
            .iter()
            .find(|n| n.kind == NodeKind::Model && n.file == file)
            .expect("the model compiled");
        insta::assert_snapshot!(model.sql);
    });
}
