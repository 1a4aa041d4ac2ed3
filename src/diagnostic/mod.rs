//! One diagnostic type for everything kiln reports to a user: a stable code,
//! a severity, a message, where it is (file, line, column, span) and what to
//! do about it. Errors (`crate::Error`), warnings and failed nodes all become
//! `Diagnostic`s, which `render` prints for a terminal, as JSON, or as GitHub
//! Actions annotations.
//!
//! It imports only `crate::secrets` (to mask them): `crate::error` builds an `Error`'s
//! diagnostics (`Error::diagnostics`, in one place for every variant), with
//! `Code` and `Location` from here, and an `Error`'s `Display` is its
//! diagnostic's `summary`.

mod profile_mask;
pub mod render;

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// Stable codes, grouped by where the problem is: K1xxx project files and the
/// command line, K2xxx Jinja, K3xxx the graph and selection, K4xxx the
/// database, K5xxx seeds, K6xxx kiln's own files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Code {
    YamlSyntax,
    YamlShape,
    UnknownKey,
    Config,
    Profile,
    Vars,
    Io,
    JinjaSyntax,
    UndefinedMacro,
    UndefinedValue,
    CompilerError,
    JinjaRender,
    UnknownReference,
    Cycle,
    Selector,
    UnknownColumn,
    UnreadableSql,
    Database,
    Connection,
    DatabaseLocked,
    ProjectLocked,
    Csv,
    Artifact,
}

impl Code {
    pub const ALL: [Code; 23] = [
        Code::YamlSyntax,
        Code::YamlShape,
        Code::UnknownKey,
        Code::Config,
        Code::Profile,
        Code::Vars,
        Code::Io,
        Code::JinjaSyntax,
        Code::UndefinedMacro,
        Code::UndefinedValue,
        Code::CompilerError,
        Code::JinjaRender,
        Code::UnknownReference,
        Code::Cycle,
        Code::Selector,
        Code::UnknownColumn,
        Code::UnreadableSql,
        Code::Database,
        Code::Connection,
        Code::DatabaseLocked,
        Code::ProjectLocked,
        Code::Csv,
        Code::Artifact,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::YamlSyntax => "K1001",
            Code::YamlShape => "K1002",
            Code::UnknownKey => "K1003",
            Code::Config => "K1004",
            Code::Profile => "K1005",
            Code::Vars => "K1006",
            Code::Io => "K1007",
            Code::JinjaSyntax => "K2001",
            Code::UndefinedMacro => "K2002",
            Code::UndefinedValue => "K2003",
            Code::CompilerError => "K2004",
            Code::JinjaRender => "K2005",
            Code::UnknownReference => "K3001",
            Code::Cycle => "K3002",
            Code::Selector => "K3003",
            Code::UnknownColumn => "K3004",
            Code::UnreadableSql => "K3005",
            Code::Database => "K4001",
            Code::Connection => "K4002",
            Code::DatabaseLocked => "K4003",
            Code::ProjectLocked => "K4004",
            Code::Csv => "K5001",
            Code::Artifact => "K6001",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// What the user reads about one problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub location: Option<Location>,
    /// A short text shown at the span, e.g. "not found".
    pub label: Option<String>,
    pub help: Option<String>,
    /// Further facts: the node that called a macro, the file of the SQL sent.
    pub notes: Vec<String>,
    /// The text the location points into when it is not a file (`--vars`).
    pub source_text: Option<String>,
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            location: None,
            label: None,
            help: None,
            notes: Vec::new(),
            source_text: None,
        }
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn at(mut self, location: Location) -> Diagnostic {
        self.location = Some(location);
        self
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    pub fn with_help(mut self, help: Option<String>) -> Diagnostic {
        self.help = help;
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// One line: `models/a.sql:3:5: message`, as run_results.json and logs carry it.
    /// A place in `source_text` (a command-line argument) is not a file: the
    /// message names the argument itself (`--vars: ...`, `selector '...': ...`).
    pub fn summary(&self) -> String {
        match &self.location {
            Some(location) if self.source_text.is_none() => {
                format!("{location}: {}", self.message)
            }
            _ => self.message.clone(),
        }
    }
}

/// A place in a user's file. Lines and columns are 1-based; `length` is how
/// many characters from the column the problem spans.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Location {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub length: Option<usize>,
}

impl Location {
    pub fn file(file: impl Into<PathBuf>) -> Self {
        Location {
            file: file.into(),
            ..Location::default()
        }
    }

    pub fn at(file: impl Into<PathBuf>, line: usize, column: Option<usize>) -> Self {
        Location {
            file: file.into(),
            line: Some(line),
            column,
            length: None,
        }
    }

    /// The same place, spanning `length` characters.
    pub fn spanning(mut self, length: usize) -> Self {
        self.length = Some(length);
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

/// The known name closest to `wanted`, when one is close enough to be a typo.
pub fn closest<'a>(wanted: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .filter(|k| *k != wanted)
        .map(|k| (strsim::jaro_winkler(wanted, k), k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// `did you mean 'x'?` for the closest known name, if any.
pub fn did_you_mean<'a>(wanted: &str, known: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(wanted, known).map(|k| format!("did you mean '{k}'?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            let s = code.as_str();
            assert!(s.len() == 5 && s.starts_with('K'), "{s}");
            assert!(seen.insert(s), "{s} used twice");
        }
    }

    #[test]
    fn a_summary_names_the_file_but_not_a_command_line_argument() {
        let at = Location::at("models/a.sql", 3, Some(5));
        let d = Diagnostic::error(Code::Config, "bad").at(at.clone());
        assert_eq!(d.summary(), "models/a.sql:3:5: bad");
        assert_eq!(Diagnostic::error(Code::Config, "bad").summary(), "bad");
        let mut vars =
            Diagnostic::error(Code::Vars, "--vars: bad").at(Location::at("--vars", 1, Some(4)));
        vars.source_text = Some("{x: ".into());
        assert_eq!(vars.summary(), "--vars: bad");
    }

    #[test]
    fn closest_name_is_suggested_for_typos_only() {
        let known = ["customers", "orders", "stg_payments"];
        assert_eq!(closest("custmers", known), Some("customers"));
        assert_eq!(closest("zzz", known), None);
    }
}
