//! The synthetic project: N dbt-style models in five layers, each reading
//! one or two models of the layer before it, written as a dbt user would:
//! Jinja loops, `var()`, folder configs in dbt_project.yml (views, then
//! tables from the fourth layer on), `config()` in some files, an ephemeral
//! and an incremental model here and there, a properties file with tests on
//! a fifth of the models, and one seed.
//!
//! The data is small on purpose: this project measures what kiln adds to
//! each node, not the database.

use std::fmt::Write as _;
use std::path::Path;

/// Which database the project's profile points at.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Target {
    DuckDb,
    Postgres,
}

/// Layers, from the staging views to the mart tables.
const LAYERS: [&str; 5] = ["staging", "base", "intermediate", "enriched", "marts"];
/// Rows in the seed every staging model reads.
const SEED_ROWS: usize = 200;
/// Metric columns every model carries, written by a Jinja loop.
const METRICS: usize = 3;

/// A small deterministic generator (SplitMix64), so a project of a given
/// size is the same every time it is written.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn model_name(layer: usize, index: usize) -> String {
    format!("{}_{:05}", &LAYERS[layer][..3], index)
}

/// Writes a project of `models` models into `dir` (which must not exist),
/// building into `schema` of the database `target` names (for DuckDB, the
/// file `database`).
pub fn write_project(dir: &Path, models: usize, target: Target, database: &str, schema: &str) {
    let per_layer = models.div_ceil(LAYERS.len());
    let mut rng = Rng(models as u64);
    for layer in LAYERS {
        std::fs::create_dir_all(dir.join("models").join(layer)).unwrap();
    }
    std::fs::create_dir_all(dir.join("seeds")).unwrap();
    std::fs::create_dir_all(dir.join("macros")).unwrap();

    write(dir, "dbt_project.yml", &project_yml());
    write(dir, "profiles.yml", &profiles_yml(target, database, schema));
    write(dir, "seeds/raw_events.csv", &seed_csv());
    write(dir, "macros/cents.sql", MACRO);

    let mut written = 0;
    let mut properties: Vec<String> = Vec::new();
    for (layer, folder) in LAYERS.iter().enumerate() {
        for index in 0..per_layer {
            if written == models {
                break;
            }
            written += 1;
            let name = model_name(layer, index);
            let sql = match layer {
                0 => staging_sql(&mut rng),
                _ => {
                    let first = model_name(layer - 1, rng.below(per_layer.min(index + 1)));
                    let second = model_name(layer - 1, rng.below(per_layer.min(index + 1)));
                    derived_sql(layer, index, &first, &second, &mut rng)
                }
            };
            write(dir, &format!("models/{folder}/{name}.sql"), &sql);
            // A fifth of the models carry tests (never the ephemeral ones,
            // which are not built).
            if written % 5 == 0 && !is_ephemeral(layer, index) {
                properties.push(name);
            }
        }
    }
    write(dir, "models/properties.yml", &properties_yml(&properties));
}

fn write(dir: &Path, file: &str, text: &str) {
    std::fs::write(dir.join(file), text).unwrap();
}

fn project_yml() -> String {
    let mut yml = String::from(
        "name: synthetic\nversion: \"1.0.0\"\nconfig-version: 2\nprofile: synthetic\n\n\
         vars:\n  min_amount: 10\n  regions: [north, south, east, west]\n\n\
         models:\n  synthetic:\n",
    );
    for layer in LAYERS {
        // Views stacked on views; the enriched layer is tables, as real
        // projects keep stacks of views shallow.
        let materialized = match layer {
            "enriched" | "marts" => "table",
            _ => "view",
        };
        let _ = writeln!(
            yml,
            "    {layer}:\n      +materialized: {materialized}\n      +tags: [\"{layer}\"]"
        );
    }
    yml
}

