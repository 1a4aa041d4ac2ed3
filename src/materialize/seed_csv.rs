//! Reading a seed's CSV file and inferring its column types as dbt does
//! (integer, number, date, timestamp, boolean, text; `""` and `null` are
//! NULL), with `column_types` overriding the inference.

use std::collections::BTreeMap;
use std::path::Path;

use crate::adapter::LoadColumn;
use crate::error::{Error, Location, Result};
use crate::jinja::context::SeedData;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedType {
    /// Whole numbers (and columns with no values at all, as in dbt).
    Integer,
    /// Whole numbers beyond 32 bits. dbt types them `integer` and fails to
    /// load them; kiln widens the column instead.
    BigInt,
    /// Numbers with decimals.
    Number,
    Date,
    Timestamp,
    Boolean,
    Text,
}

impl SeedType {
    /// The column type dbt declares, the same on DuckDB and PostgreSQL.
    pub fn sql(self) -> &'static str {
        match self {
            SeedType::Integer => "integer",
            SeedType::BigInt => "bigint",
            SeedType::Number => "float8",
            SeedType::Date => "date",
            SeedType::Timestamp => "timestamp without time zone",
            SeedType::Boolean => "boolean",
            SeedType::Text => "text",
        }
    }

    fn is_numeric(self) -> bool {
        matches!(
            self,
            SeedType::Integer | SeedType::BigInt | SeedType::Number
        )
    }
}

/// A number as agate reads it: `%`, currency symbols and `,` group separators
/// dropped (`12%` is 12, `1,234` is 1234).
pub fn normalize_number(value: &str) -> Option<String> {
    let cleaned: String = value
        .trim()
        .chars()
        .filter(|c| !matches!(c, '%' | ',' | '$' | '\u{20ac}' | '\u{a3}' | '\u{a5}'))
        .collect();
    let digits = cleaned.strip_prefix(['-', '+']).unwrap_or(&cleaned);
    let plausible = !digits.is_empty()
        && digits.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'));
    (plausible && cleaned.parse::<f64>().is_ok_and(f64::is_finite)).then_some(cleaned)
}

/// Whether a number has digits after its point, as agate's precision counts
/// them (`3.0` has one; `1e3` has none).
fn has_fraction(number: &str) -> bool {
    let mantissa = number.split(['e', 'E']).next().unwrap_or(number);
    mantissa
        .split_once('.')
        .is_some_and(|(_, frac)| frac.starts_with(|c: char| c.is_ascii_digit()))
}

fn is_date(value: &str) -> bool {
    match ymd(value.as_bytes()) {
        Some(date) if value.len() == 10 => date.is_some(),
        _ => chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok(),
    }
}

/// The digits of `bytes[range]` as a number, when they all are digits.
fn digits(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0u32, |n, b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })
}

/// A `YYYY-MM-DD` start of `bytes` read without a format parser (seeds of
/// a million rows ask it of every value): `Some(Some(date))` when valid,
/// `Some(None)` when shaped so but no date, `None` when not shaped so
/// (then chrono's parser decides).
fn ymd(bytes: &[u8]) -> Option<Option<chrono::NaiveDate>> {
    if bytes.len() < 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let (year, month, day) = (
        digits(&bytes[..4])?,
        digits(&bytes[5..7])?,
        digits(&bytes[8..10])?,
    );
    Some(chrono::NaiveDate::from_ymd_opt(year as i32, month, day))
}

/// `YYYY-MM-DD HH:MM:SS` read as [`ymd`] reads a date; `None` for any
/// other shape (and a leap second, which chrono's parser decides).
fn fast_timestamp(value: &str) -> Option<bool> {
    let bytes = value.as_bytes();
    if bytes.len() != 19 || bytes[10] != b' ' || bytes[13] != b':' || bytes[16] != b':' {
        return None;
    }
    let date = ymd(bytes)?;
    let (hour, minute, second) = (
        digits(&bytes[11..13])?,
        digits(&bytes[14..16])?,
        digits(&bytes[17..19])?,
    );
    if second >= 60 {
        return None;
    }
    Some(date.is_some_and(|d| d.and_hms_opt(hour, minute, second).is_some()))
}

