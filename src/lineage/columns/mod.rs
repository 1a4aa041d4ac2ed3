//! Column-level lineage and an unknown-column check over one compiled
//! `SELECT`, read with sqlparser.
//!
//! [`trace`] follows every output column of the final `SELECT` back to the
//! columns of the upstream relations named in `FROM` clauses (catalog
//! relations: models, seeds, sources), through CTEs, subqueries, joins,
//! stars and set operations. On the way it reports references to columns an
//! upstream relation certainly does not have.
//!
//! Two rules hold everywhere:
//!
//! - **Never guess.** A column is traced to an upstream only when the SQL and
//!   the [`Catalog`] determine it: an unqualified name in a join of several
//!   relations is traced when exactly one of them can have it, and a `*` over
//!   a relation whose columns are unknown yields no output columns.
//! - **Never a false error.** A reference is reported as unknown only when the
//!   relation it must come from has fully known columns and none of them
//!   matches, case-insensitively (DuckDB matches quoted names that way too).
//!
//! What the SQL is made of is described by a `Shape`: the ordered columns
//! of a relation, each with its upstream sources, plus "open" parts standing
//! for columns that are not known (a `*` over a relation missing from the
//! catalog, a table function, ...). A name that is not among the known columns
//! may still be traced through the one open part that can hold it.
//!
//! The modules, in the order a trace uses them:
//!
//! - here: the public types, the [`Catalog`] and [`trace`] (the names the
//!   database gives unaliased expressions are a fact of the adapter:
//!   [`AdapterKind::unnamed_column`]);
//! - `names`: identifiers as names, and the matching rules for them;
//! - `shape`: what a relation's columns are known to be;
//! - `scope`: the relations a `SELECT` reads, and the levels of nesting;
//! - `refs`: the visitor collecting the column references of an expression;
//! - `tracer`: the walk over a query, its set operations and `SELECT`s;
//! - `from`: `FROM` clauses, joins and table factors;
//! - `star`: `*` and its `EXCLUDE`/`REPLACE`/`ILIKE` options;
//! - `resolve`: expressions and name resolution, where unknown columns are
//!   flagged.

mod from;
mod names;
mod refs;
mod resolve;
mod scope;
mod shape;
mod star;
mod tracer;

#[cfg(test)]
mod tests;

use crate::adapter::AdapterKind;
#[cfg(test)]
use names::parts_equal;
use serde::Serialize;
use shape::Item;
use sqlparser::ast::Statement;
use sqlparser::dialect::Dialect;
use sqlparser::parser::{Parser, ParserError};
use tracer::Tracer;

/// How an output column derives from one upstream column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeKind {
    /// The value is the upstream value itself (`x`, `x as y`, through `*`).
    Passthrough,
    /// The value is computed from the upstream value (functions, casts,
    /// arithmetic, `case`, aggregates, window partitions and orders, ...).
    Transformed,
}

/// One upstream column an output column is computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnSource {
    /// The upstream relation's name parts as written in the `FROM` clause,
    /// without quotes (`["test", "main", "orders"]`, or `["orders"]`).
    pub relation: Vec<String>,
    /// The column as the upstream names it: the catalog's spelling when the
    /// catalog knows the relation, otherwise as referenced (lowercase unless
    /// it was quoted).
    pub column: String,
    pub kind: EdgeKind,
}

/// One column of the query's result and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputColumn {
    /// The alias, or the referenced column's name (lowercase unless quoted);
    /// for an unaliased expression, an approximation of the name the database
    /// gives it (PostgreSQL: the function name or `?column?`; otherwise the
    /// expression's text).
    pub name: String,
    /// Upstream columns in order of first appearance, without repeats. Empty
    /// for literals, `count(*)` and names that could not be traced.
    pub sources: Vec<ColumnSource>,
}

/// A reference to a column that the relation it refers to does not have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownColumn {
    /// The relation the reference resolves to: its name parts as written in
    /// `FROM` (a CTE's name for a CTE), or the alias of a subquery.
    pub relation: Vec<String>,
    /// The column name as written, without quotes.
    pub column: String,
    /// 1-based line of the start of the reference (`o.bogus` starts at `o`).
    pub line: u64,
    /// 1-based column of the start of the reference.
    pub column_number: u64,
}

/// The lineage of one model's query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ModelLineage {
    /// The output columns of the final `SELECT`, in order. A `*` over a
    /// relation whose columns are unknown contributes no columns.
    pub columns: Vec<OutputColumn>,
    /// References to columns that do not exist, in order of position.
    pub unknown: Vec<UnknownColumn>,
    /// Whether `columns` is every column of the result (false when a `*`
    /// over a relation of unknown columns adds some not known by name).
    pub complete: bool,
}

/// The SQL could not be parsed. The position is 1-based; 0 when sqlparser
/// gave none. sqlparser does not know every construct of every database, so a
/// failure here is not proof that the database would reject the SQL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParseFailure {
    /// sqlparser's message, without its `sql parser error:` prefix and
    /// position suffix.
    pub message: String,
    pub line: u64,
    pub column: u64,
}

impl std::fmt::Display for ParseFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{} (line {}, column {})",
                self.message, self.line, self.column
            )
        } else {
            f.write_str(&self.message)
        }
    }
}

