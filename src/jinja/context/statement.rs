//! `statement` (`{% call statement(...) %}`), `load_result` and `run_query`:
//! SQL run on the node's connection, and results as dbt shapes them.

use std::sync::Arc;

use minijinja::value::{Object, Value};
use minijinja::{Error, State};

use crate::adapter::QueryResult;

use super::{Phase, RenderScope, invalid, lock, split_kwargs};

/// `{% call statement('name', fetch_result=True) %}sql{% endcall %}`.
pub(super) struct StatementFunction {
    pub(super) scope: Arc<RenderScope>,
}

impl std::fmt::Debug for StatementFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("statement")
    }
}

impl Object for StatementFunction {
    fn call(self: &Arc<Self>, state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let (args, kwargs) = split_kwargs(args);
        let mut name = args.first().and_then(|v| v.as_str().map(str::to_string));
        let mut fetch = args.get(1).is_some_and(Value::is_true);
        let mut caller = None;
        if let Some(kwargs) = kwargs {
            if let Some(n) = kwargs.get::<Option<String>>("name")? {
                name = Some(n);
            }
            if let Some(f) = kwargs.get::<Option<bool>>("fetch_result")? {
                fetch = f;
            }
            caller = kwargs.get::<Option<Value>>("caller")?;
            let _: Option<Value> = kwargs.get("auto_begin")?;
            let _: Option<Value> = kwargs.get("language")?;
        }
        let caller =
            caller.ok_or_else(|| invalid("statement() is used as `{% call statement(...) %}`"))?;
        let sql = caller.call(state, &[])?.to_string();
        let sql = sql.trim();
        if self.scope.phase == Phase::Parse || sql.is_empty() {
            return Ok(Value::from(""));
        }
        let result = self.scope.run_sql(sql, fetch)?;
        if let Some(name) = name {
            if let Some(rows) = &result {
                lock(&self.scope.tables).insert(name.clone(), rows.clone());
            }
            lock(&self.scope.results).insert(name, result_value(result));
        }
        Ok(Value::from(""))
    }
}

/// `load_result('name')`.
pub(super) struct LoadResultFunction {
    pub(super) scope: Arc<RenderScope>,
}

impl std::fmt::Debug for LoadResultFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("load_result")
    }
}

impl Object for LoadResultFunction {
    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let name = args.first().and_then(Value::as_str).unwrap_or_default();
        Ok(lock(&self.scope.results)
            .get(name)
            .cloned()
            .unwrap_or(Value::from(())))
    }
}

/// `run_query(sql)`: the result table while executing, none otherwise.
pub(super) struct RunQueryFunction {
    pub(super) scope: Arc<RenderScope>,
}

impl std::fmt::Debug for RunQueryFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("run_query")
    }
}

impl Object for RunQueryFunction {
    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let sql = args.first().map(|v| v.to_string()).unwrap_or_default();
        if self.scope.phase == Phase::Parse {
            return Ok(Value::from(()));
        }
        let Some(result) = self.scope.run_sql(sql.trim(), true)? else {
            return Ok(Value::from(()));
        };
        let result = Some(result);
        Ok(result_value(result)
            .get_attr("table")
            .unwrap_or(Value::from(())))
    }
}

/// A statement's result as dbt shapes it: `{response, data, table}`, where
/// `table` has `columns`, `column_names` and `rows`.
pub(super) fn result_value(result: Option<QueryResult>) -> Value {
    let result = result.unwrap_or_default();
    let table = crate::jinja::agate::Table::value(&result);
    let data: Vec<Value> = table
        .try_iter()
        .map(|rows| rows.collect())
        .unwrap_or_default();
    minijinja::context! {
        response => "OK",
        data => data,
        table => table,
    }
}
