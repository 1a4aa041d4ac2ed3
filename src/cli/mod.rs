//! The command line: clap definitions shared by every command, and the
//! dispatch to one file per command. Results go to stdout; warnings and
//! errors to stderr.

mod build;
mod compile;
mod ls;
pub(crate) mod output;

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::error::{Error, Location, Result};
use crate::project::{LoadOptions, Project};

/// Exit codes: 0 all succeeded, 1 a node failed, 2 the project or command is wrong.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILURE: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "kiln",
    version,
    about = "Build dbt projects, fast: models, seeds and tests on DuckDB or PostgreSQL"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// The dbt project's directory (the one holding dbt_project.yml).
    #[arg(long, global = true, env = "DBT_PROJECT_DIR", default_value = ".")]
    pub project_dir: PathBuf,
    /// The directory holding profiles.yml (default: $DBT_PROFILES_DIR, the current directory, ~/.dbt).
    #[arg(long, global = true)]
    pub profiles_dir: Option<PathBuf>,
    /// The profile output to use (default: the profile's `target:`).
    #[arg(long, short = 't', global = true)]
    pub target: Option<String>,
    /// Variables for `var()`, as YAML or JSON: '{key: value}'.
    #[arg(long, global = true)]
    pub vars: Option<String>,
}

#[derive(Debug, Clone, Args, Default)]
pub struct SelectArgs {
    /// Nodes to include: names, +name, name+, tag:x, path:dir.
    #[arg(long, short = 's', num_args = 1.., alias = "models", short_alias = 'm')]
    pub select: Vec<String>,
    /// Nodes to leave out, in the same syntax.
    #[arg(long, num_args = 1..)]
    pub exclude: Vec<String>,
}

#[derive(Debug, Clone, Args, Default)]
pub struct RunArgs {
    #[command(flatten)]
    pub selection: SelectArgs,
    /// Rebuild incremental models and seeds from scratch.
    #[arg(long)]
    pub full_refresh: bool,
    /// Worker threads (default: the profile's `threads`).
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load seeds and build models, in dependency order.
    Build(RunArgs),
    /// Build models, in dependency order.
    Run(RunArgs),
    /// Load the CSV files in seed paths into tables.
    Seed(RunArgs),
    /// Render every model's SQL to target/compiled/ without touching the database.
    Compile(SelectArgs),
    /// List the project's nodes, one a line.
    #[command(alias = "list")]
    Ls(ls::LsArgs),
}

/// Runs the command line; returns the exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let outcome = match &cli.command {
        Command::Build(args) => build::run(&cli.global, args, build::Which::Build),
        Command::Run(args) => build::run(&cli.global, args, build::Which::Run),
        Command::Seed(args) => build::run(&cli.global, args, build::Which::Seed),
        Command::Compile(args) => compile::run(&cli.global, args),
        Command::Ls(args) => ls::run(&cli.global, args),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            output::error(&error);
            EXIT_ERROR
        }
    }
}

/// Loads the project the global arguments point at.
pub fn load_project(global: &GlobalArgs) -> Result<Project> {
    let vars = match &global.vars {
        Some(text) => parse_vars(text)?,
        None => BTreeMap::new(),
    };
    let project = Project::load(&LoadOptions {
        project_dir: global.project_dir.clone(),
        profiles_dir: global.profiles_dir.clone(),
        target: global.target.clone(),
        vars,
    })?;
    for warning in &project.warnings {
        output::warning(warning);
    }
    Ok(project)
}

/// `--vars`: a YAML (or JSON) mapping.
pub fn parse_vars(text: &str) -> Result<BTreeMap<String, serde_json::Value>> {
    let location = Location::file("--vars");
    let yaml: serde_yaml::Value = serde_yaml::from_str(text)
        .map_err(|e| Error::config(location.clone(), format!("not valid YAML or JSON: {e}")))?;
    match crate::config::yaml::to_json(&yaml) {
        serde_json::Value::Object(map) => Ok(map.into_iter().collect()),
        serde_json::Value::Null => Ok(BTreeMap::new()),
        _ => Err(Error::config(
            location,
            "expected a mapping such as '{key: value}'",
        )),
    }
}
