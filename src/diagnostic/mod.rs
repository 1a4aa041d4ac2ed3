//! One diagnostic type for everything kiln reports to a user: a stable code,
//! a severity, a message, where it is (file, line, column, span) and what to
//! do about it. Errors (`crate::Error`), warnings and failed nodes all become
//! `Diagnostic`s, which `render` prints for a terminal, as JSON, or as GitHub
//! Actions annotations.

mod profile_mask;
pub mod render;

use std::fmt;

use serde::Serialize;

use crate::error::{Error, Location};

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
    pub fn summary(&self) -> String {
        match &self.location {
            Some(location) => format!("{location}: {}", self.message),
            None => self.message.clone(),
        }
    }
}

impl From<&Error> for Vec<Diagnostic> {
    fn from(error: &Error) -> Self {
        let code = error.code();
        let one = |message: String, location: Option<&Location>, help: &Option<String>| {
            let mut d = Diagnostic::error(code, message).with_help(help.clone());
            d.location = location.cloned();
            vec![d]
        };
        match error {
            Error::Many(errors) => errors.iter().flat_map(Vec::<Diagnostic>::from).collect(),
            Error::Io {
                location,
                action,
                message,
            } => one(format!("cannot {action}: {message}"), Some(location), &None),
            Error::Yaml {
                location,
                message,
                key_path,
            } => {
                let message = match key_path {
                    Some(path) => format!("wrong value at `{path}`: {message}"),
                    None => format!("invalid YAML: {message}"),
                };
                one(message, Some(location), &None)
            }
            Error::Config {
                location,
                message,
                help,
            }
            | Error::Profile {
                location,
                message,
                help,
            }
            | Error::UnknownReference {
                location,
                message,
                help,
            } => one(message.clone(), Some(location), help),
            Error::Vars {
                message,
                text,
                line,
                column,
            } => {
                let mut d = Diagnostic::error(code, format!("--vars: {message}"));
                if let Some(line) = line {
                    d = d.at(Location::at("--vars", *line, *column));
                    d.source_text = Some(text.clone());
                }
                vec![d]
            }
            Error::Jinja {
                location,
                message,
                node,
                ..
            } => {
                let mut d = Diagnostic::error(code, message.clone()).at(location.clone());
                if let Some(node) = node {
                    d = d.with_note(format!("called while rendering {node}"));
                }
                vec![d]
            }
            Error::Cycle { members } => {
                let mut d = Diagnostic::error(
                    code,
                    format!(
                        "dependency cycle between {} nodes: {}",
                        members.len(),
                        cycle_path(members)
                    ),
                );
                if let Some(first) = members.first() {
                    d = d
                        .at(first.location.clone())
                        .with_label("this ref closes the cycle");
                }
                let count = members.len();
                for (k, member) in members.iter().enumerate() {
                    let parent = &members[(k + count - 1) % count];
                    d = d.with_note(format!(
                        "{} refs {} at {}",
                        member.unique_id, parent.unique_id, member.location
                    ));
                }
                vec![d.with_help(Some("remove one of the ref() calls in the cycle".into()))]
            }
            Error::Selector {
                selector,
                message,
                help,
            } => {
                let location =
                    Location::at("--select", 1, Some(1)).spanning(selector.chars().count());
                let mut d = Diagnostic::error(code, format!("selector '{selector}': {message}"))
                    .at(location)
                    .with_help(help.clone());
                d.source_text = Some(selector.clone());
                vec![d]
            }
            Error::Csv { location, message } => {
                one(format!("invalid CSV: {message}"), Some(location), &None)
            }
            Error::Connection { message, help } => one(
                format!("cannot connect to the database: {message}"),
                None,
                help,
            ),
            Error::Locked { message, help, .. } => one(message.clone(), None, help),
            Error::Artifact { path, message } => {
                one(message.clone(), Some(&Location::file(path)), &None)
            }
        }
    }
}

fn cycle_path(members: &[crate::error::CycleMember]) -> String {
    let mut names: Vec<&str> = members.iter().map(|m| m.unique_id.as_str()).collect();
    if let Some(first) = members.first() {
        names.push(&first.unique_id);
    }
    names.join(" --> ")
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
    fn closest_name_is_suggested_for_typos_only() {
        let known = ["customers", "orders", "stg_payments"];
        assert_eq!(closest("custmers", known), Some("customers"));
        assert_eq!(closest("zzz", known), None);
    }

    #[test]
    fn many_errors_flatten_into_one_diagnostic_each() {
        let error = Error::Many(vec![
            Error::config(Location::at("a.yml", 2, Some(3)), "first"),
            Error::Vars {
                message: "second".into(),
                text: String::new(),
                line: None,
                column: None,
            },
        ]);
        let diagnostics: Vec<Diagnostic> = (&error).into();
        assert_eq!(diagnostics.len(), 2);
        assert_eq!(diagnostics[0].code, Code::Config);
        assert_eq!(diagnostics[0].summary(), "a.yml:2:3: first");
        assert_eq!(diagnostics[1].code, Code::Vars);
    }
}
