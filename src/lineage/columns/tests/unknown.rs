//! Which references are flagged as unknown columns, and which never are
//! (unknown relations, outer names, opaque functions).

use super::*;

#[test]
fn wrong_qualified_column_is_flagged_where_it_is() {
    let sql = "select o.id,\n       o.amount_cents\nfrom orders as o";
    let l = duck(sql);
    assert_eq!(flagged(&l), ["orders.amount_cents@2:8"]);
    assert_eq!(l.unknown[0].column, "amount_cents");
    assert!(edges(&l, "amount_cents").is_empty());
    assert_eq!(edges(&l, "id"), ["orders.id passthrough"]);
}

#[test]
fn wrong_column_in_a_join_condition_and_where_is_flagged() {
    let sql = "select o.id\nfrom orders o\njoin customers c on o.customer_id = c.customer_id\nwhere o.state = 'x'";
    let l = duck(sql);
    assert_eq!(
        flagged(&l),
        ["customers.customer_id@3:37", "orders.state@4:7"]
    );
}

#[test]
fn wrong_unqualified_column_of_the_only_relation_is_flagged() {
    let l = duck("select id, totl\nfrom orders\nwhere stauts = 'paid'");
    assert_eq!(flagged(&l), ["orders.totl@1:12", "orders.stauts@3:7"]);
}

#[test]
fn wrong_column_of_a_fully_known_cte_is_flagged() {
    let l = duck("with x as (select id from orders)\nselect x.amount, amount from x");
    assert_eq!(flagged(&l), ["x.amount@2:8", "x.amount@2:18"]);
}

#[test]
fn wrong_column_inside_a_cte_is_flagged() {
    let l = duck("with x as (\n  select idd from orders\n)\nselect * from x");
    assert_eq!(flagged(&l), ["orders.idd@2:10"]);
    assert_eq!(names(&l), ["idd"]);
}

#[test]
fn quoted_reference_position_starts_at_the_quote() {
    let l = duck("select \"o\".\"nope\" from \"test\".\"main\".\"orders\" \"o\"");
    assert_eq!(flagged(&l), ["test.main.orders.nope@1:8"]);
}

#[test]
fn names_the_database_may_choose_are_never_flagged() {
    // DuckDB names duplicated columns `id`, `id_1` and unaliased
    // expressions after their text: kiln can't be sure of either.
    let l = duck(
        "with x as (select o.id, c.id from orders o join customers c on o.customer_id = c.id),
                  y as (select status, count(*) from orders group by status)
             select x.id_1, y.count_star, \"count_star()\" from x, y",
    );
    assert!(l.unknown.is_empty(), "{:?}", l.unknown);
    let l = duck(
        "with y as (select status, count(*) from orders group by status) select y.nope from y",
    );
    assert!(l.unknown.is_empty(), "{:?}", l.unknown);
}

#[test]
fn uncertain_qualifiers_and_system_columns_are_not_flagged() {
    // The table name of an aliased relation, a longer name than written
    // in FROM, and system columns: traced when possible, never flagged.
    let l = duck(
        "select orders.id as a, other.orders.nope as b, o.rowid, o.ctid as c
             from orders o",
    );
    assert!(l.unknown.is_empty(), "{:?}", l.unknown);
    assert_eq!(edges(&l, "a"), ["orders.id passthrough"]);
    let l = duck("select main.orders.id as a from orders");
    assert_eq!(edges(&l, "a"), ["orders.id passthrough"]);
    assert!(l.unknown.is_empty());
}

#[test]
fn replace_in_a_star_over_an_unknown_relation() {
    let l = duck("select * replace (upper(kind) as kind) from raw_events");
    assert_eq!(names(&l), ["kind"]);
    assert_eq!(edges(&l, "kind"), ["raw_events.kind transformed"]);
    let l = duck(
        "with a as (select * replace (upper(kind) as kind) from raw_events)
             select a.kind, a.user_id from a",
    );
    assert_eq!(edges(&l, "kind"), ["raw_events.kind transformed"]);
    assert_eq!(edges(&l, "user_id"), ["raw_events.user_id passthrough"]);
}

#[test]
fn natural_join_shares_common_columns() {
    let l = duck("select * from customers natural join payments");
    assert_eq!(
        names(&l),
        ["id", "name", "email", "order_id", "amount", "method"]
    );
    let l = duck("select id from customers natural join payments");
    assert_eq!(
        edges(&l, "id"),
        ["customers.id passthrough", "payments.id passthrough"]
    );
}

#[test]
fn unqualified_name_missing_from_several_relations_is_not_flagged() {
    let l = duck("select bogus from orders o join customers c on o.customer_id = c.id");
    assert!(l.unknown.is_empty());
}

#[test]
fn select_aliases_in_where_group_by_having_order_by_are_not_flagged() {
    let l = duck(
        "select status as state, amount * 2 as doubled, count(*) as n
             from orders
             where doubled > 10
             group by state, doubled
             having n > 1
             qualify row_number() over (partition by state order by doubled) = 1
             order by doubled desc, state",
    );
    assert!(l.unknown.is_empty(), "{:?}", l.unknown);
}

#[test]
fn a_select_alias_can_be_used_later_in_the_select_list() {
    let l = duck("select amount * 2 as doubled, doubled + 1 as more from orders");
    assert_eq!(edges(&l, "more"), ["orders.amount transformed"]);
    assert!(l.unknown.is_empty());
}

#[test]
fn niladic_values_system_columns_and_whole_rows_are_not_flagged() {
    let l = duck(
        "select current_date as d, current_timestamp as ts, now() as n, current_user as u,
                    true as t, null as z, rowid, o
             from orders o where ordered_at < current_date",
    );
    assert!(l.unknown.is_empty(), "{:?}", l.unknown);
    assert!(edges(&l, "d").is_empty());
    assert_eq!(edges(&l, "o").len(), 5);
}

