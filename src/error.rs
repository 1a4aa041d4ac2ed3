//! The errors kiln reports at its library boundary.
//!
//! Every variant carries where the problem came from (a file, and a line and
//! column where there is one) so the CLI can point the user at it, and maps to
//! one stable diagnostic code (`Error::code`), and becomes what the user reads
//! in one place, `Error::diagnostics` (`Location` and `Code` live in
//! `crate::diagnostic`). `Display` is not written by hand: it is the
//! diagnostic's one-line `summary`, so the two cannot drift. Code that fails
//! with a message of its own (a package that will not install, a selector
//! definition that does not read) returns a small typed error that becomes
//! an `Error` where the location is known, keeping its code.
//!
//! The CLI maps every `Error` to exit code 2: the project or the command
//! could not be run, and nothing was (see the README's exit codes).

use std::fmt;
use std::path::{Path, PathBuf};

pub use crate::diagnostic::Location;
use crate::diagnostic::{Code, Diagnostic};

/// One node of a dependency cycle: its id, and where in its file it refs the
/// member before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleMember {
    pub unique_id: String,
    pub location: Location,
}

/// What kiln was doing with a file when the operating system said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoAction {
    Read,
    Write,
    /// Listing a folder's files (an unreadable folder, a symlink loop).
    Walk,
}

impl fmt::Display for IoAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IoAction::Read => "read file",
            IoAction::Write => "write",
            IoAction::Walk => "read folder",
        })
    }
}

/// What went wrong while rendering Jinja.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JinjaKind {
    Syntax,
    UndefinedMacro,
    Undefined,
    /// `exceptions.raise_compiler_error()` and friends.
    Raised,
    Other,
}

/// A kiln error. Each variant builds its one `Diagnostic` in
/// `Error::diagnostic`, and `Display` is that diagnostic's one-line summary,
/// so what a log line says and what the terminal shows cannot drift apart.
#[derive(Debug)]
pub enum Error {
    Io {
        location: Location,
        action: IoAction,
        message: String,
    },

    /// YAML that does not parse (`key_path` empty) or whose value at
    /// `key_path` has the wrong shape.
    Yaml {
        location: Location,
        message: String,
        key_path: Option<String>,
    },

    Config {
        location: Location,
        message: String,
        help: Option<String>,
    },

    /// No profile, no such target, or a profile without what it needs.
    Profile {
        location: Location,
        message: String,
        help: Option<String>,
    },

    /// `--vars` that are not a YAML mapping; `text` is the argument, with the
    /// line and column of the problem in it.
    Vars {
        message: String,
        text: String,
        line: Option<usize>,
        column: Option<usize>,
    },

    Jinja {
        location: Location,
        kind: JinjaKind,
        message: String,
        /// The node whose render raised the error, when the error sits in a macro file.
        node: Option<String>,
    },

    UnknownReference {
        location: Location,
        message: String,
        help: Option<String>,
    },

    Cycle {
        members: Vec<CycleMember>,
    },

    Selector {
        selector: String,
        message: String,
        help: Option<String>,
    },

    Csv {
        location: Location,
        message: String,
    },

    Connection {
        message: String,
        help: Option<String>,
    },

    /// Another process holds the database file or the project's lock.
    Locked {
        code: Code,
        message: String,
        help: Option<String>,
    },

    Artifact {
        path: PathBuf,
        message: String,
    },

    Many(Vec<Error>),
}

