//! The match object: `group()`, `groups()`, `start()`, `end()`, `span()`.

use super::super::args::{bind, py_error};
use super::super::methods::text_of;
use super::template::{GroupRef, Part, parse_template};
use minijinja::value::{Object, Value};
use minijinja::{Error, State};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A match object: the text, each group's span (bytes), the group names.
#[derive(Debug, Clone)]
pub(super) struct Found {
    pub(super) text: Arc<str>,
    pub(super) spans: Vec<Option<(usize, usize)>>,
    pub(super) names: Arc<Vec<Option<String>>>,
    pub(super) pattern: String,
}

impl Found {
    fn index(&self, group: &Value) -> Result<usize, Error> {
        let index = match group.as_str() {
            Some(name) => self.names.iter().position(|n| n.as_deref() == Some(name)),
            None => i64::try_from(group.clone())
                .ok()
                .and_then(|n| usize::try_from(n).ok()),
        };
        index
            .filter(|&i| i < self.spans.len())
            .ok_or_else(|| py_error("IndexError", "no such group"))
    }

    pub(super) fn group(&self, i: usize) -> Option<&str> {
        self.spans[i].map(|(s, e)| &self.text[s..e])
    }

    pub(super) fn value(&self, i: usize, default: &Value) -> Value {
        self.group(i).map_or(default.clone(), Value::from)
    }

    /// A byte offset as Python counts it, in characters.
    pub(super) fn position(&self, byte: usize) -> usize {
        self.text[..byte].chars().count()
    }

    pub(super) fn expand(&self, parts: &[Part]) -> Result<String, Error> {
        let mut out = String::new();
        for part in parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Group(g) => {
                    let i = match g {
                        GroupRef::Number(n) => Some(*n).filter(|&n| n < self.spans.len()),
                        GroupRef::Name(name) => {
                            self.names.iter().position(|n| n.as_deref() == Some(name))
                        }
                    }
                    .ok_or_else(|| py_error("re.error", "invalid group reference"))?;
                    out.push_str(self.group(i).unwrap_or(""));
                }
            }
        }
        Ok(out)
    }

    /// What `findall` gives for this match: the text, the one group, or a
    /// tuple of the groups ('' for one that did not take part).
    pub(super) fn findall_item(&self) -> Value {
        let empty = Value::from("");
        match self.spans.len() {
            1 => self.value(0, &empty),
            2 => self.value(1, &empty),
            n => Value::from((1..n).map(|i| self.value(i, &empty)).collect::<Vec<_>>()),
        }
    }
}

impl Object for Found {
    /// A match is true, as in Python, whatever it matched.
    fn is_true(self: &Arc<Self>) -> bool {
        true
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        if key.as_str().is_none() {
            return self
                .index(key)
                .ok()
                .map(|i| self.value(i, &Value::from(())));
        }
        match key.as_str()? {
            "string" => Some(Value::from(self.text.to_string())),
            "pos" => Some(Value::from(0)),
            "endpos" => Some(Value::from(self.position(self.text.len()))),
            "lastindex" => Some(
                (1..self.spans.len())
                    .filter(|&i| self.spans[i].is_some())
                    .max_by_key(|&i| self.spans[i].map(|(_, e)| e))
                    .map_or(Value::from(()), Value::from),
            ),
            _ => None,
        }
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let none = Value::from(());
        let first = || args.first().cloned().unwrap_or(Value::from(0));
        match method {
            "group" => match args {
                [] => Ok(self.value(0, &none)),
                [one] => Ok(self.value(self.index(one)?, &none)),
                many => Ok(Value::from(
                    many.iter()
                        .map(|g| Ok(self.value(self.index(g)?, &none)))
                        .collect::<Result<Vec<_>, Error>>()?,
                )),
            },
            "groups" => {
                let default = bind("groups", args, &["default"])?[0]
                    .clone()
                    .unwrap_or(none);
                Ok(Value::from(
                    (1..self.spans.len())
                        .map(|i| self.value(i, &default))
                        .collect::<Vec<_>>(),
                ))
            }
            "groupdict" => {
                let default = bind("groupdict", args, &["default"])?[0]
                    .clone()
                    .unwrap_or(none);
                Ok(Value::from(
                    self.names
                        .iter()
                        .enumerate()
                        .filter_map(|(i, n)| Some((n.clone()?, self.value(i, &default))))
                        .collect::<BTreeMap<_, _>>(),
                ))
            }
            "start" | "end" | "span" => {
                let i = self.index(&first())?;
                let span = self.spans[i].map(|(s, e)| (self.position(s), self.position(e)));
                let (s, e) = span.map_or((-1, -1), |(s, e)| (s as i64, e as i64));
                Ok(match method {
                    "start" => Value::from(s),
                    "end" => Value::from(e),
                    _ => Value::from(vec![Value::from(s), Value::from(e)]),
                })
            }
            "expand" => Ok(Value::from(
                self.expand(&parse_template(&text_of(args.first()))?)?,
            )),
            _ => Err(Error::from(minijinja::ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (s, e) = self.spans[0].expect("group 0");
        write!(
            f,
            "<re.Match object; span=({}, {}), match='{}'>",
            self.position(s),
            self.position(e),
            &self.text[s..e]
        )
    }
}
