//! `modules.re` as dbt exposes Python's `re`: the pattern syntax Python
//! reads, translated for `fancy_regex` (literal braces, verbose mode as
//! Python strips it, `$` before a final newline, `\Z`, lookaround and
//! backreferences), and the module's functions with Python's results:
//! `findall` gives the groups (a tuple for several), `sub` reads Python's
//! replacement template (`\1`, `\g<n>`, `\g<name>`), a match object has
//! `group()`, `groups()`, `start()`, `end()`, `span()`; flags are the
//! module's constants (`re.IGNORECASE`, ...) or inline (`(?ix)`).
//!
//! - here: the module object, its flag constants and functions;
//! - `translate`: Python's pattern syntax written for fancy_regex;
//! - `pattern`: a compiled pattern and its methods;
//! - `template`: Python's replacement template for `sub`;
//! - `found`: the match object.

mod found;
mod pattern;
mod template;
mod translate;

#[cfg(test)]
mod tests;

use super::args::{bind, given, py_error};
use super::methods::text_of;
use minijinja::value::{Enumerator, Object, Value};
use minijinja::{Error, State};
use pattern::Pattern;
use std::sync::Arc;

const IGNORECASE: i64 = 2;
const LOCALE: i64 = 4;
const MULTILINE: i64 = 8;
const DOTALL: i64 = 16;
const UNICODE: i64 = 32;
const VERBOSE: i64 = 64;
const ASCII: i64 = 256;

/// The module, as `modules.re`.
pub(super) fn module() -> Value {
    Value::from_object(ReModule)
}

/// `modules.re` itself: its functions and flag constants.
#[derive(Debug)]
struct ReModule;

impl Object for ReModule {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let flag = match key.as_str()? {
            "I" | "IGNORECASE" => IGNORECASE,
            "L" | "LOCALE" => LOCALE,
            "M" | "MULTILINE" => MULTILINE,
            "S" | "DOTALL" => DOTALL,
            "U" | "UNICODE" => UNICODE,
            "X" | "VERBOSE" => VERBOSE,
            "A" | "ASCII" => ASCII,
            "NOFLAG" => 0,
            _ => return None,
        };
        Some(Value::from(flag))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&[
            "IGNORECASE",
            "MULTILINE",
            "DOTALL",
            "VERBOSE",
            "ASCII",
            "UNICODE",
        ])
    }

    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        call(state, method, args)
    }
}

/// A function of `re`, its pattern first.
fn call(state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
    let text = |v: &Option<Value>| text_of(v.as_ref());
    let need = |v: &Option<Value>, what: &str| {
        v.clone()
            .ok_or_else(|| py_error("TypeError", format!("{method}() missing argument '{what}'")))
    };
    let number = |v: &Option<Value>| {
        given(v)
            .and_then(|v| i64::try_from(v.clone()).ok())
            .unwrap_or(0)
    };
    match method {
        "match" | "search" | "fullmatch" => {
            let a = bind(method, args, &["pattern", "string", "flags"])?;
            let pattern = Pattern::of(&need(&a[0], "pattern")?, a[2].as_ref())?;
            pattern.find(method, &text(&Some(need(&a[1], "string")?)))
        }
        "findall" | "finditer" => {
            let a = bind(method, args, &["pattern", "string", "flags"])?;
            let pattern = Pattern::of(&need(&a[0], "pattern")?, a[2].as_ref())?;
            let found = pattern.matches(&Arc::from(text(&a[1])), 0)?;
            Ok(Value::from(
                found
                    .into_iter()
                    .map(|m| match method {
                        "findall" => m.findall_item(),
                        _ => Value::from_object(m),
                    })
                    .collect::<Vec<_>>(),
            ))
        }
        "sub" | "subn" => {
            let a = bind(
                method,
                args,
                &["pattern", "repl", "string", "count", "flags"],
            )?;
            let pattern = Pattern::of(&need(&a[0], "pattern")?, a[4].as_ref())?;
            let count = usize::try_from(number(&a[3])).unwrap_or(0);
            let (out, n) = pattern.sub(state, &need(&a[1], "repl")?, &text(&a[2]), count)?;
            Ok(match method {
                "sub" => Value::from(out),
                _ => Value::from(vec![Value::from(out), Value::from(n)]),
            })
        }
        "split" => {
            let a = bind(method, args, &["pattern", "string", "maxsplit", "flags"])?;
            let pattern = Pattern::of(&need(&a[0], "pattern")?, a[3].as_ref())?;
            let text: Arc<str> = Arc::from(text(&a[1]));
            let limit = usize::try_from(number(&a[2])).unwrap_or(0);
            let mut parts = Vec::new();
            let mut last = 0;
            for m in pattern.matches(&text, limit)? {
                let (start, end) = m.spans[0].expect("group 0");
                parts.push(Value::from(&text[last..start]));
                parts.extend((1..m.spans.len()).map(|i| m.value(i, &Value::from(()))));
                last = end;
            }
            parts.push(Value::from(&text[last..]));
            Ok(Value::from(parts))
        }
        "compile" => {
            let a = bind(method, args, &["pattern", "flags"])?;
            let pattern = Pattern::of(&need(&a[0], "pattern")?, a[1].as_ref())?;
            // A pattern Python would refuse is refused here, where it is made.
            pattern.regex("")?;
            Ok(Value::from_object(pattern))
        }
        "escape" => {
            let a = bind(method, args, &["pattern"])?;
            let mut out = String::new();
            for c in text(&a[0]).chars() {
                if "()[]{}?*+-|^$\\.&~# \t\n\r\x0b\x0c".contains(c) {
                    out.push('\\');
                }
                out.push(c);
            }
            Ok(Value::from(out))
        }
        "purge" => Ok(Value::from(())),
        _ => Err(Error::from(minijinja::ErrorKind::UnknownMethod)),
    }
}
