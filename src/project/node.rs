//! The nodes of a project: models, seeds and data tests (and later
//! snapshots), the sources they read, and what properties files say about them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::NodeConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeKind {
    Model,
    Seed,
    Snapshot,
    Test,
    /// A unit test (dbt 1.8): a model's SQL run on given rows.
    UnitTest,
    /// A file of `analyses/`: compiled, never run.
    Analysis,
    /// A dashboard, notebook or application that reads the project.
    Exposure,
    /// The semantic layer's nodes (dbt 1.6): recorded, built by nothing.
    SemanticModel,
    Metric,
    SavedQuery,
}

impl NodeKind {
    /// A data test or a unit test: a node that checks, and builds nothing.
    pub fn is_test(self) -> bool {
        matches!(self, NodeKind::Test | NodeKind::UnitTest)
    }

    /// dbt's `resource_type`.
    pub fn resource_type(self) -> &'static str {
        match self {
            NodeKind::Model => "model",
            NodeKind::Seed => "seed",
            NodeKind::Snapshot => "snapshot",
            NodeKind::Test => "test",
            NodeKind::UnitTest => "unit_test",
            NodeKind::Analysis => "analysis",
            NodeKind::Exposure => "exposure",
            NodeKind::SemanticModel => "semantic_model",
            NodeKind::Metric => "metric",
            NodeKind::SavedQuery => "saved_query",
        }
    }

    /// A node declared in a properties file that stands for something
    /// outside the warehouse's relations: an exposure or a semantic-layer
    /// node. It has no SQL, no relation and no line in `compile`.
    pub fn is_declared_resource(self) -> bool {
        matches!(
            self,
            NodeKind::Exposure | NodeKind::SemanticModel | NodeKind::Metric | NodeKind::SavedQuery
        )
    }

    /// Whether this node has SQL that `compile` writes out.
    pub fn has_sql(self) -> bool {
        !matches!(self, NodeKind::Seed) && !self.is_declared_resource()
    }

    /// Whether this node has a relation in the warehouse (a model's may
    /// still be ephemeral).
    pub fn builds_relation(self) -> bool {
        matches!(self, NodeKind::Model | NodeKind::Seed | NodeKind::Snapshot)
    }
}

/// A documented column of a node.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnInfo {
    pub name: String,
    pub description: String,
    pub data_type: Option<String>,
    /// Its `constraints:` as written (`type`, `expression`, `to`, ...).
    pub constraints: Vec<serde_json::Value>,
    /// `quote: true`: the name is quoted in SQL kiln writes (tests).
    pub quote: bool,
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
    /// Model-level `constraints:` from its properties file.
    pub constraints: Vec<serde_json::Value>,
    /// The properties file that described this node.
    pub patch_path: Option<PathBuf>,
    /// For a generic data test: which test, on what, with which arguments.
    pub test: Option<TestMetadata>,
    /// For a unit test: the model it tests, its given and expected rows.
    pub unit: Option<Box<crate::project::unit_tests::UnitTestSpec>>,
    /// For a version of a versioned model (dbt 1.5): which, and the latest.
    pub version: Option<Box<ModelVersion>>,
    /// For an exposure or a semantic-layer node: what its entry declares.
    pub resource: Option<Box<crate::project::resources::DeclaredResource>>,
}

/// A version of a model: `versions: - v: 2` in its properties.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelVersion {
    /// `v`, as text (`2`, `1.1`).
    pub v: String,
    /// The model's `latest_version` (else its highest `v`).
    pub latest: String,
    /// `deprecation_date`, the version's own else the model's.
    pub deprecation_date: Option<String>,
}

impl ModelVersion {
    /// `latest`, `prerelease` (above the latest) or `old` (below it), as
    /// the `version:` selector names them.
    pub fn kind(&self) -> &'static str {
        match compare_versions(&self.v, &self.latest) {
            std::cmp::Ordering::Equal => "latest",
            std::cmp::Ordering::Greater => "prerelease",
            std::cmp::Ordering::Less => "old",
        }
    }
}

/// Versions compared as numbers where they are, else as text.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
        _ => a.cmp(b),
    }
}

impl Node {
    /// The names a `ref()` finds this node by: `name`, and for a version
    /// `name.v<v>` (`ref('m', v=2)`), the bare name only for the latest.
    pub fn ref_names(&self) -> Vec<String> {
        match &self.version {
            None => vec![self.name.clone()],
            Some(version) => {
                let mut names = vec![format!("{}.v{}", self.name, version.v)];
                if version.kind() == "latest" {
                    names.push(self.name.clone());
                }
                names
            }
        }
    }
}

impl Node {
    /// Whether this is an ephemeral model: never built, inlined as a CTE.
    pub fn is_ephemeral(&self) -> bool {
        self.kind == NodeKind::Model && self.config.materialized() == "ephemeral"
    }

    /// The sha256 of the node's code (of a seed's file under `root`), as
    /// dbt's manifest checksum, which `state:modified` compares. A seed
    /// file over 1 MiB is not read for it: its checksum is its path, as
    /// dbt's (`name` "path", see [`Node::checksum_name`]).
    pub fn checksum(&self, root: &Path) -> String {
        match self.kind {
            NodeKind::Seed if self.is_large_seed(root) => {
                self.original_file_path.display().to_string()
            }
            NodeKind::Seed => std::fs::read(root.join(&self.original_file_path))
                .map(|bytes| crate::digest::sha256_hex(&bytes))
                .unwrap_or_default(),
            _ => crate::digest::sha256_hex(self.raw_code.as_bytes()),
        }
    }

