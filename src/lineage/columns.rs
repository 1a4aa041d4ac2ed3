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

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::rc::Rc;

use serde::Serialize;
use sqlparser::ast::{
    AccessExpr, Expr, FunctionArg, FunctionArguments, Ident, JoinConstraint, JoinOperator,
    NamedWindowDefinition, NamedWindowExpr, ObjectName, OrderBy, OrderByKind, Query, Select,
    SelectFlavor, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, SetOperator, SetQuantifier,
    Statement, TableAlias, TableFactor, TableWithJoins, Visit, Visitor, WildcardAdditionalOptions,
    WindowType,
};
use sqlparser::dialect::{Dialect, PostgreSqlDialect};
use sqlparser::parser::{Parser, ParserError};

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
#[derive(Debug, Clone, Default)]
pub struct CatalogMap {
    relations: Vec<(Vec<String>, Vec<String>)>,
}

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
/// lineage.
pub fn trace(
    sql: &str,
    dialect: &dyn Dialect,
    catalog: &dyn Catalog,
) -> Result<ModelLineage, ParseFailure> {
    let statements = Parser::parse_sql(dialect, sql).map_err(parse_failure)?;
    let query = match statements.as_slice() {
        [Statement::Query(query)] => query,
        _ => return Ok(ModelLineage::default()),
    };
    let mut tracer = Tracer {
        catalog,
        postgres: dialect.is::<PostgreSqlDialect>(),
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

// ---------------------------------------------------------------------------
// Names

/// An identifier as a name: unquoted identifiers fold to lowercase.
fn norm(ident: &Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

/// Name equality: exact, or case-insensitive (never fails a name the database
/// might accept).
fn same(a: &str, b: &str) -> bool {
    a == b
        || a.eq_ignore_ascii_case(b)
        || (!(a.is_ascii() && b.is_ascii()) && a.to_lowercase() == b.to_lowercase())
}

fn parts_equal(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
}

/// Whether one of two multi-part names is the other's tail.
fn tail_match(a: &[String], b: &[String]) -> bool {
    let n = a.len().min(b.len());
    n > 0 && parts_equal(&a[a.len() - n..], &b[b.len() - n..])
}

/// Names that read like columns but are values or system columns.
fn is_niladic(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "current_date",
        "current_time",
        "current_timestamp",
        "localtime",
        "localtimestamp",
        "now",
        "today",
        "true",
        "false",
        "null",
        "current_user",
        "session_user",
        "user",
        "current_role",
        "current_schema",
        "current_catalog",
        "current_database",
        "rowid",
        "ctid",
        "oid",
        "xmin",
        "xmax",
        "cmin",
        "cmax",
        "tableoid",
    ];
    let lower = name.to_lowercase();
    NAMES.contains(&lower.as_str())
}

/// `ILIKE` pattern match (`%` any run, `_` one character), case-insensitive.
fn ilike(pattern: &str, text: &str) -> bool {
    fn go(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('%', rest)) => (0..=t.len()).any(|i| go(rest, &t[i..])),
            Some(('_', rest)) => !t.is_empty() && go(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && go(rest, &t[1..]),
        }
    }
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    go(&p, &t)
}

/// Adds `extra` to `into`, keeping one entry per upstream column; an entry
/// seen both passed through and transformed counts as transformed.
fn merge_sources(into: &mut Vec<ColumnSource>, extra: impl IntoIterator<Item = ColumnSource>) {
    for source in extra {
        match into
            .iter_mut()
            .find(|s| parts_equal(&s.relation, &source.relation) && same(&s.column, &source.column))
        {
            Some(existing) => {
                if existing.kind != source.kind {
                    existing.kind = EdgeKind::Transformed;
                }
            }
            None => into.push(source),
        }
    }
}

fn transformed(mut sources: Vec<ColumnSource>) -> Vec<ColumnSource> {
    for source in &mut sources {
        source.kind = EdgeKind::Transformed;
    }
    sources
}

// ---------------------------------------------------------------------------
// Shapes: what a relation's columns are known to be

#[derive(Debug, Clone, Default)]
struct Shape {
    items: Vec<Item>,
}

#[derive(Debug, Clone)]
enum Item {
    Col(Col),
    Open(Open),
}

#[derive(Debug, Clone)]
struct Col {
    name: String,
    sources: Vec<ColumnSource>,
    /// The name may not be the database's: an unaliased expression's, or
    /// one of several columns of the same name (which DuckDB renames).
    guessed: bool,
}

impl Col {
    fn new(name: String, sources: Vec<ColumnSource>) -> Self {
        Col {
            name,
            sources,
            guessed: false,
        }
    }
}

/// Columns that are not known by name.
#[derive(Debug, Clone)]
struct Open {
    /// All columns of this catalog relation (as written in `FROM`), whose
    /// columns the catalog does not know; `None`: nothing is known.
    origin: Option<Vec<String>>,
    /// Names taken out (`* exclude (...)`), or given elsewhere in the shape.
    except: Vec<String>,
}

enum Lookup {
    /// One of the known columns.
    Known(Vec<ColumnSource>),
    /// Not among the known columns, so from the one open part that can have it.
    Deduced(Vec<ColumnSource>),
    /// Certainly not a column: the columns are fully known.
    Missing,
    /// Can't tell.
    Unknown,
}

impl Shape {
    fn opaque() -> Self {
        Shape {
            items: vec![Item::Open(Open {
                origin: None,
                except: Vec::new(),
            })],
        }
    }

    fn cols(&self) -> impl Iterator<Item = &Col> {
        self.items.iter().filter_map(|item| match item {
            Item::Col(col) => Some(col),
            Item::Open(_) => None,
        })
    }

    fn lookup(&self, name: &str) -> Lookup {
        let exact = self.cols().find(|c| c.name == name);
        if let Some(col) = exact.or_else(|| self.cols().find(|c| same(&c.name, name))) {
            return Lookup::Known(col.sources.clone());
        }
        if !self.items.iter().any(|item| matches!(item, Item::Open(_))) {
            return if self.cols().any(|c| c.guessed) {
                Lookup::Unknown
            } else {
                Lookup::Missing
            };
        }
        // Not flagged even when every open part excludes the name: only
        // fully known columns are proof.
        let mut open = self.items.iter().filter_map(|item| match item {
            Item::Open(open) if !open.except.iter().any(|e| same(e, name)) => Some(open),
            _ => None,
        });
        match (open.next(), open.next()) {
            (None, _) => Lookup::Unknown,
            (Some(open), None) => match &open.origin {
                Some(relation) => Lookup::Deduced(vec![ColumnSource {
                    relation: relation.clone(),
                    column: name.to_string(),
                    kind: EdgeKind::Passthrough,
                }]),
                None => Lookup::Unknown,
            },
            _ => Lookup::Unknown,
        }
    }

    /// Applies a column alias list (`t(a, b)`): positional renames.
    fn renamed(self, alias: Option<&TableAlias>) -> Self {
        let names: Vec<String> = match alias {
            Some(alias) if !alias.columns.is_empty() => {
                alias.columns.iter().map(|c| norm(&c.name)).collect()
            }
            _ => return self,
        };
        let mut names = names.into_iter();
        let mut items = Vec::new();
        let mut rest = self.items.into_iter();
        for item in rest.by_ref() {
            match item {
                Item::Col(mut col) => {
                    if let Some(name) = names.next() {
                        col.name = name;
                        col.guessed = false;
                    }
                    items.push(Item::Col(col));
                }
                Item::Open(_) => {
                    // The columns from here on are unknown: the remaining
                    // names are columns, but their sources are not known.
                    items.extend(
                        names
                            .by_ref()
                            .map(|name| Item::Col(Col::new(name, Vec::new()))),
                    );
                    items.extend(Shape::opaque().items);
                    break;
                }
            }
        }
        Shape { items }
    }

    /// A relation whose columns the catalog knows.
    fn known(relation: &[String], columns: Vec<String>) -> Self {
        Shape {
            items: columns
                .into_iter()
                .map(|column| {
                    let source = ColumnSource {
                        relation: relation.to_vec(),
                        column: column.clone(),
                        kind: EdgeKind::Passthrough,
                    };
                    Item::Col(Col::new(column, vec![source]))
                })
                .collect(),
        }
    }

    /// A catalog relation whose columns are unknown.
    fn unknown_relation(relation: &[String]) -> Self {
        Shape {
            items: vec![Item::Open(Open {
                origin: Some(relation.to_vec()),
                except: Vec::new(),
            })],
        }
    }

    /// Set operations: by position, or by name (`union by name`). Only UNION
    /// takes values from the right side; all sides are traced either way.
    fn combine(left: Shape, right: Shape, union: bool, by_name: bool) -> Shape {
        let mut items = Vec::new();
        if by_name {
            if left.items.iter().any(|i| matches!(i, Item::Open(_)))
                || right.items.iter().any(|i| matches!(i, Item::Open(_)))
            {
                return Shape::opaque();
            }
            for col in left.cols() {
                let mut col = col.clone();
                if union && let Some(other) = right.cols().find(|c| same(&c.name, &col.name)) {
                    merge_sources(&mut col.sources, other.sources.clone());
                }
                items.push(Item::Col(col));
            }
            if union {
                for col in right.cols() {
                    if !left.cols().any(|c| same(&c.name, &col.name)) {
                        items.push(Item::Col(col.clone()));
                    }
                }
            }
            return Shape { items };
        }
        let complete = left.items.len() == right.items.len();
        for (l, r) in left.items.into_iter().zip(right.items) {
            match (l, r) {
                (Item::Col(mut l), Item::Col(r)) => {
                    if union {
                        merge_sources(&mut l.sources, r.sources);
                    }
                    items.push(Item::Col(l));
                }
                _ => {
                    items.extend(Shape::opaque().items);
                    return Shape { items };
                }
            }
        }
        if !complete {
            items.extend(Shape::opaque().items);
        }
        Shape { items }
    }
}

// ---------------------------------------------------------------------------
// Scopes: the relations a SELECT reads

#[derive(Debug, Clone)]
struct Entry {
    alias: Option<String>,
    /// The relation's name parts as written (catalog relation or CTE); empty
    /// for subqueries and table functions.
    table: Vec<String>,
    shape: Rc<Shape>,
    /// Part of `*` (not the right side of a semi or anti join).
    in_star: bool,
}

impl Entry {
    fn label(&self) -> Vec<String> {
        if !self.table.is_empty() {
            self.table.clone()
        } else {
            self.alias.iter().cloned().collect()
        }
    }

    /// The qualifier certainly names this entry: its alias, or the trailing
    /// parts of its (unaliased) name.
    fn matches_qualifier(&self, qualifier: &[String]) -> bool {
        match &self.alias {
            Some(alias) => qualifier.len() == 1 && same(alias, &qualifier[0]),
            None => qualifier.len() <= self.table.len() && tail_match(&self.table, qualifier),
        }
    }

    /// The qualifier may name this entry (the table name of an aliased
    /// entry, or a longer name than the one written in `FROM`): good enough
    /// for lineage, not for an error.
    fn may_match_qualifier(&self, qualifier: &[String]) -> bool {
        tail_match(&self.table, qualifier)
    }
}

#[derive(Debug, Clone, Default)]
struct Scope {
    entries: Vec<Entry>,
    /// Columns joined with `USING`: one column of several relations.
    using: Vec<String>,
    natural: bool,
}

enum Found {
    /// The entry, and whether the qualifier certainly names it.
    One(usize, bool),
    Several,
    None,
}

impl Scope {
    fn find(&self, qualifier: &[String]) -> Found {
        for (matcher, certain) in [
            (
                Entry::matches_qualifier as fn(&Entry, &[String]) -> bool,
                true,
            ),
            (Entry::may_match_qualifier, false),
        ] {
            let mut hits = self
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| matcher(e, qualifier))
                .map(|(i, _)| i);
            match (hits.next(), hits.next()) {
                (Some(i), None) => return Found::One(i, certain),
                (Some(_), Some(_)) => return Found::Several,
                _ => {}
            }
        }
        Found::None
    }
}

