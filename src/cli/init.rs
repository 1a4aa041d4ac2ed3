//! `kiln init NAME`: a new project from templates/init (a dbt_project.yml,
//! a DuckDB profile beside it, two example models with tests) in a new
//! folder NAME. It asks nothing: the name comes from the command line, and
//! an existing folder is never written into.

use std::path::Path;

use clap::Args;

use super::{EXIT_OK, GlobalArgs};
use crate::error::{Error, Location, Result};

/// The scaffold's files, `{{project}}` standing for the project's name.
const FILES: &[(&str, &str)] = &[
    (
        "dbt_project.yml",
        include_str!("../../templates/init/dbt_project.yml"),
    ),
    (
        "profiles.yml",
        include_str!("../../templates/init/profiles.yml"),
    ),
    ("README.md", include_str!("../../templates/init/README.md")),
    (
        "models/example/first_model.sql",
        include_str!("../../templates/init/models/example/first_model.sql"),
    ),
    (
        "models/example/second_model.sql",
        include_str!("../../templates/init/models/example/second_model.sql"),
    ),
    (
        "models/example/schema.yml",
        include_str!("../../templates/init/models/example/schema.yml"),
    ),
];

/// The folders every project has, empty at first.
const FOLDERS: &[&str] = &["seeds", "tests", "macros", "snapshots", "analyses"];

#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// The project's name (letters, digits and underscores, not starting
    /// with a digit, as dbt requires); also the folder it is made in.
    pub project_name: String,
}

pub fn run(_global: &GlobalArgs, args: &InitArgs) -> Result<i32> {
    let name = &args.project_name;
    let here = Location::file("kiln init");
    let valid = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.chars().next().is_some_and(|c| !c.is_ascii_digit());
    if !valid {
        return Err(Error::config(
            here,
            format!(
                "'{name}' is not a valid project name: use letters, digits and underscores, not starting with a digit"
            ),
        ));
    }
    let folder = Path::new(name);
    if folder.exists() {
        return Err(Error::config(
            here,
            format!(
                "{name}/ exists already; kiln init makes a new folder and writes into no other"
            ),
        ));
    }
    for (file, text) in FILES {
        let path = folder.join(file);
        crate::files::write_file(&path, &text.replace("{{project}}", name))?;
    }
    for empty in FOLDERS {
        let path = folder.join(empty);
        std::fs::create_dir_all(&path).map_err(|e| Error::io_write(&path, &e))?;
    }
    super::output::line(&format!(
        "Created the project {name} in {name}/, with a DuckDB profile in {name}/profiles.yml.\nNext: cd {name} && kiln build"
    ));
    Ok(EXIT_OK)
}
