//! DDL tracking: what a statement kiln runs does to the tables and views the
//! relation cache knows (created, renamed, dropped), read from its SQL, or
//! that the cache cannot follow it.

use std::sync::LazyLock;

use regex::Regex;

use super::Change;
use crate::adapter::{AdapterKind, CatalogRelation, RelationType};

/// What a statement does to the tables and views the cache knows.
#[derive(Debug, PartialEq)]
pub(super) enum Ddl {
    /// Nothing (a query, an insert, a `create schema`, an index ...).
    None,
    Changes(Vec<Change>),
    /// Something the cache cannot follow: it must be read again.
    Unknown,
}

const IDENT: &str = r#"(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)"#;

static CREATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?is)^create\s+(?:or\s+replace\s+)?(temp\s+|temporary\s+)?(table|view)\s+(?:if\s+not\s+exists\s+)?({IDENT}(?:\s*\.\s*{IDENT}){{0,2}})"
    ))
    .unwrap()
});
static RENAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?is)^alter\s+(table|view)\s+(?:if\s+exists\s+)?({IDENT}(?:\s*\.\s*{IDENT}){{0,2}})\s+rename\s+to\s+({IDENT})\s*;?\s*$"
    ))
    .unwrap()
});
static DROP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?is)^drop\s+(table|view)\s+(?:if\s+exists\s+)?({IDENT}(?:\s*\.\s*{IDENT}){{0,2}})\s*(cascade|restrict)?\s*;?\s*$"
    ))
    .unwrap()
});
static PART: LazyLock<Regex> = LazyLock::new(|| Regex::new(IDENT).unwrap());

