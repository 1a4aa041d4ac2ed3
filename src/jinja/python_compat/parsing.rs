//! Dates and times read from text: Python's `datetime.strptime` and 3.11's
//! `fromisoformat`.

use chrono::Datelike;

use super::args::py_error;
use super::moment::{Kind, Moment, make_wall};
use super::timezone::{TzInfo, Zone};
use chrono::NaiveDate;
use minijinja::Error;
use minijinja::value::Value;
use regex::Regex;
use std::sync::OnceLock;

/// Python's `datetime.strptime`: the format as Python's `_strptime` makes it
/// a regular expression (C locale), matched case-insensitively.
pub(super) fn strptime(text: &str, format: &str) -> Result<Value, Error> {
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
pub(super) fn parse_offset(text: &str) -> Option<TzInfo> {
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
pub(super) fn fromisoformat(kind: Kind, text: &str) -> Result<Value, Error> {
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
