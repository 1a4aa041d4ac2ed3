//! The command line: clap definitions shared by every command, and the
//! dispatch to one file per command. Results go to stdout; warnings and
//! errors to stderr.

mod build;
mod clean;
mod clone;
mod compile;
mod debug;
mod deps;
mod docs;
mod freshness;
mod init;
mod lineage;
mod ls;
mod operation;
pub(crate) mod output;
mod parse;
mod retry;
mod show;

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::error::{Error, Result};
use crate::project::{LoadOptions, Project};
use output::LogFormat;

/// Exit codes: 0 all succeeded, 1 a node failed, 2 the project or command is
/// wrong, 130 Ctrl-C (defined in `crate::exit_status`).
pub use crate::exit_status::{EXIT_CANCELLED, EXIT_ERROR, EXIT_FAILURE, EXIT_OK};

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
    /// `text` for people (errors with the source line), `json` for machines
    /// (one JSON object a line on stdout).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "KILN_LOG_FORMAT")]
    pub log_format: LogFormat,
    /// Treat warnings as errors: a test that would warn fails.
    #[arg(long, global = true, env = "DBT_WARN_ERROR")]
    pub warn_error: bool,
    /// Print only errors, failures and warnings.
    #[arg(long, short = 'q', global = true, env = "DBT_QUIET")]
    pub quiet: bool,
    /// Also print where each node's compiled SQL is.
    #[arg(long, short = 'v', global = true, conflicts_with = "quiet")]
    pub verbose: bool,
    /// No colors, even on a terminal (as NO_COLOR does).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Render every node again, ignoring what the last parse kept in
    /// target/partial_parse.json.
    #[arg(long, global = true, env = "DBT_NO_PARTIAL_PARSE")]
    pub no_partial_parse: bool,
}

#[derive(Debug, Clone, Args, Default)]
pub struct SelectArgs {
    /// Nodes to include, in dbt's syntax: names, fqns, n+name+n, @name, method:value (tag, path, file, fqn, config.<key>, resource_type, source, test_type, test_name, unit_test, exposure, metric, semantic_model, saved_query, group, access, package); a,b intersects.
    #[arg(long, short = 's', num_args = 1.., alias = "models", short_alias = 'm')]
    pub select: Vec<String>,
    /// Nodes to leave out, in the same syntax.
    #[arg(long, num_args = 1..)]
    pub exclude: Vec<String>,
    /// A named selection from selectors.yml.
    #[arg(long, value_name = "NAME")]
    pub selector: Option<String>,
    /// An earlier run's target/ folder, for `state:modified`, `state:new`,
    /// `result:<status>` and `--defer`.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Which tests come with the nodes they test.
    #[arg(long, value_enum, default_value_t = crate::graph::select::Indirect::Eager, env = "DBT_INDIRECT_SELECTION")]
    pub indirect_selection: crate::graph::select::Indirect,
    /// Only nodes of these kinds (model, seed, snapshot, test).
    #[arg(long, num_args = 1..)]
    pub resource_type: Vec<String>,
    /// Leave out nodes of these kinds.
    #[arg(long, num_args = 1..)]
    pub exclude_resource_type: Vec<String>,
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
    /// Stop at the first error or failed test; what has not run is skipped.
    #[arg(long, short = 'x')]
    pub fail_fast: bool,
    /// Refs to nodes not selected read the relations the `--state` run built.
    #[arg(long, requires = "state")]
    pub defer: bool,
    /// Every ref and source reads no rows, so each model is built with its
    /// columns and nothing in it (a schema-only build, as dbt's `--empty`).
    #[arg(long)]
    pub empty: bool,
    /// Also write the data tests' results to PATH as JUnit XML.
    #[arg(long, value_name = "PATH")]
    pub junit_xml: Option<std::path::PathBuf>,
    /// Send models to the database without kiln's SQL check (for SQL its
    /// parser misreads).
    #[arg(long)]
    pub no_check: bool,
    /// Microbatch models build from this time (a date or a timestamp, UTC),
    /// widened to a whole batch, instead of from `begin` or their lookback.
    #[arg(long, value_name = "TIME", value_parser = parse_event_time, requires = "event_time_end")]
    pub event_time_start: Option<chrono::DateTime<chrono::Utc>>,
    /// ... up to this time (excluded; default: now).
    #[arg(long, value_name = "TIME", value_parser = parse_event_time)]
    pub event_time_end: Option<chrono::DateTime<chrono::Utc>>,
    /// For `kiln retry`: the batches of microbatch models to build again.
    #[arg(skip)]
    pub retry_batches: crate::exec::RetryBatches,
}

