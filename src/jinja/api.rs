//! dbt's `api` global (`api.Relation.create`, `api.Column.create`) and the
//! Column objects that `adapter.get_columns_in_relation` returns, with the
//! type predicates packages call (`is_string()`, `is_numeric()`, ...).

use std::sync::Arc;

use minijinja::value::{Enumerator, Kwargs, Object, Value};
use minijinja::{Error, ErrorKind, State};

use crate::adapter::kind::AdapterKind;
use crate::sql::{Relation, RelationType};

/// A column of a relation, as dbt's `Column` shows it.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub data_type: String,
    pub adapter: AdapterKind,
}

impl Column {
    pub fn value(name: &str, data_type: &str, adapter: AdapterKind) -> Value {
        Value::from_object(Column {
            name: name.to_string(),
            data_type: data_type.to_string(),
            adapter,
        })
    }

    fn lower_type(&self) -> String {
        self.data_type.to_ascii_lowercase()
    }

    pub fn is_string(&self) -> bool {
        let t = self.lower_type();
        [
            "text",
            "varchar",
            "character varying",
            "char",
            "character",
            "string",
            "bpchar",
        ]
        .iter()
        .any(|s| t == *s || t.starts_with(&format!("{s}(")))
    }

    pub fn is_integer(&self) -> bool {
        let t = self.lower_type();
        [
            "integer",
            "int",
            "bigint",
            "smallint",
            "tinyint",
            "hugeint",
            "int2",
            "int4",
            "int8",
            "ubigint",
            "uinteger",
            "usmallint",
            "utinyint",
            "serial",
            "bigserial",
        ]
        .contains(&t.as_str())
    }

    pub fn is_float(&self) -> bool {
        let t = self.lower_type();
        [
            "real",
            "float",
            "float4",
            "float8",
            "double",
            "double precision",
        ]
        .contains(&t.as_str())
    }

    pub fn is_numeric(&self) -> bool {
        let t = self.lower_type();
        t.starts_with("numeric") || t.starts_with("decimal")
    }

    /// The declared length of a string type: `varchar(256)` gives 256; an
    /// unbounded one the largest a varchar may be.
    pub fn string_size(&self) -> Option<i64> {
        if !self.is_string() {
            return None;
        }
        let t = self.lower_type();
        let size = t
            .split_once('(')
            .and_then(|(_, rest)| rest.trim_end_matches(')').trim().parse().ok());
        Some(size.unwrap_or(if t == "text" || t == "string" {
            65535
        } else {
            256
        }))
    }
}

impl Object for Column {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "name" | "column" => Value::from(self.name.clone()),
            "quoted" => Value::from(self.adapter.quote(&self.name)),
            "data_type" | "dtype" => Value::from(self.data_type.clone()),
            "char_size" => self
                .string_size()
                .map(Value::from)
                .unwrap_or(Value::from(())),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["name", "column", "quoted", "data_type", "dtype"])
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        Ok(match method {
            "is_string" => Value::from(self.is_string()),
            "is_integer" => Value::from(self.is_integer()),
            "is_float" => Value::from(self.is_float()),
            "is_numeric" => Value::from(self.is_numeric()),
            "is_number" => Value::from(self.is_integer() || self.is_float() || self.is_numeric()),
            "string_size" => self.string_size().map(Value::from).ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidOperation,
                    format!(
                        "column {} is not a string (it is {})",
                        self.name, self.data_type
                    ),
                )
            })?,
            "string_type" => {
                let size = args.first().and_then(Value::as_i64).unwrap_or(256);
                Value::from(format!("character varying({size})"))
            }
            "literal" => {
                let value = args.first().map(|v| v.to_string()).unwrap_or_default();
                Value::from(format!("{value}::{}", self.data_type))
            }
            _ => return Err(Error::from(ErrorKind::UnknownMethod)),
        })
    }
}

/// `api`: `api.Relation` and `api.Column`.
#[derive(Debug)]
pub struct Api {
    pub adapter: AdapterKind,
}

impl Object for Api {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "Relation" => Some(Value::from_object(RelationClass {
                adapter: self.adapter,
            })),
            "Column" => Some(Value::from_object(ColumnClass {
                adapter: self.adapter,
            })),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct RelationClass {
    adapter: AdapterKind,
}

impl Object for RelationClass {
    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "create" => {
                let kwargs = match args.last().cloned().map(Kwargs::try_from) {
                    Some(Ok(kwargs)) => kwargs,
                    _ => Kwargs::from_iter(std::iter::empty::<(&str, Value)>()),
                };
                let part = |name: &str| -> Result<Option<String>, Error> {
                    Ok(kwargs
                        .get::<Option<Value>>(name)?
                        .filter(|v| !v.is_none() && !v.is_undefined())
                        .map(|v| v.to_string()))
                };
                let mut relation = Relation::new(self.adapter, "", "", "");
                relation.database = part("database")?;
                relation.schema = part("schema")?;
                relation.identifier = part("identifier")?;
                relation.kind = part("type")?.as_deref().and_then(RelationType::parse);
                Ok(Value::from_object(relation))
            }
            "add_ephemeral_prefix" => {
                let name = args.first().map(|v| v.to_string()).unwrap_or_default();
                Ok(Value::from(format!("__dbt__cte__{name}")))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

#[derive(Debug)]
struct ColumnClass {
    adapter: AdapterKind,
}

impl Object for ColumnClass {
    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let text = |i: usize| args.get(i).map(|v| v.to_string()).unwrap_or_default();
        match method {
            "create" => Ok(Column::value(&text(0), &text(1), self.adapter)),
            "translate_type" => Ok(Value::from(text(0))),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(data_type: &str) -> Column {
        Column {
            name: "c".into(),
            data_type: data_type.into(),
            adapter: AdapterKind::Postgres,
        }
    }

    #[test]
    fn knows_strings_numbers_and_sizes() {
        assert!(column("character varying(40)").is_string());
        assert_eq!(column("character varying(40)").string_size(), Some(40));
        assert_eq!(column("VARCHAR").string_size(), Some(256));
        assert!(column("BIGINT").is_integer());
        assert!(column("double precision").is_float());
        assert!(column("numeric(28,6)").is_numeric());
        assert!(!column("date").is_string());
    }
}
