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

    /// dbt-duckdb's `external_root`: the folder external models are written
    /// to when they name no `location` (the current one by default).
    pub fn external_root(&self) -> String {
        self.setting_str("external_root")
            .unwrap_or_else(|| ".".to_string())
    }

    /// Whether the target's database is there to be read without creating
    /// it, so that a command that only reads (`kiln lineage`, `kiln docs`)
    /// may connect: a DuckDB file that exists (opening one that does not
    /// would create it, and `:memory:` starts empty); a server's database,
    /// always (connecting creates nothing; whether it answers is for the
    /// connection to tell).
    pub fn database_exists(&self) -> bool {
        match self.adapter {
            AdapterKind::DuckDb => {
                let path = self.duckdb_path();
                path != ":memory:" && std::path::Path::new(&path).exists()
            }
            AdapterKind::Postgres => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(adapter: AdapterKind, path: Option<&str>) -> Target {
        Target {
            profile_name: "p".into(),
            name: "dev".into(),
            adapter,
            schema: "main".into(),
            database: "db".into(),
            threads: 1,
            settings: path
                .map(|p| ("path".to_string(), serde_json::Value::from(p)))
                .into_iter()
                .collect(),
            file: PathBuf::new(),
        }
    }

    #[test]
    fn a_duckdb_database_exists_when_its_file_does() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("dev.duckdb");
        let file_path = file.to_str().unwrap();
        assert!(!target(AdapterKind::DuckDb, Some(file_path)).database_exists());
        std::fs::write(&file, "").unwrap();
        assert!(target(AdapterKind::DuckDb, Some(file_path)).database_exists());
        assert!(!target(AdapterKind::DuckDb, Some(":memory:")).database_exists());
        assert!(!target(AdapterKind::DuckDb, None).database_exists());
        assert!(target(AdapterKind::Postgres, None).database_exists());
    }
}
