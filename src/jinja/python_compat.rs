//! What dbt's Jinja borrows from Python and minijinja lacks: lists and dicts
//! that `append`/`update` change in place, Python's string, list and dict
//! methods (`minijinja_contrib::pycompat`), and `zip`, `set` and `modules`
//! (`re`, `datetime`, `pytz`).
//!
//! minijinja's values are immutable, so the value of every `{% set x = ... %}`
//! is rewritten to `__kiln_mut(...)` (`__kiln_dict({...})` for a dict
//! literal): a list becomes a list object that `do x.append(...)` changes,
//! seen by every scope, as in Jinja2.

use std::sync::{Arc, Mutex, OnceLock};

use minijinja::value::{Enumerator, Object, ObjectRepr, Value, ValueKind};
use minijinja::{Error, ErrorKind, State};
use regex::Regex;

/// `source` as kiln compiles it: every `{% set name = [...] %}` and
/// `{% set name = {...} %}` made mutable, and, where dates may meet, `+` and
/// `-` made calls that know dates ([`arithmetic_calls`]). Lines are kept;
/// columns but for the calls' own width.
pub fn mutable_literals(source: &str) -> std::borrow::Cow<'_, str> {
    let literals = set_literals(source);
    if let std::borrow::Cow::Owned(rewritten) = arithmetic_calls(&literals) {
        return rewritten.into();
    }
    literals
}

fn set_literals(source: &str) -> std::borrow::Cow<'_, str> {
    static SET: OnceLock<Regex> = OnceLock::new();
    if !source.contains("set") {
        return source.into();
    }
    // `{% set name = ... %}` and `{% set ns.attr = ... %}`: whatever the
    // value is made by (a literal, `split()`, a filter, a macro's return),
    // a list assigned is one that changes in place, as Python's lists are.
    let re = SET.get_or_init(|| {
        Regex::new(
            r"(\{%[-+]?\s*set\s+[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?\s*=\s*)((?s:[^%]|%[^}])+?)(\s*[-+]?%\})",
        )
        .expect("valid regex")
    });
    re.replace_all(source, |c: &regex::Captures<'_>| {
        let value = &c[2];
        // A `%}` inside a string ended the match early: leave it be.
        if value.matches('\'').count() % 2 == 1 || value.matches('"').count() % 2 == 1 {
            return c[0].to_string();
        }
        let function = if value.starts_with('{') && value.ends_with('}') {
            "__kiln_dict"
        } else {
            "__kiln_mut"
        };
        format!("{}{function}({}){}", &c[1], value, &c[3])
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
fn sequence_method(value: &Value, method: &str, args: &[Value]) -> Option<Result<Value, Error>> {
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

// ---------------------------------------------------------------------------
// `modules.datetime` and `modules.pytz`
//
// Python's `date`, `datetime`, `time` and `timedelta`, and pytz's time zones,
// with Python's text for each (`str()`, `isoformat()`, `strftime`). An aware
// datetime keeps its wall time and the one UTC offset it was made with, as a
// pytz tzinfo does: arithmetic keeps the offset, `normalize` and
// `astimezone` find the zone's offset for the instant.
//
// minijinja has no operator hook for objects, so `a + b` and `a - b` in a
// template that names a date (`datetime`, `timedelta`, `pytz`,
// `run_started_at`) are compiled as `__kiln_add(a, b)` and `__kiln_sub(a, b)`
// (see [`arithmetic_calls`]), which do Python's date arithmetic and leave
// every other value to minijinja's own `+` and `-`.
// ---------------------------------------------------------------------------

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Timelike};
use chrono_tz::{OffsetComponents, OffsetName};

const MICROS_PER_SECOND: i128 = 1_000_000;
const MICROS_PER_DAY: i128 = 86_400 * MICROS_PER_SECOND;

/// A Python exception as a render error: `ValueError: day is out of range for month`.
pub(super) fn py_error(exception: &str, message: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!("{exception}: {message}"),
    )
}

/// Python's type name of a value, for TypeError messages.
fn py_type(value: &Value) -> &'static str {
    if let Some(m) = value.downcast_object_ref::<Moment>() {
        return match m.kind {
            Kind::Date => "datetime.date",
            Kind::DateTime => "datetime.datetime",
            Kind::Time => "datetime.time",
        };
    }
    if value.downcast_object_ref::<Timedelta>().is_some() {
        return "datetime.timedelta";
    }
    match value.kind() {
        ValueKind::Undefined | ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number if value.is_integer() => "int",
        ValueKind::Number => "float",
        ValueKind::String => "str",
        ValueKind::Seq => "list",
        ValueKind::Map => "dict",
        _ => "object",
    }
}

/// Python's keyword and positional arguments, bound to `names` in order.
pub(super) fn bind(
    func: &str,
    args: &[Value],
    names: &[&str],
) -> Result<Vec<Option<Value>>, Error> {
    let (positional, kwargs) = match args
        .last()
        .map(|v| minijinja::value::Kwargs::try_from(v.clone()))
    {
        Some(Ok(kwargs)) => (&args[..args.len() - 1], Some(kwargs)),
        _ => (args, None),
    };
    if positional.len() > names.len() {
        return Err(py_error(
            "TypeError",
            format!(
                "{func}() takes at most {} arguments ({} given)",
                names.len(),
                positional.len()
            ),
        ));
    }
    let mut bound: Vec<Option<Value>> = positional.iter().cloned().map(Some).collect();
    bound.resize(names.len(), None);
    if let Some(kwargs) = kwargs {
        for key in kwargs.args() {
            let Some(i) = names.iter().position(|n| *n == key) else {
                return Err(py_error(
                    "TypeError",
                    format!("'{key}' is an invalid keyword argument for {func}()"),
                ));
            };
            if bound[i].is_some() {
                return Err(py_error(
                    "TypeError",
                    format!(
                        "argument for {func}() given by name ('{key}') and position ({})",
                        i + 1
                    ),
                ));
            }
            bound[i] = Some(kwargs.get::<Value>(key)?);
        }
    }
    Ok(bound)
}

/// A number argument as a float.
fn number_of(value: &Value) -> Option<f64> {
    (value.kind() == ValueKind::Number)
        .then(|| f64::try_from(value.clone()).ok())
        .flatten()
}

/// A bound argument that was given and is not `none`.
pub(super) fn given(arg: &Option<Value>) -> Option<&Value> {
    arg.as_ref().filter(|v| !v.is_none() && !v.is_undefined())
}

fn int_arg(
    arg: &Option<Value>,
    default: Option<i64>,
    func: &str,
    name: &str,
) -> Result<i64, Error> {
    match given(arg) {
        Some(v) if v.is_integer() => v
            .as_i64()
            .ok_or_else(|| py_error("OverflowError", format!("{name} is too large"))),
        Some(v) if v.kind() == ValueKind::Bool => Ok(v.is_true() as i64),
        Some(v) => Err(py_error(
            "TypeError",
            format!(
                "'{}' object cannot be interpreted as an integer",
                py_type(v)
            ),
        )),
        None => default.ok_or_else(|| {
            py_error(
                "TypeError",
                format!("{func}() missing required argument '{name}'"),
            )
        }),
    }
}

fn str_arg(arg: &Option<Value>, func: &str, name: &str) -> Result<String, Error> {
    match given(arg) {
        Some(v) if v.kind() == ValueKind::String => Ok(v.as_str().unwrap_or_default().to_string()),
        Some(v) => Err(py_error(
            "TypeError",
            format!("{func}() argument '{name}' must be str, not {}", py_type(v)),
        )),
        None => Err(py_error(
            "TypeError",
            format!("{func}() missing required argument '{name}'"),
        )),
    }
}

/// `+HH:MM` (with `:SS` and `.ffffff` when not zero), Python's offset text;
/// `sep` is `:` for `str()` and `isoformat()`, empty for `%z`.
fn offset_text(seconds: i32, sep: &str) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    let mut text = format!("{sign}{:02}{sep}{:02}", s / 3600, s / 60 % 60);
    if !s.is_multiple_of(60) {
        text.push_str(&format!("{sep}{:02}", s % 60));
    }
    text
}

/// pytz rounds each offset of a zone to whole minutes (its LMT offsets have
/// seconds).
fn pytz_round(seconds: i32) -> i32 {
    (seconds + 30).div_euclid(60) * 60
}

/// A time zone as pytz and `datetime.timezone` have it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Zone {
    /// `pytz.utc` (and `datetime.timezone.utc`).
    Utc,
    /// `pytz.timezone('America/New_York')`.
    Named(chrono_tz::Tz),
    /// `datetime.timezone(timedelta(...))`: a fixed offset, in seconds.
    Fixed(i32),
}

/// The tzinfo of one aware datetime: its zone and the offset it has.
#[derive(Debug, Clone, PartialEq)]
struct TzInfo {
    zone: Zone,
    /// Seconds east of UTC.
    offset: i32,
    /// `tzname()`: `EST`, `LMT`, `UTC`, `UTC+02:00`.
    name: String,
}

impl Zone {
    /// `str(tz)`.
    fn text(&self) -> String {
        match self {
            Zone::Utc => "UTC".to_string(),
            Zone::Named(tz) => tz.name().to_string(),
            Zone::Fixed(offset) => fixed_name(*offset),
        }
    }

    fn fixed(&self, offset: i32) -> TzInfo {
        TzInfo {
            zone: *self,
            offset,
            name: match self {
                Zone::Utc => "UTC".to_string(),
                _ => fixed_name(offset),
            },
        }
    }

    /// The tzinfo for the instant `utc` (pytz's `fromutc`).
    fn at_utc(&self, utc: NaiveDateTime) -> TzInfo {
        match self {
            Zone::Utc => self.fixed(0),
            Zone::Fixed(offset) => self.fixed(*offset),
            Zone::Named(tz) => named_info(*tz, &tz.offset_from_utc_datetime(&utc)),
        }
    }

    /// The tzinfo a datetime gets from `tzinfo=pytz.timezone(...)` or
    /// `replace(tzinfo=...)`: pytz's first offset of the zone (its local mean
    /// time), not the one for the date; `localize` gives that.
    fn unlocalized(&self) -> TzInfo {
        let first = NaiveDate::from_ymd_opt(1, 1, 1)
            .expect("valid date")
            .and_time(NaiveTime::MIN);
        self.at_utc(first)
    }

