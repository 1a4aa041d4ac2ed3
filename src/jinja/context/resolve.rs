//! Where `ref()` and `source()` are resolved: recorded while parsing,
//! looked up in the [`Resolver`] (by package, see [`ByPackage`]) while
//! compiling and executing.

use std::collections::HashMap;
use std::sync::Arc;

use minijinja::value::{Object, Value};
use minijinja::{Error, State};

use crate::config::Target;
use crate::project::lookup::ByPackage;
use crate::sql::Relation;

use super::{Phase, RefCall, RenderScope, invalid, lock, split_kwargs};

/// Relations that `ref()` and `source()` resolve to while compiling.
#[derive(Debug, Default)]
pub struct Resolver {
    /// The root project's name, second in the search order of a name.
    pub root: String,
    /// By model or seed name (and package): one lookup, so that a ref finds
    /// one node whether it is built or ephemeral.
    pub refs: ByPackage<RefTarget>,
    /// By `source_name.table_name` (and package).
    pub sources: ByPackage<Relation>,
    /// Each ephemeral model's rendered SQL and the ephemeral models it
    /// reads, by unique id: rendered once for the whole run, however many
    /// models inline it (a chain of them would otherwise render its upstream
    /// again for every link).
    pub ephemeral_sql: std::sync::Mutex<HashMap<String, EphemeralSql>>,
    /// dbt's `graph` variable, as the graph stage built it.
    pub graph: Value,
    /// `--empty`: every ref and source reads no rows.
    pub empty: bool,
    /// The `event_time` column of each relation that has one, by its
    /// rendered name: what a microbatch's window filters.
    pub event_times: HashMap<String, String>,
}

/// An ephemeral model rendered once for the run: its SQL, the ephemeral
/// models it reads, and whether its render read the database (then what it
/// gives may change once its parents are rebuilt: see
/// [`Resolver::forget_database_reads`]).
#[derive(Debug, Clone)]
pub struct EphemeralSql {
    pub sql: String,
    pub reads: Vec<String>,
    pub read_database: bool,
    /// What its `log()` calls said, until a node that inlines it runs.
    pub log: Vec<String>,
}

impl Resolver {
    /// The same names resolved to the same relations, with nothing rendered
    /// yet: a unit test's resolver, where it then points its inputs at its
    /// fixtures.
    pub fn fresh_copy(&self) -> Resolver {
        Resolver {
            root: self.root.clone(),
            refs: self.refs.clone(),
            sources: self.sources.clone(),
            ephemeral_sql: Default::default(),
            graph: self.graph.clone(),
            empty: false,
            event_times: self.event_times.clone(),
        }
    }

    /// How a ref or source reads `relation`: no rows with `--empty`, a
    /// microbatch's window when it has an `event_time`, else all of it.
    pub fn read_as(&self, relation: &Relation, flags: super::RunFlags) -> Relation {
        if self.empty {
            return relation.emptied();
        }
        if let Some(batch) = flags.batch
            && let Some(column) = self.event_times.get(&relation.render())
        {
            use crate::materialize::microbatch::Batch;
            return relation.filtered(format!(
                "{column} >= '{}' and {column} < '{}'",
                Batch::sql_time(batch.start),
                Batch::sql_time(batch.end)
            ));
        }
        relation.clone()
    }

    /// Forgets the ephemeral models whose render read the database, and
    /// says which they were: the SQL check renders before anything is
    /// built, and the run renders them (and what inlines them) again once
    /// their parents are.
    pub fn forget_database_reads(&self) -> std::collections::BTreeSet<String> {
        let mut cache = self.ephemeral_sql.lock().unwrap_or_else(|p| p.into_inner());
        let forgotten = cache
            .iter()
            .filter(|(_, e)| e.read_database)
            .map(|(id, _)| id.clone())
            .collect();
        cache.retain(|_, e| !e.read_database);
        forgotten
    }

    /// The `log()` lines of the ephemeral models `ids` not shown yet: each
    /// ephemeral model's lines are shown once a run, when the first node
    /// that inlines it runs (or compiles, in `kiln compile`).
    pub fn take_ephemeral_log(&self, ids: &[String]) -> Vec<String> {
        let mut cache = self.ephemeral_sql.lock().unwrap_or_else(|p| p.into_inner());
        let mut lines = Vec::new();
        for id in ids {
            if let Some(entry) = cache.get_mut(id) {
                lines.append(&mut entry.log);
            }
        }
        lines
    }
}

