//! Unit tests of the trace: lineage through CTEs, joins, stars and set
//! operations.

mod api;
mod unknown;

use super::{Catalog, CatalogMap, EdgeKind, ModelLineage, trace};
use crate::adapter::AdapterKind;
use sqlparser::dialect::DuckDbDialect;

fn catalog() -> CatalogMap {
    let mut catalog = CatalogMap::new();
    let mut add = |name: &str, columns: &[&str]| {
        catalog.insert(
            ["test", "main", name]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            columns.iter().map(|s| s.to_string()).collect(),
        )
    };
    add(
        "orders",
        &["id", "customer_id", "amount", "status", "ordered_at"],
    );
    add("customers", &["id", "name", "email"]);
    add("payments", &["id", "order_id", "amount", "method"]);
    add("events", &["id", "tags", "payload"]);
    catalog
}

fn duck(sql: &str) -> ModelLineage {
    trace(sql, AdapterKind::DuckDb.dialect(), &catalog()).expect("parses")
}

fn pg(sql: &str) -> ModelLineage {
    trace(sql, AdapterKind::Postgres.dialect(), &catalog()).expect("parses")
}

fn names(lineage: &ModelLineage) -> Vec<&str> {
    lineage.columns.iter().map(|c| c.name.as_str()).collect()
}

/// The sources of output column `name` as "relation.column kind".
fn edges(lineage: &ModelLineage, name: &str) -> Vec<String> {
    let column = lineage
        .columns
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no output column {name} in {:?}", names(lineage)));
    column
        .sources
        .iter()
        .map(|s| {
            let kind = match s.kind {
                EdgeKind::Passthrough => "passthrough",
                EdgeKind::Transformed => "transformed",
            };
            format!("{}.{} {kind}", s.relation.join("."), s.column)
        })
        .collect()
}

/// Flagged references as "relation.column@line:column".
fn flagged(lineage: &ModelLineage) -> Vec<String> {
    lineage
        .unknown
        .iter()
        .map(|u| {
            format!(
                "{}.{}@{}:{}",
                u.relation.join("."),
                u.column,
                u.line,
                u.column_number
            )
        })
        .collect()
}

#[test]
fn bare_renamed_and_computed_columns() {
    let l =
        duck("select id, amount as total, amount * 2 as doubled, 1 as one, 'x' as s from orders");
    assert_eq!(names(&l), ["id", "total", "doubled", "one", "s"]);
    assert_eq!(edges(&l, "id"), ["orders.id passthrough"]);
    assert_eq!(edges(&l, "total"), ["orders.amount passthrough"]);
    assert_eq!(edges(&l, "doubled"), ["orders.amount transformed"]);
    assert!(edges(&l, "one").is_empty());
    assert!(edges(&l, "s").is_empty());
    assert!(l.unknown.is_empty());
}

#[test]
fn parenthesised_column_is_still_passthrough() {
    let l = duck("select (id) as k from orders");
    assert_eq!(edges(&l, "k"), ["orders.id passthrough"]);
}

#[test]
fn star_through_a_chain_of_two_ctes() {
    let l = duck(
        r#"with a as (select * from "test"."main"."orders"),
            b as (select * from a)
            select * from b"#,
    );
    assert_eq!(
        names(&l),
        ["id", "customer_id", "amount", "status", "ordered_at"]
    );
    assert_eq!(edges(&l, "amount"), ["test.main.orders.amount passthrough"]);
    assert!(l.unknown.is_empty());
}

#[test]
fn transformation_inside_a_cte_stays_transformed_outside() {
    let l = duck(
        "with a as (select id, amount / 100 as dollars from orders)
             select id, dollars from a",
    );
    assert_eq!(edges(&l, "id"), ["orders.id passthrough"]);
    assert_eq!(edges(&l, "dollars"), ["orders.amount transformed"]);
}

#[test]
fn cte_referenced_twice() {
    let l = duck(
        "with x as (select id, amount from orders)
             select a.id, b.amount as other_amount from x a join x as b on a.id = b.id",
    );
    assert_eq!(edges(&l, "id"), ["orders.id passthrough"]);
    assert_eq!(edges(&l, "other_amount"), ["orders.amount passthrough"]);
    assert!(l.unknown.is_empty());
}

#[test]
fn subquery_in_from() {
    let l = duck(
        "select s.total, s.customer_id from (
               select customer_id, sum(amount) as total from orders group by customer_id
             ) as s",
    );
    assert_eq!(edges(&l, "total"), ["orders.amount transformed"]);
    assert_eq!(edges(&l, "customer_id"), ["orders.customer_id passthrough"]);
}

#[test]
fn join_with_aliases_and_qualified_star() {
    let l = duck(
        "select o.*, c.name as customer_name, upper(c.email) as email
             from main.orders o left join customers as c on o.customer_id = c.id",
    );
    assert_eq!(
        names(&l),
        [
            "id",
            "customer_id",
            "amount",
            "status",
            "ordered_at",
            "customer_name",
            "email"
        ]
    );
    assert_eq!(edges(&l, "id"), ["main.orders.id passthrough"]);
    assert_eq!(edges(&l, "customer_name"), ["customers.name passthrough"]);
    assert_eq!(edges(&l, "email"), ["customers.email transformed"]);
    assert!(l.unknown.is_empty());
}

#[test]
fn star_over_a_join() {
    let l = duck("select * from customers c cross join payments p");
    assert_eq!(
        names(&l),
        ["id", "name", "email", "id", "order_id", "amount", "method"]
    );
    assert_eq!(l.columns[3].sources[0].relation, ["payments"]);
}

