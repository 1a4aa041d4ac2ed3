//! The relation cache: what tables and views each schema holds, read from
//! the catalog once per schema and then kept up to date from the DDL kiln
//! runs, so that `adapter.get_relation` (three calls per table built) costs
//! no catalog query. Without it, a build of N models reads the catalog 3N
//! times, each time listing every relation of the schema.
//!
//! Every connection of one adapter shares the cache. Changes a transaction
//! makes are undone in the cache when it rolls back. After DDL the cache
//! cannot follow (an unqualified name, `alter schema`, a `drop ... cascade`
//! where PostgreSQL drops the dependent views with it) every lookup asks
//! the database, one relation at a time, for the rest of the run.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

use regex::Regex;

use super::RelationType;
use super::{
    Adapter, AdapterKind, CatalogColumn, CatalogRelation, Connection, DbError, Interrupter,
    LoadColumn, QueryResult, SchemaLock,
};
use crate::error::Error;

type SchemaKey = (String, String);

/// A schema's relations by name.
type Relations = BTreeMap<String, CatalogRelation>;

#[derive(Default)]
struct Cache {
    schemas: HashMap<SchemaKey, Relations>,
    /// Set once DDL the cache cannot follow ran: from then on every lookup
    /// asks the database (and a listing is never trusted again this run).
    bypassed: bool,
}

impl Cache {
    /// The kind of a relation the cache knows.
    fn kind_of(&self, relation: &CatalogRelation) -> Option<RelationType> {
        let key = (relation.database.clone(), relation.schema.clone());
        self.schemas.get(&key)?.get(&relation.name).map(|r| r.kind)
    }

    fn apply(&mut self, change: &Change) {
        match change {
            Change::Added(relation) => {
                let key = (relation.database.clone(), relation.schema.clone());
                if let Some(relations) = self.schemas.get_mut(&key) {
                    relations.insert(relation.name.clone(), relation.clone());
                }
            }
            Change::Removed(relation) => {
                let key = (relation.database.clone(), relation.schema.clone());
                if let Some(relations) = self.schemas.get_mut(&key) {
                    relations.remove(&relation.name);
                }
            }
        }
    }
}

/// What undoes `change` in the cache as it is now: removing what it adds,
/// putting back what it replaces or removes.
fn undo_of(cache: &Cache, change: &Change) -> Vec<Change> {
    let (Change::Added(relation) | Change::Removed(relation)) = change;
    let mut undo = vec![change.undo()];
    if let (Change::Added(_), Some(kind)) = (change, cache.kind_of(relation)) {
        undo.push(Change::Added(CatalogRelation {
            kind,
            ..relation.clone()
        }));
    }
    undo
}

/// One change to the catalog, as the cache records it (and undoes it).
#[derive(Debug, Clone, PartialEq)]
enum Change {
    Added(CatalogRelation),
    Removed(CatalogRelation),
}

impl Change {
    fn undo(&self) -> Change {
        match self {
            Change::Added(r) => Change::Removed(r.clone()),
            Change::Removed(r) => Change::Added(r.clone()),
        }
    }
}

/// An adapter whose connections share one relation cache.
pub struct CachingAdapter {
    inner: Box<dyn Adapter>,
    cache: Arc<Mutex<Cache>>,
    /// The target's database: where a statement that names none builds.
    database: String,
}

impl CachingAdapter {
    pub fn new(inner: Box<dyn Adapter>, database: &str) -> CachingAdapter {
        CachingAdapter {
            inner,
            cache: Arc::default(),
            database: database.to_string(),
        }
    }
}

impl Adapter for CachingAdapter {
    fn kind(&self) -> AdapterKind {
        self.inner.kind()
    }

    fn connect(&self) -> Result<Box<dyn Connection>, Error> {
        Ok(Box::new(CachedConnection {
            inner: self.inner.connect()?,
            cache: self.cache.clone(),
            undo: Vec::new(),
            database: self.database.clone(),
        }))
    }
}

/// A connection that answers `list_relations` from the shared cache and
/// records the DDL it runs there.
struct CachedConnection {
    inner: Box<dyn Connection>,
    cache: Arc<Mutex<Cache>>,
    /// What the open transaction changed in the cache, to undo on rollback.
    undo: Vec<Change>,
    database: String,
}

impl CachedConnection {
    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads a schema's relations into the cache, unless they are there.
    fn load(&mut self, database: &str, schema: &str) -> Result<(), DbError> {
        let key = (database.to_string(), schema.to_string());
        if self.cache().schemas.contains_key(&key) {
            return Ok(());
        }
        let relations = self.inner.list_relations(database, schema)?;
        self.cache()
            .schemas
            .entry(key)
            .or_insert_with(|| relations.into_iter().map(|r| (r.name.clone(), r)).collect());
        Ok(())
    }

    /// Follows one successful statement in the cache.
    fn note(&mut self, sql: &str) {
        let kind = self.inner.kind();
        match ddl_changes(sql, kind, &self.database) {
            Ddl::None => {}
            Ddl::Unknown => {
                let mut cache = self.cache();
                cache.schemas.clear();
                cache.bypassed = true;
            }
            Ddl::Changes(changes) => {
                let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
                // A renamed relation keeps its kind, whatever the statement says.
                let mut renamed_kind = None;
                for mut change in changes {
                    match &mut change {
                        Change::Removed(r) => renamed_kind = cache.kind_of(r),
                        Change::Added(r) => {
                            if let Some(kind) = renamed_kind.take() {
                                r.kind = kind;
                            }
                        }
                    }
                    let undo = undo_of(&cache, &change);
                    cache.apply(&change);
                    self.undo.extend(undo);
                }
            }
        }
    }
}

impl Connection for CachedConnection {
    fn kind(&self) -> AdapterKind {
        self.inner.kind()
    }

