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

#[cfg(test)]
mod tests {
    use super::*;

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