/// A whole number with nothing to normalize (`42`, `-7`, `+3`), read
/// without the allocation of [`normalize_number`].
fn plain_integer(value: &str) -> Option<i64> {
    let unsigned = value.strip_prefix(['-', '+']).unwrap_or(value);
    if unsigned.is_empty() || unsigned.len() > 18 || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// A number with digits after its point and nothing to normalize (`12.50`).
fn plain_decimal(value: &str) -> bool {
    let unsigned = value.strip_prefix(['-', '+']).unwrap_or(value);
    match unsigned.split_once('.') {
        Some((whole, fraction)) => {
            !fraction.is_empty()
                && whole.bytes().all(|b| b.is_ascii_digit())
                && fraction.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// `2024-01-15 10:30:00`, or ISO 8601 with a `T` (fractions and offsets allowed).
/// dbt reads `2024-01-15 10:30:00.5` as text, and so does kiln.
fn is_timestamp(value: &str) -> bool {
    if let Some(valid) = fast_timestamp(value) {
        return valid;
    }
    chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S").is_ok()
        || (value.contains('T')
            && (chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
                || chrono::DateTime::parse_from_rfc3339(value).is_ok()
                || chrono::DateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f%z").is_ok()))
}

/// dbt reads these as NULL.
fn is_null(value: &str) -> bool {
    value.is_empty() || value.eq_ignore_ascii_case("null")
}

/// Infers the type of a column from its non-null values, trying dbt's types
/// in dbt's order: number, date, timestamp, boolean, text.
pub fn infer(values: &[&str]) -> SeedType {
    if values.is_empty() {
        return SeedType::Integer;
    }
    let numbers: Option<Vec<String>> = values.iter().map(|v| normalize_number(v)).collect();
    if let Some(numbers) = numbers {
        if numbers.iter().any(|n| has_fraction(n)) {
            return SeedType::Number;
        }
        let fits = |n: &String, limit: f64| n.parse::<f64>().is_ok_and(|v| v.abs() <= limit);
        if numbers.iter().all(|n| fits(n, i32::MAX as f64)) {
            return SeedType::Integer;
        }
        if numbers.iter().all(|n| fits(n, i64::MAX as f64)) {
            return SeedType::BigInt;
        }
        return SeedType::Number;
    }
    if values.iter().all(|v| is_date(v)) {
        return SeedType::Date;
    }
    if values.iter().all(|v| is_timestamp(v)) {
        return SeedType::Timestamp;
    }
    if values
        .iter()
        .all(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "false"))
    {
        return SeedType::Boolean;
    }
    SeedType::Text
}

/// agate's name for an unnamed column: its letter (`a`, `b`, ..., `aa`).
fn letter_name(index: usize) -> String {
    let mut n = index + 1;
    let mut name = String::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        name.insert(0, (b'a' + rem as u8) as char);
        n = (n - 1) / 26;
    }
    name
}

/// The column names a header row gives a seed's table, as agate gives them:
/// trimmed, an unnamed column named by its letter, a repeated name with a
/// suffix.
fn column_names(header: Vec<String>) -> Vec<String> {
    let mut names: Vec<String> = header
        .into_iter()
        .enumerate()
        .map(|(i, h)| if h.is_empty() { letter_name(i) } else { h })
        .collect();
    for i in 0..names.len() {
        if names[..i].contains(&names[i]) {
            let base = names[i].clone();
            let mut n = 2;
            while names.contains(&format!("{base}_{n}")) {
                n += 1;
            }
            names[i] = format!("{base}_{n}");
        }
    }
    names
}

/// The delimiter a seed's `delimiter:` config names, `,` without one.
pub fn delimiter(config: &crate::config::node_config::NodeConfig) -> u8 {
    config
        .get_str("delimiter")
        .and_then(|d| d.bytes().next())
        .unwrap_or(b',')
}

/// The columns a seed's table gets, from the header row alone (what the SQL
/// check knows of a seed before it is loaded); `None` when the file cannot
/// be read.
pub fn read_column_names(path: &Path, delimiter: u8) -> Option<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .from_path(path)
        .ok()?;
    let header: Vec<String> = reader
        .headers()
        .ok()?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    Some(column_names(header))
}

/// How many rows are read between two looks at `stop`.
const ROWS_BETWEEN_CHECKS: usize = 4096;

/// Reads `path` (shown to the user as `display`) into columns with types and
/// rows of text values; `None` when `stop` (asked every few thousand rows
/// and between columns) said to stop.
pub fn read_seed(
    path: &Path,
    display: &Path,
    column_types: &BTreeMap<String, String>,
    delimiter: u8,
    stop: &dyn Fn() -> bool,
) -> Result<Option<SeedData>> {
    let csv_error = |line: Option<u64>, message: String| Error::Csv {
        location: match line {
            Some(l) => Location::at(display, l as usize, None),
            None => Location::file(display),
        },
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .from_path(path)
        .map_err(|e| csv_error(None, e.to_string()))?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(Some(1), describe(&e)))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if headers.is_empty() {
        return Err(csv_error(
            Some(1),
            "the file is empty: a seed needs a header row".into(),
        ));
    }
    let headers = column_names(headers);
    let mut rows: Vec<Vec<Option<String>>> = Vec::new();
    for record in reader.records() {
        if rows.len().is_multiple_of(ROWS_BETWEEN_CHECKS) && stop() {
            return Ok(None);
        }
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line());
            csv_error(line, describe(&e))
        })?;
        if record.len() > headers.len() {
            let line = record.position().map(|p| p.line());
            return Err(csv_error(
                line,
                format!(
                    "this row has {} values, but the header names {} columns",
                    record.len(),
                    headers.len()
                ),
            ));
        }
        // A short row is padded with NULLs, as dbt does.
        let mut row: Vec<Option<String>> = record
            .iter()
            .map(|v| (!is_null(v)).then(|| v.to_string()))
            .collect();
        row.resize(headers.len(), None);
        rows.push(row);
    }
    let mut columns = Vec::with_capacity(headers.len());
    for (i, name) in headers.iter().enumerate() {
        if stop() {
            return Ok(None);
        }
        let data_type = match column_types.get(name) {
            Some(t) => t.clone(),
            None => {
                let values: Vec<&str> = rows.iter().filter_map(|r| r[i].as_deref()).collect();
                let inferred = infer(&values);
                if inferred.is_numeric() {
                    for row in rows.iter_mut() {
                        if let Some(v) = row[i].as_mut()
                            && let Some(n) = normalize_number(v)
                        {
                            *v = n;
                        }
                    }
                }
                inferred.sql().to_string()
            }
        };
        columns.push(LoadColumn {
            name: name.clone(),
            data_type,
        });
    }
    Ok(Some(SeedData {
        columns,
        row_count: rows.len(),
        rows,
        file: None,
    }))
}

