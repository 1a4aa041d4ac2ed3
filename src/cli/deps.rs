//! `kiln deps`: install the packages of packages.yml (no profile needed, as
//! in dbt).

use super::{EXIT_OK, GlobalArgs, parse_vars};
use crate::config::dbt_project::DbtProject;
use crate::error::Result;
use crate::jinja::config_renderer::ConfigRenderer;

pub fn run(global: &GlobalArgs) -> Result<i32> {
    let vars = match &global.vars {
        Some(text) => parse_vars(text)?,
        None => Default::default(),
    };
    let renderer = ConfigRenderer::new(vars);
    let root = &global.project_dir;
    let config = DbtProject::load(root, &renderer)?;
    let installed = crate::packages::install::install(root, &config, &renderer)?;
    if installed.is_empty() {
        super::output::line("No packages to install: packages.yml lists none");
    }
    for package in &installed {
        super::output::line(&format!(
            "Installed {} ({})",
            package.entry.name, package.pinned
        ));
    }
    if !installed.is_empty() {
        super::output::line(&format!(
            "Installed {} package{} into {}/, pinned in {}",
            installed.len(),
            if installed.len() == 1 { "" } else { "s" },
            config.packages_install_path,
            crate::packages::install::LOCK_FILE
        ));
    }
    Ok(EXIT_OK)
}