    /// pytz's `localize(wall, is_dst)`: the offset the zone has at that wall
    /// time; `is_dst` picks one of two (a repeated hour) or, for a wall time
    /// the zone skips, the offset before or after; `None` makes both errors.
    fn localize(&self, wall: NaiveDateTime, is_dst: Option<bool>) -> Result<TzInfo, Error> {
        let Zone::Named(tz) = self else {
            return Ok(self.unlocalized());
        };
        let pick = |a: chrono_tz::TzOffset, b: chrono_tz::TzOffset, what: &str| {
            let dst = |o: &chrono_tz::TzOffset| !o.dst_offset().is_zero();
            match is_dst {
                None => Err(py_error(what, wall.to_string())),
                Some(want) => Ok(if dst(&a) == want || dst(&b) != want {
                    named_info(*tz, &a)
                } else {
                    named_info(*tz, &b)
                }),
            }
        };
        match tz.offset_from_local_datetime(&wall) {
            chrono::LocalResult::Single(o) => Ok(named_info(*tz, &o)),
            chrono::LocalResult::Ambiguous(a, b) => pick(a, b, "AmbiguousTimeError"),
            chrono::LocalResult::None => {
                let hours = chrono::Duration::hours(6);
                let before = tz.offset_from_utc_datetime(&(wall - hours));
                let after = tz.offset_from_utc_datetime(&(wall + hours));
                pick(before, after, "NonExistentTimeError")
            }
        }
    }
}

fn named_info(tz: chrono_tz::Tz, offset: &chrono_tz::TzOffset) -> TzInfo {
    let seconds = pytz_round(offset.fix().local_minus_utc());
    let name = match offset.abbreviation() {
        Some(a) => a.to_string(),
        None => {
            // tzdata writes a zone without a name as its offset: -03, +0530.
            let full = offset_text(seconds, "");
            full.strip_suffix("00").unwrap_or(&full).to_string()
        }
    };
    TzInfo {
        zone: Zone::Named(tz),
        offset: seconds,
        name,
    }
}

/// `datetime.timezone(offset).tzname()`: `UTC`, `UTC+02:00`.
fn fixed_name(offset: i32) -> String {
    if offset == 0 {
        "UTC".to_string()
    } else {
        format!("UTC{}", offset_text(offset, ":"))
    }
}

/// The zone a tzinfo argument names: a pytz zone, a datetime's `tzinfo`, or
/// `none`.
fn tzinfo_arg(arg: &Option<Value>) -> Result<Option<Arc<PyTz>>, Error> {
    match given(arg) {
        None => Ok(None),
        Some(v) => match v.downcast_object::<PyTz>() {
            Some(tz) => Ok(Some(tz)),
            None => Err(py_error(
                "TypeError",
                format!(
                    "tzinfo argument must be None or of a tzinfo subclass, not type '{}'",
                    py_type(v)
                ),
            )),
        },
    }
}

/// The system's offset at a wall time, as `astimezone()` and `timestamp()`
/// of a naive datetime read it.
fn local_info(wall: NaiveDateTime) -> TzInfo {
    let offset = chrono::Local
        .offset_from_local_datetime(&wall)
        .earliest()
        .map(|o| o.fix().local_minus_utc())
        .unwrap_or(0);
    Zone::Fixed(offset).fixed(offset)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Date,
    DateTime,
    Time,
}

/// A Python `date`, `datetime` or `time` (a time's date is 1900-01-01, as
/// its `strftime` has it).
#[derive(Debug, Clone)]
struct Moment {
    kind: Kind,
    wall: NaiveDateTime,
    tz: Option<TzInfo>,
}

impl Moment {
    fn value(kind: Kind, wall: NaiveDateTime, tz: Option<TzInfo>) -> Value {
        Value::from_object(Moment { kind, wall, tz })
    }

    /// The instant, for aware datetimes.
    fn utc(&self) -> Option<NaiveDateTime> {
        self.tz
            .as_ref()
            .map(|tz| self.wall - chrono::Duration::seconds(tz.offset as i64))
    }

    fn time_text(&self, timespec: &str) -> Result<String, Error> {
        let w = &self.wall;
        let micro = w.nanosecond() / 1000 % 1_000_000;
        let hms = format!("{:02}:{:02}:{:02}", w.hour(), w.minute(), w.second());
        let text = match timespec {
            "auto" if micro == 0 => hms,
            "auto" | "microseconds" => format!("{hms}.{micro:06}"),
            "seconds" => hms,
            "milliseconds" => format!("{hms}.{:03}", micro / 1000),
            "minutes" => format!("{:02}:{:02}", w.hour(), w.minute()),
            "hours" => format!("{:02}", w.hour()),
            other => {
                return Err(py_error(
                    "ValueError",
                    format!("Unknown timespec value: {other}"),
                ));
            }
        };
        Ok(match &self.tz {
            Some(tz) => text + &offset_text(tz.offset, ":"),
            None => text,
        })
    }

    fn date_text(&self) -> String {
        let w = &self.wall;
        format!("{:04}-{:02}-{:02}", w.year(), w.month(), w.day())
    }

    fn isoformat(&self, sep: &str, timespec: &str) -> Result<String, Error> {
        Ok(match self.kind {
            Kind::Date => self.date_text(),
            Kind::DateTime => format!("{}{sep}{}", self.date_text(), self.time_text(timespec)?),
            Kind::Time => self.time_text(timespec)?,
        })
    }

    fn text(&self) -> String {
        self.isoformat(" ", "auto").unwrap_or_default()
    }

    /// Python's `strftime`: C's directives (C locale), `%f` microseconds,
    /// `%z` and `%Z` empty for a naive value.
    fn strftime(&self, format: &str) -> Result<String, Error> {
        let mut out = String::new();
        let mut chars = format.char_indices().peekable();
        while let Some((start, c)) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            // A directive, with glibc's flags (`%-d`).
            let mut end = start + 1;
            while let Some(&(i, f)) = chars.peek() {
                end = i + f.len_utf8();
                chars.next();
                if !matches!(f, '-' | '_' | '0' | '^' | '#') {
                    break;
                }
            }
            let spec = &format[start..end];
            match spec {
                "%" => out.push('%'),
                "%f" => out.push_str(&format!("{:06}", self.wall.nanosecond() / 1000 % 1_000_000)),
                "%z" => {
                    if let Some(tz) = &self.tz {
                        out.push_str(&offset_text(tz.offset, ""));
                    }
                }
                "%Z" => {
                    if let Some(tz) = &self.tz {
                        out.push_str(&tz.name);
                    }
                }
                _ => {
                    // chrono's Display fails (it would panic in to_string) on
                    // a directive it does not know: C writes those as they are.
                    let mut one = String::new();
                    match std::fmt::Write::write_fmt(
                        &mut one,
                        format_args!("{}", self.wall.format(spec)),
                    ) {
                        Ok(()) => out.push_str(&one),
                        Err(_) => out.push_str(spec),
                    }
                }
            }
        }
        Ok(out)
    }

    /// Python's `replace(...)`: the named parts changed.
    fn replace(&self, args: &[Value]) -> Result<Value, Error> {
        let names: &[&str] = match self.kind {
            Kind::Date => &["year", "month", "day"],
            Kind::DateTime => &[
                "year",
                "month",
                "day",
                "hour",
                "minute",
                "second",
                "microsecond",
                "tzinfo",
            ],
            Kind::Time => &["hour", "minute", "second", "microsecond", "tzinfo"],
        };
        let bound = bind("replace", args, names)?;
        let arg = |name: &str| {
            names
                .iter()
                .position(|n| *n == name)
                .map(|i| bound[i].clone())
        };
        let w = &self.wall;
        let part = |name: &str, current: u32| -> Result<i64, Error> {
            match arg(name) {
                Some(a) => int_arg(&a, Some(current as i64), "replace", name),
                None => Ok(current as i64),
            }
        };
        let wall = make_wall(
            part("year", w.year() as u32)?,
            part("month", w.month())?,
            part("day", w.day())?,
            part("hour", w.hour())?,
            part("minute", w.minute())?,
            part("second", w.second())?,
            part("microsecond", w.nanosecond() / 1000)?,
        )?;
        let tz = match arg("tzinfo") {
            Some(Some(v)) => tzinfo_arg(&Some(v))?.map(|tz| tz.info_for_wall()),
            _ => self.tz.clone(),
        };
        Ok(Moment::value(self.kind, wall, tz))
    }

    /// `astimezone(tz)`: the same instant in `tz` (a naive datetime is read
    /// as the system's local time, as Python does).
    fn astimezone(&self, args: &[Value]) -> Result<Value, Error> {
        if self.kind != Kind::DateTime {
            return Err(Error::from(ErrorKind::UnknownMethod));
        }
        let bound = bind("astimezone", args, &["tz"])?;
        let utc = match self.utc() {
            Some(utc) => utc,
            None => self.wall - chrono::Duration::seconds(local_info(self.wall).offset as i64),
        };
        let info = match tzinfo_arg(&bound[0])? {
            Some(tz) => tz.zone.at_utc(utc),
            None => {
                let local = chrono::Local.from_utc_datetime(&utc).naive_local();
                local_info(local)
            }
        };
        let wall = utc + chrono::Duration::seconds(info.offset as i64);
        Ok(Moment::value(Kind::DateTime, wall, Some(info)))
    }

    fn timestamp(&self) -> f64 {
        let utc = self.utc().unwrap_or_else(|| {
            self.wall - chrono::Duration::seconds(local_info(self.wall).offset as i64)
        });
        let utc = utc.and_utc();
        utc.timestamp() as f64 + (utc.timestamp_subsec_micros() as f64) / 1e6
    }

    /// The instant or wall time, in microseconds, for comparisons.
    fn ordinal_micros(&self) -> i128 {
        let at = self.utc().unwrap_or(self.wall);
        micros_of(at)
    }
}