/// What a first pass over a seed's file found when the database can read
/// the file as it is: every value already in the form its column's type
/// takes (no `$`, `%` or `,` in a number to strip), so only the types are
/// kiln's to give.
#[derive(Debug, Clone, PartialEq)]
pub struct PlainCsv {
    pub columns: Vec<LoadColumn>,
    pub rows: usize,
    /// Some row has fewer values than the header (padded with NULLs).
    pub short_rows: bool,
    /// Some NULL is written `null` (any case) rather than left empty.
    pub null_words: bool,
}

/// The NULL spellings a database's CSV reader is told of.
pub const NULL_WORDS: [&str; 3] = ["null", "NULL", "Null"];

/// What one column's values allow, gathered a value at a time: dbt's
/// inference ([`infer`]) without keeping the values.
#[derive(Debug, Clone)]
struct ColumnScan {
    values: usize,
    numeric: bool,
    /// A number needs normalizing (`1,234`, `12%`) before a database reads it.
    numeric_unplain: bool,
    fraction: bool,
    fits_i32: bool,
    fits_i64: bool,
    date: bool,
    timestamp: bool,
    boolean: bool,
}

impl ColumnScan {
    fn new() -> ColumnScan {
        ColumnScan {
            values: 0,
            numeric: true,
            numeric_unplain: false,
            fraction: false,
            fits_i32: true,
            fits_i64: true,
            date: true,
            timestamp: true,
            boolean: true,
        }
    }

