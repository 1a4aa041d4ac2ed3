//! The stateless functions of dbt's Jinja context: `env_var`, `log`, `print`,
//! `return`, `exceptions`, `fromjson`/`tojson`, and the `as_*` filters.

use std::cell::RefCell;

use minijinja::value::{Kwargs, Object, Value};
use minijinja::{Error, ErrorKind, State};

use crate::secrets;

/// `env_var(name, default)`: the variable's value, the default, or an error.
pub fn env_var(name: &str, default: Option<Value>) -> Result<Value, Error> {
    match std::env::var(name) {
        Ok(value) => {
            if name.starts_with("DBT_ENV_SECRET_") {
                secrets::register(&value);
            }
            Ok(Value::from(value))
        }
        Err(_) => match default {
            Some(default) if !default.is_undefined() => Ok(default),
            _ => Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("Env var required but not provided: '{name}'"),
            )),
        },
    }
}

/// `log(msg, info=False)`: messages with `info=True` go to stderr.
pub fn log(message: Value, kwargs: Kwargs) -> Result<String, Error> {
    let info: Option<bool> = kwargs.get("info")?;
    kwargs.assert_all_used()?;
    if info.unwrap_or(false) {
        eprintln!("{}", secrets::redact(&message.to_string()));
    }
    Ok(String::new())
}

/// `print(msg)` writes to stderr and renders as nothing.
pub fn print(message: Value) -> String {
    eprintln!("{}", secrets::redact(&message.to_string()));
    String::new()
}

thread_local! {
    /// One slot per macro call in progress; `return(x)` fills the innermost one.
    static RETURN_SLOTS: RefCell<Vec<Option<Value>>> = const { RefCell::new(Vec::new()) };
}

/// The message of the error that `return()` raises to stop the macro's render.
pub const RETURN_SIGNAL: &str = "kiln: macro returned";

/// `return(value)`: ends the current macro, whose call then yields `value`.
pub fn return_value(value: Option<Value>) -> Result<Value, Error> {
    let value = value.unwrap_or(Value::from(()));
    let stored = RETURN_SLOTS.with(|slots| match slots.borrow_mut().last_mut() {
        Some(slot) => {
            *slot = Some(value);
            true
        }
        None => false,
    });
    if stored {
        Err(Error::new(ErrorKind::InvalidOperation, RETURN_SIGNAL))
    } else {
        // Outside a project macro `return` yields its value, like a plain function.
        Ok(Value::UNDEFINED)
    }
}

/// Runs `f` with a fresh return slot; gives the returned value, if any.
pub fn with_return_slot<T>(f: impl FnOnce() -> T) -> (T, Option<Value>) {
    RETURN_SLOTS.with(|slots| slots.borrow_mut().push(None));
    let result = f();
    let returned = RETURN_SLOTS.with(|slots| slots.borrow_mut().pop().flatten());
    (result, returned)
}

/// How the message of `exceptions.raise_compiler_error()` starts, as in dbt.
pub const RAISED_PREFIX: &str = "Compilation Error: ";

/// `exceptions.raise_compiler_error(msg)` and `exceptions.warn(msg)`.
#[derive(Debug)]
pub struct Exceptions;

impl Object for Exceptions {
    fn call_method(
        self: &std::sync::Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let message = args.first().map(|v| v.to_string()).unwrap_or_default();
        match method {
            "raise_compiler_error" | "raise_not_implemented" => Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("{RAISED_PREFIX}{message}"),
            )),
            "warn" => {
                eprintln!("warning: {}", secrets::redact(&message));
                Ok(Value::from(""))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// `fromjson(text, default)`.
pub fn fromjson(text: &str, default: Option<Value>) -> Result<Value, Error> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => Ok(crate::jinja::json_value(&v)),
        Err(e) => match default {
            Some(d) => Ok(d),
            None => Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("fromjson: {e}"),
            )),
        },
    }
}

/// `tojson(value)`.
pub fn tojson(value: Value) -> Result<String, Error> {
    serde_json::to_string(&value)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("tojson: {e}")))
}

/// `as_number`: a number from its text, as dbt's native rendering gives.
pub fn as_number(value: Value) -> Result<Value, Error> {
    if value.as_i64().is_some() || value.kind() == minijinja::value::ValueKind::Number {
        return Ok(value);
    }
    let text = value.to_string();
    let text = text.trim();
    if let Ok(i) = text.parse::<i64>() {
        return Ok(Value::from(i));
    }
    text.parse::<f64>().map(Value::from).map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("as_number: '{text}' is not a number"),
        )
    })
}

/// `as_bool`: `true`/`false` from their text.
pub fn as_bool(value: Value) -> Result<Value, Error> {
    if value.kind() == minijinja::value::ValueKind::Bool {
        return Ok(value);
    }
    match value.to_string().trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(Value::from(true)),
        "false" | "no" | "0" => Ok(Value::from(false)),
        other => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("as_bool: '{other}' is not a boolean"),
        )),
    }
}

/// `as_text`: the value as a string.
pub fn as_text(value: Value) -> String {
    value.to_string()
}

/// `as_native`: the value as it is.
pub fn as_native(value: Value) -> Value {
    value
}

/// Registers the functions and filters above on an environment.
pub fn register_common(env: &mut minijinja::Environment<'_>) {
    env.add_function("env_var", env_var);
    env.add_function("log", log);
    env.add_function("print", print);
    env.add_function("return", return_value);
    env.add_function("fromjson", fromjson);
    env.add_function("tojson", tojson);
    env.add_global("exceptions", Value::from_object(Exceptions));
    env.add_filter("as_number", as_number);
    env.add_filter("as_bool", as_bool);
    env.add_filter("as_text", as_text);
    env.add_filter("as_native", as_native);
}