/// `--event-time-start` and `--event-time-end`: a date or a timestamp.
fn parse_event_time(text: &str) -> std::result::Result<chrono::DateTime<chrono::Utc>, String> {
    crate::materialize::microbatch::parse_time(text).ok_or_else(|| {
        format!("'{text}' is not a date or a timestamp such as 2024-01-01 or 2024-01-01T06:00:00")
    })
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load seeds, build models and run their tests, in dependency order.
    Build(RunArgs),
    /// Build models, in dependency order.
    Run(RunArgs),
    /// Load the CSV files in seed paths into tables.
    Seed(RunArgs),
    /// Run the data tests of the selected nodes against what is built.
    Test(RunArgs),
    /// Record changes of the selected snapshots' sources (SCD type 2).
    Snapshot(RunArgs),
    /// Render every model's and test's SQL to target/compiled/ without touching the database.
    Compile(compile::CompileArgs),
    /// Call a macro against the target: `kiln run-operation grant_select --args '{role: bi}'`.
    RunOperation(operation::OperationArgs),
    /// Run again what errored, failed or was skipped in the last run.
    Retry,
    /// Source commands: `kiln source freshness`.
    #[command(subcommand)]
    Source(freshness::SourceCommand),
    /// Install the packages of packages.yml into dbt_packages/ and pin them in package-lock.yml.
    Deps,
    /// The lineage graph of the selected nodes (dot, mermaid or json), or one column's upstream tree.
    Lineage(lineage::LineageArgs),
    /// The docs site: `kiln docs generate`, `kiln docs serve`.
    #[command(subcommand)]
    Docs(docs::DocsCommand),
    /// List the project's nodes, one a line.
    #[command(alias = "list")]
    Ls(ls::LsArgs),
    /// Empty the folders `clean-targets` names (target/ by default).
    Clean,
    /// Parse the project and write target/manifest.json, saying how long each phase took.
    Parse,
    /// Check the project and profile files and the connection.
    Debug,
    /// Preview the first rows of a model (--select) or of a query (--inline).
    Show(show::ShowArgs),
    /// Make a new project in a new folder: `kiln init my_project`.
    Init(init::InitArgs),
    /// Make each selected node from the relation an earlier run built: `kiln clone --state prod/target`.
    Clone(clone::CloneArgs),
}

/// Runs the command line; returns the exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    output::set_format(cli.global.log_format);
    output::set_verbosity(output::Verbosity {
        quiet: cli.global.quiet,
        verbose: cli.global.verbose,
        no_color: cli.global.no_color,
    });
    crate::cancel::install_handler(output::note);
    crate::jinja::context::set_which(match &cli.command {
        Command::Build(_) => "build",
        Command::Run(_) => "run",
        Command::Seed(_) => "seed",
        Command::Test(_) => "test",
        Command::Snapshot(_) => "snapshot",
        Command::Compile(_) => "compile",
        Command::RunOperation(_) => "run-operation",
        Command::Retry => "retry",
        Command::Source(_) => "freshness",
        Command::Ls(_) => "list",
        Command::Deps => "deps",
        Command::Lineage(_) => "lineage",
        Command::Docs(_) => "docs",
        Command::Clean => "clean",
        Command::Parse => "parse",
        Command::Debug => "debug",
        Command::Show(_) => "show",
        Command::Init(_) => "init",
        Command::Clone(_) => "clone",
    });
    let outcome = match &cli.command {
        Command::Build(args) => build::run(&cli.global, args, build::Which::Build),
        Command::Run(args) => build::run(&cli.global, args, build::Which::Run),
        Command::Seed(args) => build::run(&cli.global, args, build::Which::Seed),
        Command::Test(args) => build::run(&cli.global, args, build::Which::Test),
        Command::Snapshot(args) => build::run(&cli.global, args, build::Which::Snapshot),
        Command::Compile(args) => compile::run(&cli.global, args),
        Command::Ls(args) => ls::run(&cli.global, args),
        Command::Source(command) => freshness::run(&cli.global, command),
        Command::Retry => retry::run(&cli.global),
        Command::Deps => deps::run(&cli.global),
        Command::Lineage(args) => lineage::run(&cli.global, args),
        Command::Docs(command) => docs::run(&cli.global, command),
        Command::RunOperation(args) => operation::run(&cli.global, args),
        Command::Clean => clean::run(&cli.global),
        Command::Parse => parse::run(&cli.global),
        Command::Debug => debug::run(&cli.global),
        Command::Show(args) => show::run(&cli.global, args),
        Command::Init(args) => init::run(&cli.global, args),
        Command::Clone(args) => clone::run(&cli.global, args),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            output::error(&error);
            EXIT_ERROR
        }
    }
}