    /// The manifest's name of [`Node::checksum`]: `sha256`, or `path`.
    pub fn checksum_name(&self, root: &Path) -> &'static str {
        if self.kind == NodeKind::Seed && self.is_large_seed(root) {
            "path"
        } else {
            "sha256"
        }
    }

    /// dbt's `MAXIMUM_SEED_SIZE`: a seed file over 1 MiB is not hashed.
    fn is_large_seed(&self, root: &Path) -> bool {
        std::fs::metadata(root.join(&self.original_file_path)).is_ok_and(|m| m.len() > 1024 * 1024)
    }
}

/// A generic data test: the test macro and the arguments it is called with.
#[derive(Debug, Clone)]
pub struct TestMetadata {
    /// `not_null`, `accepted_values`, a custom test's name.
    pub name: String,
    pub namespace: Option<String>,
    /// The macro's keyword arguments as dbt records them: `model` is
    /// `{{ get_where_subquery(ref('orders')) }}`, strings such as
    /// `ref('customers')` are rendered when the test is.
    pub kwargs: BTreeMap<String, serde_json::Value>,
    pub column_name: Option<String>,
    /// The model, seed or source the test is declared on.
    pub attached_to: String,
    /// Where the test is declared in its properties file.
    pub location: crate::error::Location,
    /// The configs its properties-file entry sets, which win over those the
    /// test's macro sets with `config()`.
    pub config: BTreeMap<String, serde_json::Value>,
}

impl TestMetadata {
    /// The macro as dbt writes its call in the test's `raw_code`:
    /// `test_<name>`, or `<namespace>.test_<name>` (`dbt_utils.test_at_least_one`).
    pub fn macro_call(&self) -> String {
        match &self.namespace {
            Some(namespace) => format!("{namespace}.test_{}", self.name),
            None => format!("test_{}", self.name),
        }
    }

    /// The macro kiln calls for it: [`TestMetadata::macro_call`], without
    /// the namespace when it is the root project's own (whose macros are
    /// looked up by their bare names).
    pub fn macro_name(&self, root_project: &str) -> String {
        match &self.namespace {
            Some(namespace) if namespace != root_project => self.macro_call(),
            _ => format!("test_{}", self.name),
        }
    }
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
    /// The column `kiln source freshness` reads, and its criteria.
    pub loaded_at_field: Option<String>,
    pub freshness: Option<serde_json::Value>,
    /// Where the table is declared.
    pub location: crate::error::Location,
    /// Which of database, schema and identifier are quoted.
    pub quoting: [bool; 3],
    /// The columns its properties file declares.
    pub columns: Vec<ColumnInfo>,
    /// The column a microbatch model's window filters (`config: event_time`).
    pub event_time: Option<String>,
    /// The files it is read from (dbt-duckdb's `external_location`, its
    /// placeholders filled in), in place of a relation.
    pub external_location: Option<String>,
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
    /// A snapshot declared in YAML: the relation it snapshots, as written
    /// (`ref('orders')`, `source('raw', 'orders')`).
    pub relation: Option<String>,
    /// Model-level `constraints:` as written.
    pub constraints: Vec<serde_json::Value>,
    /// `versions:` of a model, and its `latest_version`.
    pub versions: Vec<VersionPatch>,
    pub latest_version: Option<String>,
    pub deprecation_date: Option<String>,
}

/// One `versions:` entry of a model's properties.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VersionPatch {
    pub v: String,
    /// The file's name without `.sql` (default `<model>_v<v>`).
    pub defined_in: Option<String>,
    pub config: BTreeMap<String, serde_json::Value>,
    /// `include` of the model's columns: `None` for all.
    pub include: Option<Vec<String>>,
    pub exclude: Vec<String>,
    /// The version's own columns.
    pub columns: Vec<ColumnInfo>,
    pub deprecation_date: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::TestMetadata;

    fn test(namespace: Option<&str>) -> TestMetadata {
        TestMetadata {
            name: "at_least_one".into(),
            namespace: namespace.map(str::to_string),
            kwargs: Default::default(),
            column_name: None,
            attached_to: "model.shop.orders".into(),
            location: Default::default(),
            config: Default::default(),
        }
    }

    #[test]
    fn a_test_names_its_macro_as_dbt_writes_it_and_as_kiln_looks_it_up() {
        let packaged = test(Some("dbt_utils"));
        assert_eq!(packaged.macro_call(), "dbt_utils.test_at_least_one");
        assert_eq!(packaged.macro_name("shop"), "dbt_utils.test_at_least_one");
        // The root project's own namespace: dbt's raw_code keeps it, the
        // lookup does not need it.
        let own = test(Some("shop"));
        assert_eq!(own.macro_call(), "shop.test_at_least_one");
        assert_eq!(own.macro_name("shop"), "test_at_least_one");
        assert_eq!(test(None).macro_name("shop"), "test_at_least_one");
    }
}
