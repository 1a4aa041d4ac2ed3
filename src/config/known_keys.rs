//! The keys dbt knows, for warning about the ones it does not: a typo such as
//! `materialzed` silently does nothing in dbt, and kiln says so, with the key
//! it probably meant. Unknown keys are warnings (K1003), never errors, as a
//! project may carry configs for an adapter or package kiln does not know.

use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::error::Location;

/// Node configs: dbt-core's, dbt-postgres' and dbt-duckdb's.
pub const CONFIG_KEYS: &[&str] = &[
    "access",
    "alias",
    "batch_size",
    "begin",
    "bind",
    "check_cols",
    "column_types",
    "concurrent_batches",
    "contract",
    "csv_read_options",
    "copy_grants",
    "database",
    "delimiter",
    "docs",
    "dbt_valid_to_current",
    "enabled",
    "error_if",
    "event_time",
    "external",
    "fail_calc",
    "format",
    "freshness",
    "full_refresh",
    "grants",
    "group",
    "group_by_columns",
    "hard_deletes",
    "incremental_predicates",
    "incremental_strategy",
    "json_read_options",
    "indexes",
    "invalidate_hard_deletes",
    "label",
    "limit",
    "loaded_at_field",
    "loaded_at_query",
    "location",
    "lookback",
    "materialized",
    "merge_exclude_columns",
    "merge_update_columns",
    "meta",
    "on_configuration_change",
    "on_schema_change",
    "options",
    "parquet_read_options",
    "partition_by",
    "packages",
    "persist_docs",
    "plugin",
    "post_hook",
    "pre_hook",
    "quote_columns",
    "quoting",
    "schema",
    "severity",
    "snapshot_meta_column_names",
    "sql_header",
    "store_failures",
    "store_failures_as",
    "strategy",
    "tags",
    "target_database",
    "target_schema",
    "unique_key",
    "unlogged",
    "updated_at",
    "warn_if",
    "where",
];

/// Keys of a model, seed or snapshot entry in a properties file.
pub const NODE_PROPERTY_KEYS: &[&str] = &[
    "name",
    "description",
    "config",
    "columns",
    "tests",
    "data_tests",
    "docs",
    "meta",
    "tags",
    "latest_version",
    "versions",
    "constraints",
    "access",
    "group",
    "deprecation_date",
    "time_spine",
    "quote_columns",
    "contract",
    "relation",
];

/// Keys of an `analyses:` entry (an analysis has no tests).
pub const ANALYSIS_PROPERTY_KEYS: &[&str] = &[
    "name",
    "description",
    "config",
    "columns",
    "docs",
    "meta",
    "tags",
    "group",
];

/// Keys of an `exposures:` entry.
pub const EXPOSURE_KEYS: &[&str] = &[
    "name",
    "label",
    "type",
    "maturity",
    "url",
    "description",
    "depends_on",
    "owner",
    "tags",
    "meta",
    "config",
];

/// Keys of a `metrics:` entry.
pub const METRIC_KEYS: &[&str] = &[
    "name",
    "label",
    "type",
    "type_params",
    "filter",
    "description",
    "time_granularity",
    "meta",
    "tags",
    "group",
    "config",
];

/// Keys of a `semantic_models:` entry.
pub const SEMANTIC_MODEL_KEYS: &[&str] = &[
    "name",
    "description",
    "label",
    "model",
    "defaults",
    "entities",
    "dimensions",
    "measures",
    "primary_entity",
    "meta",
    "group",
    "config",
];

/// Keys of a `saved_queries:` entry.
pub const SAVED_QUERY_KEYS: &[&str] = &[
    "name",
    "description",
    "label",
    "query_params",
    "exports",
    "tags",
    "meta",
    "group",
    "config",
];

/// Keys of a column entry.
pub const COLUMN_PROPERTY_KEYS: &[&str] = &[
    "name",
    "description",
    "data_type",
    "tests",
    "data_tests",
    "meta",
    "tags",
    "quote",
    "constraints",
    "granularity",
    "policy_tags",
    "config",
];

/// Keys of a source entry.
pub const SOURCE_PROPERTY_KEYS: &[&str] = &[
    "name",
    "description",
    "database",
    "schema",
    "loader",
    "loaded_at_field",
    "loaded_at_query",
    "tables",
    "freshness",
    "quoting",
    "tags",
    "meta",
    "config",
    "overrides",
    "tests",
    "data_tests",
];

/// Keys of a source table entry.
pub const SOURCE_TABLE_PROPERTY_KEYS: &[&str] = &[
    "name",
    "description",
    "identifier",
    "loaded_at_field",
    "loaded_at_query",
    "freshness",
    "columns",
    "quoting",
    "tags",
    "meta",
    "config",
    "external",
    "tests",
    "data_tests",
];

/// Top-level keys of a properties file.
pub const PROPERTIES_FILE_KEYS: &[&str] = &[
    "version",
    "models",
    "seeds",
    "sources",
    "snapshots",
    "macros",
    "exposures",
    "metrics",
    "semantic_models",
    "saved_queries",
    "unit_tests",
    "analyses",
    "groups",
];

/// Top-level keys of dbt_project.yml.
pub const PROJECT_KEYS: &[&str] = &[
    "name",
    "version",
    "config-version",
    "profile",
    "model-paths",
    "source-paths",
    "seed-paths",
    "data-paths",
    "test-paths",
    "analysis-paths",
    "macro-paths",
    "snapshot-paths",
    "docs-paths",
    "asset-paths",
    "function-paths",
    "target-path",
    "log-path",
    "packages-install-path",
    "clean-targets",
    "require-dbt-version",
    "quoting",
    "on-run-start",
    "on-run-end",
    "vars",
    "models",
    "seeds",
    "snapshots",
    "tests",
    "data_tests",
    "sources",
    "analyses",
    "metrics",
    "exposures",
    "semantic-models",
    "saved-queries",
    "unit_tests",
    "dispatch",
    "flags",
    "restrict-access",
    "query-comment",
    "functions",
];

/// A config key as dbt normalises it: `+pre-hook` and `pre_hook` are one key.
pub fn normalize_config_key(key: &str) -> String {
    key.trim_start_matches('+').replace('-', "_")
}

pub fn is_config_key(key: &str) -> bool {
    CONFIG_KEYS.contains(&normalize_config_key(key).as_str())
}

/// A warning for `key`, unknown where `known` are the keys allowed, found in
/// `what` (e.g. "config of model 'orders'") at `location`.
pub fn unknown_key(key: &str, what: &str, known: &[&str], location: Location) -> Diagnostic {
    let normalized = normalize_config_key(key);
    let help = did_you_mean(&normalized, known.iter().copied())
        .or_else(|| did_you_mean(key, known.iter().copied()));
    Diagnostic::warning(
        Code::UnknownKey,
        format!("unknown key '{key}' in {what}; it is ignored"),
    )
    .at(location)
    .with_label("unknown key")
    .with_help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyphens_and_plus_signs_are_the_same_key() {
        assert!(is_config_key("+pre-hook"));
        assert!(is_config_key("materialized"));
        assert!(!is_config_key("+materialzed"));
    }

    #[test]
    fn typo_gets_a_suggestion() {
        let d = unknown_key(
            "+materialzed",
            "models: in dbt_project.yml",
            CONFIG_KEYS,
            Location::file("x"),
        );
        assert_eq!(d.help.as_deref(), Some("did you mean 'materialized'?"));
        assert_eq!(d.code, Code::UnknownKey);
    }
}
