//! A Python `timedelta`, and `a + b` / `a - b` when either side is a date,
//! datetime or timedelta (the `__kiln_add`/`__kiln_sub` calls).

use super::args::{bind, given, number_of, py_error, py_type};
use super::moment::{Kind, MICROS_PER_DAY, MICROS_PER_SECOND, Moment, from_micros, micros_of};
use minijinja::value::{Object, Value};
use minijinja::{Error, ErrorKind, State};
use std::sync::Arc;

/// A Python `timedelta`, in microseconds.
#[derive(Debug, Clone, Copy)]
pub(super) struct Timedelta(pub(super) i128);

impl Timedelta {
    pub(super) fn value(micros: i128) -> Value {
        Value::from_object(Timedelta(micros))
    }

    pub(super) fn days(&self) -> i128 {
        self.0.div_euclid(MICROS_PER_DAY)
    }

    pub(super) fn seconds(&self) -> i128 {
        self.0.rem_euclid(MICROS_PER_DAY) / MICROS_PER_SECOND
    }

    pub(super) fn microseconds(&self) -> i128 {
        self.0.rem_euclid(MICROS_PER_SECOND)
    }

    /// `timedelta(days=0, seconds=0, microseconds=0, milliseconds=0,
    /// minutes=0, hours=0, weeks=0)`, each an int or a float.
    pub(super) fn construct(args: &[Value]) -> Result<Value, Error> {
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
pub(super) fn temporal_arithmetic(op: char, a: &Value, b: &Value) -> Result<Option<Value>, Error> {
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
pub(super) fn arithmetic(
    state: &State<'_, '_>,
    op: char,
    a: Value,
    b: Value,
) -> Result<Value, Error> {
    if let Some(value) = temporal_arithmetic(op, &a, &b)? {
        return Ok(value);
    }
    let expression = if op == '+' { "a + b" } else { "a - b" };
    state
        .env()
        .compile_expression(expression)?
        .eval(minijinja::context! { a => a, b => b })
}
