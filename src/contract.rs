//! Model contracts and constraints (dbt 1.5): the columns a contract
//! declares against those the SQL produces, and the constraints of a
//! contracted table as its DDL writes them.

use serde_json::{Value as Json, json};

use crate::adapter::AdapterKind;
use crate::adapter::kind::ConstraintSupport;

/// The constraint types dbt knows, in its order.
pub const CONSTRAINT_TYPES: &[&str] = &[
    "check",
    "not_null",
    "unique",
    "primary_key",
    "foreign_key",
    "custom",
];

/// A column as a contract compares it: its name and its type as the
/// database names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractColumn {
    pub name: String,
    pub data_type: String,
}

/// dbt's message for a contract that failed: the mismatches, by column name,
/// as a table (`column_name | definition_type | contract_type |
/// mismatch_reason`). `yaml` is what the contract declares, `sql` what the
/// model's SQL produces.
pub fn mismatch_message(yaml: &[ContractColumn], sql: &[ContractColumn]) -> String {
    if yaml.is_empty() {
        return "This model has an enforced contract, and its 'columns' specification is missing"
            .to_string();
    }
    let mut rows: Vec<[String; 4]> = Vec::new();
    for column in sql {
        match yaml.iter().find(|y| y.name == column.name) {
            Some(declared) if declared.data_type == column.data_type => {}
            Some(declared) => rows.push([
                column.name.clone(),
                column.data_type.clone(),
                declared.data_type.clone(),
                "data type mismatch".into(),
            ]),
            None => rows.push([
                column.name.clone(),
                column.data_type.clone(),
                String::new(),
                "missing in contract".into(),
            ]),
        }
    }
    for declared in yaml {
        if !sql.iter().any(|c| c.name == declared.name) {
            rows.push([
                declared.name.clone(),
                String::new(),
                declared.data_type.clone(),
                "missing in definition".into(),
            ]);
        }
    }
    rows.sort_by(|a, b| a[0].cmp(&b[0]));
    let header = [
        "column_name",
        "definition_type",
        "contract_type",
        "mismatch_reason",
    ];
    let widths: Vec<usize> = (0..4)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: [&str; 4]| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        format!("| {} |\n", padded.join(" | "))
    };
    let mut table = line(header);
    table.push_str(&format!(
        "| {} |\n",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join(" | ")
    ));
    for row in &rows {
        table.push_str(&line([&row[0], &row[1], &row[2], &row[3]]));
    }
    format!(
        "This model has an enforced contract that failed.\n\
         Please ensure the name, data_type, and number of columns in your contract \
         match the columns in your model's definition.\n\n{table}"
    )
}

/// A constraint as the manifest writes it, with dbt's defaults filled in;
/// model-level ones also have `columns`.
pub fn constraint_json(raw: &Json, model_level: bool) -> Json {
    let get = |key: &str| raw.get(key).cloned().unwrap_or(Json::Null);
    let flag = |key: &str| raw.get(key).and_then(Json::as_bool).unwrap_or(true);
    let list = |key: &str| raw.get(key).cloned().unwrap_or_else(|| json!([]));
    let mut out = json!({
        "type": get("type"),
        "name": get("name"),
        "expression": get("expression"),
        "warn_unenforced": flag("warn_unenforced"),
        "warn_unsupported": flag("warn_unsupported"),
        "to": get("to"),
        "to_columns": list("to_columns"),
    });
    if model_level {
        out["columns"] = list("columns");
    }
    out
}

/// What rendering a constraint found to warn about, in dbt's words.
fn support_warning(
    kind: AdapterKind,
    constraint_type: &str,
    raw: &Json,
    warnings: &mut Vec<String>,
) -> bool {
    let flag = |key: &str| raw.get(key).and_then(Json::as_bool).unwrap_or(true);
    match kind.constraint_support(constraint_type) {
        ConstraintSupport::Enforced => true,
        ConstraintSupport::NotEnforced => {
            if flag("warn_unenforced") {
                warnings.push(format!(
                    "The constraint type {constraint_type} is not enforced by {}. The constraint \
                     will be included in this model's DDL statement, but it will not guarantee \
                     anything about the underlying data. Set 'warn_unenforced: false' on this \
                     constraint to ignore this warning.",
                    kind.name()
                ));
            }
            true
        }
        ConstraintSupport::NotSupported => {
            if flag("warn_unsupported") {
                warnings.push(format!(
                    "The constraint type {constraint_type} is not supported by {}, and will be \
                     ignored. Set 'warn_unsupported: false' on this constraint to ignore this \
                     warning.",
                    kind.name()
                ));
            }
            false
        }
    }
}