#[test]
fn unqualified_names_in_a_join_resolve_to_the_one_relation_having_them() {
    let l = duck("select name, amount, id from orders o join customers c on customer_id = c.id");
    assert_eq!(edges(&l, "name"), ["customers.name passthrough"]);
    assert_eq!(edges(&l, "amount"), ["orders.amount passthrough"]);
    // Both have `id`: ambiguous, left untraced, not an error here.
    assert!(edges(&l, "id").is_empty());
    assert!(l.unknown.is_empty());
}

#[test]
fn using_join_column_comes_from_both_sides_and_star_shows_it_once() {
    let l = duck("select id, o.amount, p.method from orders o join payments p using (id)");
    assert_eq!(
        edges(&l, "id"),
        ["orders.id passthrough", "payments.id passthrough"]
    );
    assert_eq!(edges(&l, "method"), ["payments.method passthrough"]);
    let star = duck("select * from customers join payments using (id)");
    assert_eq!(
        names(&star),
        ["id", "name", "email", "order_id", "amount", "method"]
    );
}

#[test]
fn union_takes_sources_of_every_branch_and_names_of_the_first() {
    let l = duck(
        "select id, amount from orders
             union all
             select order_id, amount * 100 from payments
             union
             select 0, 0",
    );
    assert_eq!(names(&l), ["id", "amount"]);
    assert_eq!(
        edges(&l, "id"),
        ["orders.id passthrough", "payments.order_id passthrough"]
    );
    assert_eq!(
        edges(&l, "amount"),
        ["orders.amount passthrough", "payments.amount transformed"]
    );
}

#[test]
fn union_by_name_matches_columns_by_name() {
    let l = duck(
        "select id, amount from orders union all by name select amount, order_id as id from payments",
    );
    assert_eq!(names(&l), ["id", "amount"]);
    assert_eq!(
        edges(&l, "id"),
        ["orders.id passthrough", "payments.order_id passthrough"]
    );
}

#[test]
fn order_by_an_output_name_of_a_union_is_not_flagged() {
    let l = duck("select id as k from orders union select id from payments order by k");
    assert!(l.unknown.is_empty());
}

#[test]
fn aggregates_with_group_by() {
    let l = duck(
            "select customer_id, count(*) as n, count(distinct status) as statuses,
                    sum(amount) as total, max(ordered_at) filter (where status = 'paid') as last_paid
             from orders group by customer_id having count(*) > 1",
        );
    assert_eq!(edges(&l, "customer_id"), ["orders.customer_id passthrough"]);
    assert!(edges(&l, "n").is_empty());
    assert_eq!(edges(&l, "statuses"), ["orders.status transformed"]);
    assert_eq!(edges(&l, "total"), ["orders.amount transformed"]);
    assert_eq!(
        edges(&l, "last_paid"),
        ["orders.ordered_at transformed", "orders.status transformed"]
    );
}

#[test]
fn window_partition_and_order_columns_are_sources() {
    let l = duck(
        "select id,
                    row_number() over (partition by customer_id order by ordered_at) as rn,
                    sum(amount) over (partition by customer_id) as customer_total
             from orders",
    );
    assert_eq!(
        edges(&l, "rn"),
        [
            "orders.customer_id transformed",
            "orders.ordered_at transformed"
        ]
    );
    assert_eq!(
        edges(&l, "customer_total"),
        [
            "orders.amount transformed",
            "orders.customer_id transformed"
        ]
    );
}

#[test]
fn named_window_columns_are_sources() {
    let l = duck(
        "select sum(amount) over w as running from orders
             window w as (partition by customer_id order by ordered_at)",
    );
    assert_eq!(
        edges(&l, "running"),
        [
            "orders.amount transformed",
            "orders.customer_id transformed",
            "orders.ordered_at transformed"
        ]
    );
}

#[test]
fn case_uses_conditions_and_results() {
    let l = duck(
            "select case when status = 'paid' then amount when status = 'refunded' then -amount else 0 end as paid,
                    case status when 'x' then 1 end as is_x
             from orders",
        );
    assert_eq!(
        edges(&l, "paid"),
        ["orders.status transformed", "orders.amount transformed"]
    );
    assert_eq!(edges(&l, "is_x"), ["orders.status transformed"]);
}

#[test]
fn casts_and_scalar_functions_are_transformations() {
    let l = duck(
            "select cast(amount as int) as a, amount::decimal(10, 2) as b, coalesce(status, 'none') as c,
                    date_trunc('month', ordered_at) as d, id || '-' || customer_id as e
             from orders",
        );
    assert_eq!(edges(&l, "a"), ["orders.amount transformed"]);
    assert_eq!(edges(&l, "b"), ["orders.amount transformed"]);
    assert_eq!(edges(&l, "c"), ["orders.status transformed"]);
    assert_eq!(edges(&l, "d"), ["orders.ordered_at transformed"]);
    assert_eq!(
        edges(&l, "e"),
        ["orders.id transformed", "orders.customer_id transformed"]
    );
}

#[test]
fn exclude_replace_and_ilike_after_a_star() {
    let l = duck("select * exclude (amount, status) from orders");
    assert_eq!(names(&l), ["id", "customer_id", "ordered_at"]);
    let l = duck("select o.* exclude (ordered_at) replace (amount * 100 as amount) from orders o");
    assert_eq!(names(&l), ["id", "customer_id", "amount", "status"]);
    assert_eq!(edges(&l, "amount"), ["orders.amount transformed"]);
    assert_eq!(edges(&l, "id"), ["orders.id passthrough"]);
    let l = trace(
        "select * ilike '%id' from orders",
        &sqlparser::dialect::SnowflakeDialect {},
        &catalog(),
    )
    .unwrap();
    assert_eq!(names(&l), ["id", "customer_id"]);
}
