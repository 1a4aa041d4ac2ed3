//! The connection a run uses, as profiles.yml gives it (`crate::config::profiles`
//! reads it; every adapter connects from it).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::AdapterKind;

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
