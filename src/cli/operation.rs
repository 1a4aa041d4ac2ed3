//! `kiln run-operation`: calls a macro against the target, with keyword
//! arguments from `--args`, in one transaction.

use std::sync::{Arc, Mutex};

use clap::Args;

use super::{EXIT_FAILURE, EXIT_OK, GlobalArgs, load_project, output, parse_project, parse_vars};
use crate::adapter;
use crate::error::Result;
use crate::lock::ProjectLock;
use crate::materialize::operation::run_operation;

#[derive(Debug, Clone, Args)]
pub struct OperationArgs {
    /// The macro to call.
    pub macro_name: String,
    /// Its keyword arguments, as YAML or JSON: '{table: orders, days: 7}'.
    #[arg(long)]
    pub args: Option<String>,
}

pub fn run(global: &GlobalArgs, args: &OperationArgs) -> Result<i32> {
    let project = load_project(global)?;
    let _lock = ProjectLock::acquire(&project.target_dir())?;
    let parsed = parse_project(global, project)?;
    // A project whose graph cannot be built (a cycle) runs no operation, as
    // in dbt.
    let graph = super::build_graph(&parsed)?;
    let kwargs = match &args.args {
        Some(text) => parse_vars(text)?,
        None => Default::default(),
    };
    let adapter = adapter::for_target(&parsed.target)?;
    let connection: adapter::SharedConnection = Arc::new(Mutex::new(adapter.connect()?));
    let resolver = crate::compile::resolver(&parsed, graph.template_value, &Default::default());
    match run_operation(&parsed, &resolver, &connection, &args.macro_name, &kwargs) {
        Ok(_) => Ok(EXIT_OK),
        Err(diagnostic) => {
            output::diagnostic(&diagnostic);
            Ok(EXIT_FAILURE)
        }
    }
}
