//! Python's methods on plain (immutable) values, and the `zip` and `set`
//! globals.

use super::args::py_error;
use super::collections::position;
use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind, State};

/// Python methods on plain values; a clear error for changing a value that
/// cannot change.
pub fn unknown_method(
    state: &mut State<'_, '_>,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, Error> {
    match minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args) {
        Err(e) if e.kind() == ErrorKind::UnknownMethod => {
            if let Some(result) = sequence_method(value, method, args) {
                return result;
            }
            // `(nodes | selectattr(...) | list).pop()`: the item of a list
            // no name holds, which nothing else sees change.
            if method == "pop" && value.kind() == ValueKind::Seq {
                let items: Vec<Value> = value.try_iter()?.collect();
                let at = match args {
                    [] => items.len().checked_sub(1),
                    [at] => position(items.len(), at),
                    _ => None,
                };
                return at.map(|i| items[i].clone()).ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidOperation,
                        "pop from an empty list, or an index out of range",
                    )
                });
            }
            let changes = [
                "append",
                "extend",
                "insert",
                "pop",
                "remove",
                "update",
                "setdefault",
            ];
            if changes.contains(&method)
                && matches!(
                    value.kind(),
                    ValueKind::Seq | ValueKind::Map | ValueKind::Iterable
                )
            {
                Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!(
                        "cannot {method}() this {}: it was not made with `{{% set name = {} %}}`; build it that way, or with `+`",
                        if value.kind() == ValueKind::Map {
                            "dict"
                        } else {
                            "list"
                        },
                        if value.kind() == ValueKind::Map {
                            "{}"
                        } else {
                            "[]"
                        },
                    ),
                ))
            } else {
                Err(e)
            }
        }
        other => other,
    }
}

/// Python's `list.index(x)` and `list.count(x)` on a list that is not
/// mutable (a filter's `| list`, a properties file's list); `None` for
/// other methods and values.
pub(super) fn sequence_method(
    value: &Value,
    method: &str,
    args: &[Value],
) -> Option<Result<Value, Error>> {
    if value.kind() != ValueKind::Seq || !matches!(method, "index" | "count") {
        return None;
    }
    let items: Vec<Value> = match value.try_iter() {
        Ok(items) => items.collect(),
        Err(e) => return Some(Err(e)),
    };
    Some(match (method, args) {
        ("count", [item]) => Ok(Value::from(items.iter().filter(|x| *x == item).count())),
        ("index", [item]) => items
            .iter()
            .position(|x| x == item)
            .map(Value::from)
            .ok_or_else(|| py_error("ValueError", format!("{item} is not in list"))),
        _ => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("list.{method}() takes exactly one argument"),
        )),
    })
}

/// `zip(a, b, ...)`: lists of the items at each position, as long as the
/// shortest input.
pub(super) fn zip(args: minijinja::value::Rest<Value>) -> Result<Value, Error> {
    let lists: Vec<Vec<Value>> = args
        .iter()
        .map(|a| a.try_iter().map(|it| it.collect()))
        .collect::<Result<_, _>>()?;
    let len = lists.iter().map(Vec::len).min().unwrap_or(0);
    Ok(Value::from(
        (0..len)
            .map(|i| Value::from(lists.iter().map(|l| l[i].clone()).collect::<Vec<_>>()))
            .collect::<Vec<_>>(),
    ))
}

/// `set(iterable)`: its distinct items, sorted, so that two sets compare
/// equal when they hold the same items.
pub(super) fn set(value: Option<Value>) -> Result<Value, Error> {
    let mut items: Vec<Value> = match value {
        Some(v) if !v.is_undefined() && !v.is_none() => v.try_iter()?.collect(),
        _ => Vec::new(),
    };
    items.sort();
    items.dedup();
    Ok(Value::from(items))
}

/// A value's text: a string as it is, anything else as it renders.
pub(super) fn text_of(value: Option<&Value>) -> String {
    value
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        })
        .unwrap_or_default()
}
