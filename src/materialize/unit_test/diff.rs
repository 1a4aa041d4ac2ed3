//! The difference between a model's rows and the expected ones, compared as
//! multisets (order does not matter, duplicates do), shown as dbt shows it:
//! a table under `@@`, rows only the model gave marked `+++`, rows only
//! expected marked `---`, rows in both unmarked.

use std::collections::BTreeMap;

use crate::adapter::Cell;

/// A row as it compares and shows: each value's text, null as `null`.
fn texts(row: &[Cell]) -> Vec<String> {
    row.iter()
        .map(|cell| match cell {
            Cell::Null => "null".to_string(),
            // A float as dbt shows one: `3.0`, not `3`.
            Cell::Float(x) if x.is_finite() && x.fract() == 0.0 => format!("{x:.1}"),
            other => other.to_string(),
        })
        .collect()
}

/// `None` when `actual` and `expected` hold the same rows as many times each;
/// otherwise the table of differences. The model's rows are walked in order:
/// one matching an expected row is unmarked; one left over that shares its
/// first value with a left-over expected row is shown beside it, each
/// changed value as `expected→actual` (a `→` row); any other is `+++`. The
/// expected rows left over follow as `---`.
pub fn differences(
    columns: &[String],
    actual: &[Vec<Cell>],
    expected: &[Vec<Cell>],
) -> Option<String> {
    let actual: Vec<Vec<String>> = actual.iter().map(|r| texts(r)).collect();
    let expected: Vec<Vec<String>> = expected.iter().map(|r| texts(r)).collect();
    let mut unmatched: BTreeMap<&Vec<String>, usize> = BTreeMap::new();
    for row in &expected {
        *unmatched.entry(row).or_default() += 1;
    }
    let mut matched = vec![false; actual.len()];
    for (i, row) in actual.iter().enumerate() {
        if let Some(count) = unmatched.get_mut(row)
            && *count > 0
        {
            *count -= 1;
            matched[i] = true;
        }
    }
    // The expected rows no model row matched, in their order.
    let mut left: Vec<Option<&Vec<String>>> = Vec::new();
    for row in &expected {
        if let Some(count) = unmatched.get_mut(row)
            && *count > 0
        {
            *count -= 1;
            left.push(Some(row));
        }
    }
    if matched.iter().all(|m| *m) && left.is_empty() {
        return None;
    }
    let mut lines: Vec<(&str, Vec<String>)> = Vec::new();
    for (i, row) in actual.iter().enumerate() {
        if matched[i] {
            lines.push(("", row.clone()));
            continue;
        }
        let partner = left
            .iter_mut()
            .find(|e| e.is_some_and(|e| e.first() == row.first()));
        match partner.and_then(Option::take) {
            Some(before) => {
                let changed: Vec<String> = before
                    .iter()
                    .zip(row)
                    .map(|(was, now)| {
                        if was == now {
                            now.clone()
                        } else {
                            format!("{}→{}", upper_null(was), upper_null(now))
                        }
                    })
                    .collect();
                lines.push(("→", changed));
            }
            None => lines.push(("+++", row.clone())),
        }
    }
    lines.extend(left.into_iter().flatten().map(|row| ("---", row.clone())));
    let mut table = vec![("@@", columns.to_vec())];
    table.extend(lines);
    let marker_width = table
        .iter()
        .map(|(m, _)| m.chars().count())
        .max()
        .unwrap_or(2);
    let mut widths: Vec<usize> = vec![0; columns.len()];
    for (_, row) in &table {
        for (i, value) in row.iter().enumerate() {
            if let Some(width) = widths.get_mut(i) {
                *width = (*width).max(value.chars().count());
            }
        }
    }
    let pad = |text: &str, width: usize| {
        let fill = width.saturating_sub(text.chars().count());
        format!("{text}{}", " ".repeat(fill))
    };
    let mut out = vec!["actual differs from expected:".to_string(), String::new()];
    for (marker, row) in &table {
        let mut line = pad(marker, marker_width);
        for (i, value) in row.iter().enumerate() {
            line.push(',');
            if i + 1 == row.len() {
                line.push_str(value);
            } else {
                line.push_str(&pad(value, widths[i]));
            }
        }
        out.push(line);
    }
    Some(out.join("\n"))
}

/// How a changed value shows a null: `NULL`, as dbt's diff.
fn upper_null(text: &str) -> &str {
    if text == "null" { "NULL" } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(values: &[i64]) -> Vec<Cell> {
        values.iter().map(|v| Cell::Int(*v)).collect()
    }

    #[test]
    fn equal_multisets_in_any_order_pass() {
        let columns = ["id".to_string()];
        let actual = [row(&[2]), row(&[1]), row(&[1])];
        let expected = [row(&[1]), row(&[2]), row(&[1])];
        assert_eq!(differences(&columns, &actual, &expected), None);
    }

    #[test]
    fn a_duplicate_row_is_a_difference() {
        let columns = ["id".to_string(), "n".to_string()];
        let actual = [row(&[1, 10]), row(&[1, 10])];
        let expected = [row(&[1, 10])];
        assert_eq!(
            differences(&columns, &actual, &expected).unwrap(),
            "actual differs from expected:\n\n@@ ,id,n\n   ,1 ,10\n+++,1 ,10"
        );
    }

    #[test]
    fn rows_only_expected_are_marked_and_nulls_shown() {
        let columns = ["id".to_string(), "name".to_string()];
        let actual = [vec![Cell::Int(1), Cell::Null]];
        let expected = [vec![Cell::Int(1), Cell::Text("a".into())]];
        // dbt 1.10's diff of the same rows: paired by their first value.
        assert_eq!(
            differences(&columns, &actual, &expected).unwrap(),
            "actual differs from expected:\n\n@@,id,name\n→ ,1 ,a→NULL"
        );
    }

    #[test]
    fn rows_only_one_side_has_are_added_and_removed() {
        let columns = ["id".to_string(), "name".to_string()];
        let text = |s: &str| Cell::Text(s.into());
        let actual = [
            vec![Cell::Int(1), text("alice")],
            vec![Cell::Int(2), Cell::Null],
        ];
        let expected = [
            vec![Cell::Int(1), text("alice")],
            vec![Cell::Int(3), text("carol")],
        ];
        // As dbt 1.10 shows it.
        assert_eq!(
            differences(&columns, &actual, &expected).unwrap(),
            "actual differs from expected:\n\n@@ ,id,name\n   ,1 ,alice\n+++,2 ,null\n---,3 ,carol"
        );
    }
}
