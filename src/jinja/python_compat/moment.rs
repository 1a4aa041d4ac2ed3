//! A Python `date`, `datetime` or `time` value: its wall time and tzinfo,
//! Python's text for it (`str()`, `isoformat()`, `strftime`) and its
//! methods.

use chrono::{Datelike, TimeZone, Timelike};

use super::args::{bind, given, int_arg, py_error, str_arg};
use super::timedelta::Timedelta;
use super::timezone::{PyTz, TzInfo, local_info, offset_text, tzinfo_arg};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use minijinja::value::{Object, Value};
use minijinja::{Error, ErrorKind, State};
use std::sync::Arc;

pub(super) const MICROS_PER_SECOND: i128 = 1_000_000;
pub(super) const MICROS_PER_DAY: i128 = 86_400 * MICROS_PER_SECOND;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Kind {
    Date,
    DateTime,
    Time,
}

/// A Python `date`, `datetime` or `time` (a time's date is 1900-01-01, as
/// its `strftime` has it).
#[derive(Debug, Clone)]
pub(super) struct Moment {
    pub(super) kind: Kind,
    pub(super) wall: NaiveDateTime,
    pub(super) tz: Option<TzInfo>,
}

impl Moment {
    pub(super) fn value(kind: Kind, wall: NaiveDateTime, tz: Option<TzInfo>) -> Value {
        Value::from_object(Moment { kind, wall, tz })
    }

    /// The instant, for aware datetimes.
    pub(super) fn utc(&self) -> Option<NaiveDateTime> {
        self.tz
            .as_ref()
            .map(|tz| self.wall - chrono::Duration::seconds(tz.offset as i64))
    }

    pub(super) fn time_text(&self, timespec: &str) -> Result<String, Error> {
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

    pub(super) fn date_text(&self) -> String {
        let w = &self.wall;
        format!("{:04}-{:02}-{:02}", w.year(), w.month(), w.day())
    }

    pub(super) fn isoformat(&self, sep: &str, timespec: &str) -> Result<String, Error> {
        Ok(match self.kind {
            Kind::Date => self.date_text(),
            Kind::DateTime => format!("{}{sep}{}", self.date_text(), self.time_text(timespec)?),
            Kind::Time => self.time_text(timespec)?,
        })
    }

    pub(super) fn text(&self) -> String {
        self.isoformat(" ", "auto").unwrap_or_default()
    }

    /// Python's `strftime`: C's directives (C locale), `%f` microseconds,
    /// `%z` and `%Z` empty for a naive value.
    pub(super) fn strftime(&self, format: &str) -> Result<String, Error> {
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
    pub(super) fn replace(&self, args: &[Value]) -> Result<Value, Error> {
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
    pub(super) fn astimezone(&self, args: &[Value]) -> Result<Value, Error> {
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

    pub(super) fn timestamp(&self) -> f64 {
        let utc = self.utc().unwrap_or_else(|| {
            self.wall - chrono::Duration::seconds(local_info(self.wall).offset as i64)
        });
        let utc = utc.and_utc();
        utc.timestamp() as f64 + (utc.timestamp_subsec_micros() as f64) / 1e6
    }

    /// The instant or wall time, in microseconds, for comparisons.
    pub(super) fn ordinal_micros(&self) -> i128 {
        let at = self.utc().unwrap_or(self.wall);
        micros_of(at)
    }
}

pub(super) fn micros_of(at: NaiveDateTime) -> i128 {
    let at = at.and_utc();
    at.timestamp() as i128 * MICROS_PER_SECOND + at.timestamp_subsec_micros() as i128
}

pub(super) fn from_micros(micros: i128) -> Result<NaiveDateTime, Error> {
    let seconds = i64::try_from(micros.div_euclid(MICROS_PER_SECOND))
        .map_err(|_| py_error("OverflowError", "date value out of range"))?;
    let micro = micros.rem_euclid(MICROS_PER_SECOND) as u32;
    chrono::DateTime::from_timestamp(seconds, micro * 1000)
        .map(|d| d.naive_utc())
        .filter(|d| (1..=9999).contains(&d.year()))
        .ok_or_else(|| py_error("OverflowError", "date value out of range"))
}

/// A wall time from Python's parts, with Python's range errors.
pub(super) fn make_wall(
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