    fn add(&mut self, value: &str) {
        self.values += 1;
        if self.numeric
            && let Some(n) = plain_integer(value)
        {
            self.fits_i32 &= n.unsigned_abs() <= i32::MAX as u64;
        } else if self.numeric && plain_decimal(value) {
            self.fraction = true;
        } else if self.numeric {
            match normalize_number(value) {
                Some(number) => {
                    if number != value {
                        self.numeric_unplain = true;
                    }
                    self.fraction |= has_fraction(&number);
                    let magnitude = number.parse::<f64>().map(f64::abs).unwrap_or(f64::MAX);
                    self.fits_i32 &= magnitude <= i32::MAX as f64;
                    self.fits_i64 &= magnitude <= i64::MAX as f64;
                }
                None => self.numeric = false,
            }
        }
        // Each of dbt's tests holds for all the values or not: once one
        // fails it is not asked again.
        self.date = self.date && is_date(value);
        self.timestamp = self.timestamp && is_timestamp(value);
        self.boolean = self.boolean
            && (value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false"));
    }

    /// The type [`infer`] gives the same values.
    fn inferred(&self) -> SeedType {
        if self.values == 0 {
            SeedType::Integer
        } else if self.numeric {
            if self.fraction {
                SeedType::Number
            } else if self.fits_i32 {
                SeedType::Integer
            } else if self.fits_i64 {
                SeedType::BigInt
            } else {
                SeedType::Number
            }
        } else if self.date {
            SeedType::Date
        } else if self.timestamp {
            SeedType::Timestamp
        } else if self.boolean {
            SeedType::Boolean
        } else {
            SeedType::Text
        }
    }
}

/// A file's rows beyond this many bytes are read by two threads.
const PARALLEL_BYTES: usize = 4 << 20;

/// Whether the file has an empty line (`\n\n` or `\r\n\r\n`).
fn has_blank_line(bytes: &[u8]) -> bool {
    memchr::memmem::find(bytes, b"\n\n").is_some()
        || memchr::memmem::find(bytes, b"\r\n\r\n").is_some()
}

/// Whether every `"` opens a field, closes one (before a delimiter, a line
/// end or the end), or is doubled inside a quoted field: the CSV every
/// reader reads alike.
fn quotes_are_strict(bytes: &[u8], delimiter: u8) -> bool {
    let (mut quoted, mut field_start) = (false, true);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if quoted {
            if b == b'"' {
                match bytes.get(i + 1) {
                    Some(b'"') => i += 1,
                    Some(&next) if next == delimiter || next == b'\n' => quoted = false,
                    None => quoted = false,
                    Some(_) => return false,
                }
            }
        } else if b == b'"' {
            if !field_start {
                return false;
            }
            quoted = true;
        }
        field_start = !quoted && (b == delimiter || b == b'\n');
        i += 1;
    }
    !quoted
}

/// What [`scan_rows`] found in a run of rows.
struct RowsScan {
    scans: Vec<ColumnScan>,
    rows: usize,
    short_rows: bool,
    null_words: bool,
}

impl RowsScan {
    fn new(width: usize) -> RowsScan {
        RowsScan {
            scans: vec![ColumnScan::new(); width],
            rows: 0,
            short_rows: false,
            null_words: false,
        }
    }

    /// The rows of both, as if read in one run.
    fn merge(&mut self, other: RowsScan) {
        self.rows += other.rows;
        self.short_rows |= other.short_rows;
        self.null_words |= other.null_words;
        for (mine, theirs) in self.scans.iter_mut().zip(other.scans) {
            mine.values += theirs.values;
            mine.numeric &= theirs.numeric;
            mine.numeric_unplain |= theirs.numeric_unplain;
            mine.fraction |= theirs.fraction;
            mine.fits_i32 &= theirs.fits_i32;
            mine.fits_i64 &= theirs.fits_i64;
            mine.date &= theirs.date;
            mine.timestamp &= theirs.timestamp;
            mine.boolean &= theirs.boolean;
        }
    }
}