fn profiles_yml(target: Target, database: &str, schema: &str) -> String {
    let output = match target {
        Target::DuckDb => format!("      type: duckdb\n      path: \"{database}\"\n"),
        Target::Postgres => format!(
            "      type: postgres\n      host: 127.0.0.1\n      port: 5432\n      user: postgres\n      \
             password: \"\"\n      dbname: {database}\n"
        ),
    };
    format!(
        "synthetic:\n  target: bench\n  outputs:\n    bench:\n{output}      schema: {schema}\n      threads: 4\n"
    )
}

fn seed_csv() -> String {
    let regions = ["north", "south", "east", "west"];
    let mut csv = String::from("id,region,amount,created_at\n");
    for id in 1..=SEED_ROWS {
        let _ = writeln!(
            csv,
            "{id},{},{}.{:02},2024-01-{:02}",
            regions[id % 4],
            (id * 37) % 500,
            id % 100,
            1 + id % 28
        );
    }
    csv
}

const MACRO: &str =
    "{% macro cents(column) %}cast(round({{ column }} * 100) as bigint){% endmacro %}\n";

fn staging_sql(rng: &mut Rng) -> String {
    let scale = 1 + rng.below(9);
    format!(
        "-- staging: one row per event, with its amount in cents\n\
         select\n    id,\n    region,\n    {{{{ cents('amount') }}}} * {scale} as value\
         {{% for i in range({METRICS}) %}},\n    amount * {{{{ i + 1 }}}} as metric_{{{{ i }}}}{{% endfor %}}\n\
         from {{{{ ref('raw_events') }}}}\n\
         where amount >= {{{{ var('min_amount') }}}}\n"
    )
}

fn is_ephemeral(layer: usize, index: usize) -> bool {
    (layer == 1 || layer == 2) && index % 25 == 7
}

fn is_incremental(layer: usize, index: usize) -> bool {
    layer == 4 && index % 20 == 3
}

fn derived_sql(layer: usize, index: usize, first: &str, second: &str, rng: &mut Rng) -> String {
    let mut sql = String::new();
    if is_ephemeral(layer, index) {
        sql.push_str("{{ config(materialized='ephemeral') }}\n");
    } else if is_incremental(layer, index) {
        sql.push_str("{{ config(materialized='incremental', unique_key='id') }}\n");
    } else if layer < 4 && index % 10 == 5 {
        sql.push_str("{{ config(materialized='table', tags=['wide']) }}\n");
    }
    let offset = rng.below(100);
    let _ = write!(
        sql,
        "with first as (\n    select * from {{{{ ref('{first}') }}}}\n),\n\
         second as (\n    select * from {{{{ ref('{second}') }}}}\n)\n\
         select\n    first.id,\n    first.region,\n    first.value + coalesce(second.value, 0) + {offset} as value\
         {{% for i in range({METRICS}) %}},\n    first.metric_{{{{ i }}}} + coalesce(second.metric_{{{{ i }}}}, 0) as metric_{{{{ i }}}}{{% endfor %}}\n\
         from first\nleft join second on first.id = second.id\n\
         where first.region in ({{% for r in var('regions') %}}'{{{{ r }}}}'{{% if not loop.last %}}, {{% endif %}}{{% endfor %}})\n"
    );
    if is_incremental(layer, index) {
        sql.push_str(
            "{% if is_incremental() %}\n  and first.id > (select coalesce(max(id), 0) from {{ this }})\n{% endif %}\n",
        );
    }
    sql
}

fn properties_yml(models: &[String]) -> String {
    let mut yml = String::from("version: 2\n\nmodels:\n");
    for (i, name) in models.iter().enumerate() {
        let _ = write!(
            yml,
            "  - name: {name}\n    description: \"Model {name}.\"\n    columns:\n      - name: id\n        \
             data_tests:\n          - unique\n          - not_null\n"
        );
        if i % 4 == 0 {
            yml.push_str(
                "      - name: region\n        data_tests:\n          - accepted_values:\n              \
                 arguments:\n                values: ['north', 'south', 'east', 'west']\n",
            );
        }
    }
    yml
}