fn text<'a>(raw: &'a Json, key: &str) -> Option<&'a str> {
    raw.get(key)
        .and_then(Json::as_str)
        .filter(|s| !s.is_empty())
}

fn names(raw: &Json, key: &str) -> Vec<String> {
    match raw.get(key) {
        Some(Json::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| i.to_string())
            })
            .collect(),
        Some(Json::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// A column of a contracted table's DDL: `name type constraint...`.
/// `to` is the relation a foreign key's `to:` names, rendered.
pub fn column_ddl(
    kind: AdapterKind,
    column: &Json,
    to: &dyn Fn(&str) -> Result<String, String>,
    warnings: &mut Vec<String>,
) -> Result<String, String> {
    let name = text(column, "name").unwrap_or_default();
    let name = if column.get("quote").and_then(Json::as_bool) == Some(true) {
        kind.quote(name)
    } else {
        name.to_string()
    };
    let mut parts = vec![format!(
        "{name} {}",
        text(column, "data_type").unwrap_or_default()
    )];
    for raw in column
        .get("constraints")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let constraint_type = text(raw, "type").unwrap_or_default();
        let expression = text(raw, "expression").unwrap_or_default();
        if constraint_type != "custom" && !support_warning(kind, constraint_type, raw, warnings) {
            continue;
        }
        let rendered = match constraint_type {
            "check" if !expression.is_empty() => format!("check ({expression})"),
            "not_null" => format!("not null {expression}"),
            "unique" => format!("unique {expression}"),
            "primary_key" => format!("primary key {expression}"),
            "foreign_key" => match text(raw, "to") {
                Some(target) if !names(raw, "to_columns").is_empty() => {
                    let mut relation = to(target)?;
                    if kind == AdapterKind::DuckDb {
                        // DuckDB cannot reference a table by its database here.
                        relation = strip_database(&relation);
                    }
                    format!(
                        "references {relation} ({})",
                        names(raw, "to_columns").join(", ")
                    )
                }
                _ if !expression.is_empty() => format!("references {expression}"),
                _ => String::new(),
            },
            "custom" => expression.to_string(),
            _ => String::new(),
        };
        let rendered = rendered.trim();
        if !rendered.is_empty() {
            parts.push(rendered.to_string());
        }
    }
    Ok(parts.join(" "))
}

/// `"db"."schema"."name"` without its database, as dbt-duckdb writes a
/// column's foreign key.
fn strip_database(relation: &str) -> String {
    let pieces: Vec<&str> = relation.split('.').collect();
    if pieces.len() > 2 {
        pieces[1..].join(".")
    } else {
        relation.to_string()
    }
}

/// A model-level constraint of a contracted table's DDL, or none when the
/// database does not support it or it says nothing.
pub fn model_constraint_ddl(
    kind: AdapterKind,
    raw: &Json,
    to: &dyn Fn(&str) -> Result<String, String>,
    warnings: &mut Vec<String>,
) -> Result<Option<String>, String> {
    let constraint_type = text(raw, "type").unwrap_or_default();
    if constraint_type != "custom" && !support_warning(kind, constraint_type, raw, warnings) {
        return Ok(None);
    }
    let prefix = text(raw, "name")
        .map(|n| format!("constraint {n} "))
        .unwrap_or_default();
    let columns = names(raw, "columns").join(", ");
    let expression = text(raw, "expression");
    let with_expression = expression.map(|e| format!(" {e}")).unwrap_or_default();
    Ok(match constraint_type {
        "check" => expression.map(|e| format!("{prefix}check ({e})")),
        "unique" => Some(format!("{prefix}unique{with_expression} ({columns})")),
        "primary_key" => Some(format!("{prefix}primary key{with_expression} ({columns})")),
        "foreign_key" => match text(raw, "to") {
            Some(target) if !names(raw, "to_columns").is_empty() => Some(format!(
                "{prefix}foreign key ({columns}) references {} ({})",
                to(target)?,
                names(raw, "to_columns").join(", ")
            )),
            _ => expression.map(|e| format!("{prefix}foreign key ({columns}) references {e}")),
        },
        "custom" => expression.map(|e| format!("{prefix}{e}")),
        _ => None,
    })
}