fn micros_of(at: NaiveDateTime) -> i128 {
    let at = at.and_utc();
    at.timestamp() as i128 * MICROS_PER_SECOND + at.timestamp_subsec_micros() as i128
}

fn from_micros(micros: i128) -> Result<NaiveDateTime, Error> {
    let seconds = i64::try_from(micros.div_euclid(MICROS_PER_SECOND))
        .map_err(|_| py_error("OverflowError", "date value out of range"))?;
    let micro = micros.rem_euclid(MICROS_PER_SECOND) as u32;
    chrono::DateTime::from_timestamp(seconds, micro * 1000)
        .map(|d| d.naive_utc())
        .filter(|d| (1..=9999).contains(&d.year()))
        .ok_or_else(|| py_error("OverflowError", "date value out of range"))
}

/// A wall time from Python's parts, with Python's range errors.
fn make_wall(
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    microsecond: i64,
) -> Result<NaiveDateTime, Error> {
    if !(1..=9999).contains(&year) {
        return Err(py_error(
            "ValueError",
            format!("year {year} is out of range"),
        ));
    }
    if !(1..=12).contains(&month) {
        return Err(py_error("ValueError", "month must be in 1..12"));
    }
    let date = NaiveDate::from_ymd_opt(year as i32, month as u32, 1)
        .and_then(|d| u32::try_from(day).ok().and_then(|day| d.with_day(day)))
        .ok_or_else(|| py_error("ValueError", "day is out of range for month"))?;
    for (value, name, max) in [
        (hour, "hour", 23),
        (minute, "minute", 59),
        (second, "second", 59),
        (microsecond, "microsecond", 999_999),
    ] {
        if !(0..=max).contains(&value) {
            return Err(py_error(
                "ValueError",
                format!("{name} must be in 0..{max}"),
            ));
        }
    }
    let time = NaiveTime::from_hms_micro_opt(
        hour as u32,
        minute as u32,
        second as u32,
        microsecond as u32,
    )
    .expect("checked ranges");
    Ok(date.and_time(time))
}

impl Object for Moment {
    /// Every date, datetime and time is true, as in Python (`{% if start_date %}`).
    fn is_true(self: &Arc<Self>) -> bool {
        true
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let w = &self.wall;
        let dated = self.kind != Kind::Time;
        let timed = self.kind != Kind::Date;
        Some(match key.as_str()? {
            "year" if dated => Value::from(w.year()),
            "month" if dated => Value::from(w.month()),
            "day" if dated => Value::from(w.day()),
            "hour" if timed => Value::from(w.hour()),
            "minute" if timed => Value::from(w.minute()),
            "second" if timed => Value::from(w.second()),
            "microsecond" if timed => Value::from(w.nanosecond() / 1000 % 1_000_000),
            "fold" if timed => Value::from(0),
            "tzinfo" if timed => match &self.tz {
                Some(tz) => Value::from_object(PyTz {
                    zone: tz.zone,
                    localized: Some(tz.clone()),
                }),
                None => Value::from(()),
            },
            _ => return None,
        })
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let date_method = self.kind != Kind::Time;
        match method {
            "strftime" => {
                let bound = bind("strftime", args, &["format"])?;
                Ok(Value::from(
                    self.strftime(&str_arg(&bound[0], "strftime", "format")?)?,
                ))
            }
            "isoformat" => {
                let names: &[&str] = match self.kind {
                    Kind::Date => &[],
                    Kind::DateTime => &["sep", "timespec"],
                    Kind::Time => &["timespec"],
                };
                let bound = bind("isoformat", args, names)?;
                let text = |name: &str, default: &str| -> Result<String, Error> {
                    match names.iter().position(|n| *n == name) {
                        Some(i) if given(&bound[i]).is_some() => {
                            str_arg(&bound[i], "isoformat", name)
                        }
                        _ => Ok(default.to_string()),
                    }
                };
                Ok(Value::from(self.isoformat(
                    &text("sep", "T")?,
                    &text("timespec", "auto")?,
                )?))
            }
            "replace" => self.replace(args),
            "date" if self.kind == Kind::DateTime => Ok(Moment::value(
                Kind::Date,
                self.wall.date().and_time(NaiveTime::MIN),
                None,
            )),
            "time" | "timetz" if self.kind == Kind::DateTime => {
                let wall = NaiveDate::from_ymd_opt(1900, 1, 1)
                    .expect("valid date")
                    .and_time(self.wall.time());
                let tz = if method == "timetz" {
                    self.tz.clone()
                } else {
                    None
                };
                Ok(Moment::value(Kind::Time, wall, tz))
            }
            "astimezone" => self.astimezone(args),
            "timestamp" if self.kind == Kind::DateTime => Ok(Value::from(self.timestamp())),
            "utcoffset" if self.kind != Kind::Date => Ok(match &self.tz {
                Some(tz) => Timedelta::value(tz.offset as i128 * MICROS_PER_SECOND),
                None => Value::from(()),
            }),
            "tzname" if self.kind != Kind::Date => Ok(match &self.tz {
                Some(tz) => Value::from(tz.name.clone()),
                None => Value::from(()),
            }),
            "weekday" if date_method => Ok(Value::from(self.wall.weekday().num_days_from_monday())),
            "isoweekday" if date_method => {
                Ok(Value::from(self.wall.weekday().number_from_monday()))
            }
            "toordinal" if date_method => Ok(Value::from(self.wall.date().num_days_from_ce())),
            "isocalendar" if date_method => {
                let week = self.wall.iso_week();
                Ok(Value::from(vec![
                    Value::from(week.year()),
                    Value::from(week.week()),
                    Value::from(self.wall.weekday().number_from_monday()),
                ]))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn custom_cmp(
        self: &Arc<Self>,
        other: &minijinja::value::DynObject,
    ) -> Option<std::cmp::Ordering> {
        let other = other.downcast_ref::<Moment>()?;
        Some(
            self.kind
                .cmp(&other.kind)
                .then(self.ordinal_micros().cmp(&other.ordinal_micros())),
        )
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

/// A Python `timedelta`, in microseconds.
#[derive(Debug, Clone, Copy)]
struct Timedelta(i128);

impl Timedelta {
    fn value(micros: i128) -> Value {
        Value::from_object(Timedelta(micros))
    }

    fn days(&self) -> i128 {
        self.0.div_euclid(MICROS_PER_DAY)
    }

    fn seconds(&self) -> i128 {
        self.0.rem_euclid(MICROS_PER_DAY) / MICROS_PER_SECOND
    }

    fn microseconds(&self) -> i128 {
        self.0.rem_euclid(MICROS_PER_SECOND)
    }

    /// `timedelta(days=0, seconds=0, microseconds=0, milliseconds=0,
    /// minutes=0, hours=0, weeks=0)`, each an int or a float.
    fn construct(args: &[Value]) -> Result<Value, Error> {
        let units: [(&str, i128); 7] = [
            ("days", MICROS_PER_DAY),
            ("seconds", MICROS_PER_SECOND),
            ("microseconds", 1),
            ("milliseconds", 1000),
            ("minutes", 60 * MICROS_PER_SECOND),
            ("hours", 3600 * MICROS_PER_SECOND),
            ("weeks", 7 * MICROS_PER_DAY),
        ];
        let names: Vec<&str> = units.iter().map(|(n, _)| *n).collect();
        let bound = bind("timedelta", args, &names)?;
        let mut micros: i128 = 0;
        let mut fraction: f64 = 0.0;
        for ((name, unit), arg) in units.iter().zip(&bound) {
            let Some(v) = given(arg) else { continue };
            if v.is_integer() {
                let n = i128::try_from(v.clone()).unwrap_or(0);
                micros += n * unit;
            } else if let Some(x) = number_of(v) {
                fraction += x * *unit as f64;
            } else {
                return Err(py_error(
                    "TypeError",
                    format!(
                        "unsupported type for timedelta {name} component: {}",
                        py_type(v)
                    ),
                ));
            }
        }
        // Python rounds a float's microseconds half to even.
        Ok(Timedelta::value(
            micros + fraction.round_ties_even() as i128,
        ))
    }
}

impl Object for Timedelta {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let n = match key.as_str()? {
            "days" => self.days(),
            "seconds" => self.seconds(),
            "microseconds" => self.microseconds(),
            _ => return None,
        };
        Some(Value::from(n as i64))
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "total_seconds" => Ok(Value::from(self.0 as f64 / 1e6)),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn custom_cmp(
        self: &Arc<Self>,
        other: &minijinja::value::DynObject,
    ) -> Option<std::cmp::Ordering> {
        Some(self.0.cmp(&other.downcast_ref::<Timedelta>()?.0))
    }

    fn is_true(self: &Arc<Self>) -> bool {
        self.0 != 0
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let days = self.days();
        let seconds = self.seconds();
        if days != 0 {
            let plural = if days.abs() != 1 { "s" } else { "" };
            write!(f, "{days} day{plural}, ")?;
        }
        write!(
            f,
            "{}:{:02}:{:02}",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        )?;
        if self.microseconds() != 0 {
            write!(f, ".{:06}", self.microseconds())?;
        }
        Ok(())
    }
}

/// `a + b` and `a - b` when either is a date, datetime or timedelta
/// (Python's rules); `None` for any other pair.
fn temporal_arithmetic(op: char, a: &Value, b: &Value) -> Result<Option<Value>, Error> {
    let (ma, mb) = (
        a.downcast_object_ref::<Moment>(),
        b.downcast_object_ref::<Moment>(),
    );
    let (ta, tb) = (
        a.downcast_object_ref::<Timedelta>(),
        b.downcast_object_ref::<Timedelta>(),
    );
    if ma.is_none() && mb.is_none() && ta.is_none() && tb.is_none() {
        return Ok(None);
    }
    let shifted = |m: &Moment, delta: i128| -> Result<Value, Error> {
        let delta = match m.kind {
            // A date moves by the timedelta's whole days only.
            Kind::Date => delta.div_euclid(MICROS_PER_DAY) * MICROS_PER_DAY,
            _ => delta,
        };
        let wall = from_micros(micros_of(m.wall) + delta)?;
        Ok(Moment::value(m.kind, wall, m.tz.clone()))
    };
    let result = match (op, ma, mb, ta, tb) {
        ('+', _, _, Some(x), Some(y)) => Some(Timedelta::value(x.0 + y.0)),
        ('-', _, _, Some(x), Some(y)) => Some(Timedelta::value(x.0 - y.0)),
        ('+', Some(m), _, _, Some(t)) | ('+', _, Some(m), Some(t), _) if m.kind != Kind::Time => {
            Some(shifted(m, t.0)?)
        }
        ('-', Some(m), _, _, Some(t)) if m.kind != Kind::Time => Some(shifted(m, -t.0)?),
        ('-', Some(x), Some(y), _, _) if x.kind == y.kind && x.kind != Kind::Time => {
            if x.tz.is_some() != y.tz.is_some() {
                return Err(py_error(
                    "TypeError",
                    "can't subtract offset-naive and offset-aware datetimes",
                ));
            }
            Some(Timedelta::value(x.ordinal_micros() - y.ordinal_micros()))
        }
        _ => None,
    };
    match result {
        Some(value) => Ok(Some(value)),
        None => Err(py_error(
            "TypeError",
            format!(
                "unsupported operand type(s) for {op}: '{}' and '{}'",
                py_type(a),
                py_type(b)
            ),
        )),
    }
}

/// `__kiln_add(a, b)` / `__kiln_sub(a, b)`: date arithmetic, else
/// minijinja's own operator.
fn arithmetic(state: &State<'_, '_>, op: char, a: Value, b: Value) -> Result<Value, Error> {
    if let Some(value) = temporal_arithmetic(op, &a, &b)? {
        return Ok(value);
    }
    let expression = if op == '+' { "a + b" } else { "a - b" };
    state
        .env()
        .compile_expression(expression)?
        .eval(minijinja::context! { a => a, b => b })
}

/// `modules.datetime`.
#[derive(Debug)]
struct DatetimeModule;

impl Object for DatetimeModule {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "datetime" => Value::from_object(MomentClass(Kind::DateTime)),
            "date" => Value::from_object(MomentClass(Kind::Date)),
            "time" => Value::from_object(MomentClass(Kind::Time)),
            "timedelta" => Value::from_object(TimedeltaClass),
            "timezone" => Value::from_object(TimezoneClass),
            "UTC" => PyTz::value(Zone::Utc),
            "MINYEAR" => Value::from(1),
            "MAXYEAR" => Value::from(9999),
            _ => return None,
        })
    }
}

/// `datetime.timedelta`.
#[derive(Debug)]
struct TimedeltaClass;

impl Object for TimedeltaClass {
    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        Timedelta::construct(args)
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let max = 999_999_999 * MICROS_PER_DAY;
        Some(Timedelta::value(match key.as_str()? {
            "min" => -max,
            "max" => max + MICROS_PER_DAY - 1,
            "resolution" => 1,
            _ => return None,
        }))
    }
}

/// `datetime.timezone`: `timezone.utc`, `timezone(timedelta(hours=2))`.
#[derive(Debug)]
struct TimezoneClass;

impl Object for TimezoneClass {
    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let bound = bind("timezone", args, &["offset"])?;
        match given(&bound[0]).and_then(|v| v.downcast_object_ref::<Timedelta>()) {
            Some(t) => Ok(PyTz::value(Zone::Fixed((t.0 / MICROS_PER_SECOND) as i32))),
            None => Err(py_error(
                "TypeError",
                "timezone() argument 1 must be datetime.timedelta",
            )),
        }
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        (key.as_str()? == "utc").then(|| PyTz::value(Zone::Utc))
    }
}