type Ctes = Vec<(String, Rc<Shape>)>;

/// Where names in an expression are resolved: one SELECT's scope, and the
/// enclosing ones for correlated references.
struct Level<'a> {
    scope: &'a Scope,
    /// Select-list aliases defined so far, with their sources.
    aliases: &'a [(String, Vec<ColumnSource>)],
    /// All select-list aliases (never flagged wherever they are used).
    alias_names: &'a [String],
    windows: &'a [NamedWindowDefinition],
    ctes: &'a Ctes,
    parent: Option<&'a Level<'a>>,
}

impl<'a> Level<'a> {
    fn bare(scope: &'a Scope, ctes: &'a Ctes, parent: Option<&'a Level<'a>>) -> Self {
        Level {
            scope,
            aliases: &[],
            alias_names: &[],
            windows: &[],
            ctes,
            parent,
        }
    }
}

// ---------------------------------------------------------------------------
// Collecting the column references of an expression

/// The column references of one expression, not descending into subqueries
/// (collected whole), lambda parameters, struct field names or argument names.
#[derive(Default)]
struct Refs {
    columns: Vec<Vec<Ident>>,
    subqueries: Vec<Query>,
    windows: Vec<String>,
    /// A DuckDB `COLUMNS(...)` star expression.
    columns_star: bool,
    query_depth: usize,
    skip: HashSet<*const Expr>,
    skip_depth: usize,
    lambdas: Vec<Vec<String>>,
}

impl Refs {
    fn of(expr: &Expr) -> Refs {
        let mut refs = Refs::default();
        let _ = expr.visit(&mut refs);
        refs
    }

    fn is_lambda_param(&self, ident: &Ident) -> bool {
        let name = norm(ident);
        self.lambdas.iter().flatten().any(|p| same(p, &name))
    }
}

impl Visitor for Refs {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if self.query_depth == 0 && self.skip_depth == 0 {
            self.subqueries.push(query.clone());
        }
        self.query_depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        self.query_depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if self.query_depth > 0 {
            return ControlFlow::Continue(());
        }
        if self.skip.contains(&(expr as *const Expr)) {
            self.skip_depth += 1;
        }
        if self.skip_depth > 0 {
            return ControlFlow::Continue(());
        }
        match expr {
            Expr::Identifier(ident) if !self.is_lambda_param(ident) => {
                self.columns.push(vec![ident.clone()]);
            }
            Expr::CompoundIdentifier(idents)
                if idents.first().is_some_and(|i| !self.is_lambda_param(i)) =>
            {
                self.columns.push(idents.clone());
            }
            Expr::CompoundFieldAccess { access_chain, .. } => {
                for access in access_chain {
                    if let AccessExpr::Dot(field) = access {
                        self.skip.insert(field as *const Expr);
                    }
                }
            }
            Expr::Lambda(lambda) => {
                self.lambdas
                    .push(lambda.params.iter().map(|p| norm(&p.name)).collect());
            }
            Expr::Function(function) => {
                if let FunctionArguments::List(list) = &function.args {
                    for arg in &list.args {
                        if let FunctionArg::ExprNamed { name, .. } = arg {
                            self.skip.insert(name as *const Expr);
                        }
                    }
                }
                match &function.over {
                    Some(WindowType::NamedWindow(name)) => self.windows.push(norm(name)),
                    Some(WindowType::WindowSpec(spec)) => {
                        if let Some(name) = &spec.window_name {
                            self.windows.push(norm(name));
                        }
                    }
                    None => {}
                }
                if function
                    .name
                    .0
                    .last()
                    .and_then(|p| p.as_ident())
                    .is_some_and(|i| i.value.eq_ignore_ascii_case("columns"))
                {
                    self.columns_star = true;
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if self.query_depth > 0 {
            return ControlFlow::Continue(());
        }
        if self.skip_depth == 0 && matches!(expr, Expr::Lambda(_)) {
            self.lambdas.pop();
        }
        if self.skip.contains(&(expr as *const Expr)) {
            self.skip_depth -= 1;
        }
        ControlFlow::Continue(())
    }
}

fn strip_nested(mut expr: &Expr) -> &Expr {
    while let Expr::Nested(inner) = expr {
        expr = inner;
    }
    expr
}

// ---------------------------------------------------------------------------
// The tracer

struct Tracer<'c> {
    catalog: &'c dyn Catalog,
    postgres: bool,
    unknown: Vec<UnknownColumn>,
}

/// A resolved column reference.
struct Resolved {
    sources: Vec<ColumnSource>,
    /// The reference is the column itself (not a struct field or whole row).
    exact: bool,
}

impl Tracer<'_> {
    fn query(&mut self, query: &Query, ctes: &Ctes, outer: Option<&Level>) -> Shape {
        let mut local;
        let ctes = match &query.with {
            Some(with) => {
                local = ctes.clone();
                for cte in &with.cte_tables {
                    let name = norm(&cte.alias.name);
                    if with.recursive {
                        local.push((name.clone(), Rc::new(Shape::opaque())));
                    }
                    let shape = self
                        .query(&cte.query, &local, outer)
                        .renamed(Some(&cte.alias));
                    if with.recursive {
                        local.pop();
                    }
                    local.push((name, Rc::new(shape)));
                }
                &local
            }
            None => ctes,
        };
        self.set_expr(&query.body, ctes, outer, query.order_by.as_ref())
    }

