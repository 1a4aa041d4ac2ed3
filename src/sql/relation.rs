//! A relation in the database: `database.schema.identifier`, its type, and how
//! it renders as SQL on a given adapter.

use std::fmt;

pub use crate::adapter::RelationType;
use crate::adapter::kind::AdapterKind;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Relation {
    pub database: Option<String>,
    pub schema: Option<String>,
    pub identifier: Option<String>,
    pub kind: Option<RelationType>,
    pub adapter: AdapterKind,
    /// Which parts appear when rendered (dbt's `include()`).
    pub include: [bool; 3],
    /// Which parts are quoted (dbt's `quoting:`); unquoted parts are written
    /// as they are, and the database folds their case.
    pub quote: [bool; 3],
    /// `--empty`: a ref or source that reads no rows, rendered as
    /// `(select * from <name> where false limit 0)` as dbt renders it.
    pub empty: bool,
    /// A microbatch's window over a ref that has an `event_time`: the
    /// condition, rendered as `(select * from <name> where <condition>)`.
    pub filter: Option<String>,
    /// A source read from files (dbt-duckdb's `external_location`): what
    /// it renders as, in place of its name (`'data/orders.parquet'`).
    pub external: Option<String>,
}

impl Relation {
    pub fn new(
        adapter: AdapterKind,
        database: impl Into<String>,
        schema: impl Into<String>,
        identifier: impl Into<String>,
    ) -> Relation {
        Relation {
            database: Some(database.into()),
            schema: Some(schema.into()),
            identifier: Some(identifier.into()),
            kind: None,
            adapter,
            include: [true, true, true],
            quote: [true, true, true],
            empty: false,
            filter: None,
            external: None,
        }
    }

    /// The CTE an ephemeral model becomes: rendered as its bare name.
    pub fn cte(adapter: AdapterKind, name: &str) -> Relation {
        Relation {
            database: None,
            schema: None,
            identifier: Some(name.to_string()),
            kind: Some(RelationType::Cte),
            adapter,
            include: [false, false, true],
            quote: [false, false, false],
            empty: false,
            filter: None,
            external: None,
        }
    }

    /// The same relation with dbt's quote policy (database, schema, identifier).
    pub fn with_quoting(mut self, quote: [bool; 3]) -> Relation {
        self.quote = quote;
        self
    }

    pub fn with_type(mut self, kind: RelationType) -> Relation {
        self.kind = Some(kind);
        self
    }

    pub fn identifier(&self) -> &str {
        self.identifier.as_deref().unwrap_or_default()
    }

    /// The same relation under another identifier (`x__dbt_tmp`).
    pub fn with_suffix(&self, suffix: &str) -> Relation {
        let mut other = self.clone();
        other.identifier = Some(format!("{}{suffix}", self.identifier()));
        other
    }

    /// The same relation read as no rows (`--empty`).
    pub fn emptied(&self) -> Relation {
        let mut other = self.clone();
        other.empty = true;
        other
    }

    /// The same relation read through `condition` (a microbatch's window).
    pub fn filtered(&self, condition: String) -> Relation {
        let mut other = self.clone();
        other.filter = Some(condition);
        other
    }

    /// The quoted, dotted name; for a relation read as no rows (`--empty`),
    /// dbt's subquery of it.
    pub fn render(&self) -> String {
        if self.kind == Some(RelationType::Cte) {
            return self.identifier().to_string();
        }
        if let Some(condition) = &self.filter {
            let name = Relation {
                filter: None,
                ..self.clone()
            };
            let subquery = format!("(select * from {} where {condition})", name.render());
            return if self.adapter.requires_subquery_alias() {
                format!("{subquery} _dbt_et_filter_subq_{}", self.identifier())
            } else {
                subquery
            };
        }
        if self.empty {
            let name = Relation {
                empty: false,
                ..self.clone()
            };
            let subquery = format!("(select * from {} where false limit 0)", name.render());
            return if self.adapter.requires_subquery_alias() {
                format!("{subquery} _dbt_limit_subq_{}", self.identifier())
            } else {
                subquery
            };
        }
        if let Some(external) = &self.external {
            return external_read(external);
        }
        let parts = [&self.database, &self.schema, &self.identifier];
        let mut out = Vec::with_capacity(3);
        for ((part, included), quoted) in parts.iter().zip(self.include).zip(self.quote) {
            if let (Some(part), true) = (part, included) {
                out.push(if quoted {
                    self.adapter.quote(part)
                } else {
                    part.to_string()
                });
            }
        }
        out.join(".")
    }
}

/// A source's files as a relation reads them, as dbt-duckdb writes it: a
/// path (or glob) as a quoted string DuckDB reads by its extension, or, when
/// it is already an expression (`read_csv('x', delim=';')`) or quoted, as
/// written.
fn external_read(location: &str) -> String {
    if location.contains('(') || location.starts_with('\'') {
        location.to_string()
    } else {
        format!("'{}'", location.replace('\'', "''"))
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_quoted_three_part_name() {
        let r = Relation::new(AdapterKind::DuckDb, "shop", "main", "orders");
        assert_eq!(r.render(), r#""shop"."main"."orders""#);
        assert_eq!(r.with_suffix("__dbt_tmp").identifier(), "orders__dbt_tmp");
    }

    #[test]
    fn an_emptied_relation_is_dbts_subquery_of_no_rows() {
        let duck = Relation::new(AdapterKind::DuckDb, "shop", "main", "orders").emptied();
        assert_eq!(
            duck.render(),
            r#"(select * from "shop"."main"."orders" where false limit 0)"#
        );
        // PostgreSQL wants an alias on a subquery in FROM; dbt-postgres's.
        let pg = Relation::new(AdapterKind::Postgres, "db", "raw", "orders").emptied();
        assert_eq!(
            pg.render(),
            r#"(select * from "db"."raw"."orders" where false limit 0) _dbt_limit_subq_orders"#
        );
        assert_eq!(pg.identifier(), "orders");
    }

    #[test]
    fn a_quote_policy_leaves_parts_bare() {
        let r = Relation::new(AdapterKind::Postgres, "db", "raw", "Orders")
            .with_quoting([true, false, false]);
        assert_eq!(r.render(), r#""db".raw.Orders"#);
    }

    #[test]
    fn quotes_inside_names_are_doubled() {
        let r = Relation::new(AdapterKind::DuckDb, "d", "s", "we\"ird");
        assert_eq!(r.render(), r#""d"."s"."we""ird""#);
    }
}