/// `datetime.date`, `datetime.datetime`, `datetime.time`: constructors and
/// class methods.
#[derive(Debug)]
struct MomentClass(Kind);

impl MomentClass {
    fn now(&self, args: &[Value]) -> Result<Value, Error> {
        let bound = bind("now", args, &["tz"])?;
        let utc = chrono::Utc::now().naive_utc();
        Ok(match tzinfo_arg(&bound[0])? {
            Some(tz) => {
                let info = tz.zone.at_utc(utc);
                let wall = utc + chrono::Duration::seconds(info.offset as i64);
                Moment::value(Kind::DateTime, wall, Some(info))
            }
            None => Moment::value(Kind::DateTime, chrono::Local::now().naive_local(), None),
        })
    }

    fn fromtimestamp(&self, args: &[Value], utc_only: bool) -> Result<Value, Error> {
        let bound = bind("fromtimestamp", args, &["timestamp", "tz"])?;
        let seconds = given(&bound[0])
            .and_then(number_of)
            .ok_or_else(|| py_error("TypeError", "fromtimestamp() needs a number"))?;
        let utc = from_micros((seconds * 1e6).round() as i128)?;
        let zone = if utc_only {
            None
        } else {
            tzinfo_arg(&bound[1])?
        };
        Ok(match (zone, utc_only) {
            (Some(tz), _) => {
                let info = tz.zone.at_utc(utc);
                let wall = utc + chrono::Duration::seconds(info.offset as i64);
                Moment::value(
                    self.0,
                    wall,
                    Some(info).filter(|_| self.0 == Kind::DateTime),
                )
            }
            (None, true) => Moment::value(self.0, utc, None),
            (None, false) => {
                let local = chrono::Local.from_utc_datetime(&utc).naive_local();
                Moment::value(self.0, local, None)
            }
        })
        .map(|v| self.truncated(v))
    }

    /// A date made from a datetime keeps only the day.
    fn truncated(&self, value: Value) -> Value {
        match (self.0, value.downcast_object_ref::<Moment>()) {
            (Kind::Date, Some(m)) => {
                Moment::value(Kind::Date, m.wall.date().and_time(NaiveTime::MIN), None)
            }
            _ => value,
        }
    }
}

impl Object for MomentClass {
    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let (func, names): (&str, &[&str]) = match self.0 {
            Kind::Date => ("date", &["year", "month", "day"]),
            Kind::DateTime => (
                "datetime",
                &[
                    "year",
                    "month",
                    "day",
                    "hour",
                    "minute",
                    "second",
                    "microsecond",
                    "tzinfo",
                    "fold",
                ],
            ),
            Kind::Time => (
                "time",
                &["hour", "minute", "second", "microsecond", "tzinfo", "fold"],
            ),
        };
        let bound = bind(func, args, names)?;
        let arg = |name: &str| -> Option<Value> {
            names
                .iter()
                .position(|n| *n == name)
                .and_then(|i| bound[i].clone())
        };
        let (date_default, time_default) = match self.0 {
            Kind::Time => (Some(1900), Some(0)),
            _ => (None, Some(0)),
        };
        let month_day_default = date_default.map(|_| 1);
        let wall = make_wall(
            int_arg(&arg("year"), date_default, func, "year")?,
            int_arg(&arg("month"), month_day_default, func, "month")?,
            int_arg(&arg("day"), month_day_default, func, "day")?,
            int_arg(&arg("hour"), time_default, func, "hour")?,
            int_arg(&arg("minute"), time_default, func, "minute")?,
            int_arg(&arg("second"), time_default, func, "second")?,
            int_arg(&arg("microsecond"), time_default, func, "microsecond")?,
        )?;
        let tz = tzinfo_arg(&arg("tzinfo"))?.map(|tz| tz.info_for_wall());
        Ok(Moment::value(self.0, wall, tz))
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let kind = self.0;
        match (kind, method) {
            (Kind::Date, "today") => Ok(self.truncated(self.now(&[])?)),
            (Kind::DateTime, "today") => self.now(&[]),
            (Kind::DateTime, "now") => self.now(args),
            (Kind::DateTime, "utcnow") => Ok(Moment::value(
                Kind::DateTime,
                chrono::Utc::now().naive_utc(),
                None,
            )),
            (Kind::DateTime, "strptime") => {
                let bound = bind("strptime", args, &["date_string", "format"])?;
                strptime(
                    &str_arg(&bound[0], "strptime", "date_string")?,
                    &str_arg(&bound[1], "strptime", "format")?,
                )
            }
            (_, "fromisoformat") => {
                let bound = bind("fromisoformat", args, &["date_string"])?;
                fromisoformat(kind, &str_arg(&bound[0], "fromisoformat", "date_string")?)
            }
            (Kind::Date | Kind::DateTime, "fromtimestamp") => self.fromtimestamp(args, false),
            (Kind::DateTime, "utcfromtimestamp") => self.fromtimestamp(args, true),
            (Kind::Date | Kind::DateTime, "fromordinal") => {
                let bound = bind("fromordinal", args, &["ordinal"])?;
                let n = int_arg(&bound[0], None, "fromordinal", "ordinal")?;
                let date = i32::try_from(n)
                    .ok()
                    .filter(|n| *n >= 1)
                    .and_then(NaiveDate::from_num_days_from_ce_opt)
                    .ok_or_else(|| py_error("ValueError", "ordinal must be >= 1"))?;
                Ok(Moment::value(kind, date.and_time(NaiveTime::MIN), None))
            }
            (Kind::DateTime, "combine") => {
                let bound = bind("combine", args, &["date", "time", "tzinfo"])?;
                let part = |i: usize| given(&bound[i]).and_then(|v| v.downcast_object::<Moment>());
                let (Some(date), Some(time)) = (part(0), part(1)) else {
                    return Err(py_error("TypeError", "combine() needs a date and a time"));
                };
                let tz = match &bound[2] {
                    Some(v) => tzinfo_arg(&Some(v.clone()))?.map(|tz| tz.info_for_wall()),
                    None => time.tz.clone(),
                };
                Ok(Moment::value(
                    Kind::DateTime,
                    date.wall.date().and_time(time.wall.time()),
                    tz,
                ))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let (date, time) = match key.as_str()? {
            "min" => (NaiveDate::from_ymd_opt(1, 1, 1)?, NaiveTime::MIN),
            "max" => (
                NaiveDate::from_ymd_opt(9999, 12, 31)?,
                NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999)?,
            ),
            _ => return None,
        };
        let (date, time) = match self.0 {
            Kind::Date => (date, NaiveTime::MIN),
            Kind::DateTime => (date, time),
            Kind::Time => (NaiveDate::from_ymd_opt(1900, 1, 1)?, time),
        };
        Some(Moment::value(self.0, date.and_time(time), None))
    }
}