/// dbt_project.yml alone, with `--vars` (for commands that need no
/// profile: `deps`, `docs serve`), and the renderer that read it.
pub fn load_dbt_project(
    global: &GlobalArgs,
) -> Result<(
    crate::config::dbt_project::DbtProject,
    crate::jinja_base::config_renderer::ConfigRenderer,
)> {
    let vars = match &global.vars {
        Some(text) => parse_vars(text)?,
        None => BTreeMap::new(),
    };
    let renderer = crate::jinja_base::config_renderer::ConfigRenderer::new(vars);
    let config = crate::config::dbt_project::DbtProject::load(&global.project_dir, &renderer)?;
    Ok((config, renderer))
}

/// The graph of a parsed project (with what templates see as dbt's `graph`).
pub fn build_graph(parsed: &crate::parse::Parsed) -> Result<crate::graph::Graph> {
    crate::graph::Graph::build(parsed)
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
        output::diagnostic(warning);
    }
    Ok(project)
}

/// `--vars`: a YAML (or JSON) mapping.
pub fn parse_vars(text: &str) -> Result<BTreeMap<String, serde_json::Value>> {
    let yaml: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| {
        let message = e.to_string();
        let message = message.split(" at line ").next().unwrap_or_default();
        // At the end of the argument, the cause is above: show its last line.
        let last_line = text.lines().count().max(1);
        let (line, column) = match e.location() {
            Some(l) if l.line() <= last_line => (Some(l.line()), Some(l.column())),
            _ => (Some(last_line), None),
        };
        Error::Vars {
            message: format!("not valid YAML or JSON: {message}"),
            text: text.to_string(),
            line,
            column,
        }
    })?;
    match crate::config::yaml::to_json(&yaml) {
        serde_json::Value::Object(map) => Ok(map.into_iter().collect()),
        serde_json::Value::Null => Ok(BTreeMap::new()),
        other => Err(Error::Vars {
            message: format!("expected a mapping such as '{{key: value}}', got {other}"),
            text: text.to_string(),
            line: None,
            column: None,
        }),
    }
}

/// The nodes `args` select; warnings for criteria that match nothing.
pub fn select_nodes(
    parsed: &crate::parse::Parsed,
    graph: &crate::graph::Graph,
    args: &SelectArgs,
) -> Result<std::collections::BTreeSet<String>> {
    select_nodes_and_sources(parsed, graph, args).map(|(nodes, _)| nodes)
}

type Ids = std::collections::BTreeSet<String>;

/// The nodes and the sources `args` select.
pub fn select_nodes_and_sources(
    parsed: &crate::parse::Parsed,
    graph: &crate::graph::Graph,
    args: &SelectArgs,
) -> Result<(Ids, Ids)> {
    let state = match &args.state {
        Some(dir) => Some(crate::graph::state::State::load(dir)?),
        None => None,
    };
    let options = crate::graph::select::SelectOptions {
        state: state.as_ref(),
        indirect: args.indirect_selection,
    };
    let (mut select, mut exclude) = (args.select.clone(), args.exclude.clone());
    if let Some(name) = &args.selector {
        let expanded = crate::graph::selectors::expand(&parsed.project.root, name)?;
        select.extend(expanded.select);
        exclude.extend(expanded.exclude);
    }
    let mut selection =
        crate::graph::select::select_with(parsed, graph, &select, &exclude, &options)?;
    let wanted = |kind: &str| {
        (args.resource_type.is_empty()
            || args.resource_type.iter().any(|t| t == kind || t == "all"))
            && !args.exclude_resource_type.iter().any(|t| t == kind)
    };
    selection
        .ids
        .retain(|id| wanted(parsed.nodes[id].node.kind.resource_type()));
    if !wanted("source") {
        selection.sources.clear();
    }
    for warning in &selection.warnings {
        output::diagnostic(warning);
    }
    Ok((selection.ids, selection.sources))
}

/// Parses a loaded project, printing the warnings parsing found.
pub fn parse_project(global: &GlobalArgs, project: Project) -> Result<crate::parse::Parsed> {
    let parsed = crate::parse::parse_with(project, !global.no_partial_parse)?;
    output::parse_stats(&parsed.stats);
    for warning in &parsed.warnings {
        output::diagnostic(warning);
    }
    Ok(parsed)
}
