//! What dbt's Jinja borrows from Python and minijinja lacks: lists and dicts
//! that `append`/`update` change in place, Python's string, list and dict
//! methods (`minijinja_contrib::pycompat`), and `zip`, `set` and `modules`
//! (`re`, `datetime`).
//!
//! minijinja's values are immutable, so a list or dict literal assigned with
//! `{% set x = [] %}` is rewritten to `__kiln_list([])` (a list object that
//! `do x.append(...)` changes, seen by every scope, as in Jinja2).

use std::sync::{Arc, Mutex, OnceLock};

use minijinja::value::{Enumerator, Object, ObjectRepr, Value, ValueKind};
use minijinja::{Error, ErrorKind, State};
use regex::Regex;

/// `source` with every `{% set name = [...] %}` and `{% set name = {...} %}`
/// made mutable. Lines and columns are kept but for the call's own width.
pub fn mutable_literals(source: &str) -> std::borrow::Cow<'_, str> {
    static SET: OnceLock<Regex> = OnceLock::new();
    if !source.contains("set") {
        return source.into();
    }
    let re = SET.get_or_init(|| {
        Regex::new(r"(\{%[-+]?\s*set\s+[A-Za-z_][A-Za-z0-9_]*\s*=\s*)(\[[^%\n]*?\]|\{[^%\n]*?\})(\s*[-+]?%\})")
            .expect("valid regex")
    });
    re.replace_all(source, |c: &regex::Captures<'_>| {
        let function = if c[2].starts_with('[') {
            "__kiln_list"
        } else {
            "__kiln_dict"
        };
        format!("{}{function}({}){}", &c[1], &c[2], &c[3])
    })
}

/// `value`, with a plain list made into one that changes in place (a list
/// literal stored in a dict, as in `{% do d.update({k: []}) %}`, must take
/// `d[k].append(x)` later).
fn mutable(value: Value) -> Value {
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

    fn items(&self) -> Vec<Value> {
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

    fn set(entries: &mut Vec<(Value, Value)>, key: Value, value: Value) {
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

fn lookup(entries: &[(Value, Value)], key: &Value) -> Option<Value> {
    entries
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
}

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

/// `zip(a, b, ...)`: lists of the items at each position, as long as the
/// shortest input.
fn zip(args: minijinja::value::Rest<Value>) -> Result<Value, Error> {
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
fn set(value: Option<Value>) -> Result<Value, Error> {
    let mut items: Vec<Value> = match value {
        Some(v) if !v.is_undefined() && !v.is_none() => v.try_iter()?.collect(),
        _ => Vec::new(),
    };
    items.sort();
    items.dedup();
    Ok(Value::from(items))
}

/// `modules.re`: Python's `re` functions over Rust's regex syntax.
#[derive(Debug)]
struct ReModule;

fn compile_regex(pattern: &Value) -> Result<Regex, Error> {
    let text = pattern
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| pattern.to_string());
    Regex::new(&text)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("modules.re: {e}")))
}

fn text_of(value: Option<&Value>) -> String {
    value
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        })
        .unwrap_or_default()
}