/// Python's `datetime.strptime`: the format as Python's `_strptime` makes it
/// a regular expression (C locale), matched case-insensitively.
fn strptime(text: &str, format: &str) -> Result<Value, Error> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    const DAYS: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let alternatives = |names: Vec<String>| {
        let mut names = names;
        names.sort_by_key(|n| std::cmp::Reverse(n.len()));
        names.join("|")
    };
    let directive = |c: char| -> Option<String> {
        Some(match c {
            'd' => r"(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])".into(),
            'f' => r"(?P<f>[0-9]{1,6})".into(),
            'H' => r"(?P<H>2[0-3]|[0-1]\d|\d)".into(),
            'I' => r"(?P<I>1[0-2]|0[1-9]|[1-9])".into(),
            'j' => {
                r"(?P<j>36[0-6]|3[0-5]\d|[1-2]\d\d|0[1-9]\d|00[1-9]|[1-9]\d|0[1-9]|[1-9])".into()
            }
            'm' => r"(?P<m>1[0-2]|0[1-9]|[1-9])".into(),
            'M' => r"(?P<M>[0-5]\d|\d)".into(),
            'S' => r"(?P<S>6[0-1]|[0-5]\d|\d)".into(),
            'U' => r"(?P<U>5[0-3]|[0-4]\d|\d)".into(),
            'W' => r"(?P<W>5[0-3]|[0-4]\d|\d)".into(),
            'w' => r"(?P<w>[0-6])".into(),
            'u' => r"(?P<u>[1-7])".into(),
            'y' => r"(?P<y>\d\d)".into(),
            'Y' => r"(?P<Y>\d\d\d\d)".into(),
            'z' => r"(?P<z>[+-]\d\d:?[0-5]\d(:?[0-5]\d(\.\d{1,6})?)?|(?-i:Z))".into(),
            'Z' => r"(?P<Z>gmt|utc)".into(),
            'p' => r"(?P<p>am|pm)".into(),
            'B' => format!("(?P<B>{})", alternatives(MONTHS.map(String::from).to_vec())),
            'b' => format!(
                "(?P<b>{})",
                alternatives(MONTHS.map(|m| m[..3].to_string()).to_vec())
            ),
            'A' => format!("(?P<A>{})", alternatives(DAYS.map(String::from).to_vec())),
            'a' => format!(
                "(?P<a>{})",
                alternatives(DAYS.map(|d| d[..3].to_string()).to_vec())
            ),
            '%' => "%".into(),
            _ => return None,
        })
    };
    // C's composite directives, spelled out.
    let format = format
        .replace("%c", "%a %b %d %H:%M:%S %Y")
        .replace("%x", "%m/%d/%y")
        .replace("%X", "%H:%M:%S");
    let mut pattern = String::from("(?i)^");
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '%' {
            let Some(d) = chars.next() else {
                return Err(py_error(
                    "ValueError",
                    format!("stray % in format '{format}'"),
                ));
            };
            match directive(d) {
                Some(p) => pattern.push_str(&p),
                None => {
                    return Err(py_error(
                        "ValueError",
                        format!("'{d}' is a bad directive in format '{format}'"),
                    ));
                }
            }
        } else if c.is_whitespace() {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            pattern.push_str(r"\s+");
        } else {
            pattern.push_str(&regex::escape(&c.to_string()));
        }
    }
    let re = Regex::new(&pattern).map_err(|e| {
        py_error(
            "ValueError",
            format!("format '{format}' cannot be read: {e}"),
        )
    })?;
    let Some(found) = re.captures(text) else {
        return Err(py_error(
            "ValueError",
            format!("time data '{text}' does not match format '{format}'"),
        ));
    };
    let whole = found.get(0).expect("group 0");
    if whole.end() != text.len() {
        return Err(py_error(
            "ValueError",
            format!("unconverted data remains: {}", &text[whole.end()..]),
        ));
    }
    let group = |name: &str| found.name(name).map(|m| m.as_str());
    let number = |name: &str| group(name).map(|s| s.trim().parse::<i64>().unwrap_or(0));
    let year = match (number("Y"), number("y")) {
        (Some(y), _) => y,
        (None, Some(y)) if y <= 68 => 2000 + y,
        (None, Some(y)) => 1900 + y,
        _ => 1900,
    };
    let month_name = group("B").or(group("b")).map(|name| {
        let name = name.to_ascii_lowercase();
        MONTHS
            .iter()
            .position(|m| m.starts_with(&name))
            .unwrap_or(0) as i64
            + 1
    });
    let mut month = number("m").or(month_name).unwrap_or(1);
    let mut day = number("d").unwrap_or(1);
    if let (Some(j), None, None) = (number("j"), number("m"), number("d")) {
        let date = NaiveDate::from_yo_opt(year as i32, j as u32)
            .ok_or_else(|| py_error("ValueError", "day of year is out of range"))?;
        month = date.month() as i64;
        day = date.day() as i64;
    }
    let mut hour = number("H").unwrap_or(0);
    if let Some(h) = number("I") {
        let pm = group("p").is_some_and(|p| p.eq_ignore_ascii_case("pm"));
        hour = match (h, pm) {
            (12, false) => 0,
            (12, true) => 12,
            (h, true) => h + 12,
            (h, false) => h,
        };
    }
    let microsecond = group("f")
        .map(|f| format!("{f:0<6}").parse::<i64>().unwrap_or(0))
        .unwrap_or(0);
    let wall = make_wall(
        year,
        month,
        day,
        hour,
        number("M").unwrap_or(0),
        number("S").unwrap_or(0),
        microsecond,
    )?;
    let tz = match group("z") {
        Some(z) => Some(
            parse_offset(z)
                .ok_or_else(|| py_error("ValueError", format!("Inconsistent use of : in {z}")))?,
        ),
        None => None,
    };
    Ok(Moment::value(Kind::DateTime, wall, tz))
}

/// `Z`, `+HH`, `+HH:MM`, `+HHMM`, `+HH:MM:SS[.ffffff]`: `timezone.utc` for a
/// zero offset, a fixed zone otherwise.
fn parse_offset(text: &str) -> Option<TzInfo> {
    if text.eq_ignore_ascii_case("z") {
        return Some(Zone::Utc.fixed(0));
    }
    let sign = match text.chars().next()? {
        '+' => 1,
        '-' => -1,
        _ => return None,
    };
    let body = &text[1..];
    let body = body.split(['.', ',']).next().unwrap_or(body);
    let digits: String = body.chars().filter(|c| *c != ':').collect();
    if !digits.len().is_multiple_of(2)
        || digits.len() > 6
        || !digits.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let part = |i: usize| {
        digits
            .get(i..i + 2)
            .map(|s| s.parse::<i32>().unwrap_or(0))
            .unwrap_or(0)
    };
    let seconds = sign * (part(0) * 3600 + part(2) * 60 + part(4));
    Some(if seconds == 0 {
        Zone::Utc.fixed(0)
    } else {
        Zone::Fixed(seconds).fixed(seconds)
    })
}

/// Python 3.11's `fromisoformat` for dates, datetimes and times.
fn fromisoformat(kind: Kind, text: &str) -> Result<Value, Error> {
    static DATE: OnceLock<Regex> = OnceLock::new();
    static TIME: OnceLock<Regex> = OnceLock::new();
    let invalid = || py_error("ValueError", format!("Invalid isoformat string: '{text}'"));
    let date_re = DATE.get_or_init(|| {
        Regex::new(r"^(\d{4})(?:-(\d{2})-(\d{2})|(\d{2})(\d{2}))").expect("valid regex")
    });
    let time_re = TIME.get_or_init(|| {
        Regex::new(
            r"^(\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d{1,6})?)?)?)?$",
        )
        .expect("valid regex")
    });
    let number = |m: Option<regex::Match<'_>>| m.map(|m| m.as_str().parse::<i64>().unwrap_or(0));
    let (date, rest) = if kind == Kind::Time {
        ((1900, 1, 1), text)
    } else {
        let c = date_re.captures(text).ok_or_else(invalid)?;
        let ymd = (
            number(c.get(1)).unwrap_or(0),
            number(c.get(2).or(c.get(4))).unwrap_or(0),
            number(c.get(3).or(c.get(5))).unwrap_or(0),
        );
        (ymd, &text[c.get(0).expect("group 0").end()..])
    };
    let mut time = (0, 0, 0, 0);
    let mut tz = None;
    match (kind, rest) {
        (_, "") if kind != Kind::Time => {}
        (Kind::Date, _) => return Err(invalid()),
        _ => {
            // A datetime's date and time are apart by any one character.
            let rest = if kind == Kind::DateTime {
                let mut chars = rest.chars();
                chars.next();
                chars.as_str()
            } else {
                rest
            };
            let c = time_re.captures(rest).ok_or_else(invalid)?;
            let fraction = c
                .get(4)
                .map(|f| {
                    let digits: String = f.as_str().chars().take(6).collect();
                    format!("{digits:0<6}").parse::<i64>().unwrap_or(0)
                })
                .unwrap_or(0);
            time = (
                number(c.get(1)).unwrap_or(0),
                number(c.get(2)).unwrap_or(0),
                number(c.get(3)).unwrap_or(0),
                fraction,
            );
            if let Some(offset) = c.get(5) {
                tz = Some(parse_offset(offset.as_str()).ok_or_else(invalid)?);
            }
        }
    }
    let wall = make_wall(date.0, date.1, date.2, time.0, time.1, time.2, time.3)?;
    Ok(Moment::value(kind, wall, tz))
}

/// `modules.pytz`: `timezone(name)`, `utc`, `UTC`, `FixedOffset(minutes)`.
#[derive(Debug)]
struct PytzModule;

