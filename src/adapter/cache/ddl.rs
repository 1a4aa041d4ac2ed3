//! DDL tracking: what a statement kiln runs does to the tables and views the
//! relation cache knows (created, renamed, dropped), or that the cache cannot
//! follow it.
//!
//! The statement is read with sqlparser's tokenizer and parser for the
//! target's dialect, so that quoting, comments, dollar-quoted bodies and
//! `;` inside strings are read as the database reads them. Only the head of
//! each statement is parsed (`create or replace table <name>`, `alter view
//! <name> rename to <name>`, `drop table if exists <name>, <name> cascade`):
//! the query after `as` may be SQL of the database's own that sqlparser does
//! not know, and tells nothing about what appears or goes.
//!
//! Why the SQL and not the adapter calls the templates make
//! (`adapter.rename_relation`, `adapter.drop_relation`): those macros run a
//! statement like any other, and DDL also reaches the database through
//! `{% call statement %}` blocks in hooks, project macros and materializations
//! a project overrides. Reading every statement covers all of them in one
//! place; whatever it cannot read for certain, it says `Unknown`, and the
//! cache stops trusting what it knows.

use sqlparser::ast::ObjectName;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::adapter::{AdapterKind, CatalogRelation, RelationType};

/// What a statement does to the tables and views the cache knows.
#[derive(Debug, PartialEq)]
pub(super) enum Ddl {
    /// Nothing (a query, an insert, a `create schema`, an index ...).
    None,
    /// These, in order.
    Changes(Vec<Effect>),
    /// Something the cache cannot follow: it must be read again.
    Unknown,
}

/// One relation appearing, going, or moving.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Effect {
    Created(CatalogRelation),
    Dropped(CatalogRelation),
    /// `from` is now `to`; it keeps its kind whatever the statement calls it
    /// (PostgreSQL's `alter table` renames a view too).
    Renamed {
        from: CatalogRelation,
        to: CatalogRelation,
    },
}

/// What `sql` changes, when it ran to the end; names without a database are
/// in `default_database`.
pub(super) fn ddl_changes(sql: &str, kind: AdapterKind, default_database: &str) -> Ddl {
    let Some(statements) = statements(sql, kind) else {
        return Ddl::Unknown;
    };
    let mut effects = Vec::new();
    let mut transaction_control = false;
    for statement in statements {
        match head(&statement) {
            Some(Keyword::CREATE | Keyword::ALTER | Keyword::DROP) => {
                match statement_effects(statement, kind, default_database) {
                    Some(found) => effects.extend(found),
                    None => return Ddl::Unknown,
                }
            }
            Some(
                Keyword::BEGIN
                | Keyword::START
                | Keyword::COMMIT
                | Keyword::END
                | Keyword::ROLLBACK
                | Keyword::ABORT
                | Keyword::SAVEPOINT
                | Keyword::RELEASE,
            ) => transaction_control = true,
            _ => {}
        }
    }
    // A batch that commits or rolls back its own DDL changes the catalog in
    // ways the cache's record of the open transaction does not follow.
    match (effects.is_empty(), transaction_control) {
        (true, _) => Ddl::None,
        (false, true) => Ddl::Unknown,
        (false, false) => Ddl::Changes(effects),
    }
}

/// What `sql` may have changed when the database refused it: nothing when
/// it is one statement (a statement fails whole); when it is several, the
/// ones before the failure ran, and if any is DDL the cache cannot know
/// which did.
pub(super) fn ddl_after_failure(sql: &str, kind: AdapterKind, default_database: &str) -> Ddl {
    match statements(sql, kind) {
        Some(statements) if statements.len() <= 1 => Ddl::None,
        _ => match ddl_changes(sql, kind, default_database) {
            Ddl::None => Ddl::None,
            _ => Ddl::Unknown,
        },
    }
}