    fn set_expr(
        &mut self,
        body: &SetExpr,
        ctes: &Ctes,
        outer: Option<&Level>,
        order_by: Option<&OrderBy>,
    ) -> Shape {
        match body {
            SetExpr::Select(select) => self.select(select, ctes, outer, order_by),
            SetExpr::Query(query) => self.query(query, ctes, outer),
            SetExpr::SetOperation {
                left,
                op,
                set_quantifier,
                right,
            } => {
                let left = self.set_expr(left, ctes, outer, None);
                let right = self.set_expr(right, ctes, outer, None);
                let by_name = matches!(
                    set_quantifier,
                    SetQuantifier::ByName
                        | SetQuantifier::AllByName
                        | SetQuantifier::DistinctByName
                );
                Shape::combine(left, right, matches!(op, SetOperator::Union), by_name)
            }
            _ => Shape::opaque(),
        }
    }

    fn select(
        &mut self,
        select: &Select,
        ctes: &Ctes,
        outer: Option<&Level>,
        order_by: Option<&OrderBy>,
    ) -> Shape {
        let mut scope = self.from(&select.from, ctes, outer);
        if !select.lateral_views.is_empty() {
            scope.entries.push(opaque_entry(None));
        }
        let alias_names: Vec<String> = select
            .projection
            .iter()
            .flat_map(|item| match item {
                SelectItem::ExprWithAlias { alias, .. } => vec![norm(alias)],
                SelectItem::ExprWithAliases { aliases, .. } => aliases.iter().map(norm).collect(),
                _ => Vec::new(),
            })
            .collect();
        let mut aliases: Vec<(String, Vec<ColumnSource>)> = Vec::new();
        let mut items: Vec<Item> = Vec::new();
        if select.projection.is_empty() && matches!(select.flavor, SelectFlavor::FromFirstNoSelect)
        {
            items.extend(self.star(&scope, None));
        }
        for item in &select.projection {
            let level = Level {
                scope: &scope,
                aliases: &aliases,
                alias_names: &alias_names,
                windows: &select.named_window,
                ctes,
                parent: outer,
            };
            match item {
                SelectItem::UnnamedExpr(expr) => {
                    let (sources, star) = self.expr(expr, &level);
                    if star {
                        items.extend(Shape::opaque().items);
                    } else {
                        let bare = matches!(
                            strip_nested(expr),
                            Expr::Identifier(_) | Expr::CompoundIdentifier(_)
                        );
                        items.push(Item::Col(Col {
                            name: self.expr_name(expr),
                            sources,
                            guessed: !bare,
                        }));
                    }
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    let (sources, _) = self.expr(expr, &level);
                    let name = norm(alias);
                    aliases.push((name.clone(), sources.clone()));
                    items.push(Item::Col(Col::new(name, sources)));
                }
                SelectItem::ExprWithAliases {
                    expr,
                    aliases: names,
                } => {
                    let (sources, _) = self.expr(expr, &level);
                    for alias in names {
                        let name = norm(alias);
                        aliases.push((name.clone(), sources.clone()));
                        items.push(Item::Col(Col::new(name, sources.clone())));
                    }
                }
                SelectItem::Wildcard(options) => {
                    let expanded = self.star(&scope, None);
                    items.extend(self.star_options(expanded, options, &level));
                }
                SelectItem::QualifiedWildcard(kind, options) => {
                    let expanded = match kind {
                        SelectItemQualifiedWildcardKind::ObjectName(name) => {
                            match object_name(name).map(|q| scope.find(&q)) {
                                Some(Found::One(index, _)) => self.star(&scope, Some(index)),
                                _ => Shape::opaque().items,
                            }
                        }
                        SelectItemQualifiedWildcardKind::Expr(_) => Shape::opaque().items,
                    };
                    items.extend(self.star_options(expanded, options, &level));
                }
            }
        }
        if let Some(exclude) = &select.exclude {
            items = exclude_items(items, &exclude_names(exclude));
        }
        mark_duplicates(&mut items);

        // The other clauses: checked, not traced.
        let level = Level {
            scope: &scope,
            aliases: &aliases,
            alias_names: &alias_names,
            windows: &select.named_window,
            ctes,
            parent: outer,
        };
        let mut checked: Vec<&Expr> = Vec::new();
        checked.extend(select.prewhere.as_ref());
        checked.extend(select.selection.as_ref());
        checked.extend(select.having.as_ref());
        checked.extend(select.qualify.as_ref());
        if let sqlparser::ast::GroupByExpr::Expressions(exprs, _) = &select.group_by {
            checked.extend(exprs);
        }
        if let Some(sqlparser::ast::Distinct::On(exprs)) = &select.distinct {
            checked.extend(exprs);
        }
        checked.extend(&select.cluster_by);
        checked.extend(&select.distribute_by);
        checked.extend(select.sort_by.iter().map(|o| &o.expr));
        for NamedWindowDefinition(_, window) in &select.named_window {
            if let NamedWindowExpr::WindowSpec(spec) = window {
                checked.extend(&spec.partition_by);
                checked.extend(spec.order_by.iter().map(|o| &o.expr));
            }
        }
        if let Some(OrderBy {
            kind: OrderByKind::Expressions(exprs),
            ..
        }) = order_by
        {
            checked.extend(exprs.iter().map(|o| &o.expr));
        }
        for expr in checked {
            self.expr(expr, &level);
        }
        Shape { items }
    }

    /// The relations of a FROM clause, in order.
    fn from(&mut self, from: &[TableWithJoins], ctes: &Ctes, outer: Option<&Level>) -> Scope {
        let mut scope = Scope::default();
        for table in from {
            self.table_with_joins(table, &mut scope, ctes, outer);
        }
        scope
    }

    fn table_with_joins(
        &mut self,
        table: &TableWithJoins,
        scope: &mut Scope,
        ctes: &Ctes,
        outer: Option<&Level>,
    ) {
        self.factor(&table.relation, scope, ctes, outer);
        for join in &table.joins {
            self.factor(&join.relation, scope, ctes, outer);
            let (constraint, condition) = match &join.join_operator {
                JoinOperator::Join(c)
                | JoinOperator::Inner(c)
                | JoinOperator::Left(c)
                | JoinOperator::LeftOuter(c)
                | JoinOperator::Right(c)
                | JoinOperator::RightOuter(c)
                | JoinOperator::FullOuter(c)
                | JoinOperator::CrossJoin(c)
                | JoinOperator::RightSemi(c)
                | JoinOperator::RightAnti(c)
                | JoinOperator::StraightJoin(c) => (Some(c), None),
                JoinOperator::Semi(c)
                | JoinOperator::LeftSemi(c)
                | JoinOperator::Anti(c)
                | JoinOperator::LeftAnti(c) => {
                    if let Some(last) = scope.entries.last_mut() {
                        last.in_star = false;
                    }
                    (Some(c), None)
                }
                JoinOperator::AsOf {
                    match_condition,
                    constraint,
                } => (Some(constraint), Some(match_condition)),
                _ => (None, None),
            };
            if let Some(condition) = condition {
                let level = Level::bare(scope, ctes, outer);
                self.expr(condition, &level);
            }
            match constraint {
                Some(JoinConstraint::On(condition)) => {
                    let level = Level::bare(scope, ctes, outer);
                    self.expr(condition, &level);
                }
                Some(JoinConstraint::Using(names)) => {
                    scope.using.extend(
                        names
                            .iter()
                            .filter_map(|n| n.0.last().and_then(|p| p.as_ident()).map(norm)),
                    );
                }
                Some(JoinConstraint::Natural) => scope.natural = true,
                Some(JoinConstraint::None) | None => {}
            }
        }
    }

