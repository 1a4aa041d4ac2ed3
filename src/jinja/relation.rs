//! `Relation` as a Jinja value: `{{ this }}`, `ref()` results, `adapter.get_relation()`
//! results, with dbt's attributes and methods (`include`, `incorporate`, ...).

use std::sync::Arc;

use minijinja::value::{Enumerator, Kwargs, Object, Value};
use minijinja::{Error, ErrorKind, State};

use crate::sql::{Relation, RelationType};

impl Object for Relation {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let text = |v: &Option<String>| v.clone().map(Value::from).unwrap_or(Value::from(()));
        Some(match key.as_str()? {
            "database" => text(&self.database),
            "schema" => text(&self.schema),
            "identifier" | "name" | "table" => text(&self.identifier),
            "type" => self
                .kind
                .map(|k| Value::from(k.name()))
                .unwrap_or(Value::from(())),
            "is_table" => Value::from(self.kind == Some(RelationType::Table)),
            "is_view" => Value::from(self.kind == Some(RelationType::View)),
            "is_cte" => Value::from(self.kind == Some(RelationType::Cte)),
            // What dbt's `Relation.to_dict()` carries, which packages read to
            // tell a relation from other values.
            "metadata" => minijinja::context! { type => "Relation" },
            "path" => minijinja::context! {
                database => text(&self.database),
                schema => text(&self.schema),
                identifier => text(&self.identifier),
            },
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["database", "schema", "identifier", "name", "type"])
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let kwargs = match args.last().cloned().map(Kwargs::try_from) {
            Some(Ok(kwargs)) => kwargs,
            _ => Kwargs::from_iter(std::iter::empty::<(&str, Value)>()),
        };
        match method {
            "render" => Ok(Value::from(Relation::render(self))),
            // dbt's `relation.information_schema('columns')`: the database's
            // `INFORMATION_SCHEMA` (and a view of it), the database quoted as
            // the relation's is.
            "information_schema" => {
                let view = args.first().and_then(Value::as_str);
                let mut info = Relation::new(
                    self.adapter,
                    self.database.clone().unwrap_or_default(),
                    "INFORMATION_SCHEMA",
                    view.unwrap_or_default(),
                )
                .with_quoting([self.quote[0], false, false]);
                info.include = [self.database.is_some(), true, view.is_some()];
                Ok(Value::from_object(info))
            }
            "include" => {
                let mut other = (**self).clone();
                for (i, part) in ["database", "schema", "identifier"].iter().enumerate() {
                    if let Some(flag) = kwargs.get::<Option<bool>>(part)? {
                        other.include[i] = flag;
                    }
                }
                Ok(Value::from_object(other))
            }
            "incorporate" => {
                let mut other = (**self).clone();
                if let Some(path) = kwargs.get::<Option<Value>>("path")? {
                    for (key, slot) in [
                        ("database", &mut other.database),
                        ("schema", &mut other.schema),
                        ("identifier", &mut other.identifier),
                    ] {
                        if let Ok(v) = path.get_attr(key)
                            && !v.is_undefined()
                        {
                            *slot = v.as_str().map(str::to_string);
                        }
                    }
                }
                if let Some(kind) = kwargs.get::<Option<String>>("type")? {
                    other.kind = RelationType::parse(&kind);
                }
                Ok(Value::from_object(other))
            }
            "without_identifier" => {
                let mut other = (**self).clone();
                other.include[2] = false;
                Ok(Value::from_object(other))
            }
            // dbt-postgres's method; kiln answers on every adapter, `none`
            // where the database sets no limit.
            "relation_max_name_length" => Ok(self
                .adapter
                .max_identifier_length()
                .map(Value::from)
                .unwrap_or(Value::from(()))),
            "quote" => Ok(Value::from_object((**self).clone())),
            "get" => {
                let key = args.first().cloned().unwrap_or_default();
                Ok(self
                    .get_value(&key)
                    .or_else(|| args.get(1).cloned())
                    .unwrap_or(Value::from(())))
            }
            _ => Err(Error::new(
                ErrorKind::UnknownMethod,
                format!("relations have no method '{method}'"),
            )),
        }
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&Relation::render(self))
    }
}

/// The relation behind a Jinja value, when it is one.
pub fn relation_of(value: &Value) -> Option<Arc<Relation>> {
    value.downcast_object::<Relation>()
}
