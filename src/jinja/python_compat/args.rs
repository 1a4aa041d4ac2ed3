//! Python's calling conventions for the objects here: keyword and positional
//! arguments bound by name, Python's type names and exceptions as render
//! errors.

use super::moment::{Kind, Moment};
use super::timedelta::Timedelta;
use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind};

/// A Python exception as a render error: `ValueError: day is out of range for month`.
pub(super) fn py_error(exception: &str, message: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!("{exception}: {message}"),
    )
}

/// Python's type name of a value, for TypeError messages.
pub(super) fn py_type(value: &Value) -> &'static str {
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
pub(super) fn number_of(value: &Value) -> Option<f64> {
    (value.kind() == ValueKind::Number)
        .then(|| f64::try_from(value.clone()).ok())
        .flatten()
}

/// A bound argument that was given and is not `none`.
pub(super) fn given(arg: &Option<Value>) -> Option<&Value> {
    arg.as_ref().filter(|v| !v.is_none() && !v.is_undefined())
}

pub(super) fn int_arg(
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

pub(super) fn str_arg(arg: &Option<Value>, func: &str, name: &str) -> Result<String, Error> {
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
