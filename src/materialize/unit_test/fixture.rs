//! A unit test's rows as SQL: each given input becomes a query of literal
//! rows cast to the input's column types, the expected rows a query cast to
//! the model's, and both meet in one query that tags each row `actual` or
//! `expected`, as dbt's unit test materialization builds them.

use serde_json::{Map, Value as Json};

use crate::adapter::{AdapterKind, CatalogColumn};
use crate::project::unit_tests::Rows;

/// A value of a fixture as an SQL literal: text quoted, numbers and booleans
/// as written, null as `null`.
pub fn literal(value: &Json) -> String {
    match value {
        Json::Null => "null".to_string(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => format!("'{}'", s.replace('\'', "''")),
        other => format!("'{}'", other.to_string().replace('\'', "''")),
    }
}

/// The value a row gives `column`, its name matched without regard to case.
fn value_of<'a>(row: &'a Map<String, Json>, column: &str) -> Option<&'a Json> {
    row.get(column).or_else(|| {
        row.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(column))
            .map(|(_, v)| v)
    })
}

/// The columns rows name that `columns` does not have.
pub fn unknown_columns(rows: &[Map<String, Json>], columns: &[CatalogColumn]) -> Vec<String> {
    let mut unknown: Vec<String> = Vec::new();
    for row in rows {
        for key in row.keys() {
            let known = columns.iter().any(|c| c.name.eq_ignore_ascii_case(key));
            if !known && !unknown.contains(key) {
                unknown.push(key.clone());
            }
        }
    }
    unknown
}

/// Rows as one query over `columns` (each cast to its type; a column a row
/// does not give is null): `select ... union all select ...`, or a query of
/// no rows with the same columns when there are none.
pub fn rows_query(
    adapter: AdapterKind,
    rows: &[Map<String, Json>],
    columns: &[CatalogColumn],
) -> String {
    let select = |row: Option<&Map<String, Json>>| {
        let items: Vec<String> = columns
            .iter()
            .map(|column| {
                let value = row
                    .and_then(|r| value_of(r, &column.name))
                    .unwrap_or(&Json::Null);
                format!(
                    "cast({} as {}) as {}",
                    literal(value),
                    column.data_type,
                    adapter.quote(&column.name)
                )
            })
            .collect();
        format!("select {}", items.join(", "))
    };
    if rows.is_empty() {
        return format!("{} limit 0", select(None));
    }
    rows.iter()
        .map(|row| select(Some(row)))
        .collect::<Vec<_>>()
        .join("\nunion all\n")
}

/// The SQL of a fixture: its rows cast to `columns`, or its own query.
pub fn fixture_query(adapter: AdapterKind, rows: &Rows, columns: &[CatalogColumn]) -> String {
    match rows {
        Rows::Sql(sql) => sql.trim().trim_end_matches(';').to_string(),
        Rows::Dict(rows) | Rows::Csv(rows) => rows_query(adapter, rows, columns),
    }
}

/// The columns a unit test compares: those its first expected row names, in
/// the model's order (all the model's for `sql` or no rows), as dbt does.
pub fn compared_columns(expect: &Rows, model_columns: &[CatalogColumn]) -> Vec<CatalogColumn> {
    let first = expect.as_maps().and_then(|rows| rows.first());
    match first {
        Some(row) => model_columns
            .iter()
            .filter(|c| row.keys().any(|k| k.eq_ignore_ascii_case(&c.name)))
            .cloned()
            .collect(),
        None => model_columns.to_vec(),
    }
}

/// The one query whose rows are the model's (tagged `actual`) and the
/// expected ones (`expected`), each on the compared columns only.
pub fn comparison_query(
    adapter: AdapterKind,
    model_sql: &str,
    expected_sql: &str,
    columns: &[CatalogColumn],
) -> String {
    let list: Vec<String> = columns.iter().map(|c| adapter.quote(&c.name)).collect();
    let list = list.join(", ");
    let tag = adapter.quote("actual_or_expected");
    format!(
        "-- Build actual result given inputs\n\
         with dbt_internal_unit_test_actual as (\n  select {list}, 'actual' as {tag}\n  from (\n{model}\n  ) _dbt_internal_unit_test_actual\n),\n\
         -- Build expected result\n\
         dbt_internal_unit_test_expected as (\n  select {list}, 'expected' as {tag}\n  from (\n{expected}\n  ) _dbt_internal_unit_test_expected\n)\n\
         -- Union actual and expected results\n\
         select * from dbt_internal_unit_test_actual\n\
         union all\n\
         select * from dbt_internal_unit_test_expected",
        model = model_sql.trim().trim_end_matches(';'),
        expected = expected_sql.trim(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, data_type: &str) -> CatalogColumn {
        CatalogColumn {
            name: name.into(),
            data_type: data_type.into(),
        }
    }

    fn rows(json: &str) -> Vec<Map<String, Json>> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn rows_are_cast_and_missing_columns_null() {
        let sql = rows_query(
            AdapterKind::DuckDb,
            &rows(r#"[{"id": 1, "name": "o'k"}, {"ID": 2}]"#),
            &[column("id", "INTEGER"), column("name", "VARCHAR")],
        );
        assert_eq!(
            sql,
            "select cast(1 as INTEGER) as \"id\", cast('o''k' as VARCHAR) as \"name\"\nunion all\nselect cast(2 as INTEGER) as \"id\", cast(null as VARCHAR) as \"name\""
        );
    }

    #[test]
    fn no_rows_is_an_empty_query_of_the_same_columns() {
        let sql = rows_query(AdapterKind::Postgres, &[], &[column("id", "int4")]);
        assert_eq!(sql, "select cast(null as int4) as \"id\" limit 0");
    }

    #[test]
    fn compared_columns_are_the_first_expected_rows_in_model_order() {
        let model = [
            column("id", "INTEGER"),
            column("a", "INTEGER"),
            column("b", "INTEGER"),
        ];
        let expect = Rows::Dict(rows(r#"[{"b": 1, "id": 2}]"#));
        let names: Vec<String> = compared_columns(&expect, &model)
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, ["id", "b"]);
        assert_eq!(compared_columns(&Rows::Dict(Vec::new()), &model).len(), 3);
    }

    #[test]
    fn unknown_columns_are_named_once() {
        let found = unknown_columns(
            &rows(r#"[{"id": 1, "nope": 2}, {"nope": 3}]"#),
            &[column("ID", "INTEGER")],
        );
        assert_eq!(found, ["nope"]);
    }
}
