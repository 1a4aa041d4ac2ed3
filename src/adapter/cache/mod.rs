//! The relation cache: what tables and views each schema holds, read from
//! the catalog once per schema and then kept up to date from the DDL kiln
//! runs, so that `adapter.get_relation` (three calls per table built) costs
//! no catalog query. Without it, a build of N models reads the catalog 3N
//! times, each time listing every relation of the schema.
//!
//! Every connection of one adapter shares the cache. Changes a transaction
//! makes are undone in the cache when it rolls back. `ddl` reads what each
//! statement creates, renames or drops, with sqlparser for the target's
//! dialect: the statements the templates' `create_table_as`,
//! `rename_relation` and `drop_relation` run, and any a hook or project
//! macro runs. After DDL the cache cannot follow (an unqualified name,
//! `alter schema`, a `drop ... cascade` where PostgreSQL drops the dependent
//! views with it, a failed batch whose DDL may have run in part) every
//! lookup asks the database, one relation at a time, for the rest of the run.

mod ddl;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use super::RelationType;
use super::{
    Adapter, AdapterKind, CatalogColumn, CatalogRelation, Connection, CsvFile, DbError,
    Interrupter, LoadColumn, LoadTable, QueryResult, SchemaLock,
};
use crate::error::Error;
use ddl::{Ddl, Effect, ddl_after_failure, ddl_changes};

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

    /// Follows in the cache what one statement did: all of it when it
    /// succeeded, what may have run of it when it failed.
    fn note(&mut self, sql: &str, succeeded: bool) {
        let kind = self.inner.kind();
        let ddl = match succeeded {
            true => ddl_changes(sql, kind, &self.database),
            false => ddl_after_failure(sql, kind, &self.database),
        };
        match ddl {
            Ddl::None => {}
            Ddl::Unknown => {
                let mut cache = self.cache();
                cache.schemas.clear();
                cache.bypassed = true;
            }
            Ddl::Changes(effects) => {
                let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
                for effect in effects {
                    for change in changes_of(&cache, effect) {
                        let undo = undo_of(&cache, &change);
                        cache.apply(&change);
                        self.undo.extend(undo);
                    }
                }
            }
        }
    }
}

/// The changes to the cache one effect makes. What goes keeps the kind the
/// cache knows it by (so that undoing it puts back the same), and a renamed
/// relation keeps its kind whatever the statement calls it.
fn changes_of(cache: &Cache, effect: Effect) -> Vec<Change> {
    let known = |mut relation: CatalogRelation| {
        if let Some(kind) = cache.kind_of(&relation) {
            relation.kind = kind;
        }
        relation
    };
    match effect {
        Effect::Created(relation) => vec![Change::Added(relation)],
        Effect::Dropped(relation) => vec![Change::Removed(known(relation))],
        Effect::Renamed { from, mut to } => {
            let from = known(from);
            to.kind = from.kind;
            vec![Change::Removed(from), Change::Added(to)]
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
        let result = self.inner.execute(sql);
        self.note(sql, result.is_ok());
        result
    }

    fn query(&mut self, sql: &str) -> Result<QueryResult, DbError> {
        let result = self.inner.query(sql);
        self.note(sql, result.is_ok());
        result
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

    fn describe_query(&mut self, sql: &str) -> Result<Vec<CatalogColumn>, DbError> {
        self.inner.describe_query(sql)
    }

    fn query_column_types(&mut self, sql: &str) -> Result<Vec<CatalogColumn>, DbError> {
        self.inner.query_column_types(sql)
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
        table: LoadTable<'_>,
        columns: &[LoadColumn],
        rows: &[Vec<Option<String>>],
    ) -> Result<(), DbError> {
        self.inner.load_rows(table, columns, rows)
    }

    fn load_csv_file(
        &mut self,
        table: LoadTable<'_>,
        columns: &[LoadColumn],
        file: &CsvFile,
    ) -> Result<(), DbError> {
        self.inner.load_csv_file(table, columns, file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "duckdb")]
    fn memory_adapter() -> CachingAdapter {
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
        CachingAdapter::new(
            Box::new(super::super::duckdb::DuckDbAdapter::open(&target).unwrap()),
            "memory",
        )
    }

    /// The cache against a real (in-memory) DuckDB: what it answers is what
    /// the catalog holds, after DDL, a rollback, and DDL it cannot follow.
    #[cfg(feature = "duckdb")]
    #[test]
    fn answers_as_the_catalog_does() {
        let adapter = memory_adapter();
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

    /// A batch that fails after its DDL ran leaves the cache asking the
    /// database; a batch of DDL that succeeds is followed whole.
    #[cfg(feature = "duckdb")]
    #[test]
    fn follows_batches_and_gives_up_on_failed_ones() {
        let adapter = memory_adapter();
        let mut a = adapter.connect().unwrap();
        let mut b = adapter.connect().unwrap();
        let found = |c: &mut Box<dyn Connection>, name: &str| {
            c.find_relation("memory", "main", name)
                .unwrap()
                .map(|r| r.kind)
        };
        a.prefetch_relations("memory", "main").unwrap();
        a.execute(
            "create table \"memory\".\"main\".\"p\" as select 1 as x; \
             create view \"memory\".\"main\".\"q\" as select * from \"memory\".\"main\".\"p\"",
        )
        .unwrap();
        assert_eq!(found(&mut b, "p"), Some(RelationType::Table));
        assert_eq!(found(&mut b, "q"), Some(RelationType::View));
        assert!(!adapter.cache.lock().unwrap().bypassed);
        let failed = a.execute(
            "drop view \"memory\".\"main\".\"q\"; select * from \"memory\".\"main\".\"nope\"",
        );
        assert!(failed.is_err());
        assert!(adapter.cache.lock().unwrap().bypassed);
        assert_eq!(found(&mut b, "q"), None);
        assert_eq!(found(&mut b, "p"), Some(RelationType::Table));
    }
}
