//! Query results as dbt hands them to Jinja: an agate-like table that
//! `run_query()` returns and `load_result(name).table` holds. Iterating it
//! gives its rows; `table.rows[i][j]`, `row['col']`, `row.col`,
//! `table.columns[0].values()`, `table.columns['col'].values()`,
//! `table.columns.items()` and `table.column_names` work as in dbt.

use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};

use super::python_compat::position;
use crate::adapter::{Cell, QueryResult};

fn cell(c: &Cell) -> Value {
    match c {
        Cell::Null => Value::from(()),
        Cell::Bool(b) => Value::from(*b),
        Cell::Int(i) => Value::from(*i),
        Cell::Float(f) => Value::from(*f),
        Cell::Text(s) => Value::from(s.clone()),
    }
}

/// The table of a query's result.
#[derive(Debug)]
pub struct Table {
    names: Arc<Vec<String>>,
    rows: Vec<Value>,
    columns: Vec<Vec<Value>>,
}

impl Table {
    pub fn value(result: &QueryResult) -> Value {
        let names = Arc::new(result.columns.clone());
        let rows: Vec<Vec<Value>> = result
            .rows
            .iter()
            .map(|r| r.iter().map(cell).collect())
            .collect();
        let columns = (0..names.len())
            .map(|i| {
                rows.iter()
                    .map(|r| r.get(i).cloned().unwrap_or_default())
                    .collect()
            })
            .collect();
        Value::from_object(Table {
            rows: rows
                .into_iter()
                .map(|cells| {
                    Value::from_object(Row {
                        names: names.clone(),
                        cells,
                    })
                })
                .collect(),
            names,
            columns,
        })
    }

    fn columns_value(&self) -> Value {
        Value::from_object(Columns(
            self.names
                .iter()
                .zip(&self.columns)
                .map(|(name, values)| (name.clone(), values.clone()))
                .collect(),
        ))
    }
}

impl Object for Table {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        if key.as_i64().is_some() {
            return self.rows.get(position(self.rows.len(), key)?).cloned();
        }
        Some(match key.as_str()? {
            "rows" => Value::from(self.rows.clone()),
            "columns" => self.columns_value(),
            "column_names" => Value::from(self.names.as_ref().clone()),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.rows.clone())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "print_table" => Ok(Value::from("")),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// A row: its cells by position or by column name.
#[derive(Debug)]
struct Row {
    names: Arc<Vec<String>>,
    cells: Vec<Value>,
}

impl Object for Row {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        if key.as_i64().is_some() {
            return self.cells.get(position(self.cells.len(), key)?).cloned();
        }
        let name = key.as_str()?;
        let at = self.names.iter().position(|n| n == name)?;
        self.cells.get(at).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.cells.clone())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "keys" => Ok(Value::from(self.names.as_ref().clone())),
            "values" => Ok(Value::from(self.cells.clone())),
            "items" => Ok(Value::from(
                self.names
                    .iter()
                    .zip(&self.cells)
                    .map(|(n, c)| Value::from(vec![Value::from(n.clone()), c.clone()]))
                    .collect::<Vec<_>>(),
            )),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// The columns: by position or by name; `items()`, `keys()`, `values()`.
#[derive(Debug)]
struct Columns(Vec<(String, Vec<Value>)>);

impl Columns {
    fn column(&self, i: usize) -> Option<Value> {
        let (name, values) = self.0.get(i)?;
        Some(Value::from_object(Column {
            name: name.clone(),
            values: values.clone(),
        }))
    }
}

impl Object for Columns {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        if key.as_i64().is_some() {
            return self.column(position(self.0.len(), key)?);
        }
        let name = key.as_str()?;
        self.column(self.0.iter().position(|(n, _)| n == name)?)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values((0..self.0.len()).filter_map(|i| self.column(i)).collect())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        let all = || (0..self.0.len()).filter_map(|i| self.column(i));
        match method {
            "keys" => Ok(Value::from(
                self.0
                    .iter()
                    .map(|(n, _)| Value::from(n.clone()))
                    .collect::<Vec<_>>(),
            )),
            "values" => Ok(Value::from(all().collect::<Vec<_>>())),
            "items" => Ok(Value::from(
                self.0
                    .iter()
                    .map(|(n, _)| Value::from(n.clone()))
                    .zip(all())
                    .map(|(n, c)| Value::from(vec![n, c]))
                    .collect::<Vec<_>>(),
            )),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// One column: its `name` and `values()`.
#[derive(Debug)]
struct Column {
    name: String,
    values: Vec<Value>,
}

impl Object for Column {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        if key.as_i64().is_some() {
            return self.values.get(position(self.values.len(), key)?).cloned();
        }
        match key.as_str()? {
            "name" => Some(Value::from(self.name.clone())),
            _ => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.values.clone())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "values" => Ok(Value::from(self.values.clone())),
            "values_distinct" => {
                let mut seen: Vec<Value> = Vec::new();
                for v in &self.values {
                    if !seen.contains(v) {
                        seen.push(v.clone());
                    }
                }
                Ok(Value::from(seen))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_like_an_agate_table() {
        let result = QueryResult {
            columns: vec!["schema_name".into(), "n".into()],
            rows: vec![
                vec![Cell::Text("a".into()), Cell::Int(1)],
                vec![Cell::Text("b".into()), Cell::Int(2)],
            ],
        };
        let mut env = minijinja::Environment::new();
        env.add_global("t", Table::value(&result));
        let render = |s: &str| env.render_str(s, ()).unwrap();
        assert_eq!(render("{{ t.columns[0].values() | join(',') }}"), "a,b");
        assert_eq!(render("{{ t.columns['n'].values() | sum }}"), "3");
        assert_eq!(
            render(
                "{% for row in t %}{{ row.schema_name }}{{ row['n'] }}{{ row[1] }};{% endfor %}"
            ),
            "a11;b22;"
        );
        assert_eq!(
            render(
                "{% for name, col in t.columns.items() %}{{ name }}={{ col.values() | length }} {% endfor %}"
            ),
            "schema_name=2 n=2 "
        );
        assert_eq!(
            render("{{ t.rows[1][0] }} {{ t | length }} {{ t.column_names | join(',') }}"),
            "b 2 schema_name,n"
        );
    }
}