/// Reads rows (no header) of `width` columns; `None` when the database's
/// reader could not take them as they are (a row too long, a NULL spelled
/// otherwise, a broken row) or `stop` said to stop.
fn scan_rows(
    bytes: &[u8],
    delimiter: u8,
    width: usize,
    stop: &(dyn Fn() -> bool + Sync),
) -> Option<RowsScan> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut found = RowsScan::new(width);
    let mut record = csv::StringRecord::new();
    loop {
        if found.rows.is_multiple_of(ROWS_BETWEEN_CHECKS) && stop() {
            return None;
        }
        if !reader.read_record(&mut record).ok()? {
            break;
        }
        if record.len() > width {
            return None;
        }
        found.short_rows |= record.len() < width;
        for (value, scan) in record.iter().zip(found.scans.iter_mut()) {
            if is_null(value) {
                if !value.is_empty() {
                    if !NULL_WORDS.contains(&value) {
                        return None;
                    }
                    found.null_words = true;
                }
            } else {
                scan.add(value);
            }
        }
        found.rows += 1;
    }
    Some(found)
}

/// A first pass over a seed's file that infers dbt's types without keeping
/// its rows, for the database to read the file itself. `Ok(None)` when it
/// cannot (a number to normalize, a blank line, a row too long, or a
/// `column_types` or delimiter the fast path does not serve): then
/// [`read_seed`] reads it.
pub fn scan_plain(
    path: &Path,
    column_types: &BTreeMap<String, String>,
    delimiter: u8,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<Option<PlainCsv>> {
    let Ok(bytes) = std::fs::read(path) else {
        return Ok(None);
    };
    // A blank line is no row to the csv reader, but one to a database's; a
    // carriage return may end lines one way here and another there, and a
    // quote inside a field the csv reader keeps, where COPY starts a quoted
    // value at it: such files go row by row.
    if has_blank_line(&bytes)
        || bytes.first().is_some_and(|b| matches!(b, b'\n' | b'\r'))
        || memchr::memchr(b'\r', &bytes).is_some()
        || (memchr::memchr(b'"', &bytes).is_some() && !quotes_are_strict(&bytes, delimiter))
    {
        return Ok(None);
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes.as_slice());
    let Ok(header) = reader.headers() else {
        return Ok(None);
    };
    let header: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    if header.is_empty() {
        return Ok(None);
    }
    let names = column_names(header);
    let body = reader.position().byte() as usize;
    // Without a quote in the file every line break ends a row, so its rows
    // can be read in two halves at once; with one, in order.
    let halves: Vec<&[u8]> =
        match bytes[body..].len() > PARALLEL_BYTES && memchr::memchr(b'"', &bytes).is_none() {
            true => {
                let rest = &bytes[body..];
                let middle = rest.len() / 2;
                match rest[middle..].iter().position(|&b| b == b'\n') {
                    Some(at) => vec![&rest[..middle + at + 1], &rest[middle + at + 1..]],
                    None => vec![rest],
                }
            }
            false => vec![&bytes[body..]],
        };
    let width = names.len();
    let parts: Vec<Option<RowsScan>> = std::thread::scope(|threads| {
        let running: Vec<_> = halves
            .iter()
            .map(|half| threads.spawn(move || scan_rows(half, delimiter, width, stop)))
            .collect();
        running
            .into_iter()
            .map(|t| t.join().ok().flatten())
            .collect()
    });
    let mut total = RowsScan::new(width);
    for part in parts {
        let Some(part) = part else {
            return Ok(None);
        };
        total.merge(part);
    }
    let RowsScan {
        scans,
        rows,
        short_rows,
        null_words,
    } = total;
    let mut columns = Vec::with_capacity(names.len());
    for (name, scan) in names.into_iter().zip(scans) {
        let data_type = match column_types.get(&name) {
            Some(t) => t.clone(),
            None => {
                let inferred = scan.inferred();
                if inferred.is_numeric() && scan.numeric_unplain {
                    return Ok(None);
                }
                inferred.sql().to_string()
            }
        };
        columns.push(LoadColumn { name, data_type });
    }
    Ok(Some(PlainCsv {
        columns,
        rows,
        short_rows,
        null_words,
    }))
}

fn describe(err: &csv::Error) -> String {
    match err.kind() {
        csv::ErrorKind::Utf8 { .. } => "the file is not valid UTF-8".to_string(),
        _ => {
            let message = err.to_string();
            match message.find(" at line ") {
                Some(cut) => message[..cut].to_string(),
                None => message,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str) -> Option<PlainCsv> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seed.csv");
        std::fs::write(&path, text).unwrap();
        scan_plain(&path, &BTreeMap::new(), b',', &|| false).unwrap()
    }

    fn full_read(text: &str) -> SeedData {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seed.csv");
        std::fs::write(&path, text).unwrap();
        read_seed(&path, &path, &BTreeMap::new(), b',', &|| false)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn the_first_pass_infers_what_the_full_read_infers() {
        for text in [
            "a,b,c,d,e,f\n1,x,2024-01-01,1.5,true,2024-01-01 10:00:00\n2,,2024-02-01,2,False,2024-01-01T10:00:00\n",
            "n,big,mixed,dates\n1,3000000000,1,2024-01-01\n,4000000000,x,2024-01-01 10:00:00\n",
            "empty,nulls\n,null\n,NULL\n",
            "t\n\"line\nbreak\"\n\"a \"\"quote\"\"\"\n",
            "a,b\n1\n2,3\n",
        ] {
            let plain = scan(text).unwrap_or_else(|| panic!("plain: {text}"));
            let full = full_read(text);
            assert_eq!(plain.columns, full.columns, "{text}");
            assert_eq!(plain.rows, full.row_count, "{text}");
        }
        // Large enough to be read in two halves: the second half alone
        // has the text value and the short row.
        let mut large = String::from("n,maybe_number,when\n");
        for i in 0..200_000 {
            large.push_str(&format!("{i},{i},2024-01-01\n"));
        }
        large.push_str("7,x\n");
        assert!(large.len() > PARALLEL_BYTES);
        let plain = scan(&large).unwrap();
        let full = full_read(&large);
        assert_eq!(plain.columns, full.columns);
        assert_eq!(plain.columns[1].data_type, "text");
        assert_eq!(plain.rows, 200_001);
        assert!(plain.short_rows);
        assert!(scan("a,b\n1\n2,3\n").unwrap().short_rows);
        assert!(scan("a\nnull\n").unwrap().null_words);
    }

    #[test]
    fn the_quick_readings_agree_with_chronos() {
        for value in [
            "2024-01-05",
            "2024-02-30",
            "2024-1-5",
            "2024-13-01",
            "0000-01-01",
            "2024-01-05x",
            "2024-01-05 10:30:00",
            "2024-01-05 24:00:00",
            "2024-01-05 10:60:00",
            "2024-01-05 10:30:60",
            "2024-02-30 10:30:00",
            "2024-01-05 1:30:00",
        ] {
            let chrono_date = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok();
            let chrono_time =
                chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S").is_ok();
            assert_eq!(is_date(value), chrono_date, "{value}");
            if let Some(quick) = fast_timestamp(value) {
                assert_eq!(quick, chrono_time, "{value}");
            }
        }
        for value in [
            "42", "-7", "+3", "007", "1.5", "-0.25", "12.", ".5", "1e3", "1,000",
        ] {
            let slow = normalize_number(value);
            if plain_integer(value).is_some() || plain_decimal(value) {
                assert_eq!(slow.as_deref(), Some(value), "{value}");
                assert_eq!(plain_decimal(value), has_fraction(value), "{value}");
            }
        }
    }

    #[test]
    fn a_file_with_values_to_normalize_is_read_in_full() {
        // agate strips `$`, `%` and group separators: the database's reader
        // would not, so such a file's rows go through kiln.
        assert_eq!(scan("amount\n\"$1,234\"\n"), None);
        assert_eq!(scan("rate\n12%\n"), None);
        // A blank line, a row longer than the header, a NULL spelled `nUll`.
        assert_eq!(scan("a\n1\n\n2\n"), None);
        assert_eq!(scan("a\n1,2\n"), None);
        assert_eq!(scan("a\nnUll\n"), None);
        // The same text in a text column needs nothing.
        assert!(scan("note\n12%\nabc\n").is_some());
        // A quote inside an unquoted field (COPY would start a quoted value
        // there), a carriage return, a leading blank line.
        assert_eq!(scan("a,b\nx\"y,1\nz\"w,2\n"), None);
        assert_eq!(scan("a\r\n1\r\n"), None);
        assert_eq!(scan("\na\n1\n"), None);
        assert!(scan("a,b\n\"x, \"\"y\"\"\",1\n").is_some());
    }

    // Pinned against dbt-core 1.10 with dbt-duckdb 1.10 and dbt-postgres 1.9.
    #[test]
    fn infers_types_as_dbt_does() {
        assert_eq!(infer(&["1", "2", "-3"]).sql(), "integer");
        assert_eq!(infer(&[]).sql(), "integer");
        assert_eq!(infer(&["02139", "00501"]).sql(), "integer");
        assert_eq!(infer(&["1.5", "2.25", "3"]).sql(), "float8");
        assert_eq!(infer(&["1e3", "2e3"]).sql(), "integer");
        assert_eq!(infer(&["12%", "5%"]).sql(), "integer");
        assert_eq!(infer(&["1,234", "12,345"]).sql(), "integer");
        assert_eq!(infer(&["2024-01-15"]).sql(), "date");
        assert_eq!(
            infer(&[
                "2024-01-15 10:30:00",
                "2024-01-15T10:30:00.5",
                "2024-01-16T10:30:00+02:00"
            ])
            .sql(),
            "timestamp without time zone"
        );
        assert_eq!(infer(&["2024-01-15 10:30:00.5"]).sql(), "text");
        assert_eq!(infer(&["2024/01/15"]).sql(), "text");
        assert_eq!(infer(&["true", "False"]).sql(), "boolean");
        assert_eq!(infer(&["yes", "no"]).sql(), "text");
        // dbt declares `integer` here and the load fails; kiln widens the column.
        assert_eq!(infer(&["1", "3000000000"]).sql(), "bigint");
    }

    fn read(text: &str) -> Result<SeedData> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        std::fs::write(&path, text).unwrap();
        read_seed(
            &path,
            Path::new("seeds/s.csv"),
            &BTreeMap::new(),
            b',',
            &|| false,
        )
        .map(|seed| seed.expect("never stopped"))
    }

    #[test]
    fn too_many_values_name_the_line() {
        let err = read("id,name\n1,a\n2,b,extra\n").unwrap_err().to_string();
        assert!(err.starts_with("seeds/s.csv:3:"), "{err}");
        assert!(
            err.contains("this row has 3 values, but the header names 2 columns"),
            "{err}"
        );
    }

    #[test]
    fn short_rows_are_padded_and_names_fixed_as_agate_does() {
        let seed = read("a,,a\n1,2,3\n4,5\n").unwrap();
        let names: Vec<&str> = seed.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "a_2"]);
        assert_eq!(seed.rows[1], vec![Some("4".into()), Some("5".into()), None]);
    }

    #[test]
    fn numbers_are_normalized_and_null_read_as_null() {
        let seed = read("pct,n\n12%,null\n\"1,234\",\n").unwrap();
        assert_eq!(seed.rows[0][0].as_deref(), Some("12"));
        assert_eq!(seed.rows[1][0].as_deref(), Some("1234"));
        assert_eq!(seed.rows[0][1], None);
        assert_eq!(seed.rows[1][1], None);
    }

    #[test]
    fn empty_file_is_an_error() {
        let err = read("").unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
    }
}