impl Object for PytzModule {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "utc" | "UTC" => Some(PyTz::value(Zone::Utc)),
            _ => None,
        }
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "timezone" => {
                let bound = bind("timezone", args, &["zone"])?;
                let name = str_arg(&bound[0], "timezone", "zone")?;
                if name.eq_ignore_ascii_case("utc") {
                    return Ok(PyTz::value(Zone::Utc));
                }
                // pytz finds a zone whatever the case of its name.
                name.parse::<chrono_tz::Tz>()
                    .ok()
                    .or_else(|| {
                        chrono_tz::TZ_VARIANTS
                            .iter()
                            .copied()
                            .find(|tz| tz.name().eq_ignore_ascii_case(&name))
                    })
                    .map(|tz| PyTz::value(Zone::Named(tz)))
                    .ok_or_else(|| py_error("UnknownTimeZoneError", format!("'{name}'")))
            }
            "FixedOffset" => {
                let bound = bind("FixedOffset", args, &["offset"])?;
                let minutes = int_arg(&bound[0], None, "FixedOffset", "offset")?;
                Ok(PyTz::value(Zone::Fixed((minutes * 60) as i32)))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// A pytz time zone (`pytz.timezone(...)`, `pytz.utc`), or the tzinfo of one
/// aware datetime (`dt.tzinfo`, which has the offset it was made with).
#[derive(Debug)]
struct PyTz {
    zone: Zone,
    localized: Option<TzInfo>,
}

impl PyTz {
    fn value(zone: Zone) -> Value {
        Value::from_object(PyTz {
            zone,
            localized: None,
        })
    }

    /// The tzinfo this gives a datetime it is set on directly.
    fn info_for_wall(&self) -> TzInfo {
        self.localized
            .clone()
            .unwrap_or_else(|| self.zone.unlocalized())
    }

    fn datetime_arg(arg: Option<&Value>, method: &str) -> Result<Arc<Moment>, Error> {
        arg.and_then(|v| v.downcast_object::<Moment>())
            .filter(|m| m.kind == Kind::DateTime)
            .ok_or_else(|| py_error("TypeError", format!("{method}() needs a datetime")))
    }
}

impl Object for PyTz {
    fn is_true(self: &Arc<Self>) -> bool {
        true
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "zone" => Some(Value::from(self.zone.text())),
            _ => None,
        }
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "localize" => {
                let bound = bind("localize", args, &["dt", "is_dst"])?;
                let dt = PyTz::datetime_arg(given(&bound[0]), method)?;
                if dt.tz.is_some() {
                    return Err(py_error(
                        "ValueError",
                        "Not naive datetime (tzinfo is already set)",
                    ));
                }
                let is_dst = match &bound[1] {
                    None => Some(false),
                    Some(v) if v.is_none() => None,
                    Some(v) => Some(v.is_true()),
                };
                let info = self.zone.localize(dt.wall, is_dst)?;
                Ok(Moment::value(Kind::DateTime, dt.wall, Some(info)))
            }
            "normalize" | "fromutc" => {
                let dt = PyTz::datetime_arg(args.first(), method)?;
                let utc = match (method, dt.utc()) {
                    ("normalize", Some(utc)) => utc,
                    ("normalize", None) => {
                        return Err(py_error("ValueError", "Naive time - no tzinfo set"));
                    }
                    _ => dt.wall,
                };
                let info = self.zone.at_utc(utc);
                let wall = utc + chrono::Duration::seconds(info.offset as i64);
                Ok(Moment::value(Kind::DateTime, wall, Some(info)))
            }
            "utcoffset" | "tzname" | "dst" => {
                let info = match (
                    &self.localized,
                    args.first().and_then(|v| v.downcast_object::<Moment>()),
                ) {
                    (Some(info), _) => info.clone(),
                    (None, Some(dt)) => self.zone.localize(dt.wall, Some(false))?,
                    (None, None) => self.zone.unlocalized(),
                };
                Ok(match method {
                    "utcoffset" => Timedelta::value(info.offset as i128 * MICROS_PER_SECOND),
                    "tzname" => Value::from(info.name),
                    _ => Timedelta::value(0),
                })
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.zone.text())
    }
}

/// `run_started_at` as dbt has it: an aware datetime in UTC, from the text
/// kiln keeps (`2024-01-02 03:04:05.123456+00:00`); the text itself if it
/// is not one.
pub fn datetime_value(text: &str) -> Value {
    match fromisoformat(Kind::DateTime, text) {
        Ok(value) => value,
        Err(_) => Value::from(text),
    }
}

/// Words that mark a template whose `+` and `-` may meet a date.
const DATE_WORDS: [&str; 4] = ["datetime", "timedelta", "pytz", "run_started_at"];

/// `source` with each binary `a + b` and `a - b` inside `{{ }}` and `{% %}`
/// made `__kiln_add(a, b)` and `__kiln_sub(a, b)`, when the source names a
/// date at all (see [`DATE_WORDS`]). Operands are found as minijinja's
/// parser finds them: `+`/`-` bind looser than `~`, `*`, filters and tests,
/// tighter than comparisons, `and`, `or`, `not`, `if`/`else`, `,` and `:`.
/// Lines are kept.
pub fn arithmetic_calls(source: &str) -> std::borrow::Cow<'_, str> {
    if !DATE_WORDS.iter().any(|w| source.contains(w)) {
        return source.into();
    }
    let mut edits: Vec<Edit> = Vec::new();
    let mut at = 0;
    while let Some(found) = source[at..].find('{') {
        let open = at + found;
        let rest = &source[open..];
        if rest.starts_with("{#") {
            at = rest
                .find("#}")
                .map(|e| open + e + 2)
                .unwrap_or(source.len());
            continue;
        }
        let statement = rest.starts_with("{%");
        if !statement && !rest.starts_with("{{") {
            at = open + 1;
            continue;
        }
        let mut start = open + 2;
        if matches!(source.as_bytes().get(start), Some(b'-' | b'+')) {
            start += 1;
        }
        let (tokens, end) = lex_tag(source, start);
        if statement
            && tokens
                .first()
                .is_some_and(|t| t.kind == TokKind::Ident && &source[t.start..t.end] == "raw")
        {
            // Nothing in a raw block is a tag.
            at = source[end..]
                .find("endraw")
                .and_then(|e| source[end + e..].find("%}").map(|c| end + e + c + 2))
                .unwrap_or(source.len());
            continue;
        }
        let skip = usize::from(statement && !tokens.is_empty());
        level(source, &tokens, skip, &mut edits);
        at = end;
    }
    if edits.is_empty() {
        return source.into();
    }
    // Insertions before replacements at one place: `a+b-c` closes the
    // first call, then writes the second comma.
    edits.sort_by_key(|e| (e.start, e.end != e.start));
    let mut out = String::with_capacity(source.len() + edits.len() * 12);
    let mut copied = 0;
    for edit in edits {
        out.push_str(&source[copied..edit.start]);
        out.push_str(&edit.text);
        copied = edit.end;
    }
    out.push_str(&source[copied..]);
    out.into()
}

#[derive(Debug)]
struct Edit {
    start: usize,
    end: usize,
    text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokKind {
    Ident,
    Number,
    Str,
    Op,
    Open,
    Close,
}

#[derive(Debug, Clone, Copy)]
struct Tok {
    kind: TokKind,
    start: usize,
    end: usize,
}

/// The tokens of one tag's body from `start`, and where the tag ends (after
/// `}}` or `%}`).
fn lex_tag(source: &str, start: usize) -> (Vec<Tok>, usize) {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut i = start;
    let closes = |i: usize| bytes[i..].starts_with(b"}}") || bytes[i..].starts_with(b"%}");
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if closes(i) {
            return (tokens, i + 2);
        }
        if matches!(c, b'-' | b'+') && i + 1 < bytes.len() && closes(i + 1) {
            return (tokens, i + 3);
        }
        let begin = i;
        let kind = if c == b'"' || c == b'\'' {
            i += 1;
            while i < bytes.len() && bytes[i] != c {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(bytes.len());
            TokKind::Str
        } else if c.is_ascii_digit() {
            while i < bytes.len() {
                let d = bytes[i];
                let exponent_sign = matches!(d, b'+' | b'-') && matches!(bytes[i - 1], b'e' | b'E');
                let fraction = d == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
                if d.is_ascii_alphanumeric() || d == b'_' || exponent_sign || fraction {
                    i += 1;
                } else {
                    break;
                }
            }
            TokKind::Number
        } else if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] >= 0x80)
            {
                i += 1;
            }
            TokKind::Ident
        } else if matches!(c, b'(' | b'[' | b'{') {
            i += 1;
            TokKind::Open
        } else if matches!(c, b')' | b']' | b'}') {
            i += 1;
            TokKind::Close
        } else {
            let two = &bytes[i..(i + 2).min(bytes.len())];
            i += if matches!(two, b"**" | b"//" | b"==" | b"!=" | b"<=" | b">=") {
                2
            } else {
                1
            };
            TokKind::Op
        };
        tokens.push(Tok {
            kind,
            start: begin,
            end: i,
        });
    }
    (tokens, bytes.len())
}

/// Rewrites the operands at one bracket level from `tokens[i]` up to the
/// closing bracket; returns the index after it.
fn level(source: &str, tokens: &[Tok], mut i: usize, edits: &mut Vec<Edit>) -> usize {
    const BOUNDARY_WORDS: [&str; 16] = [
        "and",
        "or",
        "not",
        "in",
        "if",
        "else",
        "elif",
        "for",
        "recursive",
        "set",
        "as",
        "import",
        "from",
        "with",
        "without",
        "context",
    ];
    // Each item: (first token, last token), a bracket group being one item.
    let mut region: Vec<(usize, usize)> = Vec::new();
    let text = |t: &Tok| &source[t.start..t.end];
    while i < tokens.len() {
        let t = tokens[i];
        match t.kind {
            TokKind::Close => {
                flush(source, tokens, &region, edits);
                return i + 1;
            }
            TokKind::Open => {
                let after = level(source, tokens, i + 1, edits);
                region.push((i, after - 1));
                i = after;
                continue;
            }
            TokKind::Ident => {
                let word = text(&t);
                let after_is = i > 0 && text(&tokens[i - 1]) == "is";
                if BOUNDARY_WORDS.contains(&word) && !(word == "not" && after_is) {
                    flush(source, tokens, &region, edits);
                    region.clear();
                } else {
                    region.push((i, i));
                }
            }
            TokKind::Op
                if matches!(
                    text(&t),
                    "," | ":" | "=" | "==" | "!=" | "<" | ">" | "<=" | ">="
                ) =>
            {
                flush(source, tokens, &region, edits);
                region.clear();
            }
            _ => region.push((i, i)),
        }
        i += 1;
    }
    flush(source, tokens, &region, edits);
    tokens.len()
}