    fn factor(
        &mut self,
        factor: &TableFactor,
        scope: &mut Scope,
        ctes: &Ctes,
        outer: Option<&Level>,
    ) {
        let entry = match factor {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                let parts = object_name(name);
                match parts {
                    Some(parts) if args.is_none() => {
                        let cte = match parts.as_slice() {
                            [single] => ctes.iter().rev().find(|(n, _)| same(n, single)),
                            _ => None,
                        };
                        let shape = match cte {
                            Some((_, shape)) => match alias {
                                Some(a) if !a.columns.is_empty() => {
                                    Rc::new((**shape).clone().renamed(Some(a)))
                                }
                                _ => Rc::clone(shape),
                            },
                            None => {
                                let shape = match self.catalog.columns(&parts) {
                                    Some(columns) if self.catalog.is_complete(&parts) => {
                                        Shape::known(&parts, columns)
                                    }
                                    Some(columns) => {
                                        let mut shape = Shape::known(&parts, columns.clone());
                                        shape.items.push(Item::Open(Open {
                                            origin: Some(parts.clone()),
                                            except: columns,
                                        }));
                                        shape
                                    }
                                    None => Shape::unknown_relation(&parts),
                                };
                                Rc::new(shape.renamed(alias.as_ref()))
                            }
                        };
                        Entry {
                            alias: alias.as_ref().map(|a| norm(&a.name)),
                            table: parts,
                            shape,
                            in_star: true,
                        }
                    }
                    _ => opaque_entry(alias.as_ref()),
                }
            }
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                // DuckDB reads FROM subqueries as lateral when they refer to
                // the relations before them: those are the outer scope.
                let before = scope.clone();
                let level = Level::bare(&before, ctes, outer);
                let shape = self.query(subquery, ctes, Some(&level));
                Entry {
                    alias: alias.as_ref().map(|a| norm(&a.name)),
                    table: Vec::new(),
                    shape: Rc::new(shape.renamed(alias.as_ref())),
                    in_star: true,
                }
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                let mut inner = Scope::default();
                self.table_with_joins(table_with_joins, &mut inner, ctes, outer);
                match alias {
                    None => {
                        scope.entries.extend(inner.entries);
                        scope.using.extend(inner.using);
                        scope.natural |= inner.natural;
                        return;
                    }
                    Some(alias) => {
                        let shape = Shape {
                            items: self.star(&inner, None),
                        };
                        Entry {
                            alias: Some(norm(&alias.name)),
                            table: Vec::new(),
                            shape: Rc::new(shape.renamed(Some(alias))),
                            in_star: true,
                        }
                    }
                }
            }
            other => opaque_entry(factor_alias(other)),
        };
        scope.entries.push(entry);
    }

    /// `*` over the whole scope (`None`) or one entry: the entries' columns,
    /// a `USING` (or natural join) column once.
    fn star(&self, scope: &Scope, only: Option<usize>) -> Vec<Item> {
        let mut items = Vec::new();
        let mut seen_shared: Vec<String> = Vec::new();
        for (index, entry) in scope.entries.iter().enumerate() {
            match only {
                Some(only) if only != index => continue,
                None if !entry.in_star => continue,
                _ => {}
            }
            for item in &entry.shape.items {
                if let (Item::Col(col), None) = (item, only) {
                    let shared = scope.natural || scope.using.iter().any(|u| same(u, &col.name));
                    if shared {
                        if seen_shared.iter().any(|s| same(s, &col.name)) {
                            continue;
                        }
                        seen_shared.push(col.name.clone());
                    }
                }
                items.push(item.clone());
            }
        }
        items
    }

    /// `exclude`/`except`, `replace`, `rename` and `ilike` after a star.
    fn star_options(
        &mut self,
        mut items: Vec<Item>,
        options: &WildcardAdditionalOptions,
        level: &Level,
    ) -> Vec<Item> {
        let mut excluded: Vec<String> = Vec::new();
        if let Some(exclude) = &options.opt_exclude {
            excluded.extend(exclude_names(exclude));
        }
        if let Some(except) = &options.opt_except {
            excluded.push(norm(&except.first_element));
            excluded.extend(except.additional_elements.iter().map(norm));
        }
        items = exclude_items(items, &excluded);
        if let Some(replace) = &options.opt_replace {
            for element in &replace.items {
                let (sources, _) = self.expr(&element.expr, level);
                let name = norm(&element.column_name);
                set_or_insert(&mut items, &name, sources);
            }
        }
        if let Some(rename) = &options.opt_rename {
            let pairs: Vec<_> = match rename {
                sqlparser::ast::RenameSelectItem::Single(one) => vec![one],
                sqlparser::ast::RenameSelectItem::Multiple(many) => many.iter().collect(),
            };
            for pair in pairs {
                let from = norm(&pair.ident);
                let to = norm(&pair.alias);
                let shape = Shape {
                    items: items.clone(),
                };
                let sources = match shape.lookup(&from) {
                    Lookup::Known(s) | Lookup::Deduced(s) => s,
                    Lookup::Missing | Lookup::Unknown => Vec::new(),
                };
                let mut renamed = false;
                for item in &mut items {
                    if let Item::Col(col) = item
                        && !renamed
                        && same(&col.name, &from)
                    {
                        col.name = to.clone();
                        renamed = true;
                    }
                }
                if !renamed {
                    items = exclude_items(items, std::slice::from_ref(&from));
                    set_or_insert(&mut items, &to, sources);
                }
            }
        }
        if let Some(pattern) = &options.opt_ilike {
            items = items
                .into_iter()
                .filter_map(|item| match item {
                    Item::Col(col) => ilike(&pattern.pattern, &col.name).then_some(Item::Col(col)),
                    Item::Open(open) => Some(Item::Open(Open {
                        origin: None,
                        except: open.except,
                    })),
                })
                .collect();
        }
        items
    }

    /// The sources of an expression, checking its references on the way; and
    /// whether it is a DuckDB `COLUMNS(...)` star.
    fn expr(&mut self, expr: &Expr, level: &Level) -> (Vec<ColumnSource>, bool) {
        let refs = Refs::of(expr);
        let mut exact = matches!(
            strip_nested(expr),
            Expr::Identifier(_) | Expr::CompoundIdentifier(_)
        );
        let mut sources = Vec::new();
        for reference in &refs.columns {
            if let Some(resolved) = self.resolve(reference, level) {
                exact &= resolved.exact;
                merge_sources(&mut sources, resolved.sources);
            }
        }
        if !refs.windows.is_empty() {
            exact = false;
            let window_exprs = named_window_exprs(level.windows, &refs.windows);
            for window_expr in window_exprs {
                let (more, _) = self.expr(window_expr, level);
                merge_sources(&mut sources, more);
            }
        }
        for subquery in &refs.subqueries {
            exact = false;
            let shape = self.query(subquery, level.ctes, Some(level));
            for col in shape.cols() {
                merge_sources(&mut sources, col.sources.clone());
            }
        }
        if !exact {
            sources = transformed(sources);
        }
        (sources, refs.columns_star)
    }

    fn resolve(&mut self, idents: &[Ident], level: &Level) -> Option<Resolved> {
        let names: Vec<String> = idents.iter().map(norm).collect();
        if idents.len() == 1 {
            return self.resolve_unqualified(&idents[0], level, true);
        }
        // `q.col`, `schema.table.col`, or `alias.struct_col.field`: the
        // longest qualifier naming a relation wins.
        for k in (1..idents.len()).rev() {
            let qualifier = &names[..k];
            let mut current = Some(level);
            while let Some(lvl) = current {
                match lvl.scope.find(qualifier) {
                    Found::One(index, certain) => {
                        let entry = &lvl.scope.entries[index];
                        return match entry.shape.lookup(&names[k]) {
                            Lookup::Known(sources) | Lookup::Deduced(sources) => Some(Resolved {
                                sources,
                                exact: k == idents.len() - 1,
                            }),
                            Lookup::Missing => {
                                if certain && !is_niladic(&names[k]) {
                                    self.flag(entry, &idents[k], &idents[0]);
                                }
                                None
                            }
                            Lookup::Unknown => None,
                        };
                    }
                    Found::Several => return None,
                    Found::None => current = lvl.parent,
                }
            }
        }
        // A field of a struct column: `col.field`.
        self.resolve_unqualified(&idents[0], level, false)
            .map(|resolved| Resolved {
                sources: resolved.sources,
                exact: false,
            })
    }

    fn resolve_unqualified(
        &mut self,
        ident: &Ident,
        level: &Level,
        check: bool,
    ) -> Option<Resolved> {
        let name = norm(ident);
        let exact = |sources| {
            Some(Resolved {
                sources,
                exact: true,
            })
        };
        let mut current = Some(level);
        while let Some(lvl) = current {
            let scope = lvl.scope;
            let lookups: Vec<Lookup> = scope
                .entries
                .iter()
                .map(|e| e.shape.lookup(&name))
                .collect();
            let mut known: Vec<Vec<ColumnSource>> = Vec::new();
            let mut undecided: Vec<Option<Vec<ColumnSource>>> = Vec::new();
            for lookup in lookups {
                match lookup {
                    Lookup::Known(s) => known.push(s),
                    Lookup::Deduced(s) => undecided.push(Some(s)),
                    Lookup::Unknown => undecided.push(None),
                    Lookup::Missing => {}
                }
            }
            let shared = scope.natural || scope.using.iter().any(|u| same(u, &name));
            if shared && known.len() + undecided.len() > 1 {
                let mut sources = Vec::new();
                for s in known.into_iter().chain(undecided.into_iter().flatten()) {
                    merge_sources(&mut sources, s);
                }
                return exact(sources);
            }
            match known.len() {
                1 => return exact(known.pop().unwrap_or_default()),
                0 => {}
                _ => return None,
            }
            match undecided.len() {
                0 => {}
                1 => return undecided.pop().flatten().and_then(exact),
                _ => return None,
            }
            // No relation here has it: a select-list alias, a whole row, or a
            // name from an enclosing query.
            if let Some((_, sources)) = lvl.aliases.iter().rev().find(|(a, _)| same(a, &name)) {
                return exact(sources.clone());
            }
            if lvl.alias_names.iter().any(|a| same(a, &name)) {
                return None;
            }
            if let Some(entry) = scope
                .entries
                .iter()
                .find(|e| e.matches_qualifier(std::slice::from_ref(&name)))
            {
                let mut sources = Vec::new();
                for col in entry.shape.cols() {
                    merge_sources(&mut sources, col.sources.clone());
                }
                return Some(Resolved {
                    sources,
                    exact: false,
                });
            }
            current = lvl.parent;
        }
        if check && level.scope.entries.len() == 1 && !is_niladic(&name) {
            let entry = &level.scope.entries[0];
            self.flag(entry, ident, ident);
        }
        None
    }

    fn flag(&mut self, entry: &Entry, column: &Ident, start: &Ident) {
        let at = start.span.start;
        self.unknown.push(UnknownColumn {
            relation: entry.label(),
            column: column.value.clone(),
            line: at.line,
            column_number: at.column,
        });
    }

    /// The name the database gives an unaliased expression, approximately.
    fn expr_name(&self, expr: &Expr) -> String {
        match strip_nested(expr) {
            Expr::Identifier(ident) => return norm(ident),
            Expr::CompoundIdentifier(idents) => {
                if let Some(last) = idents.last() {
                    return norm(last);
                }
            }
            Expr::CompoundFieldAccess { access_chain, .. } => {
                if let Some(AccessExpr::Dot(Expr::Identifier(field))) = access_chain.last() {
                    return norm(field);
                }
            }
            _ => {}
        }
        if !self.postgres {
            return expr.to_string();
        }
        match strip_nested(expr) {
            Expr::Function(function) => function
                .name
                .0
                .last()
                .and_then(|p| p.as_ident())
                .map(|i| i.value.to_lowercase())
                .unwrap_or_else(|| "?column?".to_string()),
            Expr::Cast { expr: inner, .. } => match strip_nested(inner) {
                Expr::Identifier(_) | Expr::CompoundIdentifier(_) => self.expr_name(inner),
                _ => "?column?".to_string(),
            },
            Expr::Case { .. } => "case".to_string(),
            _ => "?column?".to_string(),
        }
    }
}