/// The statements of `sql` as tokens without whitespace and comments;
/// `None` when it cannot be read but may hold DDL.
fn statements(sql: &str, kind: AdapterKind) -> Option<Vec<Vec<Token>>> {
    // Every DDL statement holds one of these words; most SQL kiln runs
    // (queries, inserts, merges) holds none, and needs no tokenizing.
    let lower = sql.to_ascii_lowercase();
    if !["create", "alter", "drop"]
        .iter()
        .any(|w| lower.contains(w))
    {
        return Some(Vec::new());
    }
    let tokens = Tokenizer::new(kind.dialect(), sql).tokenize().ok()?;
    let mut statements = vec![Vec::new()];
    for token in tokens {
        match token {
            Token::Whitespace(_) | Token::EOF => {}
            Token::SemiColon => statements.push(Vec::new()),
            token => statements.last_mut().expect("one at least").push(token),
        }
    }
    statements.retain(|s| !s.is_empty());
    Some(statements)
}

/// The keyword a statement starts with.
fn head(statement: &[Token]) -> Option<Keyword> {
    match statement.first()? {
        Token::Word(word) if word.quote_style.is_none() => Some(word.keyword),
        _ => None,
    }
}

/// What one `create`, `alter` or `drop` statement does; `None` when the
/// cache cannot follow it.
fn statement_effects(
    statement: Vec<Token>,
    kind: AdapterKind,
    default_database: &str,
) -> Option<Vec<Effect>> {
    let mut parser = Parser::new(kind.dialect()).with_tokens(statement);
    let names = Names {
        kind,
        default_database,
    };
    match parser.next_token().token {
        Token::Word(w) if w.keyword == Keyword::CREATE => create(&mut parser, &names),
        Token::Word(w) if w.keyword == Keyword::ALTER => alter(&mut parser, &names),
        Token::Word(w) if w.keyword == Keyword::DROP => drop(&mut parser, &names),
        _ => None,
    }
}

/// `create [or replace] [temp] [unlogged] table|view [if not exists] <name> ...`.
fn create(parser: &mut Parser<'_>, names: &Names<'_>) -> Option<Vec<Effect>> {
    let _ = parser.parse_keywords(&[Keyword::OR, Keyword::REPLACE]);
    let _ = parser.parse_one_of_keywords(&[Keyword::GLOBAL, Keyword::LOCAL]);
    let temporary = parser
        .parse_one_of_keywords(&[Keyword::TEMP, Keyword::TEMPORARY])
        .is_some();
    // PostgreSQL's unlogged table is a table as any other.
    let _ = parser.parse_keyword(Keyword::UNLOGGED);
    let relation_type = match parser.parse_one_of_keywords(&[
        Keyword::TABLE,
        Keyword::VIEW,
        Keyword::SCHEMA,
        Keyword::INDEX,
        Keyword::UNIQUE,
        Keyword::SEQUENCE,
        Keyword::FUNCTION,
        Keyword::MACRO,
        Keyword::TYPE,
    ])? {
        Keyword::TABLE => RelationType::Table,
        Keyword::VIEW => RelationType::View,
        // No table or view appears.
        _ => return Some(Vec::new()),
    };
    if temporary {
        return Some(Vec::new()); // a temporary relation lives outside the schemas
    }
    let _ = parser.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let name = parser.parse_object_name(false).ok()?;
    Some(vec![Effect::Created(names.relation(&name, relation_type)?)])
}

/// `alter table|view [if exists] [only] <name>`, then `rename to <name>`,
/// `set schema <schema>`, or a change to its columns (nothing the cache holds).
fn alter(parser: &mut Parser<'_>, names: &Names<'_>) -> Option<Vec<Effect>> {
    let relation_type = match parser.parse_one_of_keywords(&[Keyword::TABLE, Keyword::VIEW])? {
        Keyword::VIEW => RelationType::View,
        _ => RelationType::Table,
    };
    let _ = parser.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
    let _ = parser.parse_keyword(Keyword::ONLY);
    let from = names.relation(&parser.parse_object_name(false).ok()?, relation_type)?;
    let to = if parser.parse_keywords(&[Keyword::RENAME, Keyword::TO]) {
        let new = parser.parse_object_name(false).ok()?;
        let [part] = new.0.as_slice() else {
            return None;
        };
        CatalogRelation {
            name: names.fold(part.as_ident()?),
            ..from.clone()
        }
    } else if parser.parse_keywords(&[Keyword::SET, Keyword::SCHEMA]) {
        let schema = parser.parse_identifier().ok()?;
        CatalogRelation {
            schema: names.fold(&schema),
            ..from.clone()
        }
    } else {
        // `rename [column] a to b`, `add column`, `alter column` ...
        return Some(Vec::new());
    };
    at_end(parser)?;
    Some(vec![Effect::Renamed { from, to }])
}

