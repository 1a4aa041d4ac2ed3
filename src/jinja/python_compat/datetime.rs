//! The `modules.datetime` objects: its classes (`date`, `datetime`, `time`,
//! `timedelta`, `timezone`) and their constructors and class methods, and
//! `run_started_at` as an aware datetime.
//!
//! Python's `date`, `datetime`, `time` and `timedelta`, and pytz's time zones,
//! with Python's text for each (`str()`, `isoformat()`, `strftime`). An aware
//! datetime keeps its wall time and the one UTC offset it was made with, as a
//! pytz tzinfo does: arithmetic keeps the offset, `normalize` and
//! `astimezone` find the zone's offset for the instant.
//!
//! minijinja has no operator hook for objects, so `a + b` and `a - b` in a
//! template that names a date (`datetime`, `timedelta`, `pytz`,
//! `run_started_at`) are compiled as `__kiln_add(a, b)` and `__kiln_sub(a, b)`
//! (see [`arithmetic_calls`]), which do Python's date arithmetic and leave
//! every other value to minijinja's own `+` and `-`.

use chrono::TimeZone;

use super::args::{bind, given, int_arg, number_of, py_error, str_arg};
use super::moment::{Kind, MICROS_PER_DAY, MICROS_PER_SECOND, Moment, from_micros, make_wall};
use super::parsing::{fromisoformat, strptime};
use super::timedelta::Timedelta;
use super::timezone::{PyTz, Zone, tzinfo_arg};
use chrono::{NaiveDate, NaiveTime};
use minijinja::value::{Object, Value};
use minijinja::{Error, ErrorKind, State};
use std::sync::Arc;

/// `modules.datetime`.
#[derive(Debug)]
pub(super) struct DatetimeModule;

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
pub(super) struct TimedeltaClass;

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
pub(super) struct TimezoneClass;

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
pub(super) struct MomentClass(Kind);

impl MomentClass {
    pub(super) fn now(&self, args: &[Value]) -> Result<Value, Error> {
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

    pub(super) fn fromtimestamp(&self, args: &[Value], utc_only: bool) -> Result<Value, Error> {
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
    pub(super) fn truncated(&self, value: Value) -> Value {
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

/// `run_started_at` as dbt has it: an aware datetime in UTC, from the text
/// kiln keeps (`2024-01-02 03:04:05.123456+00:00`); the text itself if it
/// is not one.
pub fn datetime_value(text: &str) -> Value {
    match fromisoformat(Kind::DateTime, text) {
        Ok(value) => value,
        Err(_) => Value::from(text),
    }
}
