//! Lists and dicts that change in place (`append`, `update`, ...), as
//! Jinja2's do; minijinja's own values are immutable.

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};
use std::sync::{Arc, Mutex};

/// `value`, with a plain list made into one that changes in place (a list
/// literal stored in a dict, as in `{% do d.update({k: []}) %}`, must take
/// `d[k].append(x)` later).
pub(super) fn mutable(value: Value) -> Value {
    match value.downcast_object_ref::<Vec<Value>>() {
        Some(items) => MutableList::value(items.clone()),
        None => value,
    }
}

/// The item a Python index names in a sequence of `len` items (`-1` is the
/// last), if it is one.
pub fn position(len: usize, key: &Value) -> Option<usize> {
    let index = key.as_i64()?;
    let index = if index < 0 { len as i64 + index } else { index };
    usize::try_from(index).ok().filter(|i| *i < len)
}

/// A list that `append`, `extend`, `insert`, `pop` and `remove` change.
#[derive(Debug, Default)]
pub struct MutableList(Mutex<Vec<Value>>);

impl MutableList {
    pub fn value(items: Vec<Value>) -> Value {
        Value::from_object(MutableList(Mutex::new(items)))
    }

    pub(super) fn items(&self) -> Vec<Value> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Object for MutableList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let items = self.0.lock().unwrap_or_else(|e| e.into_inner());
        items.get(position(items.len(), key)?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.items())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let mut items = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match (method, args) {
            ("append", [item]) => items.push(mutable(item.clone())),
            ("extend", [more]) => items.extend(more.try_iter()?.map(mutable)),
            ("insert", [at, item]) => {
                let at = usize::try_from(at.as_i64().unwrap_or(0).max(0))
                    .unwrap_or(0)
                    .min(items.len());
                items.insert(at, mutable(item.clone()));
            }
            ("pop", []) => return Ok(items.pop().unwrap_or(Value::from(()))),
            ("pop", [at]) => {
                return match position(items.len(), at) {
                    Some(i) => Ok(items.remove(i)),
                    None => Err(Error::new(
                        ErrorKind::InvalidOperation,
                        "pop index out of range",
                    )),
                };
            }
            ("remove", [item]) => match items.iter().position(|x| x == item) {
                Some(i) => {
                    items.remove(i);
                }
                None => {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        format!("list.remove({item}): not in list"),
                    ));
                }
            },
            ("index", [item]) => {
                return items
                    .iter()
                    .position(|x| x == item)
                    .map(Value::from)
                    .ok_or_else(|| {
                        Error::new(
                            ErrorKind::InvalidOperation,
                            format!("{item} is not in list"),
                        )
                    });
            }
            ("count", [item]) => {
                return Ok(Value::from(items.iter().filter(|x| *x == item).count()));
            }
            ("copy", []) => return Ok(MutableList::value(items.clone())),
            ("reverse", []) => items.reverse(),
            ("sort", []) => items.sort(),
            _ => return Err(Error::from(ErrorKind::UnknownMethod)),
        }
        Ok(Value::from(()))
    }
}

/// A dict that `update`, `pop` and `setdefault` change; keys keep the
/// order they were added in.
#[derive(Debug, Default)]
pub struct MutableDict(Mutex<Vec<(Value, Value)>>);

impl MutableDict {
    pub fn value(value: &Value) -> Result<Value, Error> {
        let mut entries: Vec<(Value, Value)> = Vec::new();
        if !value.is_undefined() && !value.is_none() {
            for key in value.try_iter()? {
                let item = value.get_item(&key)?;
                entries.push((key, mutable(item)));
            }
        }
        Ok(Value::from_object(MutableDict(Mutex::new(entries))))
    }

    pub(super) fn set(entries: &mut Vec<(Value, Value)>, key: Value, value: Value) {
        let value = mutable(value);
        match entries.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => entries.push((key, value)),
        }
    }
}

impl Object for MutableDict {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        Enumerator::Values(entries.iter().map(|(k, _)| k.clone()).collect())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let mut entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (positional, kwargs) = match args
            .last()
            .map(|v| minijinja::value::Kwargs::try_from(v.clone()))
        {
            Some(Ok(kwargs)) => (&args[..args.len() - 1], Some(kwargs)),
            _ => (args, None),
        };
        match (method, positional) {
            ("update", rest) => {
                for other in rest {
                    for key in other.try_iter()? {
                        let value = other.get_item(&key)?;
                        Self::set(&mut entries, key, value);
                    }
                }
                if let Some(kwargs) = kwargs {
                    for key in kwargs.args() {
                        let value: Value = kwargs.get(key)?;
                        Self::set(&mut entries, Value::from(key), value);
                    }
                }
                Ok(Value::from(()))
            }
            ("get", [key]) => Ok(lookup(&entries, key).unwrap_or(Value::from(()))),
            ("get", [key, default]) => Ok(lookup(&entries, key).unwrap_or(default.clone())),
            ("setdefault", [key, default]) => match lookup(&entries, key) {
                Some(v) => Ok(v),
                None => {
                    let default = mutable(default.clone());
                    entries.push((key.clone(), default.clone()));
                    Ok(default)
                }
            },
            ("pop", [key, rest @ ..]) => match entries.iter().position(|(k, _)| k == key) {
                Some(i) => Ok(entries.remove(i).1),
                None => rest.first().cloned().ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidOperation,
                        format!("dict.pop: no key {key}"),
                    )
                }),
            },
            ("keys", []) => Ok(Value::from(
                entries.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
            )),
            ("values", []) => Ok(Value::from(
                entries.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
            )),
            ("items", []) => Ok(Value::from(
                entries
                    .iter()
                    .map(|(k, v)| Value::from(vec![k.clone(), v.clone()]))
                    .collect::<Vec<_>>(),
            )),
            ("copy", []) => {
                let copy = MutableDict(Mutex::new(entries.clone()));
                Ok(Value::from_object(copy))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

pub(super) fn lookup(entries: &[(Value, Value)], key: &Value) -> Option<Value> {
    entries
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
}