/// `drop table|view [if exists] <name>[, <name>...] [cascade|restrict]`.
fn drop(parser: &mut Parser<'_>, names: &Names<'_>) -> Option<Vec<Effect>> {
    let relation_type = match parser.parse_one_of_keywords(&[
        Keyword::TABLE,
        Keyword::VIEW,
        Keyword::INDEX,
        Keyword::FUNCTION,
        Keyword::MACRO,
        Keyword::SEQUENCE,
        Keyword::TYPE,
    ])? {
        Keyword::TABLE => RelationType::Table,
        Keyword::VIEW => RelationType::View,
        _ => return Some(Vec::new()),
    };
    let _ = parser.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
    let dropped = parser
        .parse_comma_separated(|p| p.parse_object_name(false))
        .ok()?;
    let cascade = parser.parse_keyword(Keyword::CASCADE);
    if !cascade {
        let _ = parser.parse_keyword(Keyword::RESTRICT);
    }
    at_end(parser)?;
    // PostgreSQL drops the views that read a relation along with it.
    if cascade && names.kind == AdapterKind::Postgres {
        return None;
    }
    dropped
        .iter()
        .map(|name| Some(Effect::Dropped(names.relation(name, relation_type)?)))
        .collect()
}

/// `Some` when nothing follows in the statement.
fn at_end(parser: &Parser<'_>) -> Option<()> {
    (parser.peek_token().token == Token::EOF).then_some(())
}

/// How the statement's names become the catalog's.
struct Names<'a> {
    kind: AdapterKind,
    default_database: &'a str,
}

