//! The stateless functions of dbt's Jinja context: `env_var`, `log`, `print`,
//! `return`, `exceptions`, `fromjson`/`tojson`, and the `as_*` filters.

use std::cell::RefCell;

use minijinja::value::{Kwargs, Object, Value};
use minijinja::{Error, ErrorKind, State};

use crate::secrets;

/// dbt's prefix for variables whose values must never be shown or written.
pub const SECRET_ENV_PREFIX: &str = "DBT_ENV_SECRET_";

/// `env_var(name, default)` everywhere but profiles.yml and packages.yml: a
/// secret variable is refused with dbt's message, so its value can never
/// reach compiled SQL, the run's files or the docs page.
pub fn env_var(name: &str, default: Option<Value>) -> Result<Value, Error> {
    if name.starts_with(SECRET_ENV_PREFIX) {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "Secret env vars are allowed only in profiles.yml or packages.yml. \
                 Found '{name}' referenced elsewhere."
            ),
        ));
    }
    env_var_allowing_secrets(name, default)
}

/// `env_var(name, default)` in profiles.yml and packages.yml: the variable's
/// value (a secret one remembered, to be masked in every output), the
/// default, or an error.
pub fn env_var_allowing_secrets(name: &str, default: Option<Value>) -> Result<Value, Error> {
    match std::env::var(name) {
        Ok(value) => {
            if name.starts_with(SECRET_ENV_PREFIX) {
                secrets::register_env(&value);
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

thread_local! {
    /// Set while kiln renders a node ahead of its run (the SQL check before
    /// a build): its `log()` and `print()` lines are kept, to be shown when
    /// the node runs, or never when it renders again then.
    static CAPTURED: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Runs `f` with `log()` and `print()` on this thread kept, not printed;
/// gives what they said, in order (redacted).
pub fn capturing_log_output<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    /// Puts the outer capture back however `f` ends (a panic included).
    struct Restore(Option<Vec<String>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CAPTURED.with(|c| *c.borrow_mut() = self.0.take());
        }
    }
    let mut restore = Restore(CAPTURED.with(|c| c.borrow_mut().replace(Vec::new())));
    let result = f();
    let lines = CAPTURED.with(|c| c.borrow_mut().take()).unwrap_or_default();
    CAPTURED.with(|c| *c.borrow_mut() = restore.0.take());
    (result, lines)
}

/// Prints lines a capture kept, as `log()` would have.
pub fn replay_log_output(lines: &[String]) {
    for line in lines {
        eprintln!("{line}");
    }
}

fn say(message: &Value) {
    let line = secrets::redact(&message.to_string());
    let kept = CAPTURED.with(|c| match c.borrow_mut().as_mut() {
        Some(lines) => {
            lines.push(line.clone());
            true
        }
        None => false,
    });
    if !kept {
        eprintln!("{line}");
    }
}

/// `log(msg, info=False)`: messages with `info=True` go to stderr.
pub fn log(message: Value, kwargs: Kwargs) -> Result<String, Error> {
    let info: Option<bool> = kwargs.get("info")?;
    kwargs.assert_all_used()?;
    if info.unwrap_or(false) {
        say(&message);
    }
    Ok(String::new())
}

/// `print(msg)` writes to stderr and renders as nothing.
pub fn print(message: Value) -> String {
    say(&message);
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
            // A contract that failed: dbt's table of the columns that differ.
            "raise_contract_error" => {
                let columns = |i: usize| -> Vec<crate::contract::ContractColumn> {
                    args.get(i)
                        .and_then(|v| v.try_iter().ok())
                        .into_iter()
                        .flatten()
                        .map(|c| crate::contract::ContractColumn {
                            name: attr(&c, "name"),
                            data_type: attr(&c, "data_type"),
                        })
                        .collect()
                };
                Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!(
                        "{RAISED_PREFIX}{}",
                        crate::contract::mismatch_message(&columns(0), &columns(1))
                    ),
                ))
            }
            "column_type_missing" => {
                let names: Vec<String> = args
                    .first()
                    .and_then(|v| v.try_iter().ok())
                    .into_iter()
                    .flatten()
                    .map(|v| format!("'{v}'"))
                    .collect();
                Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!(
                        "{RAISED_PREFIX}Contracted models require data_type to be defined for \
                         each column. Please ensure that the column name and data_type are \
                         defined within the YAML configuration for the [{}] column(s).",
                        names.join(", ")
                    ),
                ))
            }
            "warn" => {
                eprintln!("warning: {}", secrets::redact(&message));
                Ok(Value::from(""))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// A field of a dict or an attribute of an object, as text ("" if none).
fn attr(value: &Value, name: &str) -> String {
    value
        .get_item(&Value::from(name))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_none())
        .or_else(|| value.get_attr(name).ok())
        .filter(|v| !v.is_undefined() && !v.is_none())
        .map(|v| v.to_string())
        .unwrap_or_default()
}

/// `fromjson(text, default)`.
pub fn fromjson(text: &str, default: Option<Value>) -> Result<Value, Error> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => Ok(super::json_value(&v)),
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

/// dbt's `local_md5`: the md5 of a string, in hex.
pub fn local_md5(text: String) -> String {
    crate::digest::md5_hex(&text)
}

/// Registers the functions and filters above on an environment.
pub fn register_common(env: &mut minijinja::Environment<'_>) {
    env.add_function("env_var", env_var);
    env.add_function("log", log);
    env.add_function("print", print);
    env.add_function("return", return_value);
    env.add_function("fromjson", fromjson);
    env.add_function("tojson", tojson);
    env.add_function("local_md5", local_md5);
    env.add_global("exceptions", Value::from_object(Exceptions));
    env.add_filter("as_number", as_number);
    env.add_filter("as_bool", as_bool);
    env.add_filter("as_text", as_text);
    env.add_filter("as_native", as_native);
}
