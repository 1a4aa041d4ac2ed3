//! Where a parsed node's files go under `target/`: its compiled SQL and the
//! SQL it ran. Facts of the parse (the node's package and file), so every
//! stage after it can name them.

use std::path::PathBuf;

use super::{Parsed, ParsedNode};

impl Parsed {
    /// Where a node's compiled SQL goes: `target/compiled/<project>/<file>`,
    /// and for a generic test `target/compiled/<project>/<properties file>/<test>.sql`.
    pub fn compiled_path(&self, node: &ParsedNode) -> PathBuf {
        self.artifact_path(node, "compiled")
    }

    /// Where the SQL a node ran goes: `target/run/<project>/<file>`.
    pub fn run_path(&self, node: &ParsedNode) -> PathBuf {
        self.artifact_path(node, "run")
    }

    fn artifact_path(&self, node: &ParsedNode, folder: &str) -> PathBuf {
        // Only the file's plain components: a package outside the project (an
        // absolute install path, `local: ../x`) still writes under target/.
        let inside = crate::file_name::plain_components(&node.node.original_file_path);
        let path = self
            .project
            .target_dir()
            .join(folder)
            .join(&node.node.package)
            .join(inside);
        if let Some(unit) = &node.node.unit {
            // dbt: `<properties file>/<the model's folder>/<test name>.sql`.
            let folder = self
                .nodes
                .get(&unit.model_id)
                .and_then(|m| m.node.original_file_path.parent().map(|p| p.to_path_buf()))
                .unwrap_or_default();
            path.join(crate::file_name::plain_components(&folder)).join(
                crate::file_name::safe_file_name(&format!("{}.sql", node.node.name)),
            )
        } else if node.node.test.is_some() {
            // A generic test's file is named by the test (its `name:` included),
            // which must stay one file name under its properties file's folder.
            path.join(crate::file_name::safe_file_name(
                &node.node.path.to_string_lossy(),
            ))
        } else {
            path
        }
    }
}
