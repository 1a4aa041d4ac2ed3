//! Config files: `dbt_project.yml`, `profiles.yml`, and node configs with
//! dbt's precedence rules.

pub mod dbt_project;
pub mod known_keys;
pub mod node_config;
pub mod profiles;
pub mod yaml;
pub mod yaml_locate;

pub use node_config::NodeConfig;
pub use profiles::Target;
