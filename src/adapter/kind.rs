//! The facts about each database kiln speaks to: its name in profiles, how it
//! quotes identifiers, its default schema. Behaviour lives in the `Adapter` trait.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdapterKind {
    DuckDb,
    Postgres,
}

impl AdapterKind {
    pub const ALL: [AdapterKind; 2] = [AdapterKind::DuckDb, AdapterKind::Postgres];

    /// The `type:` of a profile output.
    pub fn from_type(name: &str) -> Option<AdapterKind> {
        match name {
            "duckdb" => Some(AdapterKind::DuckDb),
            "postgres" | "postgresql" => Some(AdapterKind::Postgres),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            AdapterKind::DuckDb => "duckdb",
            AdapterKind::Postgres => "postgres",
        }
    }

    /// Quotes an identifier: double quotes, inner quotes doubled.
    pub fn quote(self, identifier: &str) -> String {
        format!("\"{}\"", identifier.replace('"', "\"\""))
    }

    /// The SQL dialect sqlparser reads this database's SQL in.
    pub fn dialect(self) -> &'static (dyn sqlparser::dialect::Dialect + Sync) {
        match self {
            AdapterKind::DuckDb => &sqlparser::dialect::DuckDbDialect {},
            AdapterKind::Postgres => &sqlparser::dialect::PostgreSqlDialect {},
        }
    }

    /// The longest identifier the database keeps, in characters as dbt
    /// counts them (PostgreSQL's NAMEDATALEN - 1 = 63; a longer name is cut
    /// to it in silence). `None`: no limit kiln needs to respect.
    pub fn max_identifier_length(self) -> Option<usize> {
        match self {
            AdapterKind::DuckDb => None,
            AdapterKind::Postgres => Some(63),
        }
    }

    /// The name the catalog holds for `identifier` written unquoted:
    /// PostgreSQL folds ASCII letters to lower case, DuckDB keeps the case
    /// it was written in (and matches either).
    pub fn fold_unquoted(self, identifier: &str) -> String {
        match self {
            AdapterKind::DuckDb => identifier.to_string(),
            AdapterKind::Postgres => identifier.to_ascii_lowercase(),
        }
    }

    /// Identifiers are stored lower-case unless quoted.
    pub fn default_schema(self) -> &'static str {
        match self {
            AdapterKind::DuckDb => "main",
            AdapterKind::Postgres => "public",
        }
    }
}

impl fmt::Display for AdapterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The DuckDB extensions compiled into kiln (with `core_functions`, which
/// DuckDB always has). kiln's DuckDB cannot download others: `icu` needs
/// DuckDB built with CMake from a duckdb-rs checkout (see the README).
pub const DUCKDB_EXTENSIONS: &[&str] = &["parquet", "json"];

/// What to say of a DuckDB extension this kiln has not compiled in.
pub fn missing_duckdb_extension(name: &str) -> String {
    let what = match name {
        "icu" => " (time zones: timestamptz functions, `at time zone`)",
        "httpfs" => " (reading over HTTP and S3)",
        _ => "",
    };
    format!(
        "DuckDB extension '{name}'{what} is not compiled into this kiln, and nothing can be downloaded at run time; compiled into this kiln: {}",
        DUCKDB_EXTENSIONS.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquoted_names_fold_as_each_database_folds_them() {
        assert_eq!(AdapterKind::Postgres.fold_unquoted("Col_A"), "col_a");
        assert_eq!(AdapterKind::DuckDb.fold_unquoted("Col_A"), "Col_A");
        assert_eq!(AdapterKind::Postgres.max_identifier_length(), Some(63));
    }

    #[test]
    fn each_adapter_parses_its_own_sql() {
        let parse = |kind: AdapterKind, sql: &str| {
            sqlparser::parser::Parser::parse_sql(kind.dialect(), sql).is_ok()
        };
        // DuckDB's `select * exclude (...)`; PostgreSQL's `::` casts and `distinct on`.
        assert!(parse(AdapterKind::DuckDb, "select * exclude (a) from t"));
        assert!(parse(
            AdapterKind::Postgres,
            "select distinct on (a) a::text from t"
        ));
    }
}
