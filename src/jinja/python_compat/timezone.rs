//! Time zones as pytz and `datetime.timezone` have them: a zone, the tzinfo
//! of one aware datetime (the offset it was made with), Python's offset
//! text, and the `modules.pytz` object.

use chrono::{Offset, TimeZone};
use chrono_tz::{OffsetComponents, OffsetName};

use super::args::{bind, given, int_arg, py_error, py_type, str_arg};
use super::moment::{Kind, MICROS_PER_SECOND, Moment};
use super::timedelta::Timedelta;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use minijinja::value::{Object, Value};
use minijinja::{Error, ErrorKind, State};
use std::sync::Arc;

/// `+HH:MM` (with `:SS` and `.ffffff` when not zero), Python's offset text;
/// `sep` is `:` for `str()` and `isoformat()`, empty for `%z`.
pub(super) fn offset_text(seconds: i32, sep: &str) -> String {
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
pub(super) fn pytz_round(seconds: i32) -> i32 {
    (seconds + 30).div_euclid(60) * 60
}

/// A time zone as pytz and `datetime.timezone` have it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Zone {
    /// `pytz.utc` (and `datetime.timezone.utc`).
    Utc,
    /// `pytz.timezone('America/New_York')`.
    Named(chrono_tz::Tz),
    /// `datetime.timezone(timedelta(...))`: a fixed offset, in seconds.
    Fixed(i32),
}

/// The tzinfo of one aware datetime: its zone and the offset it has.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TzInfo {
    pub(super) zone: Zone,
    /// Seconds east of UTC.
    pub(super) offset: i32,
    /// `tzname()`: `EST`, `LMT`, `UTC`, `UTC+02:00`.
    pub(super) name: String,
}

impl Zone {
    /// `str(tz)`.
    pub(super) fn text(&self) -> String {
        match self {
            Zone::Utc => "UTC".to_string(),
            Zone::Named(tz) => tz.name().to_string(),
            Zone::Fixed(offset) => fixed_name(*offset),
        }
    }

    pub(super) fn fixed(&self, offset: i32) -> TzInfo {
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
    pub(super) fn at_utc(&self, utc: NaiveDateTime) -> TzInfo {
        match self {
            Zone::Utc => self.fixed(0),
            Zone::Fixed(offset) => self.fixed(*offset),
            Zone::Named(tz) => named_info(*tz, &tz.offset_from_utc_datetime(&utc)),
        }
    }

    /// The tzinfo a datetime gets from `tzinfo=pytz.timezone(...)` or
    /// `replace(tzinfo=...)`: pytz's first offset of the zone (its local mean
    /// time), not the one for the date; `localize` gives that.
    pub(super) fn unlocalized(&self) -> TzInfo {
        let first = NaiveDate::from_ymd_opt(1, 1, 1)
            .expect("valid date")
            .and_time(NaiveTime::MIN);
        self.at_utc(first)
    }

    /// pytz's `localize(wall, is_dst)`: the offset the zone has at that wall
    /// time; `is_dst` picks one of two (a repeated hour) or, for a wall time
    /// the zone skips, the offset before or after; `None` makes both errors.
    pub(super) fn localize(
        &self,
        wall: NaiveDateTime,
        is_dst: Option<bool>,
    ) -> Result<TzInfo, Error> {
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

pub(super) fn named_info(tz: chrono_tz::Tz, offset: &chrono_tz::TzOffset) -> TzInfo {
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
pub(super) fn fixed_name(offset: i32) -> String {
    if offset == 0 {
        "UTC".to_string()
    } else {
        format!("UTC{}", offset_text(offset, ":"))
    }
}

/// The zone a tzinfo argument names: a pytz zone, a datetime's `tzinfo`, or
/// `none`.
pub(super) fn tzinfo_arg(arg: &Option<Value>) -> Result<Option<Arc<PyTz>>, Error> {
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
pub(super) fn local_info(wall: NaiveDateTime) -> TzInfo {
    let offset = chrono::Local
        .offset_from_local_datetime(&wall)
        .earliest()
        .map(|o| o.fix().local_minus_utc())
        .unwrap_or(0);
    Zone::Fixed(offset).fixed(offset)
}

/// `modules.pytz`: `timezone(name)`, `utc`, `UTC`, `FixedOffset(minutes)`.
#[derive(Debug)]
pub(super) struct PytzModule;

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
pub(super) struct PyTz {
    pub(super) zone: Zone,
    pub(super) localized: Option<TzInfo>,
}

impl PyTz {
    pub(super) fn value(zone: Zone) -> Value {
        Value::from_object(PyTz {
            zone,
            localized: None,
        })
    }

    /// The tzinfo this gives a datetime it is set on directly.
    pub(super) fn info_for_wall(&self) -> TzInfo {
        self.localized
            .clone()
            .unwrap_or_else(|| self.zone.unlocalized())
    }

    pub(super) fn datetime_arg(arg: Option<&Value>, method: &str) -> Result<Arc<Moment>, Error> {
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