#[test]
fn struct_fields_lambdas_and_named_arguments_are_not_columns() {
    let l = duck(
        "select payload.kind, e.payload.kind as k2, list_transform(tags, x -> upper(x)) as up,
                    struct_pack(a := id) as packed
             from events e",
    );
    assert!(l.unknown.is_empty(), "{:?}", l.unknown);
    assert_eq!(edges(&l, "kind"), ["events.payload transformed"]);
    assert_eq!(edges(&l, "k2"), ["events.payload transformed"]);
    assert_eq!(edges(&l, "up"), ["events.tags transformed"]);
    assert_eq!(edges(&l, "packed"), ["events.id transformed"]);
}

#[test]
fn unknown_relation_is_traced_by_name_and_never_flagged() {
    let l = duck("select foo, r.bar, baz + 1 as b2 from raw.events_raw r where qux > 0");
    assert!(l.unknown.is_empty());
    assert_eq!(edges(&l, "foo"), ["raw.events_raw.foo passthrough"]);
    assert_eq!(edges(&l, "bar"), ["raw.events_raw.bar passthrough"]);
    assert_eq!(edges(&l, "b2"), ["raw.events_raw.baz transformed"]);
}

#[test]
fn star_over_an_unknown_relation_gives_no_columns_but_no_error() {
    let l = duck("select *, 1 as one from raw_table");
    assert_eq!(names(&l), ["one"]);
    assert!(l.unknown.is_empty());
}

#[test]
fn names_from_a_star_over_an_unknown_relation_are_traced_through_ctes() {
    let l = duck(
        "with a as (select * from raw_events), b as (select * exclude (secret) from a)
             select b.user_id, upper(kind) as kind, b.secret from b",
    );
    assert_eq!(edges(&l, "user_id"), ["raw_events.user_id passthrough"]);
    assert_eq!(edges(&l, "kind"), ["raw_events.kind transformed"]);
    // Excluded: certainly not a column of b, but b is not fully known.
    assert!(edges(&l, "secret").is_empty());
    assert!(l.unknown.is_empty());
}

#[test]
fn qualified_column_of_a_cte_over_an_unknown_relation_is_not_flagged() {
    let l =
        duck("with x as (select * from raw) select x.anything from x join orders o on x.k = o.id");
    assert!(l.unknown.is_empty());
    assert_eq!(edges(&l, "anything"), ["raw.anything passthrough"]);
}

#[test]
fn join_of_unknown_relations_does_not_guess() {
    let l = duck("select foo from raw_a join raw_b on raw_a.k = raw_b.k");
    assert!(edges(&l, "foo").is_empty());
    assert!(l.unknown.is_empty());
    // A known relation lacking the name leaves the unknown one.
    let l = duck("select foo from orders join raw_b on orders.id = raw_b.k");
    assert_eq!(edges(&l, "foo"), ["raw_b.foo passthrough"]);
}

#[test]
fn correlated_subqueries_resolve_outer_names_and_are_not_flagged() {
    let l = duck(
        "select id,
                    (select max(p.amount) from payments p where p.order_id = o.id) as max_payment
             from orders o
             where exists (select 1 from payments where order_id = o.id and customer_id > 0)
               and id in (select order_id from payments)",
    );
    assert!(l.unknown.is_empty(), "{:?}", l.unknown);
    assert_eq!(edges(&l, "max_payment"), ["payments.amount transformed"]);
}

#[test]
fn wrong_column_inside_a_subquery_is_flagged() {
    let l = duck(
        "select id from orders o\nwhere exists (select 1 from payments p where p.nope = o.id)",
    );
    assert_eq!(flagged(&l), ["payments.nope@2:46"]);
}

#[test]
fn table_alias_column_list_renames() {
    let l = duck("select a, c from orders as o(a, b, c)");
    assert_eq!(edges(&l, "a"), ["orders.id passthrough"]);
    assert_eq!(edges(&l, "c"), ["orders.amount passthrough"]);
    let l = duck("with x(k, v) as (select id, amount from orders) select k, v, x.v as w from x");
    assert_eq!(edges(&l, "v"), ["orders.amount passthrough"]);
    assert_eq!(edges(&l, "w"), ["orders.amount passthrough"]);
}

#[test]
fn table_functions_are_opaque() {
    let l = duck("select a, b from read_csv('x.csv') t where c > 1");
    assert!(l.unknown.is_empty());
    assert!(edges(&l, "a").is_empty());
    let l = duck("select x from orders, unnest([1, 2]) as u(x)");
    assert!(l.unknown.is_empty());
}

#[test]
fn duckdb_columns_expression_gives_unknown_columns() {
    let l = duck("select id, min(columns(* exclude (id))) from orders");
    assert_eq!(names(&l), ["id"]);
    let l = duck(
        "with a as (select columns(c -> c like '%id') from orders) select a.customer_id, a.other from a",
    );
    assert!(l.unknown.is_empty(), "{:?}", l.unknown);
    assert!(edges(&l, "customer_id").is_empty());
}

#[test]
fn recursive_cte_does_not_crash() {
    let l = duck(
        "with recursive r as (select 1 as n union all select n + 1 from r where n < 10)
             select n from r",
    );
    assert_eq!(names(&l), ["n"]);
    assert!(l.unknown.is_empty());
}

#[test]
fn from_first_query_selects_everything() {
    let l = duck("from customers");
    assert_eq!(names(&l), ["id", "name", "email"]);
}
