//! What dbt's Jinja borrows from Python and minijinja lacks: lists and dicts
//! that `append`/`update` change in place, Python's string, list and dict
//! methods (`minijinja_contrib::pycompat`), and `zip`, `set` and `modules`
//! (`re`, `datetime`, `pytz`).
//!
//! minijinja's values are immutable, so the value of every `{% set x = ... %}`
//! is rewritten to `__kiln_mut(...)` (`__kiln_dict({...})` for a dict
//! literal): a list becomes a list object that `do x.append(...)` changes,
//! seen by every scope, as in Jinja2.
//!
//! One module per job:
//!
//! - `rewrite`: the template rewrites (`{% set %}` literals made mutable,
//!   `+`/`-` made date-aware calls);
//! - `collections`: the mutable list and dict;
//! - `methods`: Python methods on plain values, `zip` and `set`;
//! - `args`: Python-style arguments and exceptions, shared by the modules;
//! - `moment`, `timedelta`: Python's `date`/`datetime`/`time` and `timedelta`
//!   values and their arithmetic;
//! - `datetime`: the `modules.datetime` objects (classes and constructors);
//! - `parsing`: `strptime` and `fromisoformat`;
//! - `timezone`: time zones, tzinfo and `modules.pytz`;
//! - `re`: `modules.re`, Python's `re`.

mod args;
mod collections;
mod datetime;
mod methods;
mod moment;
mod parsing;
mod re;
mod rewrite;
mod timedelta;
mod timezone;

#[cfg(test)]
mod tests;

pub use collections::{MutableDict, MutableList, position};
pub use datetime::datetime_value;
pub use methods::unknown_method;
pub use rewrite::mutable_literals;

use collections::mutable;
use datetime::DatetimeModule;
use methods::{set, zip};
use minijinja::value::Value;
use minijinja::{Error, State};
use timedelta::arithmetic;
use timezone::PytzModule;

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
            re => re::module(),
            datetime => Value::from_object(DatetimeModule),
            pytz => Value::from_object(PytzModule),
        },
    );
}