/// One line per problem, each its diagnostic's summary
/// (`models/a.sql:3:5: message`); a `Many` ends with how many there were.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Many(errors) => {
                for error in errors {
                    writeln!(f, "{error}")?;
                }
                let count = errors.len();
                write!(
                    f,
                    "{count} error{} found",
                    if count == 1 { "" } else { "s" }
                )
            }
            single => f.write_str(&single.diagnostic().summary()),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// A file that could not be read.
    pub fn io(path: &Path, err: &std::io::Error) -> Self {
        Error::io_doing(IoAction::Read, path, err)
    }

    /// A file or folder that could not be written.
    pub fn io_write(path: &Path, err: &std::io::Error) -> Self {
        Error::io_doing(IoAction::Write, path, err)
    }

    pub fn io_doing(action: IoAction, path: &Path, err: &std::io::Error) -> Self {
        Error::Io {
            location: Location::file(path),
            action,
            message: err.to_string(),
        }
    }

    pub fn config(location: Location, message: impl Into<String>) -> Self {
        Error::Config {
            location,
            message: message.into(),
            help: None,
        }
    }

    pub fn profile(location: Location, message: impl Into<String>) -> Self {
        Error::Profile {
            location,
            message: message.into(),
            help: None,
        }
    }

    pub fn connection(message: impl Into<String>) -> Self {
        Error::Connection {
            message: message.into(),
            help: None,
        }
    }

    /// The same error with a hint on how to fix it, where the variant has room for one.
    pub fn with_help(mut self, text: impl Into<String>) -> Self {
        match &mut self {
            Error::Config { help, .. }
            | Error::Profile { help, .. }
            | Error::UnknownReference { help, .. }
            | Error::Selector { help, .. }
            | Error::Connection { help, .. }
            | Error::Locked { help, .. } => *help = Some(text.into()),
            _ => {}
        }
        self
    }

    /// The stable code a user can search for. `Many` has the code of its first error.
    pub fn code(&self) -> Code {
        match self {
            Error::Io { .. } => Code::Io,
            Error::Yaml { key_path: None, .. } => Code::YamlSyntax,
            Error::Yaml { .. } => Code::YamlShape,
            Error::Config { .. } => Code::Config,
            Error::Profile { .. } => Code::Profile,
            Error::Vars { .. } => Code::Vars,
            Error::Jinja { kind, .. } => match kind {
                JinjaKind::Syntax => Code::JinjaSyntax,
                JinjaKind::UndefinedMacro => Code::UndefinedMacro,
                JinjaKind::Undefined => Code::UndefinedValue,
                JinjaKind::Raised => Code::CompilerError,
                JinjaKind::Other => Code::JinjaRender,
            },
            Error::UnknownReference { .. } => Code::UnknownReference,
            Error::Cycle { .. } => Code::Cycle,
            Error::Selector { .. } => Code::Selector,
            Error::Csv { .. } => Code::Csv,
            Error::Connection { .. } => Code::Connection,
            Error::Locked { code, .. } => *code,
            Error::Artifact { .. } => Code::Artifact,
            Error::Many(errors) => errors.first().map(Error::code).unwrap_or(Code::Config),
        }
    }

    /// Folds a list of errors into one: itself when there is one, `Many` otherwise.
    pub fn from_many(mut errors: Vec<Error>) -> Option<Error> {
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(Error::Many(errors)),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// What the user reads: one diagnostic per problem, a `Many` one per error it holds.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            Error::Many(errors) => errors.iter().flat_map(Error::diagnostics).collect(),
            single => vec![single.diagnostic()],
        }
    }

    /// The one diagnostic of an error that is not a `Many` (of a `Many`, its first's).
    /// This is the only place an error's message, location and help are put together.
    fn diagnostic(&self) -> Diagnostic {
        let code = self.code();
        let at = |message: String, location: &Location, help: &Option<String>| {
            Diagnostic::error(code, message)
                .at(location.clone())
                .with_help(help.clone())
        };
        match self {
            Error::Many(errors) => match errors.first() {
                Some(first) => first.diagnostic(),
                None => Diagnostic::error(code, "no errors"),
            },
            Error::Io {
                location,
                action,
                message,
            } => at(format!("cannot {action}: {message}"), location, &None),
            Error::Yaml {
                location,
                message,
                key_path,
            } => {
                let message = match key_path {
                    Some(path) => format!("wrong value at `{path}`: {message}"),
                    None => format!("invalid YAML: {message}"),
                };
                at(message, location, &None)
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
            } => at(message.clone(), location, help),
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
                d
            }
            Error::Jinja {
                location,
                message,
                node,
                ..
            } => {
                let d = at(message.clone(), location, &None);
                match node {
                    Some(node) => d.with_note(format!("called while rendering {node}")),
                    None => d,
                }
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
                d.with_help(Some("remove one of the ref() calls in the cycle".into()))
            }
            Error::Selector {
                selector,
                message,
                help,
            } => {
                let location =
                    Location::at("--select", 1, Some(1)).spanning(selector.chars().count());
                let mut d = at(format!("selector '{selector}': {message}"), &location, help);
                d.source_text = Some(selector.clone());
                d
            }
            Error::Csv { location, message } => {
                at(format!("invalid CSV: {message}"), location, &None)
            }
            Error::Connection { message, help } => {
                Diagnostic::error(code, format!("cannot connect to the database: {message}"))
                    .with_help(help.clone())
            }
            Error::Locked { message, help, .. } => {
                Diagnostic::error(code, message.clone()).with_help(help.clone())
            }
            Error::Artifact { path, message } => at(message.clone(), &Location::file(path), &None),
        }
    }
}

impl From<&Error> for Vec<Diagnostic> {
    fn from(error: &Error) -> Self {
        error.diagnostics()
    }
}

