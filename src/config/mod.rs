//! Config files: `dbt_project.yml`, `profiles.yml`, and node configs with
//! dbt's precedence rules.

pub mod dbt_project;
pub mod node_config;
pub mod profiles;
pub mod yaml;

pub use dbt_project::DbtProject;
pub use node_config::NodeConfig;
pub use profiles::Target;
