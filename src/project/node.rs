//! The nodes of a project: models, seeds (and later snapshots and tests),
//! the sources they read, and what properties files say about them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::config::NodeConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeKind {
    Model,
    Seed,
}

impl NodeKind {
    /// dbt's `resource_type`.
    pub fn resource_type(self) -> &'static str {
        match self {
            NodeKind::Model => "model",
            NodeKind::Seed => "seed",
        }
    }
}

/// A documented column of a node.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnInfo {
    pub name: String,
    pub description: String,
    pub data_type: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Node {
    /// `model.<project>.<name>`, `seed.<project>.<name>`.
    pub unique_id: String,
    pub kind: NodeKind,
    pub name: String,
    pub package: String,
    /// The file, relative to the project directory (dbt's `original_file_path`).
    pub original_file_path: PathBuf,
    /// The file, relative to its resource folder (dbt's `path`).
    pub path: PathBuf,
    /// `[project, folder, ..., name]`.
    pub fqn: Vec<String>,
    /// The file's text (the Jinja SQL of a model; empty for seeds).
    pub raw_code: String,
    /// Config from dbt_project.yml and properties files; `{{ config() }}` is
    /// merged in when the node is parsed.
    pub config: NodeConfig,
    pub description: String,
    pub columns: Vec<ColumnInfo>,
    /// The properties file that described this node.
    pub patch_path: Option<PathBuf>,
}

/// One table of a declared source.
#[derive(Debug, Clone)]
pub struct SourceTable {
    /// `source.<project>.<source>.<table>`.
    pub unique_id: String,
    pub source_name: String,
    pub name: String,
    pub database: String,
    pub schema: String,
    pub identifier: String,
    pub description: String,
    pub package: String,
    /// The properties file that declares it.
    pub original_file_path: PathBuf,
}

/// A file of macros.
#[derive(Debug, Clone)]
pub struct MacroFile {
    /// Relative to the project directory.
    pub path: PathBuf,
    pub source: String,
    pub package: String,
}

/// What a properties file says about one model or seed.
#[derive(Debug, Clone, Default)]
pub struct Patch {
    pub description: String,
    pub config: BTreeMap<String, serde_json::Value>,
    pub columns: Vec<ColumnInfo>,
    /// The properties file, relative to the project.
    pub file: PathBuf,
    /// Where the entry's `name:` is, as the user sees it.
    pub location: crate::error::Location,
}
