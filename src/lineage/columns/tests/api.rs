//! Output names, dialects, parse failures and the public types.

use super::*;

#[test]
fn quoted_names_keep_their_case_and_match_case_insensitively() {
    let l = duck(r#"select "ID", "Amount" as "Total", STATUS from ORDERS"#);
    assert_eq!(names(&l), ["ID", "Total", "status"]);
    assert_eq!(edges(&l, "ID"), ["ORDERS.id passthrough"]);
    assert_eq!(edges(&l, "Total"), ["ORDERS.amount passthrough"]);
    assert!(l.unknown.is_empty());
}

#[test]
fn unaliased_expression_names() {
    let l = duck("select count(*), sum(amount) from orders");
    assert_eq!(names(&l), ["count(*)", "sum(amount)"]);
    let l = pg("select count(*), sum(amount), amount::int, 1 + 1 from orders");
    assert_eq!(names(&l), ["count", "sum", "amount", "?column?"]);
}

#[test]
fn a_dialect_names_columns_as_its_adapter_does() {
    let sql = "select count(*), (amount)::int from orders";
    let by_dialect = |dialect: &dyn sqlparser::dialect::Dialect| {
        let l = trace(sql, dialect, &catalog()).expect("parses");
        names(&l)
            .into_iter()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        by_dialect(&sqlparser::dialect::PostgreSqlDialect {}),
        names(&pg(sql))
    );
    assert_eq!(by_dialect(&DuckDbDialect {}), names(&duck(sql)));
    // A dialect no adapter speaks names them as DuckDB does.
    assert_eq!(
        by_dialect(&sqlparser::dialect::GenericDialect {}),
        names(&duck(sql))
    );
}

#[test]
fn postgres_dialect() {
    let l = pg(r#"with paid as (
                 select o.id, o.amount::numeric / 100 as dollars
                 from "test"."main"."orders" o
                 where o.status = 'paid'
               )
               select p.id, sum(p.dollars) over (order by p.id) as running, p.nope
               from paid p"#);
    assert_eq!(edges(&l, "id"), ["test.main.orders.id passthrough"]);
    assert_eq!(
        edges(&l, "running"),
        [
            "test.main.orders.amount transformed",
            "test.main.orders.id transformed"
        ]
    );
    assert_eq!(flagged(&l), ["paid.nope@6:77"]);
}

#[test]
fn realistic_dbt_compiled_model() {
    let sql = r#"-- models/marts/orders_enriched.sql
with __dbt__cte__stg_payments as (
select
    id as payment_id,
    order_id,
    method as payment_method,
    amount / 100 as amount
from "test"."main"."payments"
),  orders as (
    select * from "test"."main"."orders"
),
payments as (
    select * from __dbt__cte__stg_payments
),
order_payments as (
    select
        order_id,
        sum(case when payment_method = 'credit_card' then amount else 0 end) as credit_card_amount,
        sum(amount) as total_amount
    from payments
    group by order_id
)
select
    o.id as order_id,
    o.customer_id,
    o.ordered_at as order_date,
    o.status,
    coalesce(op.credit_card_amount, 0) as credit_card_amount,
    op.total_amount as amount
from orders as o
left join order_payments op
    on o.id = op.order_id;
"#;
    let l = duck(sql);
    assert!(l.unknown.is_empty(), "{:?}", l.unknown);
    assert_eq!(
        names(&l),
        [
            "order_id",
            "customer_id",
            "order_date",
            "status",
            "credit_card_amount",
            "amount"
        ]
    );
    assert_eq!(edges(&l, "order_id"), ["test.main.orders.id passthrough"]);
    assert_eq!(
        edges(&l, "order_date"),
        ["test.main.orders.ordered_at passthrough"]
    );
    assert_eq!(
        edges(&l, "credit_card_amount"),
        [
            "test.main.payments.method transformed",
            "test.main.payments.amount transformed"
        ]
    );
    assert_eq!(
        edges(&l, "amount"),
        ["test.main.payments.amount transformed"]
    );
    // The same model with a typo in the final select.
    let typo = sql.replace("op.total_amount as amount", "op.totl_amount as amount");
    let l = duck(&typo);
    assert_eq!(flagged(&l), ["order_payments.totl_amount@29:5"]);
}

#[test]
fn parse_failure_gives_sqlparsers_position() {
    let err = trace(
        "select id,\n  amount\nfrom orders\nwhere amount > )",
        &DuckDbDialect {},
        &catalog(),
    )
    .unwrap_err();
    assert_eq!((err.line, err.column), (4, 16));
    assert!(err.message.starts_with("Expected"), "{}", err.message);
    assert!(!err.message.contains("Line:"));
    let err = trace("select 'unterminated", &DuckDbDialect {}, &catalog()).unwrap_err();
    assert_eq!(err.line, 1);
}

#[test]
fn other_statements_give_empty_lineage() {
    assert_eq!(duck("create table t (a int)"), ModelLineage::default());
    assert_eq!(duck("select 1; select 2"), ModelLineage::default());
    assert_eq!(duck("-- nothing"), ModelLineage::default());
}

#[test]
fn catalog_map_matches_trailing_parts() {
    let c = catalog();
    let names = |parts: &[&str]| parts.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(c.columns(&names(&["orders"])).is_some());
    assert!(c.columns(&names(&["MAIN", "Orders"])).is_some());
    assert!(c.columns(&names(&["test", "main", "orders"])).is_some());
    assert!(c.columns(&names(&["other", "orders"])).is_none());
    let mut two = CatalogMap::new();
    two.insert(names(&["db", "a", "t"]), names(&["x"]));
    two.insert(names(&["db", "b", "t"]), names(&["y"]));
    assert_eq!(two.columns(&names(&["t"])), None);
    assert_eq!(two.columns(&names(&["b", "t"])), Some(names(&["y"])));
}

#[test]
fn closures_are_catalogs() {
    let catalog = |relation: &[String]| {
        (relation.last().map(String::as_str) == Some("t")).then(|| vec!["a".to_string()])
    };
    let l = trace("select a, b from t", &DuckDbDialect {}, &catalog).unwrap();
    assert_eq!(flagged(&l), ["t.b@1:11"]);
}

#[test]
fn edge_kind_serializes_lowercase() {
    assert_eq!(
        serde_json::to_string(&EdgeKind::Passthrough).unwrap(),
        "\"passthrough\""
    );
    assert_eq!(
        serde_json::to_string(&EdgeKind::Transformed).unwrap(),
        "\"transformed\""
    );
}