/// The edits for one run of operands and `+`/`-` at one level.
fn flush(source: &str, tokens: &[Tok], region: &[(usize, usize)], edits: &mut Vec<Edit>) {
    let ends_operand = |item: &(usize, usize)| {
        let t = tokens[item.1];
        matches!(
            t.kind,
            TokKind::Ident | TokKind::Number | TokKind::Str | TokKind::Close
        )
    };
    let binary: Vec<usize> = (1..region.len())
        .filter(|&k| {
            let t = tokens[region[k].0];
            t.kind == TokKind::Op
                && matches!(&source[t.start..t.end], "+" | "-")
                && ends_operand(&region[k - 1])
        })
        .collect();
    if binary.is_empty() || binary.last() == Some(&(region.len() - 1)) {
        return;
    }
    let mut opening = String::new();
    for &k in binary.iter().rev() {
        let op = &source[tokens[region[k].0].start..tokens[region[k].0].end];
        opening.push_str(if op == "+" {
            "__kiln_add("
        } else {
            "__kiln_sub("
        });
    }
    let first = tokens[region[0].0].start;
    edits.push(Edit {
        start: first,
        end: first,
        text: opening,
    });
    for (n, &k) in binary.iter().enumerate() {
        let op = tokens[region[k].0];
        edits.push(Edit {
            start: op.start,
            end: op.end,
            text: ",".to_string(),
        });
        let operand_end = binary
            .get(n + 1)
            .map(|&next| next - 1)
            .unwrap_or(region.len() - 1);
        let end = tokens[region[operand_end].1].end;
        edits.push(Edit {
            start: end,
            end,
            text: ")".to_string(),
        });
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
    env.add_function("__kiln_mut", |items: minijinja::value::Rest<Value>| {
        // `{% set x = 1, 2 %}` assigns a tuple.
        match items.len() {
            1 => mutable(items[0].clone()),
            _ => Value::from(items.0.clone()),
        }
    });
    env.add_function("__kiln_dict", |value: Option<Value>| {
        MutableDict::value(&value.unwrap_or_default())
    });
    env.add_function("__kiln_add", |state: &State<'_, '_>, a: Value, b: Value| {
        arithmetic(state, '+', a, b)
    });
    env.add_function("__kiln_sub", |state: &State<'_, '_>, a: Value, b: Value| {
        arithmetic(state, '-', a, b)
    });
    env.add_function("zip", zip);
    env.add_function("set", set);
    env.add_global(
        "modules",
        minijinja::context! {
            re => super::python_re::module(),
            datetime => Value::from_object(DatetimeModule),
            pytz => Value::from_object(PytzModule),
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
    }

    /// Renders `source` as kiln compiles it (date arithmetic included).
    fn py(source: &str) -> String {
        let mut env = minijinja::Environment::new();
        register(&mut env);
        let compiled = mutable_literals(source).into_owned();
        env.render_str(&compiled, ())
            .unwrap_or_else(|e| panic!("{source}: {e:#}"))
    }

    fn py_err(source: &str) -> String {
        let mut env = minijinja::Environment::new();
        register(&mut env);
        let compiled = mutable_literals(source).into_owned();
        env.render_str(&compiled, ()).unwrap_err().to_string()
    }

    // Each expected text is what Python 3.11 (with pytz) prints.

    #[test]
    fn datetimes_print_as_python_does() {
        let dt = "{% set m = modules.datetime %}";
        assert_eq!(
            py(&format!("{dt}{{{{ m.datetime(2024, 1, 2, 3, 4, 5) }}}}")),
            "2024-01-02 03:04:05"
        );
        assert_eq!(
            py(&format!(
                "{dt}{{{{ m.datetime(2024, 1, 2, 3, 4, 5, 123456) }}}}"
            )),
            "2024-01-02 03:04:05.123456"
        );
        assert_eq!(
            py(&format!(
                "{dt}{{{{ m.datetime(2024, 1, 2, 3, 4, 5).isoformat() }}}}"
            )),
            "2024-01-02T03:04:05"
        );
        assert_eq!(
            py(&format!(
                "{dt}{{{{ m.datetime(2024, 1, 2, 3, 4, 5, 120).isoformat(' ', 'milliseconds') }}}}"
            )),
            "2024-01-02 03:04:05.000"
        );
        assert_eq!(
            py(&format!("{dt}{{{{ m.date(2024, 1, 2) }}}}")),
            "2024-01-02"
        );
        assert_eq!(
            py(&format!(
                "{dt}{{{{ m.datetime(2024, 1, 2, 3, 4, 5, 6).replace(hour=0, minute=0, second=0, microsecond=0) }}}}"
            )),
            "2024-01-02 00:00:00"
        );
        assert_eq!(
            py(&format!(
                "{dt}{{{{ m.datetime(2024, 1, 2, 3, 4, 5).date() }}}}"
            )),
            "2024-01-02"
        );
        assert_eq!(
            py(&format!(
                "{dt}{{{{ m.datetime(2024, 3, 9, 14, 5, 7, 42).strftime('%Y/%m/%d %H-%M-%S.%f %a %b %j %I%p %%') }}}}"
            )),
            "2024/03/09 14-05-07.000042 Sat Mar 069 02PM %"
        );
        // A naive datetime has no %z or %Z.
        assert_eq!(
            py(&format!(
                "{dt}[{{{{ m.datetime(2024, 1, 2).strftime('%z%Z') }}}}]"
            )),
            "[]"
        );
        assert_eq!(
            py(&format!(
                "{dt}{{{{ m.date(2024, 3, 9).weekday() }}}} {{{{ m.date(2024, 3, 9).isoweekday() }}}} {{{{ m.date(2024, 3, 9).toordinal() }}}}"
            )),
            "5 6 738954"
        );
        // A date has no hour: dbt_date tells dates from datetimes so.
        assert_eq!(
            py(&format!(
                "{dt}{{{{ m.date(2024, 1, 2).hour is defined }}}} {{{{ m.datetime(2024, 1, 2).hour is defined }}}} {{{{ m.datetime(2024, 1, 2).tzinfo is none }}}}"
            )),
            "False True True"
        );
        assert!(
            py_err(&format!("{dt}{{{{ m.date(2023, 2, 29) }}}}"))
                .contains("ValueError: day is out of range for month")
        );
        assert!(
            py_err(&format!("{dt}{{{{ m.datetime(2023, 13, 1) }}}}"))
                .contains("month must be in 1..12")
        );
    }

    #[test]
    fn now_today_and_utcnow_are_the_current_time() {
        for call in [
            "datetime.now()",
            "datetime.today()",
            "datetime.utcnow()",
            "date.today()",
        ] {
            let out = py(&format!("{{{{ modules.datetime.{call}.year }}}}"));
            assert!(
                out.len() == 4 && out.parse::<i32>().is_ok(),
                "{call}: {out}"
            );
        }
        assert_eq!(
            py("{{ modules.datetime.date.today() | string | length }}"),
            "10"
        );
        assert_eq!(
            py("{{ modules.datetime.datetime.utcnow().tzinfo is none }}"),
            "True"
        );
        assert_eq!(
            py("{{ modules.datetime.datetime.now(modules.pytz.utc).isoformat()[-6:] }}"),
            "+00:00"
        );
    }

    #[test]
    fn strptime_and_fromisoformat_read_what_python_reads() {
        let dt = "{% set m = modules.datetime %}";
        assert_eq!(
            py(&format!(
                "{dt}{{{{ m.datetime.strptime('2024-03-09 14:05', '%Y-%m-%d %H:%M') }}}}"
            )),
            "2024-03-09 14:05:00"
        );
        assert_eq!(
            py(&format!(
                "{dt}{{{{ m.datetime.strptime('9 mar 24', '%d %b %y') }}}}"
            )),
            "2024-03-09 00:00:00"
        );
        assert_eq!(
            py(&format!(
                "{dt}{{{{ m.datetime.strptime('2024-03-09T14:05:07.5+0200', '%Y-%m-%dT%H:%M:%S.%f%z') }}}}"
            )),
            "2024-03-09 14:05:07.500000+02:00"
        );
        assert!(
            py_err(&format!(
                "{dt}{{{{ m.datetime.strptime('2024/01/02', '%Y-%m-%d') }}}}"
            ))
            .contains("ValueError: time data '2024/01/02' does not match format '%Y-%m-%d'")
        );
        assert!(
            py_err(&format!(
                "{dt}{{{{ m.datetime.strptime('2024-01-02x', '%Y-%m-%d') }}}}"
            ))
            .contains("unconverted data remains: x")
        );
        assert_eq!(
            py(&format!(
                "{dt}{{{{ m.datetime.fromisoformat('2024-03-09T14:05:07.5+02:00') }}}}"
            )),
            "2024-03-09 14:05:07.500000+02:00"
        );
        assert_eq!(
            py(&format!(
                "{dt}{{{{ m.datetime.fromisoformat('2024-03-09T14:05:07.5+02:00').tzname() }}}}"
            )),
            "UTC+02:00"
        );
        assert_eq!(
            py(&format!(
                "{dt}{{{{ m.datetime.fromisoformat('2024-03-09 14:05Z') }}}}"
            )),
            "2024-03-09 14:05:00+00:00"
        );
        assert_eq!(
            py(&format!("{dt}{{{{ m.date.fromisoformat('2024-03-09') }}}}")),
            "2024-03-09"
        );
        assert!(
            py_err(&format!(
                "{dt}{{{{ m.datetime.fromisoformat('2024/01/02') }}}}"
            ))
            .contains("Invalid isoformat string: '2024/01/02'")
        );
    }

    #[test]
    fn timedeltas_print_and_count_as_python_does() {
        let td = "{% set td = modules.datetime.timedelta %}";
        assert_eq!(
            py(&format!("{td}{{{{ td(days=1, hours=2) }}}}")),
            "1 day, 2:00:00"
        );
        assert_eq!(
            py(&format!("{td}{{{{ td(hours=-1) }}}}")),
            "-1 day, 23:00:00"
        );
        assert_eq!(
            py(&format!(
                "{td}{{{{ td(hours=-1).days }}}} {{{{ td(hours=-1).seconds }}}}"
            )),
            "-1 82800"
        );
        assert_eq!(
            py(&format!(
                "{td}{{{{ td(weeks=1, minutes=90, microseconds=5) }}}}"
            )),
            "7 days, 1:30:00.000005"
        );
        assert_eq!(py(&format!("{td}{{{{ td(hours=1.5) }}}}")), "1:30:00");
        assert_eq!(py(&format!("{td}{{{{ td(2) }}}}")), "2 days, 0:00:00");
        assert_eq!(
            py(&format!(
                "{td}{{{{ td(days=1, microseconds=500000).total_seconds() }}}}"
            )),
            "86400.5"
        );
    }

    #[test]
    fn dates_add_subtract_and_compare_with_timedeltas() {
        let m = "{% set m = modules.datetime %}";
        assert_eq!(
            py(&format!(
                "{m}{{{{ m.date(2024, 1, 31) + m.timedelta(days=1) }}}}"
            )),
            "2024-02-01"
        );
        assert_eq!(
            py(&format!(
                "{m}{{{{ m.timedelta(days=1) + m.date(2024, 1, 31) }}}}"
            )),
            "2024-02-01"
        );
        // A date moves by whole days only.
        assert_eq!(
            py(&format!(
                "{m}{{{{ m.date(2024, 3, 1) + m.timedelta(hours=47) }}}}"
            )),
            "2024-03-02"
        );
        assert_eq!(
            py(&format!(
                "{m}{{{{ m.datetime(2024, 3, 1) - m.timedelta(seconds=1) }}}}"
            )),
            "2024-02-29 23:59:59"
        );
        assert_eq!(
            py(&format!(
                "{m}{{{{ m.datetime(2024, 3, 1) - m.datetime(2024, 2, 28, 12) }}}}"
            )),
            "1 day, 12:00:00"
        );
        assert_eq!(
            py(&format!(
                "{m}{{{{ m.date(2024, 3, 1) - m.date(2024, 2, 1) }}}}"
            )),
            "29 days, 0:00:00"
        );
        assert_eq!(
            py(&format!(
                "{m}{{% set d = m.date(2024, 1, 1) %}}{{{{ (d - m.timedelta(days=1)).isoformat() }}}} {{{{ d + m.timedelta(days=7) - m.timedelta(days=1) }}}}"
            )),
            "2023-12-31 2024-01-07"
        );
        assert_eq!(
            py(&format!(
                "{m}{{{{ m.date(2024, 1, 1) < m.date(2024, 1, 2) }}}} {{{{ m.datetime(2024, 1, 1) + m.timedelta(days=1) == m.datetime(2024, 1, 2) }}}} {{{{ m.timedelta(days=1) > m.timedelta(hours=23) }}}}"
            )),
            "True True True"
        );
        assert_eq!(
            py(&format!(
                "{m}{{% set ds = [m.date(2024, 2, 1), m.date(2023, 5, 1)] %}}{{{{ ds | sort | first }}}} {{{{ ds | max }}}}"
            )),
            "2023-05-01 2024-02-01"
        );
        assert!(
            py_err(&format!("{m}{{{{ m.date(2024, 1, 1) + 1 }}}}"))
                .contains("unsupported operand type(s) for +: 'datetime.date' and 'int'")
        );
        // Every other `+` and `-` is minijinja's own.
        assert_eq!(
            py(&format!(
                "{m}{{{{ 1 + 2 - 4 }}}} {{{{ 'a' + 'b' }}}} {{{{ [1] + [2] }}}} {{{{ -3 - -1 }}}} {{{{ 2 * 3 - 1 }}}} {{{{ 10 - 2 | int }}}} {{{{ 1e-2 + 1 }}}}"
            )),
            "-1 ab [1, 2] -2 5 8 1.01"
        );
        assert_eq!(
            py(&format!(
                "{m}{{% for i in range(3) %}}{{{{ loop.index - 1 }}}}{{% if i - 1 > 0 %}}!{{% endif %}}{{% endfor %}}"
            )),
            "012!"
        );
    }

    #[test]
    fn only_binary_plus_and_minus_become_calls() {
        assert_eq!(
            arithmetic_calls("{{ 1 + 2 }}"),
            "{{ 1 + 2 }}",
            "no date named"
        );
        assert_eq!(
            arithmetic_calls("{# datetime #}{{ a + b - c }}"),
            "{# datetime #}{{ __kiln_sub(__kiln_add(a , b) , c) }}"
        );
        assert_eq!(
            arithmetic_calls("{# pytz #}{{ -a + f(x - 1, y=-2)[0] | int }}"),
            "{# pytz #}{{ __kiln_add(-a , f(__kiln_sub(x , 1), y=-2)[0] | int) }}"
        );
        assert_eq!(
            arithmetic_calls(
                "{# timedelta #}{% set x = a - b if c + d > e else f -%}{% raw %}{{ a + b }}{% endraw %}"
            ),
            "{# timedelta #}{% set x = __kiln_sub(a , b) if __kiln_add(c , d) > e else f -%}{% raw %}{{ a + b }}{% endraw %}"
        );
        assert_eq!(
            arithmetic_calls("{# datetime #}{{ 'a-b' ~ x is not none }}{{ x -}}"),
            "{# datetime #}{{ 'a-b' ~ x is not none }}{{ x -}}"
        );
    }

    #[test]
    fn pytz_zones_localize_and_convert() {
        let p = "{% set m = modules.datetime %}{% set tz = modules.pytz.timezone('US/Eastern') %}";
        assert_eq!(
            py(&format!(
                "{p}{{{{ tz }}}} {{{{ tz.zone }}}} {{{{ modules.pytz.utc }}}}"
            )),
            "US/Eastern US/Eastern UTC"
        );
        assert_eq!(
            py(&format!(
                "{p}{{{{ tz.localize(m.datetime(2002, 10, 27, 6, 0, 0)) }}}}"
            )),
            "2002-10-27 06:00:00-05:00"
        );
        assert_eq!(
            py(&format!(
                "{p}{{{{ tz.localize(m.datetime(2024, 7, 1, 12)).strftime('%Z %z') }}}}"
            )),
            "EDT -0400"
        );
        // In the hour that repeats, is_dst picks which.
        assert_eq!(
            py(&format!(
                "{p}{{{{ tz.localize(m.datetime(2002, 10, 27, 1, 30)) }}}}"
            )),
            "2002-10-27 01:30:00-05:00"
        );
        assert_eq!(
            py(&format!(
                "{p}{{{{ tz.localize(m.datetime(2002, 10, 27, 1, 30), is_dst=true) }}}}"
            )),
            "2002-10-27 01:30:00-04:00"
        );
        assert_eq!(
            py(&format!(
                "{p}{{{{ m.datetime(2024, 7, 1, 12, tzinfo=modules.pytz.utc).astimezone(modules.pytz.timezone('America/New_York')) }}}}"
            )),
            "2024-07-01 08:00:00-04:00"
        );
        assert_eq!(
            py(&format!(
                "{p}{{{{ tz.localize(m.datetime(2024, 1, 2, 3, 4, 5)).astimezone(modules.pytz.utc).isoformat() }}}}"
            )),
            "2024-01-02T08:04:05+00:00"
        );
        // tzinfo= takes pytz's first offset of the zone (local mean time), as
        // pytz does: dbt_date's datetime() writes this.
        assert_eq!(
            py(&format!(
                "{p}{{{{ m.datetime(1997, 9, 29, 6, 14, 0, tzinfo=modules.pytz.timezone('America/Los_Angeles')) }}}}"
            )),
            "1997-09-29 06:14:00-07:53"
        );
        assert_eq!(
            py(&format!(
                "{p}{{{{ m.datetime(2024, 1, 2, 3, 4, 5, tzinfo=modules.pytz.utc).timestamp() }}}}"
            )),
            "1704164645.0"
        );
        assert_eq!(
            py(&format!(
                "{p}{{{{ (tz.localize(m.datetime(2024, 3, 9, 12)) + m.timedelta(days=1)).isoformat() }}}} {{{{ tz.normalize(tz.localize(m.datetime(2024, 3, 9, 12)) + m.timedelta(days=1)) }}}}"
            )),
            "2024-03-10T12:00:00-05:00 2024-03-10 13:00:00-04:00"
        );
        assert_eq!(
            py(&format!(
                "{p}{{{{ tz.localize(m.datetime(2024, 1, 1, 7)) == m.datetime(2024, 1, 1, 12, tzinfo=modules.pytz.utc) }}}}"
            )),
            "True"
        );
        assert!(
            py_err("{{ modules.pytz.timezone('Mars/Olympus') }}")
                .contains("UnknownTimeZoneError: 'Mars/Olympus'")
        );
        assert!(
            py_err(&format!(
                "{p}{{{{ tz.localize(tz.localize(m.datetime(2024, 1, 1))) }}}}"
            ))
            .contains("Not naive datetime (tzinfo is already set)")
        );
    }

    #[test]
    fn run_started_at_is_an_aware_datetime() {
        let mut env = minijinja::Environment::new();
        register(&mut env);
        let at = datetime_value("2024-01-02 03:04:05.123456+00:00");
        let out = env
            .render_str(
                "{{ run_started_at }}|{{ run_started_at.strftime('%Y-%m-%d') }}|{{ run_started_at.astimezone(modules.pytz.timezone('America/New_York')) }}|{{ run_started_at.tzinfo }}",
                minijinja::context! { run_started_at => at },
            )
            .unwrap();
        assert_eq!(
            out,
            "2024-01-02 03:04:05.123456+00:00|2024-01-02|2024-01-01 22:04:05.123456-05:00|UTC"
        );
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