/// What a `ref()` resolves to while compiling.
#[derive(Debug, Clone)]
pub enum RefTarget {
    /// A built relation (or, with `--defer`, the state run's).
    Relation(Relation),
    /// An ephemeral model, by unique id: the ref is the CTE
    /// `__dbt__cte__<name>`.
    Ephemeral(String),
}

/// `ref('name')`, `ref('package', 'name')`.
pub(super) struct RefFunction {
    pub(super) scope: Arc<RenderScope>,
    pub(super) target: Arc<Target>,
    /// The package of the node rendering, whose own nodes come first.
    pub(super) package: String,
}

impl std::fmt::Debug for RefFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ref")
    }
}

impl Object for RefFunction {
    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let (args, kwargs) = split_kwargs(args);
        // `v=`/`version=` pick a version of a versioned model: found by
        // `name.v<v>` (see `Node::ref_names`).
        let mut version: Option<String> = None;
        if let Some(kwargs) = kwargs {
            let v: Option<Value> = kwargs.get("v")?;
            let long: Option<Value> = kwargs.get("version")?;
            version = v
                .or(long)
                .filter(|v| !v.is_none() && !v.is_undefined())
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                });
        }
        let names: Vec<String> = args
            .iter()
            .map(|a| {
                a.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| invalid(format!("ref() takes model names as strings, not {a}")))
            })
            .collect::<Result<_, _>>()?;
        let versioned = |name: &String| match &version {
            Some(v) => format!("{name}.v{v}"),
            None => name.clone(),
        };
        let call = match names.as_slice() {
            [name] => RefCall {
                package: None,
                name: versioned(name),
            },
            [package, name] => RefCall {
                package: Some(package.clone()),
                name: versioned(name),
            },
            _ => {
                return Err(invalid(format!(
                    "ref() takes one or two arguments (name, or package and name), not {}",
                    names.len()
                )));
            }
        };
        match self.scope.phase {
            Phase::Parse => {
                let relation = Relation::new(
                    self.target.adapter,
                    &self.target.database,
                    &self.target.schema,
                    &call.name,
                );
                lock(&self.scope.captured).refs.push(call);
                Ok(Value::from_object(relation))
            }
            Phase::Compile | Phase::Execute => {
                let resolver = self
                    .scope
                    .resolver
                    .as_ref()
                    .ok_or_else(|| invalid("ref() cannot be resolved here"))?;
                let package = call.package.as_deref();
                match resolver
                    .refs
                    .find(&call.name, package, &self.package, &resolver.root)
                {
                    Some(RefTarget::Ephemeral(unique_id)) => {
                        let mut seen = lock(&self.scope.ephemerals);
                        if !seen.contains(unique_id) {
                            seen.push(unique_id.clone());
                        }
                        Ok(Value::from_object(Relation::cte(
                            self.target.adapter,
                            &format!("__dbt__cte__{}", call.name),
                        )))
                    }
                    Some(RefTarget::Relation(relation)) => Ok(Value::from_object(
                        resolver.read_as(relation, self.scope.flags),
                    )),
                    None => Err(invalid(format!(
                        "ref('{}') is not a model or seed of this project, or was not found while parsing",
                        call.name
                    ))),
                }
            }
        }
    }
}

/// `source('source_name', 'table_name')`.
pub(super) struct SourceFunction {
    pub(super) scope: Arc<RenderScope>,
    pub(super) target: Arc<Target>,
    pub(super) package: String,
}

impl std::fmt::Debug for SourceFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("source")
    }
}

impl Object for SourceFunction {
    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let (args, _) = split_kwargs(args);
        let (Some(source), Some(table), 2) = (
            args.first().and_then(Value::as_str),
            args.get(1).and_then(Value::as_str),
            args.len(),
        ) else {
            return Err(invalid(
                "source() takes two strings: the source name and the table name",
            ));
        };
        match self.scope.phase {
            Phase::Parse => {
                lock(&self.scope.captured)
                    .sources
                    .push((source.to_string(), table.to_string()));
                Ok(Value::from_object(Relation::new(
                    self.target.adapter,
                    &self.target.database,
                    source,
                    table,
                )))
            }
            Phase::Compile | Phase::Execute => {
                let resolver = self
                    .scope
                    .resolver
                    .as_ref()
                    .ok_or_else(|| invalid("source() cannot be resolved here"))?;
                match resolver.sources.find(
                    &format!("{source}.{table}"),
                    None,
                    &self.package,
                    &resolver.root,
                ) {
                    Some(relation) => Ok(Value::from_object(
                        resolver.read_as(relation, self.scope.flags),
                    )),
                    None => Err(invalid(format!(
                        "source('{source}', '{table}') is not declared in a properties file"
                    ))),
                }
            }
        }
    }
}