/// The arguments of a foreign key's `to:`, `ref('orders')`,
/// `ref('pkg', 'orders')` or `source('raw', 'orders')`: the function and its
/// string arguments.
pub fn parse_ref_or_source(to: &str) -> Option<(&'static str, Vec<String>)> {
    let to = to.trim();
    let (function, rest) = if let Some(rest) = to.strip_prefix("ref") {
        ("ref", rest)
    } else if let Some(rest) = to.strip_prefix("source") {
        ("source", rest)
    } else {
        return None;
    };
    let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
    let args: Option<Vec<String>> = inner
        .split(',')
        .map(|a| {
            let a = a.trim();
            a.strip_prefix('\'')
                .and_then(|a| a.strip_suffix('\''))
                .or_else(|| a.strip_prefix('"').and_then(|a| a.strip_suffix('"')))
                .map(str::to_string)
        })
        .collect();
    Some((function, args?))
}

/// A node's `contract` as the manifest writes it.
pub fn contract_json(config: &crate::config::node_config::NodeConfig) -> Json {
    json!({
        "enforced": enforced(config),
        "alias_types": config.get("contract").and_then(|c| c.get("alias_types")).and_then(Json::as_bool).unwrap_or(true),
        "checksum": null,
    })
}

/// Whether a node's config enforces its contract.
pub fn enforced(config: &crate::config::node_config::NodeConfig) -> bool {
    config
        .get("contract")
        .and_then(|c| c.get("enforced"))
        .and_then(Json::as_bool)
        .unwrap_or(false)
}

/// The `to:` of each foreign key of a node, column- and model-level, as
/// `("ref", ["orders"])` or `("source", ["raw", "orders"])`.
pub fn foreign_key_targets(node: &crate::project::node::Node) -> Vec<(&'static str, Vec<String>)> {
    node.columns
        .iter()
        .flat_map(|c| &c.constraints)
        .chain(&node.constraints)
        .filter(|c| text(c, "type") == Some("foreign_key"))
        .filter_map(|c| text(c, "to"))
        .filter_map(parse_ref_or_source)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, data_type: &str) -> ContractColumn {
        ContractColumn {
            name: name.into(),
            data_type: data_type.into(),
        }
    }

    #[test]
    fn the_mismatch_table_is_dbts() {
        // What dbt 1.10 (dbt-duckdb) printed for the same columns.
        let yaml = [
            col("id", "VARCHAR"),
            col("name", "VARCHAR"),
            col("amount", "INTEGER"),
        ];
        let sql = [
            col("id", "INTEGER"),
            col("extra", "VARCHAR"),
            col("amount", "INTEGER"),
        ];
        assert_eq!(
            mismatch_message(&yaml, &sql),
            "This model has an enforced contract that failed.\n\
             Please ensure the name, data_type, and number of columns in your contract match \
             the columns in your model's definition.\n\n\
             | column_name | definition_type | contract_type | mismatch_reason       |\n\
             | ----------- | --------------- | ------------- | --------------------- |\n\
             | extra       | VARCHAR         |               | missing in contract   |\n\
             | id          | INTEGER         | VARCHAR       | data type mismatch    |\n\
             | name        |                 | VARCHAR       | missing in definition |\n"
        );
    }

    #[test]
    fn constraints_render_as_dbt_writes_them() {
        let to = |t: &str| -> Result<String, String> {
            let (_, args) = parse_ref_or_source(t).ok_or("bad")?;
            Ok(format!("\"db\".\"main\".\"{}\"", args[0]))
        };
        let column = json!({"name": "id", "data_type": "integer", "constraints": [
            {"type": "not_null"}, {"type": "unique"}, {"type": "check", "expression": "id > 0"},
            {"type": "custom", "expression": "default 1"},
            {"type": "foreign_key", "to": "ref('good')", "to_columns": ["id"]}]});
        let mut warnings = Vec::new();
        assert_eq!(
            column_ddl(AdapterKind::DuckDb, &column, &to, &mut warnings).unwrap(),
            "id integer not null unique check (id > 0) default 1 references \"main\".\"good\" (id)"
        );
        let model = json!({"type": "foreign_key", "columns": ["id"], "to": "ref('good')", "to_columns": ["id"]});
        assert_eq!(
            model_constraint_ddl(AdapterKind::Postgres, &model, &to, &mut warnings).unwrap(),
            Some("foreign key (id) references \"db\".\"main\".\"good\" (id)".into())
        );
        let named = json!({"type": "check", "name": "pos", "expression": "id > 0"});
        assert_eq!(
            model_constraint_ddl(AdapterKind::DuckDb, &named, &to, &mut warnings).unwrap(),
            Some("constraint pos check (id > 0)".into())
        );
        assert!(warnings.is_empty());
        assert_eq!(
            parse_ref_or_source("source('raw', \"orders\")"),
            Some(("source", vec!["raw".into(), "orders".into()]))
        );
    }
}
