//! Printing diagnostics three ways: for a person at a terminal (miette's
//! graphical report, with the offending line and a caret), as one JSON object
//! a line (`--log-format json`), and as GitHub Actions workflow commands
//! (`::error file=...,line=...::`). Everything printed passes through
//! `secrets::redact`, and a snippet of profiles.yml never shows a password.

use std::fmt;
use std::path::Path;
use std::sync::LazyLock;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use regex::Regex;

use super::{Diagnostic, Severity};
use crate::secrets;

/// Width the terminal report wraps at.
const WIDTH: usize = 100;

/// The report a person reads: the code, the message, the source line with a
/// caret under the span, then help and notes.
pub fn human(diagnostic: &Diagnostic, color: bool) -> String {
    let view = View::new(diagnostic);
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(WIDTH)
        .with_links(false);
    let mut out = String::new();
    if handler.render_report(&mut out, &view).is_err() {
        return format!("{}: {}", diagnostic.severity, view.message);
    }
    out
}

/// One JSON object, on one line.
pub fn json(diagnostic: &Diagnostic) -> String {
    let location = diagnostic.location.as_ref();
    let value = serde_json::json!({
        "level": diagnostic.severity,
        "code": diagnostic.code.as_str(),
        "message": secrets::redact(&diagnostic.message),
        "file": location.map(|l| l.file.display().to_string()),
        "line": location.and_then(|l| l.line),
        "column": location.and_then(|l| l.column),
        "help": diagnostic.help.as_deref().map(secrets::redact),
        "notes": diagnostic.notes.iter().map(|n| secrets::redact(n)).collect::<Vec<_>>(),
    });
    value.to_string()
}

/// A GitHub Actions workflow command, which the Actions runner shows as an
/// annotation on the file and line.
pub fn github(diagnostic: &Diagnostic) -> String {
    let command = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut properties = Vec::new();
    if let Some(location) = &diagnostic.location {
        properties.push(format!(
            "file={}",
            escape_property(&location.file.display().to_string())
        ));
        if let Some(line) = location.line {
            properties.push(format!("line={line}"));
        }
        if let Some(column) = location.column {
            properties.push(format!("col={column}"));
        }
    }
    properties.push(format!("title=kiln {}", diagnostic.code));
    let mut message = secrets::redact(&diagnostic.message);
    for extra in diagnostic.help.iter().chain(&diagnostic.notes) {
        message.push('\n');
        message.push_str(&secrets::redact(extra));
    }
    format!(
        "::{command} {}::{}",
        properties.join(","),
        escape_data(&message)
    )
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// A diagnostic as miette sees it, with the source file read in.
struct View {
    message: String,
    severity: Severity,
    help: Option<String>,
    label: Option<String>,
    source: Option<NamedSource<String>>,
    span: Option<SourceSpan>,
}

impl View {
    fn new(d: &Diagnostic) -> View {
        let mut message = format!("{}[{}]: ", d.severity, d.code);
        let mut source = None;
        let mut span = None;
        if let Some(location) = &d.location {
            let snippet = location.line.and_then(|line| {
                let text = match &d.source_text {
                    Some(text) => secrets::redact(text),
                    None => read_source(&location.file)?,
                };
                let span = span_of(&text, line, location.column, location.length)?;
                Some((text, span))
            });
            match snippet {
                Some((text, s)) => {
                    source = Some(NamedSource::new(location.file.display().to_string(), text));
                    span = Some(s);
                }
                None => message.push_str(&format!("{location}: ")),
            }
        }
        message.push_str(&d.message);
        for note in &d.notes {
            message.push_str("\n  ");
            message.push_str(note);
        }
        View {
            message: secrets::redact(&message),
            severity: d.severity,
            help: d.help.as_deref().map(secrets::redact),
            label: d.label.clone(),
            source,
            span,
        }
    }
}

impl fmt::Debug for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for View {}

impl miette::Diagnostic for View {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span?;
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            self.label.clone(),
            span,
        ))))
    }
}

/// The file's text as it may be shown: secrets redacted, and the values of
/// password-like keys of a profiles.yml masked.
fn read_source(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let text = if path.file_name().is_some_and(|n| n == "profiles.yml") {
        mask_profile_secrets(&text)
    } else {
        text
    };
    Some(secrets::redact(&text))
}

static SECRET_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?im)^(\s*[\w-]*(password|passphrase|secret|token|private_key)[\w-]*\s*:[ \t]*)\S.*$",
    )
    .expect("valid regex")
});

fn mask_profile_secrets(text: &str) -> String {
    SECRET_KEY.replace_all(text, "${1}****").into_owned()
}

/// The byte span of `length` characters from `column` on `line` (all 1-based);
/// without a column, the line's text from its first non-blank character.
fn span_of(
    text: &str,
    line: usize,
    column: Option<usize>,
    length: Option<usize>,
) -> Option<SourceSpan> {
    let mut start_of_line = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let content = l.trim_end_matches(['\n', '\r']);
            let (from, len) = match column {
                Some(column) => {
                    let from = char_offset(content, column.saturating_sub(1));
                    let len = match length {
                        Some(n) => char_offset(&content[from..], n).max(1),
                        None => 0,
                    };
                    (from, len)
                }
                None => {
                    let from = content.len() - content.trim_start().len();
                    (from, content.trim().len())
                }
            };
            return Some(SourceSpan::new((start_of_line + from).into(), len));
        }
        start_of_line += l.len();
    }
    None
}

/// The byte offset of the `n`th character of `s`, clamped to its end.
fn char_offset(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map(|(i, _)| i).unwrap_or(s.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Code;
    use crate::error::Location;

    #[test]
    fn github_annotation_escapes_newlines_and_names_the_place() {
        let d = Diagnostic::error(Code::UnknownReference, "no node 'x'\nsecond line")
            .at(Location::at("models/a,b.sql", 3, Some(7)))
            .with_help(Some("did you mean 'y'?".into()));
        assert_eq!(
            github(&d),
            "::error file=models/a%2Cb.sql,line=3,col=7,title=kiln K3001::no node 'x'%0Asecond line%0Adid you mean 'y'?"
        );
    }

    #[test]
    fn json_is_one_line_with_code_and_place() {
        let d = Diagnostic::warning(Code::UnknownKey, "unknown key").at(Location::at(
            "dbt_project.yml",
            4,
            None,
        ));
        let line = json(&d);
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["level"], "warning");
        assert_eq!(v["code"], "K1003");
        assert_eq!(v["line"], 4);
        assert_eq!(v["column"], serde_json::Value::Null);
    }

    #[test]
    fn span_covers_columns_in_characters() {
        let text = "one\n  héllo world\n";
        let span = span_of(text, 2, Some(3), Some(5)).unwrap();
        assert_eq!(&text[span.offset()..span.offset() + span.len()], "héllo");
        let whole = span_of(text, 2, None, None).unwrap();
        assert_eq!(
            &text[whole.offset()..whole.offset() + whole.len()],
            "héllo world"
        );
        assert!(span_of(text, 9, None, None).is_none());
    }

    #[test]
    fn profile_passwords_are_masked() {
        let masked = mask_profile_secrets("  user: me\n  password: hunter2\n  db_token: abc\n");
        assert!(
            !masked.contains("hunter2") && !masked.contains("abc"),
            "{masked}"
        );
        assert!(masked.contains("user: me"));
    }
}
