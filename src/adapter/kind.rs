//! The facts about each database kiln speaks to: its name in profiles, how it
//! quotes identifiers, its default schema, what it names a column nobody
//! named. Behaviour lives in the `Adapter` trait.

use std::fmt;

use sqlparser::ast::Expr;
use sqlparser::dialect::Dialect;

/// What a database calls a select-list expression written without an alias
/// that is not a column reference ([`AdapterKind::unnamed_column`]).
#[derive(Debug, Clone, PartialEq)]
pub enum UnnamedColumn<'e> {
    /// This name.
    Named(String),
    /// The name of the column this expression reads: PostgreSQL names
    /// `amount::int` after `amount`.
    ColumnOf(&'e Expr),
}

/// How a database treats a constraint in a table's DDL, as dbt classes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintSupport {
    Enforced,
    /// In the DDL, but not checked (dbt warns, `warn_unenforced`).
    NotEnforced,
    /// Left out of the DDL (dbt warns, `warn_unsupported`).
    NotSupported,
}

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

    /// A column type as a contract compares it, from what the database
    /// describes for a query: DuckDB's `DESCRIBE` type as it is
    /// (`INTEGER`, `DECIMAL(10,2)`); PostgreSQL's type name (`int4`) as the
    /// family dbt-postgres reports it in (psycopg2's: `INTEGER`, `STRING`,
    /// `DECIMAL`; its `STRING` shown as `TEXT`, as dbt's Column does), so
    /// `varchar(10)` and `text` are both `TEXT`.
    pub fn contract_type(self, described: &str) -> String {
        match self {
            AdapterKind::DuckDb => described.to_string(),
            AdapterKind::Postgres => match described {
                "bool" => "BOOLEAN",
                "bytea" => "BINARY",
                "char" | "name" | "text" | "bpchar" | "varchar" => "TEXT",
                "int8" => "LONGINTEGER",
                "int2" | "int4" => "INTEGER",
                "oid" => "ROWID",
                "json" => "JSON",
                "jsonb" => "JSONB",
                "float4" | "float8" => "FLOAT",
                "date" => "DATE",
                "time" | "timetz" => "TIME",
                "timestamp" => "DATETIME",
                "timestamptz" => "DATETIMETZ",
                "interval" => "INTERVAL",
                "numeric" => "DECIMAL",
                other => return other.to_ascii_uppercase(),
            }
            .to_string(),
        }
    }

    /// Whether the database enforces a constraint type (`not_null`,
    /// `unique`, `primary_key`, `foreign_key`, `check`) in a table's DDL:
    /// dbt-duckdb and dbt-postgres both enforce all five.
    pub fn constraint_support(self, constraint_type: &str) -> ConstraintSupport {
        match (self, constraint_type) {
            (
                AdapterKind::DuckDb | AdapterKind::Postgres,
                "not_null" | "unique" | "primary_key" | "foreign_key" | "check",
            ) => ConstraintSupport::Enforced,
            _ => ConstraintSupport::NotSupported,
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

    /// The adapter whose SQL `dialect` reads, if one does.
    pub fn of_dialect(dialect: &dyn Dialect) -> Option<AdapterKind> {
        AdapterKind::ALL
            .into_iter()
            .find(|kind| kind.dialect().dialect() == dialect.dialect())
    }

    /// The name the database gives the column of an unaliased select-list
    /// expression that is not a column reference (those are named after the
    /// column). DuckDB names it with the expression's text (`sum(amount)`);
    /// PostgreSQL after the function called (`sum`), the column cast
    /// (`amount::int` is `amount`), `case` for a `CASE`, and `?column?` for
    /// anything else.
    pub fn unnamed_column(self, expr: &Expr) -> UnnamedColumn<'_> {
        let named = |name: &str| UnnamedColumn::Named(name.to_string());
        match self {
            AdapterKind::DuckDb => UnnamedColumn::Named(expr.to_string()),
            AdapterKind::Postgres => match strip_nested(expr) {
                Expr::Function(function) => function
                    .name
                    .0
                    .last()
                    .and_then(|p| p.as_ident())
                    .map(|i| UnnamedColumn::Named(i.value.to_lowercase()))
                    .unwrap_or_else(|| named("?column?")),
                Expr::Cast { expr: inner, .. } => match strip_nested(inner) {
                    Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
                        UnnamedColumn::ColumnOf(inner)
                    }
                    _ => named("?column?"),
                },
                Expr::Case { .. } => named("case"),
                _ => named("?column?"),
            },
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

    /// Whether a subquery in FROM must have an alias (PostgreSQL before 16
    /// says so): `--empty`'s subquery of a ref then gets dbt's
    /// `_dbt_limit_subq_<name>`, as dbt-postgres writes it; DuckDB's has none.
    pub fn requires_subquery_alias(self) -> bool {
        match self {
            AdapterKind::DuckDb => false,
            AdapterKind::Postgres => true,
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

/// `expr` without the parentheses around it.
fn strip_nested(mut expr: &Expr) -> &Expr {
    while let Expr::Nested(inner) = expr {
        expr = inner;
    }
    expr
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

    /// The first select-list expression of `sql` as `kind` parses it.
    fn first_expr(kind: AdapterKind, sql: &str) -> Expr {
        use sqlparser::ast::{SelectItem, SetExpr, Statement};
        let statements = sqlparser::parser::Parser::parse_sql(kind.dialect(), sql).unwrap();
        let Statement::Query(query) = &statements[0] else {
            panic!("not a query: {sql}")
        };
        let SetExpr::Select(select) = query.body.as_ref() else {
            panic!("not a select: {sql}")
        };
        match &select.projection[0] {
            SelectItem::UnnamedExpr(expr) => expr.clone(),
            other => panic!("not an unnamed expression: {other}"),
        }
    }

    #[test]
    fn contract_types_are_named_as_dbt_names_them() {
        // dbt-postgres 1.9 on the same columns: psycopg2's type families,
        // STRING shown as TEXT; dbt-duckdb: DESCRIBE's type as it is.
        let pg = AdapterKind::Postgres;
        assert_eq!(pg.contract_type("varchar"), "TEXT");
        assert_eq!(pg.contract_type("text"), "TEXT");
        assert_eq!(pg.contract_type("int4"), "INTEGER");
        assert_eq!(pg.contract_type("int8"), "LONGINTEGER");
        assert_eq!(pg.contract_type("numeric"), "DECIMAL");
        assert_eq!(pg.contract_type("timestamptz"), "DATETIMETZ");
        assert_eq!(pg.contract_type("uuid"), "UUID");
        assert_eq!(
            AdapterKind::DuckDb.contract_type("DECIMAL(10,2)"),
            "DECIMAL(10,2)"
        );
        for kind in AdapterKind::ALL {
            assert_eq!(
                kind.constraint_support("check"),
                ConstraintSupport::Enforced
            );
            assert_eq!(
                kind.constraint_support("custom"),
                ConstraintSupport::NotSupported
            );
        }
    }

    #[test]
    fn each_database_names_an_unnamed_column_its_own_way() {
        let named = |kind: AdapterKind, sql: &str| match kind.unnamed_column(&first_expr(kind, sql))
        {
            UnnamedColumn::Named(name) => name,
            UnnamedColumn::ColumnOf(expr) => format!("column of {expr}"),
        };
        let (pg, duck) = (AdapterKind::Postgres, AdapterKind::DuckDb);
        assert_eq!(named(pg, "select Count(*) from t"), "count");
        assert_eq!(
            named(pg, "select (amount)::int from t"),
            "column of (amount)"
        );
        assert_eq!(named(pg, "select (1 + 1)::int from t"), "?column?");
        assert_eq!(named(pg, "select case when a then 1 end from t"), "case");
        assert_eq!(named(pg, "select 1 + 1"), "?column?");
        assert_eq!(named(duck, "select sum(amount) from t"), "sum(amount)");
        assert_eq!(named(duck, "select amount::int from t"), "amount::INT");
    }

    #[test]
    fn a_dialect_tells_its_adapter() {
        for kind in AdapterKind::ALL {
            assert_eq!(AdapterKind::of_dialect(kind.dialect()), Some(kind));
        }
        assert_eq!(
            AdapterKind::of_dialect(&sqlparser::dialect::GenericDialect {}),
            None
        );
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