/// The statement with leading whitespace and comments removed.
fn strip_comments(mut sql: &str) -> &str {
    loop {
        sql = sql.trim_start();
        if let Some(rest) = sql.strip_prefix("--") {
            sql = rest.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(rest) = sql.strip_prefix("/*") {
            sql = rest.split_once("*/").map_or("", |(_, r)| r);
        } else {
            return sql;
        }
    }
}

/// An identifier as the catalog stores it: quoted as written, unquoted
/// folded to lower case by PostgreSQL and kept by DuckDB.
fn identifier(part: &str, kind: AdapterKind) -> String {
    match part.strip_prefix('"').and_then(|p| p.strip_suffix('"')) {
        Some(quoted) => quoted.replace("\"\"", "\""),
        None if kind == AdapterKind::Postgres => part.to_lowercase(),
        None => part.to_string(),
    }
}

/// `database.schema.name`, `schema.name`: the parts, or `None` when the
/// schema is not named (the database's search path decides).
fn qualified(name: &str, kind: AdapterKind) -> Option<(Option<String>, String, String)> {
    let parts: Vec<String> = PART
        .find_iter(name)
        .map(|m| identifier(m.as_str(), kind))
        .collect();
    match parts.as_slice() {
        [database, schema, name] => Some((Some(database.clone()), schema.clone(), name.clone())),
        [schema, name] => Some((None, schema.clone(), name.clone())),
        _ => None,
    }
}

fn relation(
    (database, schema, name): (Option<String>, String, String),
    kind: RelationType,
    default_database: &str,
) -> CatalogRelation {
    CatalogRelation {
        database: database.unwrap_or_else(|| default_database.to_string()),
        schema,
        name,
        kind,
    }
}

fn relation_type(word: &str) -> RelationType {
    if word.eq_ignore_ascii_case("view") {
        RelationType::View
    } else {
        RelationType::Table
    }
}

/// What `sql` changes; names without a database are in `default_database`.
pub(super) fn ddl_changes(sql: &str, kind: AdapterKind, default_database: &str) -> Ddl {
    let sql = strip_comments(sql);
    let lower = sql.to_lowercase();
    // Several statements in one: followed only when none is DDL.
    let body = lower.trim_end().trim_end_matches(';');
    if body.contains(';') {
        let ddl = ["create ", "alter ", "drop "];
        return match ddl.iter().any(|word| body.contains(word)) {
            true => Ddl::Unknown,
            false => Ddl::None,
        };
    }
    let head: String = sql.chars().take(7).collect::<String>().to_lowercase();
    if !(head.starts_with("create") || head.starts_with("alter") || head.starts_with("drop")) {
        return Ddl::None;
    }
    if let Some(c) = CREATE.captures(sql) {
        if c.get(1).is_some() {
            return Ddl::None; // a temporary table lives outside the schemas
        }
        return match qualified(&c[3], kind) {
            Some(name) => Ddl::Changes(vec![Change::Added(relation(
                name,
                relation_type(&c[2]),
                default_database,
            ))]),
            None => Ddl::Unknown,
        };
    }
    if let Some(c) = RENAME.captures(sql) {
        let kind_of = relation_type(&c[1]);
        return match qualified(&c[2], kind) {
            Some(from) => {
                let to = (from.0.clone(), from.1.clone(), identifier(&c[3], kind));
                Ddl::Changes(vec![
                    Change::Removed(relation(from, kind_of, default_database)),
                    Change::Added(relation(to, kind_of, default_database)),
                ])
            }
            None => Ddl::Unknown,
        };
    }
    if let Some(c) = DROP.captures(sql) {
        let cascade = c
            .get(3)
            .is_some_and(|m| m.as_str().eq_ignore_ascii_case("cascade"));
        // PostgreSQL drops the views that read a relation along with it.
        if cascade && kind == AdapterKind::Postgres {
            return Ddl::Unknown;
        }
        return match qualified(&c[2], kind) {
            Some(name) => Ddl::Changes(vec![Change::Removed(relation(
                name,
                relation_type(&c[1]),
                default_database,
            ))]),
            None => Ddl::Unknown,
        };
    }
    // create schema / index / function ..., alter table ... add column:
    // no table or view appears or goes. Anything else is not followed.
    let harmless = [
        "create schema",
        "create index",
        "create unique index",
        "create sequence",
        "create function",
        "create or replace function",
        "create macro",
        "create or replace macro",
        "create type",
        "alter table",
        "alter view",
        "drop index",
        "drop function",
        "drop macro",
        "drop sequence",
        "drop type",
    ];
    if harmless.iter().any(|h| lower.starts_with(h)) {
        Ddl::None
    } else {
        Ddl::Unknown
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn rel(db: &str, schema: &str, name: &str, kind: RelationType) -> CatalogRelation {
        CatalogRelation {
            database: db.into(),
            schema: schema.into(),
            name: name.into(),
            kind,
        }
    }

    #[test]
    fn follows_the_ddl_kiln_writes() {
        let duck = AdapterKind::DuckDb;
        assert_eq!(
            ddl_changes(
                "-- note\ncreate table \"db\".\"main\".\"orders__dbt_tmp\" as (\nselect 1\n)",
                duck,
                ""
            ),
            Ddl::Changes(vec![Change::Added(rel(
                "db",
                "main",
                "orders__dbt_tmp",
                RelationType::Table
            ))])
        );
        assert_eq!(
            ddl_changes(
                "alter view \"db\".\"main\".\"v\" rename to \"v__dbt_backup\"",
                duck,
                ""
            ),
            Ddl::Changes(vec![
                Change::Removed(rel("db", "main", "v", RelationType::View)),
                Change::Added(rel("db", "main", "v__dbt_backup", RelationType::View)),
            ])
        );
        assert_eq!(
            ddl_changes(
                "drop view if exists \"db\".\"main\".\"v\" cascade",
                duck,
                ""
            ),
            Ddl::Changes(vec![Change::Removed(rel(
                "db",
                "main",
                "v",
                RelationType::View
            ))])
        );
        assert_eq!(ddl_changes("select * from t", duck, ""), Ddl::None);
        assert_eq!(
            ddl_changes("insert into a.b values (1)", duck, ""),
            Ddl::None
        );
        assert_eq!(
            ddl_changes("create schema if not exists x", duck, ""),
            Ddl::None
        );
        assert_eq!(
            ddl_changes("create temporary table t as select 1", duck, ""),
            Ddl::None
        );
        assert_eq!(
            ddl_changes("create table a.b as select 1; drop table c.d", duck, ""),
            Ddl::Unknown
        );
        assert_eq!(ddl_changes("select 1; select 2;", duck, ""), Ddl::None);
    }

    #[test]
    fn what_it_cannot_follow_empties_it() {
        let pg = AdapterKind::Postgres;
        assert_eq!(ddl_changes("drop table t", pg, ""), Ddl::Unknown);
        assert_eq!(
            ddl_changes("drop table \"d\".\"s\".\"t\" cascade", pg, ""),
            Ddl::Unknown
        );
        assert_eq!(
            ddl_changes("alter schema s rename to r", pg, ""),
            Ddl::Unknown
        );
        assert_eq!(
            ddl_changes("create materialized view s.m as select 1", pg, ""),
            Ddl::Unknown
        );
        // Unquoted names are folded as PostgreSQL folds them.
        assert_eq!(
            ddl_changes("CREATE VIEW Analytics.Orders AS select 1", pg, ""),
            Ddl::Changes(vec![Change::Added(rel(
                "",
                "analytics",
                "orders",
                RelationType::View
            ))])
        );
        assert_eq!(
            ddl_changes("create view s.v as select 1", pg, "test"),
            Ddl::Changes(vec![Change::Added(rel(
                "test",
                "s",
                "v",
                RelationType::View
            ))])
        );
    }
}