impl Names<'_> {
    /// An identifier as the catalog stores it: quoted as written, unquoted
    /// folded as the database folds it.
    fn fold(&self, ident: &sqlparser::ast::Ident) -> String {
        match ident.quote_style {
            Some(_) => ident.value.clone(),
            None => self.kind.fold_unquoted(&ident.value),
        }
    }

    /// `database.schema.name` or `schema.name`; `None` when the schema is
    /// not named (the database's search path decides where it is).
    fn relation(&self, name: &ObjectName, kind: RelationType) -> Option<CatalogRelation> {
        let parts = name
            .0
            .iter()
            .map(|part| part.as_ident().map(|ident| self.fold(ident)))
            .collect::<Option<Vec<String>>>()?;
        let (database, schema, name) = match parts.as_slice() {
            [database, schema, name] => (database.clone(), schema.clone(), name.clone()),
            [schema, name] => (
                self.default_database.to_string(),
                schema.clone(),
                name.clone(),
            ),
            _ => return None,
        };
        Some(CatalogRelation {
            database,
            schema,
            name,
            kind,
        })
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
            Ddl::Changes(vec![Effect::Created(rel(
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
            Ddl::Changes(vec![Effect::Renamed {
                from: rel("db", "main", "v", RelationType::View),
                to: rel("db", "main", "v__dbt_backup", RelationType::View),
            }])
        );
        assert_eq!(
            ddl_changes(
                "drop view if exists \"db\".\"main\".\"v\" cascade",
                duck,
                ""
            ),
            Ddl::Changes(vec![Effect::Dropped(rel(
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
            Ddl::Changes(vec![Effect::Created(rel(
                "",
                "analytics",
                "orders",
                RelationType::View
            ))])
        );
        assert_eq!(
            ddl_changes("create view s.v as select 1", pg, "test"),
            Ddl::Changes(vec![Effect::Created(rel(
                "test",
                "s",
                "v",
                RelationType::View
            ))])
        );
        // DDL it cannot read to the end, or in a batch that commits itself.
        assert_eq!(
            ddl_changes("alter table s.t rename to u.v", pg, ""),
            Ddl::Unknown
        );
        assert_eq!(
            ddl_changes("begin; drop table s.t; commit", pg, ""),
            Ddl::Unknown
        );
        assert_eq!(ddl_changes("create table 'oops", pg, ""), Ddl::Unknown);
    }

    #[test]
    fn reads_names_and_clauses_as_the_dialect_does() {
        let (pg, duck) = (AdapterKind::Postgres, AdapterKind::DuckDb);
        let t = |db: &str, s: &str, n: &str| rel(db, s, n, RelationType::Table);
        let v = |db: &str, s: &str, n: &str| rel(db, s, n, RelationType::View);
        // Quoted names keep their case, dots and quotes; comments anywhere.
        assert_eq!(
            ddl_changes(
                "create /* c */ or replace table \"My.Db\".\"S\"\"x\" . \"T\" as select 1",
                pg,
                "d"
            ),
            Ddl::Changes(vec![Effect::Created(t("My.Db", "S\"x", "T"))])
        );
        // DuckDB keeps the case of an unquoted name.
        assert_eq!(
            ddl_changes("create view Main.V as select 1", duck, "memory"),
            Ddl::Changes(vec![Effect::Created(v("memory", "Main", "V"))])
        );
        assert_eq!(
            ddl_changes("create table if not exists s.t (a int)", pg, "d"),
            Ddl::Changes(vec![Effect::Created(t("d", "s", "t"))])
        );
        assert_eq!(
            ddl_changes("create unlogged table s.t as select 1", pg, "d"),
            Ddl::Changes(vec![Effect::Created(t("d", "s", "t"))])
        );
        // `if exists`, several names, `restrict`; `cascade` on DuckDB drops
        // nothing more.
        assert_eq!(
            ddl_changes("DROP TABLE IF EXISTS s.a, \"S\".\"B\" RESTRICT;", pg, "d"),
            Ddl::Changes(vec![
                Effect::Dropped(t("d", "s", "a")),
                Effect::Dropped(t("d", "S", "B")),
            ])
        );
        assert_eq!(
            ddl_changes("drop table if exists s.t cascade", duck, "m"),
            Ddl::Changes(vec![Effect::Dropped(t("m", "s", "t"))])
        );
        assert_eq!(
            ddl_changes("alter table if exists only s.t rename to t2", pg, "d"),
            Ddl::Changes(vec![Effect::Renamed {
                from: t("d", "s", "t"),
                to: t("d", "s", "t2"),
            }])
        );
        assert_eq!(
            ddl_changes("alter table s.t set schema archive", pg, "d"),
            Ddl::Changes(vec![Effect::Renamed {
                from: t("d", "s", "t"),
                to: t("d", "archive", "t"),
            }])
        );
        // Changes to columns change no relation.
        for sql in [
            "alter table s.t rename column a to b",
            "alter table s.t rename a to b",
            "alter table s.t add column c int",
            "create index i on s.t (a)",
            "create or replace function f() returns int as $$ drop table s.t; $$ language sql",
            "drop macro m",
        ] {
            assert_eq!(ddl_changes(sql, pg, "d"), Ddl::None, "{sql}");
        }
        // Words in strings and names are not statements.
        assert_eq!(
            ddl_changes(
                "select 'drop table s.t; create table s.u' as created_at from s.t",
                pg,
                "d"
            ),
            Ddl::None
        );
        // A batch of DDL is followed statement by statement.
        assert_eq!(
            ddl_changes(
                "create table a.b as select 1; drop view c.d; insert into a.b values (2)",
                duck,
                "m"
            ),
            Ddl::Changes(vec![
                Effect::Created(t("m", "a", "b")),
                Effect::Dropped(v("m", "c", "d")),
            ])
        );
        // Unqualified names stay unknown: the search path decides.
        assert_eq!(
            ddl_changes("create table t as select 1", duck, "m"),
            Ddl::Unknown
        );
    }

    #[test]
    fn a_failed_batch_may_have_run_in_part() {
        let duck = AdapterKind::DuckDb;
        assert_eq!(
            ddl_after_failure("create table s.t as select 1", duck, "m"),
            Ddl::None
        );
        assert_eq!(
            ddl_after_failure("create table s.t as select 1; select nope", duck, "m"),
            Ddl::Unknown
        );
        assert_eq!(
            ddl_after_failure("select 1; select nope", duck, "m"),
            Ddl::None
        );
    }
}