impl Object for ReModule {
    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let pattern = args
            .first()
            .ok_or_else(|| Error::new(ErrorKind::MissingArgument, "modules.re needs a pattern"))?;
        match method {
            "sub" => {
                let re = compile_regex(pattern)?;
                let replacement = text_of(args.get(1)).replace("\\g<0>", "${0}");
                // Python's \1 is regex's ${1}.
                let replacement = Regex::new(r"\\(\d+)")
                    .expect("valid regex")
                    .replace_all(&replacement, "$${$1}")
                    .into_owned();
                Ok(Value::from(
                    re.replace_all(&text_of(args.get(2)), replacement.as_str())
                        .into_owned(),
                ))
            }
            "match" | "search" | "fullmatch" => {
                let re = compile_regex(pattern)?;
                let text = text_of(args.get(1));
                let found = re.captures(&text).filter(|c| {
                    let whole = c.get(0).expect("group 0");
                    match method {
                        "match" => whole.start() == 0,
                        "fullmatch" => whole.start() == 0 && whole.end() == text.len(),
                        _ => true,
                    }
                });
                Ok(match found {
                    Some(c) => Value::from_object(Match(
                        (0..c.len())
                            .map(|i| c.get(i).map(|m| m.as_str().to_string()))
                            .collect(),
                    )),
                    None => Value::from(()),
                })
            }
            "findall" => {
                let re = compile_regex(pattern)?;
                let text = text_of(args.get(1));
                Ok(Value::from(
                    re.captures_iter(&text)
                        .map(|c| {
                            Value::from(
                                c.get(if c.len() > 1 { 1 } else { 0 })
                                    .map(|m| m.as_str())
                                    .unwrap_or(""),
                            )
                        })
                        .collect::<Vec<_>>(),
                ))
            }
            "split" => {
                let re = compile_regex(pattern)?;
                Ok(Value::from(
                    re.split(&text_of(args.get(1)))
                        .map(Value::from)
                        .collect::<Vec<_>>(),
                ))
            }
            "escape" => Ok(Value::from(regex::escape(&text_of(Some(pattern))))),
            "compile" => Ok(Value::from_object(CompiledRegex(text_of(Some(pattern))))),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// `modules.re.compile(p)`: the pattern, whose methods take the text.
#[derive(Debug)]
struct CompiledRegex(String);

impl Object for CompiledRegex {
    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let mut full = vec![Value::from(self.0.clone())];
        full.extend_from_slice(args);
        Arc::new(ReModule).call_method(state, method, &full)
    }
}

/// A match: `group(n)`, `groups()`.
#[derive(Debug)]
struct Match(Vec<Option<String>>);

impl Object for Match {
    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let group = |i: usize| {
            self.0
                .get(i)
                .cloned()
                .flatten()
                .map(Value::from)
                .unwrap_or(Value::from(()))
        };
        match method {
            "group" => Ok(group(
                args.first().and_then(Value::as_i64).unwrap_or(0) as usize
            )),
            "groups" => Ok(Value::from(
                (1..self.0.len()).map(group).collect::<Vec<_>>(),
            )),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// `modules.datetime`: `datetime.now()`/`utcnow()`, `date.today()`, with
/// `strftime`, `isoformat` and the parts.
#[derive(Debug)]
struct DatetimeModule;

impl Object for DatetimeModule {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "datetime" => Some(Value::from_object(DatetimeClass { date_only: false })),
            "date" => Some(Value::from_object(DatetimeClass { date_only: true })),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct DatetimeClass {
    date_only: bool,
}

impl Object for DatetimeClass {
    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        let now = match method {
            "now" | "today" => chrono::Local::now().naive_local(),
            "utcnow" => chrono::Utc::now().naive_utc(),
            _ => return Err(Error::from(ErrorKind::UnknownMethod)),
        };
        Ok(Value::from_object(Datetime {
            at: now,
            date_only: self.date_only,
        }))
    }
}

#[derive(Debug)]
struct Datetime {
    at: chrono::NaiveDateTime,
    date_only: bool,
}

impl Object for Datetime {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        use chrono::{Datelike, Timelike};
        Some(Value::from(match key.as_str()? {
            "year" => self.at.year() as i64,
            "month" => self.at.month() as i64,
            "day" => self.at.day() as i64,
            "hour" => self.at.hour() as i64,
            "minute" => self.at.minute() as i64,
            "second" => self.at.second() as i64,
            _ => return None,
        }))
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "strftime" => {
                // chrono's Display fails (it would panic in to_string) on a
                // format it cannot write, such as %Z of a naive time.
                let format = text_of(args.first());
                let mut out = String::new();
                std::fmt::Write::write_fmt(&mut out, format_args!("{}", self.at.format(&format)))
                    .map_err(|_| {
                    Error::new(
                        ErrorKind::InvalidOperation,
                        format!("strftime: cannot write the format '{format}'"),
                    )
                })?;
                Ok(Value::from(out))
            }
            "isoformat" => Ok(Value::from(self.render_text())),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render_text())
    }
}

impl Datetime {
    fn render_text(&self) -> String {
        if self.date_only {
            self.at.format("%Y-%m-%d").to_string()
        } else {
            self.at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
        }
    }
}

/// Registers the functions above and the method callback.
pub fn register(env: &mut minijinja::Environment<'_>) {
    env.set_unknown_method_callback(unknown_method);
    env.add_function(
        "__kiln_list",
        |items: Option<Value>| -> Result<Value, Error> {
            Ok(MutableList::value(match items {
                Some(v) if !v.is_undefined() && !v.is_none() => {
                    v.try_iter()?.map(mutable).collect()
                }
                _ => Vec::new(),
            }))
        },
    );
    env.add_function("__kiln_dict", |value: Option<Value>| {
        MutableDict::value(&value.unwrap_or_default())
    });
    env.add_function("zip", zip);
    env.add_function("set", set);
    env.add_global(
        "modules",
        minijinja::context! {
            re => Value::from_object(ReModule),
            datetime => Value::from_object(DatetimeModule),
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str) -> String {
        let mut env = minijinja::Environment::new();
        register(&mut env);
        env.render_str(&mutable_literals(source), ()).unwrap()
    }

    #[test]
    fn lists_made_with_set_change_in_place_across_loops() {
        let out = render(
            "{% set xs = [] %}{% for i in [1, 2, 3] %}{% do xs.append(i * 2) %}{% endfor %}{{ xs | join(',') }} {{ xs | length }} {{ xs[-1] }}",
        );
        assert_eq!(out, "2,4,6 3 6");
    }

    #[test]
    fn dicts_made_with_set_take_updates_in_order() {
        let out = render(
            "{% set d = {'b': 1} %}{% for k in ['a', 'b'] %}{% do d.update({k: loop.index}) %}{% endfor %}{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{{ d.get('z', 'none') }}",
        );
        assert_eq!(out, "b=2;a=1;none");
    }

    #[test]
    fn lists_stored_in_a_dict_change_in_place() {
        let out = render(
            "{% set d = {} %}{% for k in ['a', 'b'] %}{% do d.update({k: []}) %}{% do d[k].append(k ~ '1') %}{% endfor %}{{ d['a'] | join }}{{ d['b'] | join }}",
        );
        assert_eq!(out, "a1b1");
    }

    #[test]
    fn python_methods_zip_set_and_re() {
        assert_eq!(render("{{ 'a_{}_{}'.format(1, 'x') }}"), "a_1_x");
        assert_eq!(render("{{ {'k': 1}.keys() | list }}"), "['k']");
        assert_eq!(
            render("{% for a, b in zip([1, 2, 3], ['x', 'y']) %}{{ a }}{{ b }} {% endfor %}"),
            "1x 2y "
        );
        assert_eq!(
            render("{{ set(['b', 'a', 'b']) == set(['a', 'b']) }}"),
            "True"
        );
        assert_eq!(
            render("{{ modules.re.sub('[^a-z]+', '_', 'Hello World!') }}"),
            "_ello_orld_"
        );
        assert_eq!(
            render("{{ modules.re.match('(a)(b)?', 'ac').group(1) }}"),
            "a"
        );
        assert_eq!(
            render("{{ modules.datetime.datetime.now().strftime('%Y') | length }}"),
            "4"
        );
        let mut env = minijinja::Environment::new();
        register(&mut env);
        let err = env
            .render_str("{{ modules.datetime.datetime.now().strftime('%Z') }}", ())
            .unwrap_err();
        assert!(err.to_string().contains("cannot write the format"), "{err}");
    }

    #[test]
    fn changing_a_plain_list_says_how_to_make_one_that_changes() {
        let mut env = minijinja::Environment::new();
        register(&mut env);
        let err = env
            .render_str("{% set xs = [1] | list %}{% do xs.append(3) %}", ())
            .unwrap_err();
        assert!(
            err.to_string().contains("cannot append() this list"),
            "{err}"
        );
    }
}