fn cycle_path(members: &[CycleMember]) -> String {
    let mut names: Vec<&str> = members.iter().map(|m| m.unique_id.as_str()).collect();
    if let Some(first) = members.first() {
        names.push(&first.unique_id);
    }
    names.join(" --> ")
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(
            error.to_string(),
            "a.yml:2:3: first\n--vars: second\n2 errors found"
        );
    }

    /// One of each variant: its `Display` is its diagnostic's summary, word for word.
    fn one_of_each() -> Vec<Error> {
        let at = Location::at("models/a.sql", 3, Some(5));
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        vec![
            Error::io(Path::new("models/a.sql"), &io),
            Error::io_write(Path::new("target"), &io),
            Error::Yaml {
                location: at.clone(),
                message: "did not find expected key".into(),
                key_path: None,
            },
            Error::Yaml {
                location: at.clone(),
                message: "invalid type: string, expected a sequence".into(),
                key_path: Some("models[0].columns".into()),
            },
            Error::config(at.clone(), "bad config").with_help("fix it"),
            Error::profile(at.clone(), "no target 'x'"),
            Error::Vars {
                message: "not valid YAML or JSON: oops".into(),
                text: "{x: ".into(),
                line: Some(1),
                column: Some(4),
            },
            Error::Jinja {
                location: at.clone(),
                kind: JinjaKind::Undefined,
                message: "use of an undefined value".into(),
                node: Some("model.p.a".into()),
            },
            Error::UnknownReference {
                location: at.clone(),
                message: "ref('x') names no node".into(),
                help: None,
            },
            Error::Cycle {
                members: vec![
                    CycleMember {
                        unique_id: "model.p.a".into(),
                        location: Location::at("models/a.sql", 1, Some(8)),
                    },
                    CycleMember {
                        unique_id: "model.p.b".into(),
                        location: Location::at("models/b.sql", 2, Some(8)),
                    },
                ],
            },
            Error::Selector {
                selector: "tagg:x".into(),
                message: "unknown method 'tagg'".into(),
                help: None,
            },
            Error::Csv {
                location: at.clone(),
                message: "3 fields, the header has 2".into(),
            },
            Error::connection("refused"),
            Error::Locked {
                code: Code::ProjectLocked,
                message: "another kiln holds the project".into(),
                help: None,
            },
            Error::Artifact {
                path: "target/manifest.json".into(),
                message: "not JSON".into(),
            },
        ]
    }

    #[test]
    fn display_is_the_diagnostics_summary() {
        for error in one_of_each() {
            let diagnostics = error.diagnostics();
            assert_eq!(diagnostics.len(), 1, "{error:?}");
            assert_eq!(diagnostics[0].code, error.code());
            assert_eq!(error.to_string(), diagnostics[0].summary(), "{error:?}");
        }
    }

    #[test]
    fn the_messages_users_read() {
        let shown: Vec<String> = one_of_each().iter().map(Error::to_string).collect();
        assert_eq!(
            shown,
            [
                "models/a.sql: cannot read file: denied",
                "target: cannot write: denied",
                "models/a.sql:3:5: invalid YAML: did not find expected key",
                "models/a.sql:3:5: wrong value at `models[0].columns`: invalid type: string, expected a sequence",
                "models/a.sql:3:5: bad config",
                "models/a.sql:3:5: no target 'x'",
                "--vars: not valid YAML or JSON: oops",
                "models/a.sql:3:5: use of an undefined value",
                "models/a.sql:3:5: ref('x') names no node",
                "models/a.sql:1:8: dependency cycle between 2 nodes: model.p.a --> model.p.b --> model.p.a",
                "selector 'tagg:x': unknown method 'tagg'",
                "models/a.sql:3:5: invalid CSV: 3 fields, the header has 2",
                "cannot connect to the database: refused",
                "another kiln holds the project",
                "target/manifest.json: not JSON",
            ]
        );
    }

    #[test]
    fn a_cycle_names_every_member_and_where_it_refs() {
        let cycle = &one_of_each()[9];
        let d = &cycle.diagnostics()[0];
        assert_eq!(d.code, Code::Cycle);
        assert_eq!(
            d.notes,
            [
                "model.p.a refs model.p.b at models/a.sql:1:8",
                "model.p.b refs model.p.a at models/b.sql:2:8",
            ]
        );
        assert_eq!(d.label.as_deref(), Some("this ref closes the cycle"));
    }

    #[test]
    fn a_jinja_error_in_a_macro_notes_the_node() {
        let jinja = &one_of_each()[7];
        assert_eq!(
            jinja.diagnostics()[0].notes,
            ["called while rendering model.p.a"]
        );
    }
}