/// What is known of upstream relations' columns.
pub trait Catalog {
    /// The columns of the relation named by `relation` (its name parts as
    /// written in `FROM`, without quotes: one, two or three parts), in order.
    /// `None` when the relation or its columns are unknown: then nothing about
    /// its columns is guessed or flagged.
    fn columns(&self, relation: &[String]) -> Option<Vec<String>>;

    /// Whether `columns` lists every column of the relation. A partial list
    /// (a properties file documents some columns) is used to trace the names
    /// it has, but a name not in it is never flagged.
    fn is_complete(&self, _relation: &[String]) -> bool {
        true
    }
}

impl<F> Catalog for F
where
    F: Fn(&[String]) -> Option<Vec<String>>,
{
    fn columns(&self, relation: &[String]) -> Option<Vec<String>> {
        self(relation)
    }
}

/// A [`Catalog`] over a list of fully named relations
/// (`["db", "schema", "table"]`). A name from the SQL matches an entry whose
/// trailing parts it equals, case-insensitively: `orders`, `main.orders` and
/// `"test"."main"."orders"` all match `["test", "main", "orders"]`. A name
/// that matches several entries is unknown, unless exactly one of them matches
/// with all its parts.
/// Only the tests build one: the project's lineage has its own catalog.
#[cfg(test)]
#[derive(Debug, Clone, Default)]
pub struct CatalogMap {
    relations: Vec<(Vec<String>, Vec<String>)>,
}

#[cfg(test)]
impl CatalogMap {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records (or replaces) the columns of a relation.
    pub fn insert(&mut self, relation: Vec<String>, columns: Vec<String>) {
        match self
            .relations
            .iter_mut()
            .find(|(name, _)| parts_equal(name, &relation))
        {
            Some(entry) => entry.1 = columns,
            None => self.relations.push((relation, columns)),
        }
    }
}

#[cfg(test)]
impl Catalog for CatalogMap {
    fn columns(&self, relation: &[String]) -> Option<Vec<String>> {
        if relation.is_empty() {
            return None;
        }
        let matching: Vec<&(Vec<String>, Vec<String>)> = self
            .relations
            .iter()
            .filter(|(name, _)| {
                name.len() >= relation.len()
                    && parts_equal(&name[name.len() - relation.len()..], relation)
            })
            .collect();
        match matching.as_slice() {
            [only] => Some(only.1.clone()),
            several => {
                let mut full = several
                    .iter()
                    .filter(|(name, _)| name.len() == relation.len());
                match (full.next(), full.next()) {
                    (Some(only), None) => Some(only.1.clone()),
                    _ => None,
                }
            }
        }
    }
}

/// Traces the output columns of `sql`, a single query (`SELECT`, possibly
/// with `WITH`, comments and a trailing `;`), to the columns of the upstream
/// relations that `catalog` describes, and lists references to columns that
/// certainly do not exist.
///
/// SQL that is not a single query (several statements, DDL) gives an empty
/// lineage. Unaliased expressions are named as the database whose SQL
/// `dialect` reads names them ([`AdapterKind::unnamed_column`]; as DuckDB
/// does for a dialect no adapter speaks).
pub fn trace(
    sql: &str,
    dialect: &dyn Dialect,
    catalog: &dyn Catalog,
) -> Result<ModelLineage, ParseFailure> {
    let kind = AdapterKind::of_dialect(dialect).unwrap_or(AdapterKind::DuckDb);
    let statements = Parser::parse_sql(dialect, sql).map_err(parse_failure)?;
    let query = match statements.as_slice() {
        [Statement::Query(query)] => query,
        _ => return Ok(ModelLineage::default()),
    };
    let mut tracer = Tracer {
        catalog,
        kind,
        unknown: Vec::new(),
    };
    let shape = tracer.query(query, &Vec::new(), None);
    let complete = !shape.items.iter().any(|item| matches!(item, Item::Open(_)));
    let columns = shape
        .items
        .into_iter()
        .filter_map(|item| match item {
            Item::Col(col) => Some(OutputColumn {
                name: col.name,
                sources: col.sources,
            }),
            Item::Open(_) => None,
        })
        .collect();
    let mut unknown = tracer.unknown;
    unknown.sort_by_key(|u| (u.line, u.column_number));
    unknown.dedup_by_key(|u| (u.line, u.column_number));
    Ok(ModelLineage {
        columns,
        unknown,
        complete,
    })
}

/// Splits sqlparser's "... at Line: X, Column: Y" into message and position.
fn parse_failure(error: ParserError) -> ParseFailure {
    let text = match error {
        ParserError::TokenizerError(text) | ParserError::ParserError(text) => text,
        ParserError::RecursionLimitExceeded => "recursion limit exceeded".to_string(),
    };
    if let Some(at) = text.rfind(" at Line: ") {
        let position = &text[at + " at Line: ".len()..];
        if let Some((line, column)) = position.split_once(", Column: ")
            && let (Ok(line), Ok(column)) = (line.trim().parse(), column.trim().parse())
        {
            return ParseFailure {
                message: text[..at].to_string(),
                line,
                column,
            };
        }
    }
    ParseFailure {
        message: text,
        line: 0,
        column: 0,
    }
}