    fn interrupter(&self) -> Option<Interrupter> {
        self.inner.interrupter()
    }

    fn execute(&mut self, sql: &str) -> Result<(), DbError> {
        self.inner.execute(sql)?;
        self.note(sql);
        Ok(())
    }

    fn query(&mut self, sql: &str) -> Result<QueryResult, DbError> {
        let result = self.inner.query(sql)?;
        self.note(sql);
        Ok(result)
    }

    fn begin(&mut self) -> Result<(), DbError> {
        self.undo.clear();
        self.inner.begin()
    }

    fn commit(&mut self) -> Result<(), DbError> {
        self.inner.commit()?;
        self.undo.clear();
        Ok(())
    }

    fn rollback(&mut self) -> Result<(), DbError> {
        let result = self.inner.rollback();
        let undo = std::mem::take(&mut self.undo);
        let mut cache = self.cache();
        for change in undo.iter().rev() {
            cache.apply(change);
        }
        result
    }

    fn list_relations(
        &mut self,
        database: &str,
        schema: &str,
    ) -> Result<Vec<CatalogRelation>, DbError> {
        if self.cache().bypassed {
            return self.inner.list_relations(database, schema);
        }
        self.load(database, schema)?;
        let key = (database.to_string(), schema.to_string());
        let listed = self
            .cache()
            .schemas
            .get(&key)
            .map(|relations| relations.values().cloned().collect());
        match listed {
            Some(listed) => Ok(listed),
            // Emptied meanwhile by DDL another worker ran.
            None => self.inner.list_relations(database, schema),
        }
    }

    fn prefetch_relations(&mut self, database: &str, schema: &str) -> Result<(), DbError> {
        if self.cache().bypassed {
            return Ok(());
        }
        self.load(database, schema)
    }

    fn find_relation(
        &mut self,
        database: &str,
        schema: &str,
        name: &str,
    ) -> Result<Option<CatalogRelation>, DbError> {
        if self.cache().bypassed {
            return self.inner.find_relation(database, schema, name);
        }
        self.load(database, schema)?;
        let key = (database.to_string(), schema.to_string());
        let found = self
            .cache()
            .schemas
            .get(&key)
            .map(|relations| relations.get(name).cloned());
        match found {
            Some(found) => Ok(found),
            // Emptied meanwhile by DDL another worker ran.
            None => self.inner.find_relation(database, schema, name),
        }
    }

    fn list_columns(
        &mut self,
        database: &str,
        schema: &str,
        identifier: &str,
    ) -> Result<Vec<CatalogColumn>, DbError> {
        self.inner.list_columns(database, schema, identifier)
    }

    fn create_schema(&mut self, database: &str, schema: &str) -> Result<(), DbError> {
        self.inner.create_schema(database, schema)
    }

    fn is_lost(&self) -> bool {
        self.inner.is_lost()
    }

    fn lock_schema(&mut self, database: &str, schema: &str) -> Result<SchemaLock, DbError> {
        self.inner.lock_schema(database, schema)
    }

    fn load_rows(
        &mut self,
        relation: &str,
        columns: &[LoadColumn],
        rows: &[Vec<Option<String>>],
    ) -> Result<(), DbError> {
        self.inner.load_rows(relation, columns, rows)
    }
}

/// What a statement does to the tables and views the cache knows.
#[derive(Debug, PartialEq)]
enum Ddl {
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
fn ddl_changes(sql: &str, kind: AdapterKind, default_database: &str) -> Ddl {
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

    /// The cache against a real (in-memory) DuckDB: what it answers is what
    /// the catalog holds, after DDL, a rollback, and DDL it cannot follow.
    #[cfg(feature = "duckdb")]
    #[test]
    fn answers_as_the_catalog_does() {
        let target = crate::adapter::Target {
            profile_name: "p".into(),
            name: "dev".into(),
            adapter: AdapterKind::DuckDb,
            schema: "main".into(),
            database: "memory".into(),
            threads: 1,
            settings: Default::default(),
            file: Default::default(),
        };
        let adapter = CachingAdapter::new(
            Box::new(super::super::duckdb::DuckDbAdapter::open(&target).unwrap()),
            "memory",
        );
        let mut a = adapter.connect().unwrap();
        let mut b = adapter.connect().unwrap();
        let found = |c: &mut Box<dyn Connection>, name: &str| {
            c.find_relation("memory", "main", name)
                .unwrap()
                .map(|r| r.kind)
        };
        a.prefetch_relations("memory", "main").unwrap();
        a.execute("create table \"memory\".\"main\".\"t\" as select 1 as x")
            .unwrap();
        assert_eq!(found(&mut b, "t"), Some(RelationType::Table));

        // A swap rolled back leaves the cache as the catalog: t, no t__tmp.
        a.begin().unwrap();
        a.execute("create view \"memory\".\"main\".\"t__tmp\" as select 2 as x")
            .unwrap();
        a.execute("alter table \"memory\".\"main\".\"t\" rename to \"t__backup\"")
            .unwrap();
        assert_eq!(found(&mut b, "t__backup"), Some(RelationType::Table));
        assert_eq!(found(&mut b, "t"), None);
        a.rollback().unwrap();
        assert_eq!(found(&mut b, "t"), Some(RelationType::Table));
        assert_eq!(found(&mut b, "t__tmp"), None);
        assert_eq!(found(&mut b, "t__backup"), None);

        // Unqualified DDL is not followed: the catalog is read again.
        a.execute("create view v as select 1 as x").unwrap();
        assert_eq!(found(&mut b, "v"), Some(RelationType::View));
        a.execute("drop view \"memory\".\"main\".\"v\"").unwrap();
        assert_eq!(found(&mut b, "v"), None);
    }
}