/// The partition and order expressions of the named windows `names` refers
/// to, following windows defined over other windows.
fn named_window_exprs<'w>(windows: &'w [NamedWindowDefinition], names: &[String]) -> Vec<&'w Expr> {
    let mut exprs = Vec::new();
    let mut todo: Vec<String> = names.to_vec();
    let mut done: Vec<String> = Vec::new();
    while let Some(name) = todo.pop() {
        if done.iter().any(|d| same(d, &name)) {
            continue;
        }
        done.push(name.clone());
        let Some(NamedWindowDefinition(_, window)) = windows
            .iter()
            .find(|NamedWindowDefinition(n, _)| same(&norm(n), &name))
        else {
            continue;
        };
        match window {
            NamedWindowExpr::NamedWindow(other) => todo.push(norm(other)),
            NamedWindowExpr::WindowSpec(spec) => {
                exprs.extend(&spec.partition_by);
                exprs.extend(spec.order_by.iter().map(|o| &o.expr));
                if let Some(base) = &spec.window_name {
                    todo.push(norm(base));
                }
            }
        }
    }
    exprs
}

/// The name parts of a relation, unquoted as written; `None` if a part is
/// not a plain identifier.
fn object_name(name: &ObjectName) -> Option<Vec<String>> {
    name.0
        .iter()
        .map(|part| part.as_ident().map(|i| i.value.clone()))
        .collect()
}

fn exclude_names(exclude: &sqlparser::ast::ExcludeSelectItem) -> Vec<String> {
    let names: Vec<&ObjectName> = match exclude {
        sqlparser::ast::ExcludeSelectItem::Single(one) => vec![one],
        sqlparser::ast::ExcludeSelectItem::Multiple(many) => many.iter().collect(),
    };
    names
        .into_iter()
        .filter_map(|n| n.0.last().and_then(|p| p.as_ident()).map(norm))
        .collect()
}

/// Columns sharing a name are renamed by DuckDB in a subquery's result
/// (`id`, `id_1`): their names are not certain.
fn mark_duplicates(items: &mut [Item]) {
    let mut seen: HashSet<String> = HashSet::new();
    let mut duplicated: HashSet<String> = HashSet::new();
    for item in items.iter() {
        if let Item::Col(col) = item {
            let key = col.name.to_lowercase();
            if !seen.insert(key.clone()) {
                duplicated.insert(key);
            }
        }
    }
    if duplicated.is_empty() {
        return;
    }
    for item in items.iter_mut() {
        if let Item::Col(col) = item
            && duplicated.contains(&col.name.to_lowercase())
        {
            col.guessed = true;
        }
    }
}

fn exclude_items(items: Vec<Item>, names: &[String]) -> Vec<Item> {
    if names.is_empty() {
        return items;
    }
    items
        .into_iter()
        .filter_map(|item| match item {
            Item::Col(col) => (!names.iter().any(|n| same(n, &col.name))).then_some(Item::Col(col)),
            Item::Open(mut open) => {
                open.except.extend(names.iter().cloned());
                Some(Item::Open(open))
            }
        })
        .collect()
}

/// Gives the column `name` new sources; when it is not a known column but may
/// be in an open part, the open part gives it up to a known column placed
/// after it.
fn set_or_insert(items: &mut Vec<Item>, name: &str, sources: Vec<ColumnSource>) {
    for item in items.iter_mut() {
        if let Item::Col(col) = item
            && same(&col.name, name)
        {
            col.sources = sources;
            return;
        }
    }
    let position = items.iter().position(|item| match item {
        Item::Open(open) => !open.except.iter().any(|e| same(e, name)),
        Item::Col(_) => false,
    });
    if let Some(position) = position {
        if let Item::Open(open) = &mut items[position] {
            open.except.push(name.to_string());
        }
        items.insert(position + 1, Item::Col(Col::new(name.to_string(), sources)));
    }
}

fn opaque_entry(alias: Option<&TableAlias>) -> Entry {
    Entry {
        alias: alias.map(|a| norm(&a.name)),
        table: Vec::new(),
        shape: Rc::new(Shape::opaque().renamed(alias)),
        in_star: true,
    }
}

fn factor_alias(factor: &TableFactor) -> Option<&TableAlias> {
    match factor {
        TableFactor::Table { alias, .. }
        | TableFactor::Derived { alias, .. }
        | TableFactor::TableFunction { alias, .. }
        | TableFactor::Function { alias, .. }
        | TableFactor::UNNEST { alias, .. }
        | TableFactor::JsonTable { alias, .. }
        | TableFactor::OpenJsonTable { alias, .. }
        | TableFactor::NestedJoin { alias, .. }
        | TableFactor::Pivot { alias, .. }
        | TableFactor::Unpivot { alias, .. }
        | TableFactor::MatchRecognize { alias, .. }
        | TableFactor::XmlTable { alias, .. }
        | TableFactor::SemanticView { alias, .. } => alias.as_ref(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::{DuckDbDialect, PostgreSqlDialect};

    fn catalog() -> CatalogMap {
        let mut catalog = CatalogMap::new();
        let mut add = |name: &str, columns: &[&str]| {
            catalog.insert(
                ["test", "main", name]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                columns.iter().map(|s| s.to_string()).collect(),
            )
        };
        add(
            "orders",
            &["id", "customer_id", "amount", "status", "ordered_at"],
        );
        add("customers", &["id", "name", "email"]);
        add("payments", &["id", "order_id", "amount", "method"]);
        add("events", &["id", "tags", "payload"]);
        catalog
    }

    fn duck(sql: &str) -> ModelLineage {
        trace(sql, &DuckDbDialect {}, &catalog()).expect("parses")
    }

    fn pg(sql: &str) -> ModelLineage {
        trace(sql, &PostgreSqlDialect {}, &catalog()).expect("parses")
    }

    fn names(lineage: &ModelLineage) -> Vec<&str> {
        lineage.columns.iter().map(|c| c.name.as_str()).collect()
    }

    /// The sources of output column `name` as "relation.column kind".
    fn edges(lineage: &ModelLineage, name: &str) -> Vec<String> {
        let column = lineage
            .columns
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no output column {name} in {:?}", names(lineage)));
        column
            .sources
            .iter()
            .map(|s| {
                let kind = match s.kind {
                    EdgeKind::Passthrough => "passthrough",
                    EdgeKind::Transformed => "transformed",
                };
                format!("{}.{} {kind}", s.relation.join("."), s.column)
            })
            .collect()
    }

    /// Flagged references as "relation.column@line:column".
    fn flagged(lineage: &ModelLineage) -> Vec<String> {
        lineage
            .unknown
            .iter()
            .map(|u| {
                format!(
                    "{}.{}@{}:{}",
                    u.relation.join("."),
                    u.column,
                    u.line,
                    u.column_number
                )
            })
            .collect()
    }

    #[test]
    fn bare_renamed_and_computed_columns() {
        let l = duck(
            "select id, amount as total, amount * 2 as doubled, 1 as one, 'x' as s from orders",
        );
        assert_eq!(names(&l), ["id", "total", "doubled", "one", "s"]);
        assert_eq!(edges(&l, "id"), ["orders.id passthrough"]);
        assert_eq!(edges(&l, "total"), ["orders.amount passthrough"]);
        assert_eq!(edges(&l, "doubled"), ["orders.amount transformed"]);
        assert!(edges(&l, "one").is_empty());
        assert!(edges(&l, "s").is_empty());
        assert!(l.unknown.is_empty());
    }

    #[test]
    fn parenthesised_column_is_still_passthrough() {
        let l = duck("select (id) as k from orders");
        assert_eq!(edges(&l, "k"), ["orders.id passthrough"]);
    }

    #[test]
    fn star_through_a_chain_of_two_ctes() {
        let l = duck(
            r#"with a as (select * from "test"."main"."orders"),
            b as (select * from a)
            select * from b"#,
        );
        assert_eq!(
            names(&l),
            ["id", "customer_id", "amount", "status", "ordered_at"]
        );
        assert_eq!(edges(&l, "amount"), ["test.main.orders.amount passthrough"]);
        assert!(l.unknown.is_empty());
    }

    #[test]
    fn transformation_inside_a_cte_stays_transformed_outside() {
        let l = duck(
            "with a as (select id, amount / 100 as dollars from orders)
             select id, dollars from a",
        );
        assert_eq!(edges(&l, "id"), ["orders.id passthrough"]);
        assert_eq!(edges(&l, "dollars"), ["orders.amount transformed"]);
    }

    #[test]
    fn cte_referenced_twice() {
        let l = duck(
            "with x as (select id, amount from orders)
             select a.id, b.amount as other_amount from x a join x as b on a.id = b.id",
        );
        assert_eq!(edges(&l, "id"), ["orders.id passthrough"]);
        assert_eq!(edges(&l, "other_amount"), ["orders.amount passthrough"]);
        assert!(l.unknown.is_empty());
    }

    #[test]
    fn subquery_in_from() {
        let l = duck(
            "select s.total, s.customer_id from (
               select customer_id, sum(amount) as total from orders group by customer_id
             ) as s",
        );
        assert_eq!(edges(&l, "total"), ["orders.amount transformed"]);
        assert_eq!(edges(&l, "customer_id"), ["orders.customer_id passthrough"]);
    }

    #[test]
    fn join_with_aliases_and_qualified_star() {
        let l = duck(
            "select o.*, c.name as customer_name, upper(c.email) as email
             from main.orders o left join customers as c on o.customer_id = c.id",
        );
        assert_eq!(
            names(&l),
            [
                "id",
                "customer_id",
                "amount",
                "status",
                "ordered_at",
                "customer_name",
                "email"
            ]
        );
        assert_eq!(edges(&l, "id"), ["main.orders.id passthrough"]);
        assert_eq!(edges(&l, "customer_name"), ["customers.name passthrough"]);
        assert_eq!(edges(&l, "email"), ["customers.email transformed"]);
        assert!(l.unknown.is_empty());
    }

    #[test]
    fn star_over_a_join() {
        let l = duck("select * from customers c cross join payments p");
        assert_eq!(
            names(&l),
            ["id", "name", "email", "id", "order_id", "amount", "method"]
        );
        assert_eq!(l.columns[3].sources[0].relation, ["payments"]);
    }

    #[test]
    fn unqualified_names_in_a_join_resolve_to_the_one_relation_having_them() {
        let l =
            duck("select name, amount, id from orders o join customers c on customer_id = c.id");
        assert_eq!(edges(&l, "name"), ["customers.name passthrough"]);
        assert_eq!(edges(&l, "amount"), ["orders.amount passthrough"]);
        // Both have `id`: ambiguous, left untraced, not an error here.
        assert!(edges(&l, "id").is_empty());
        assert!(l.unknown.is_empty());
    }

    #[test]
    fn using_join_column_comes_from_both_sides_and_star_shows_it_once() {
        let l = duck("select id, o.amount, p.method from orders o join payments p using (id)");
        assert_eq!(
            edges(&l, "id"),
            ["orders.id passthrough", "payments.id passthrough"]
        );
        assert_eq!(edges(&l, "method"), ["payments.method passthrough"]);
        let star = duck("select * from customers join payments using (id)");
        assert_eq!(
            names(&star),
            ["id", "name", "email", "order_id", "amount", "method"]
        );
    }

    #[test]
    fn union_takes_sources_of_every_branch_and_names_of_the_first() {
        let l = duck(
            "select id, amount from orders
             union all
             select order_id, amount * 100 from payments
             union
             select 0, 0",
        );
        assert_eq!(names(&l), ["id", "amount"]);
        assert_eq!(
            edges(&l, "id"),
            ["orders.id passthrough", "payments.order_id passthrough"]
        );
        assert_eq!(
            edges(&l, "amount"),
            ["orders.amount passthrough", "payments.amount transformed"]
        );
    }

    #[test]
    fn union_by_name_matches_columns_by_name() {
        let l = duck(
            "select id, amount from orders union all by name select amount, order_id as id from payments",
        );
        assert_eq!(names(&l), ["id", "amount"]);
        assert_eq!(
            edges(&l, "id"),
            ["orders.id passthrough", "payments.order_id passthrough"]
        );
    }

    #[test]
    fn order_by_an_output_name_of_a_union_is_not_flagged() {
        let l = duck("select id as k from orders union select id from payments order by k");
        assert!(l.unknown.is_empty());
    }

    #[test]
    fn aggregates_with_group_by() {
        let l = duck(
            "select customer_id, count(*) as n, count(distinct status) as statuses,
                    sum(amount) as total, max(ordered_at) filter (where status = 'paid') as last_paid
             from orders group by customer_id having count(*) > 1",
        );
        assert_eq!(edges(&l, "customer_id"), ["orders.customer_id passthrough"]);
        assert!(edges(&l, "n").is_empty());
        assert_eq!(edges(&l, "statuses"), ["orders.status transformed"]);
        assert_eq!(edges(&l, "total"), ["orders.amount transformed"]);
        assert_eq!(
            edges(&l, "last_paid"),
            ["orders.ordered_at transformed", "orders.status transformed"]
        );
    }

    #[test]
    fn window_partition_and_order_columns_are_sources() {
        let l = duck(
            "select id,
                    row_number() over (partition by customer_id order by ordered_at) as rn,
                    sum(amount) over (partition by customer_id) as customer_total
             from orders",
        );
        assert_eq!(
            edges(&l, "rn"),
            [
                "orders.customer_id transformed",
                "orders.ordered_at transformed"
            ]
        );
        assert_eq!(
            edges(&l, "customer_total"),
            [
                "orders.amount transformed",
                "orders.customer_id transformed"
            ]
        );
    }

    #[test]
    fn named_window_columns_are_sources() {
        let l = duck(
            "select sum(amount) over w as running from orders
             window w as (partition by customer_id order by ordered_at)",
        );
        assert_eq!(
            edges(&l, "running"),
            [
                "orders.amount transformed",
                "orders.customer_id transformed",
                "orders.ordered_at transformed"
            ]
        );
    }

    #[test]
    fn case_uses_conditions_and_results() {
        let l = duck(
            "select case when status = 'paid' then amount when status = 'refunded' then -amount else 0 end as paid,
                    case status when 'x' then 1 end as is_x
             from orders",
        );
        assert_eq!(
            edges(&l, "paid"),
            ["orders.status transformed", "orders.amount transformed"]
        );
        assert_eq!(edges(&l, "is_x"), ["orders.status transformed"]);
    }

    #[test]
    fn casts_and_scalar_functions_are_transformations() {
        let l = duck(
            "select cast(amount as int) as a, amount::decimal(10, 2) as b, coalesce(status, 'none') as c,
                    date_trunc('month', ordered_at) as d, id || '-' || customer_id as e
             from orders",
        );
        assert_eq!(edges(&l, "a"), ["orders.amount transformed"]);
        assert_eq!(edges(&l, "b"), ["orders.amount transformed"]);
        assert_eq!(edges(&l, "c"), ["orders.status transformed"]);
        assert_eq!(edges(&l, "d"), ["orders.ordered_at transformed"]);
        assert_eq!(
            edges(&l, "e"),
            ["orders.id transformed", "orders.customer_id transformed"]
        );
    }

    #[test]
    fn exclude_replace_and_ilike_after_a_star() {
        let l = duck("select * exclude (amount, status) from orders");
        assert_eq!(names(&l), ["id", "customer_id", "ordered_at"]);
        let l =
            duck("select o.* exclude (ordered_at) replace (amount * 100 as amount) from orders o");
        assert_eq!(names(&l), ["id", "customer_id", "amount", "status"]);
        assert_eq!(edges(&l, "amount"), ["orders.amount transformed"]);
        assert_eq!(edges(&l, "id"), ["orders.id passthrough"]);
        let l = trace(
            "select * ilike '%id' from orders",
            &sqlparser::dialect::SnowflakeDialect {},
            &catalog(),
        )
        .unwrap();
        assert_eq!(names(&l), ["id", "customer_id"]);
    }

    #[test]
    fn wrong_qualified_column_is_flagged_where_it_is() {
        let sql = "select o.id,\n       o.amount_cents\nfrom orders as o";
        let l = duck(sql);
        assert_eq!(flagged(&l), ["orders.amount_cents@2:8"]);
        assert_eq!(l.unknown[0].column, "amount_cents");
        assert!(edges(&l, "amount_cents").is_empty());
        assert_eq!(edges(&l, "id"), ["orders.id passthrough"]);
    }

    #[test]
    fn wrong_column_in_a_join_condition_and_where_is_flagged() {
        let sql = "select o.id\nfrom orders o\njoin customers c on o.customer_id = c.customer_id\nwhere o.state = 'x'";
        let l = duck(sql);
        assert_eq!(
            flagged(&l),
            ["customers.customer_id@3:37", "orders.state@4:7"]
        );
    }

    #[test]
    fn wrong_unqualified_column_of_the_only_relation_is_flagged() {
        let l = duck("select id, totl\nfrom orders\nwhere stauts = 'paid'");
        assert_eq!(flagged(&l), ["orders.totl@1:12", "orders.stauts@3:7"]);
    }

    #[test]
    fn wrong_column_of_a_fully_known_cte_is_flagged() {
        let l = duck("with x as (select id from orders)\nselect x.amount, amount from x");
        assert_eq!(flagged(&l), ["x.amount@2:8", "x.amount@2:18"]);
    }

    #[test]
    fn wrong_column_inside_a_cte_is_flagged() {
        let l = duck("with x as (\n  select idd from orders\n)\nselect * from x");
        assert_eq!(flagged(&l), ["orders.idd@2:10"]);
        assert_eq!(names(&l), ["idd"]);
    }

    #[test]
    fn quoted_reference_position_starts_at_the_quote() {
        let l = duck("select \"o\".\"nope\" from \"test\".\"main\".\"orders\" \"o\"");
        assert_eq!(flagged(&l), ["test.main.orders.nope@1:8"]);
    }

    #[test]
    fn names_the_database_may_choose_are_never_flagged() {
        // DuckDB names duplicated columns `id`, `id_1` and unaliased
        // expressions after their text: kiln can't be sure of either.
        let l = duck(
            "with x as (select o.id, c.id from orders o join customers c on o.customer_id = c.id),
                  y as (select status, count(*) from orders group by status)
             select x.id_1, y.count_star, \"count_star()\" from x, y",
        );
        assert!(l.unknown.is_empty(), "{:?}", l.unknown);
        let l = duck(
            "with y as (select status, count(*) from orders group by status) select y.nope from y",
        );
        assert!(l.unknown.is_empty(), "{:?}", l.unknown);
    }

    #[test]
    fn uncertain_qualifiers_and_system_columns_are_not_flagged() {
        // The table name of an aliased relation, a longer name than written
        // in FROM, and system columns: traced when possible, never flagged.
        let l = duck(
            "select orders.id as a, other.orders.nope as b, o.rowid, o.ctid as c
             from orders o",
        );
        assert!(l.unknown.is_empty(), "{:?}", l.unknown);
        assert_eq!(edges(&l, "a"), ["orders.id passthrough"]);
        let l = duck("select main.orders.id as a from orders");
        assert_eq!(edges(&l, "a"), ["orders.id passthrough"]);
        assert!(l.unknown.is_empty());
    }

    #[test]
    fn replace_in_a_star_over_an_unknown_relation() {
        let l = duck("select * replace (upper(kind) as kind) from raw_events");
        assert_eq!(names(&l), ["kind"]);
        assert_eq!(edges(&l, "kind"), ["raw_events.kind transformed"]);
        let l = duck(
            "with a as (select * replace (upper(kind) as kind) from raw_events)
             select a.kind, a.user_id from a",
        );
        assert_eq!(edges(&l, "kind"), ["raw_events.kind transformed"]);
        assert_eq!(edges(&l, "user_id"), ["raw_events.user_id passthrough"]);
    }

    #[test]
    fn natural_join_shares_common_columns() {
        let l = duck("select * from customers natural join payments");
        assert_eq!(
            names(&l),
            ["id", "name", "email", "order_id", "amount", "method"]
        );
        let l = duck("select id from customers natural join payments");
        assert_eq!(
            edges(&l, "id"),
            ["customers.id passthrough", "payments.id passthrough"]
        );
    }

    #[test]
    fn unqualified_name_missing_from_several_relations_is_not_flagged() {
        let l = duck("select bogus from orders o join customers c on o.customer_id = c.id");
        assert!(l.unknown.is_empty());
    }

    #[test]
    fn select_aliases_in_where_group_by_having_order_by_are_not_flagged() {
        let l = duck(
            "select status as state, amount * 2 as doubled, count(*) as n
             from orders
             where doubled > 10
             group by state, doubled
             having n > 1
             qualify row_number() over (partition by state order by doubled) = 1
             order by doubled desc, state",
        );
        assert!(l.unknown.is_empty(), "{:?}", l.unknown);
    }

    #[test]
    fn a_select_alias_can_be_used_later_in_the_select_list() {
        let l = duck("select amount * 2 as doubled, doubled + 1 as more from orders");
        assert_eq!(edges(&l, "more"), ["orders.amount transformed"]);
        assert!(l.unknown.is_empty());
    }

    #[test]
    fn niladic_values_system_columns_and_whole_rows_are_not_flagged() {
        let l = duck(
            "select current_date as d, current_timestamp as ts, now() as n, current_user as u,
                    true as t, null as z, rowid, o
             from orders o where ordered_at < current_date",
        );
        assert!(l.unknown.is_empty(), "{:?}", l.unknown);
        assert!(edges(&l, "d").is_empty());
        assert_eq!(edges(&l, "o").len(), 5);
    }

    #[test]
    fn struct_fields_lambdas_and_named_arguments_are_not_columns() {
        let l = duck(
            "select payload.kind, e.payload.kind as k2, list_transform(tags, x -> upper(x)) as up,
                    struct_pack(a := id) as packed
             from events e",
        );
        assert!(l.unknown.is_empty(), "{:?}", l.unknown);
        assert_eq!(edges(&l, "kind"), ["events.payload transformed"]);
        assert_eq!(edges(&l, "k2"), ["events.payload transformed"]);
        assert_eq!(edges(&l, "up"), ["events.tags transformed"]);
        assert_eq!(edges(&l, "packed"), ["events.id transformed"]);
    }

    #[test]
    fn unknown_relation_is_traced_by_name_and_never_flagged() {
        let l = duck("select foo, r.bar, baz + 1 as b2 from raw.events_raw r where qux > 0");
        assert!(l.unknown.is_empty());
        assert_eq!(edges(&l, "foo"), ["raw.events_raw.foo passthrough"]);
        assert_eq!(edges(&l, "bar"), ["raw.events_raw.bar passthrough"]);
        assert_eq!(edges(&l, "b2"), ["raw.events_raw.baz transformed"]);
    }

    #[test]
    fn star_over_an_unknown_relation_gives_no_columns_but_no_error() {
        let l = duck("select *, 1 as one from raw_table");
        assert_eq!(names(&l), ["one"]);
        assert!(l.unknown.is_empty());
    }

    #[test]
    fn names_from_a_star_over_an_unknown_relation_are_traced_through_ctes() {
        let l = duck(
            "with a as (select * from raw_events), b as (select * exclude (secret) from a)
             select b.user_id, upper(kind) as kind, b.secret from b",
        );
        assert_eq!(edges(&l, "user_id"), ["raw_events.user_id passthrough"]);
        assert_eq!(edges(&l, "kind"), ["raw_events.kind transformed"]);
        // Excluded: certainly not a column of b, but b is not fully known.
        assert!(edges(&l, "secret").is_empty());
        assert!(l.unknown.is_empty());
    }

    #[test]
    fn qualified_column_of_a_cte_over_an_unknown_relation_is_not_flagged() {
        let l = duck(
            "with x as (select * from raw) select x.anything from x join orders o on x.k = o.id",
        );
        assert!(l.unknown.is_empty());
        assert_eq!(edges(&l, "anything"), ["raw.anything passthrough"]);
    }

    #[test]
    fn join_of_unknown_relations_does_not_guess() {
        let l = duck("select foo from raw_a join raw_b on raw_a.k = raw_b.k");
        assert!(edges(&l, "foo").is_empty());
        assert!(l.unknown.is_empty());
        // A known relation lacking the name leaves the unknown one.
        let l = duck("select foo from orders join raw_b on orders.id = raw_b.k");
        assert_eq!(edges(&l, "foo"), ["raw_b.foo passthrough"]);
    }

    #[test]
    fn correlated_subqueries_resolve_outer_names_and_are_not_flagged() {
        let l = duck(
            "select id,
                    (select max(p.amount) from payments p where p.order_id = o.id) as max_payment
             from orders o
             where exists (select 1 from payments where order_id = o.id and customer_id > 0)
               and id in (select order_id from payments)",
        );
        assert!(l.unknown.is_empty(), "{:?}", l.unknown);
        assert_eq!(edges(&l, "max_payment"), ["payments.amount transformed"]);
    }

    #[test]
    fn wrong_column_inside_a_subquery_is_flagged() {
        let l = duck(
            "select id from orders o\nwhere exists (select 1 from payments p where p.nope = o.id)",
        );
        assert_eq!(flagged(&l), ["payments.nope@2:46"]);
    }

    #[test]
    fn table_alias_column_list_renames() {
        let l = duck("select a, c from orders as o(a, b, c)");
        assert_eq!(edges(&l, "a"), ["orders.id passthrough"]);
        assert_eq!(edges(&l, "c"), ["orders.amount passthrough"]);
        let l =
            duck("with x(k, v) as (select id, amount from orders) select k, v, x.v as w from x");
        assert_eq!(edges(&l, "v"), ["orders.amount passthrough"]);
        assert_eq!(edges(&l, "w"), ["orders.amount passthrough"]);
    }

    #[test]
    fn table_functions_are_opaque() {
        let l = duck("select a, b from read_csv('x.csv') t where c > 1");
        assert!(l.unknown.is_empty());
        assert!(edges(&l, "a").is_empty());
        let l = duck("select x from orders, unnest([1, 2]) as u(x)");
        assert!(l.unknown.is_empty());
    }

    #[test]
    fn duckdb_columns_expression_gives_unknown_columns() {
        let l = duck("select id, min(columns(* exclude (id))) from orders");
        assert_eq!(names(&l), ["id"]);
        let l = duck(
            "with a as (select columns(c -> c like '%id') from orders) select a.customer_id, a.other from a",
        );
        assert!(l.unknown.is_empty(), "{:?}", l.unknown);
        assert!(edges(&l, "customer_id").is_empty());
    }

    #[test]
    fn recursive_cte_does_not_crash() {
        let l = duck(
            "with recursive r as (select 1 as n union all select n + 1 from r where n < 10)
             select n from r",
        );
        assert_eq!(names(&l), ["n"]);
        assert!(l.unknown.is_empty());
    }

    #[test]
    fn from_first_query_selects_everything() {
        let l = duck("from customers");
        assert_eq!(names(&l), ["id", "name", "email"]);
    }

    #[test]
    fn quoted_names_keep_their_case_and_match_case_insensitively() {
        let l = duck(r#"select "ID", "Amount" as "Total", STATUS from ORDERS"#);
        assert_eq!(names(&l), ["ID", "Total", "status"]);
        assert_eq!(edges(&l, "ID"), ["ORDERS.id passthrough"]);
        assert_eq!(edges(&l, "Total"), ["ORDERS.amount passthrough"]);
        assert!(l.unknown.is_empty());
    }

    #[test]
    fn unaliased_expression_names() {
        let l = duck("select count(*), sum(amount) from orders");
        assert_eq!(names(&l), ["count(*)", "sum(amount)"]);
        let l = pg("select count(*), sum(amount), amount::int, 1 + 1 from orders");
        assert_eq!(names(&l), ["count", "sum", "amount", "?column?"]);
    }

    #[test]
    fn postgres_dialect() {
        let l = pg(r#"with paid as (
                 select o.id, o.amount::numeric / 100 as dollars
                 from "test"."main"."orders" o
                 where o.status = 'paid'
               )
               select p.id, sum(p.dollars) over (order by p.id) as running, p.nope
               from paid p"#);
        assert_eq!(edges(&l, "id"), ["test.main.orders.id passthrough"]);
        assert_eq!(
            edges(&l, "running"),
            [
                "test.main.orders.amount transformed",
                "test.main.orders.id transformed"
            ]
        );
        assert_eq!(flagged(&l), ["paid.nope@6:77"]);
    }

    #[test]
    fn realistic_dbt_compiled_model() {
        let sql = r#"-- models/marts/orders_enriched.sql
with __dbt__cte__stg_payments as (
select
    id as payment_id,
    order_id,
    method as payment_method,
    amount / 100 as amount
from "test"."main"."payments"
),  orders as (
    select * from "test"."main"."orders"
),
payments as (
    select * from __dbt__cte__stg_payments
),
order_payments as (
    select
        order_id,
        sum(case when payment_method = 'credit_card' then amount else 0 end) as credit_card_amount,
        sum(amount) as total_amount
    from payments
    group by order_id
)
select
    o.id as order_id,
    o.customer_id,
    o.ordered_at as order_date,
    o.status,
    coalesce(op.credit_card_amount, 0) as credit_card_amount,
    op.total_amount as amount
from orders as o
left join order_payments op
    on o.id = op.order_id;
"#;
        let l = duck(sql);
        assert!(l.unknown.is_empty(), "{:?}", l.unknown);
        assert_eq!(
            names(&l),
            [
                "order_id",
                "customer_id",
                "order_date",
                "status",
                "credit_card_amount",
                "amount"
            ]
        );
        assert_eq!(edges(&l, "order_id"), ["test.main.orders.id passthrough"]);
        assert_eq!(
            edges(&l, "order_date"),
            ["test.main.orders.ordered_at passthrough"]
        );
        assert_eq!(
            edges(&l, "credit_card_amount"),
            [
                "test.main.payments.method transformed",
                "test.main.payments.amount transformed"
            ]
        );
        assert_eq!(
            edges(&l, "amount"),
            ["test.main.payments.amount transformed"]
        );
        // The same model with a typo in the final select.
        let typo = sql.replace("op.total_amount as amount", "op.totl_amount as amount");
        let l = duck(&typo);
        assert_eq!(flagged(&l), ["order_payments.totl_amount@29:5"]);
    }

    #[test]
    fn parse_failure_gives_sqlparsers_position() {
        let err = trace(
            "select id,\n  amount\nfrom orders\nwhere amount > )",
            &DuckDbDialect {},
            &catalog(),
        )
        .unwrap_err();
        assert_eq!((err.line, err.column), (4, 16));
        assert!(err.message.starts_with("Expected"), "{}", err.message);
        assert!(!err.message.contains("Line:"));
        let err = trace("select 'unterminated", &DuckDbDialect {}, &catalog()).unwrap_err();
        assert_eq!(err.line, 1);
    }

    #[test]
    fn other_statements_give_empty_lineage() {
        assert_eq!(duck("create table t (a int)"), ModelLineage::default());
        assert_eq!(duck("select 1; select 2"), ModelLineage::default());
        assert_eq!(duck("-- nothing"), ModelLineage::default());
    }

    #[test]
    fn catalog_map_matches_trailing_parts() {
        let c = catalog();
        let names = |parts: &[&str]| parts.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(c.columns(&names(&["orders"])).is_some());
        assert!(c.columns(&names(&["MAIN", "Orders"])).is_some());
        assert!(c.columns(&names(&["test", "main", "orders"])).is_some());
        assert!(c.columns(&names(&["other", "orders"])).is_none());
        let mut two = CatalogMap::new();
        two.insert(names(&["db", "a", "t"]), names(&["x"]));
        two.insert(names(&["db", "b", "t"]), names(&["y"]));
        assert_eq!(two.columns(&names(&["t"])), None);
        assert_eq!(two.columns(&names(&["b", "t"])), Some(names(&["y"])));
    }

    #[test]
    fn closures_are_catalogs() {
        let catalog = |relation: &[String]| {
            (relation.last().map(String::as_str) == Some("t")).then(|| vec!["a".to_string()])
        };
        let l = trace("select a, b from t", &DuckDbDialect {}, &catalog).unwrap();
        assert_eq!(flagged(&l), ["t.b@1:11"]);
    }

    #[test]
    fn edge_kind_serializes_lowercase() {
        assert_eq!(
            serde_json::to_string(&EdgeKind::Passthrough).unwrap(),
            "\"passthrough\""
        );
        assert_eq!(
            serde_json::to_string(&EdgeKind::Transformed).unwrap(),
            "\"transformed\""
        );
    }
}
