//! The data-heavy case: TPC-H tables (Parquet from `tpchgen-cli`) under
//! staging views and mart tables that answer some of the TPC-H queries,
//! with tests on their keys. Here the database's work dominates, so kiln's
//! figure should sit at the limit.

use std::path::Path;

const TABLES: [&str; 8] = [
    "lineitem", "orders", "customer", "part", "partsupp", "supplier", "nation", "region",
];

/// Writes the project into `dir`, reading the Parquet files in `data`,
/// building into the DuckDB file `database`.
pub fn write_project(dir: &Path, data: &Path, database: &str) {
    for folder in ["models/staging", "models/marts"] {
        std::fs::create_dir_all(dir.join(folder)).unwrap();
    }
    let write = |file: &str, text: &str| std::fs::write(dir.join(file), text).unwrap();
    write(
        "dbt_project.yml",
        &format!(
            "name: tpch\nversion: \"1.0.0\"\nconfig-version: 2\nprofile: tpch\n\n\
             vars:\n  tpch_data: \"{}\"\n\n\
             models:\n  tpch:\n    staging:\n      +materialized: view\n    marts:\n      +materialized: table\n",
            data.display()
        ),
    );
    write(
        "profiles.yml",
        &format!(
            "tpch:\n  target: bench\n  outputs:\n    bench:\n      type: duckdb\n      path: \"{database}\"\n      \
             schema: main\n      threads: 4\n"
        ),
    );
    for table in TABLES {
        write(
            &format!("models/staging/stg_{table}.sql"),
            &format!(
                "select * from read_parquet('{{{{ var(\"tpch_data\") }}}}/{table}.parquet')\n"
            ),
        );
    }
    for (name, sql) in MARTS {
        write(&format!("models/marts/{name}.sql"), sql);
    }
    write("models/marts/properties.yml", PROPERTIES);
}

const MARTS: [(&str, &str); 7] = [
    (
        "pricing_summary",
        "-- TPC-H Q1\nselect\n    l_returnflag,\n    l_linestatus,\n    sum(l_quantity) as sum_qty,\n    \
         sum(l_extendedprice) as sum_base_price,\n    sum(l_extendedprice * (1 - l_discount)) as sum_disc_price,\n    \
         sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) as sum_charge,\n    avg(l_quantity) as avg_qty,\n    \
         count(*) as count_order\nfrom {{ ref('stg_lineitem') }}\nwhere l_shipdate <= date '1998-09-02'\n\
         group by 1, 2\n",
    ),
    (
        "order_lines",
        "-- every line with its order, customer, nation and region\nselect\n    l.*,\n    o.o_orderdate,\n    \
         o.o_orderpriority,\n    c.c_custkey,\n    c.c_mktsegment,\n    n.n_name as customer_nation,\n    \
         r.r_name as customer_region\nfrom {{ ref('stg_lineitem') }} l\n\
         join {{ ref('stg_orders') }} o on o.o_orderkey = l.l_orderkey\n\
         join {{ ref('stg_customer') }} c on c.c_custkey = o.o_custkey\n\
         join {{ ref('stg_nation') }} n on n.n_nationkey = c.c_nationkey\n\
         join {{ ref('stg_region') }} r on r.r_regionkey = n.n_regionkey\n",
    ),
    (
        "shipping_priority",
        "-- TPC-H Q3\nselect\n    l_orderkey,\n    sum(l_extendedprice * (1 - l_discount)) as revenue,\n    \
         o_orderdate,\n    o_orderpriority\nfrom {{ ref('order_lines') }}\nwhere c_mktsegment = 'BUILDING'\n    \
         and o_orderdate < date '1995-03-15'\n    and l_shipdate > date '1995-03-15'\ngroup by 1, 3, 4\n",
    ),
    (
        "local_supplier_volume",
        "-- TPC-H Q5\nselect\n    customer_nation as nation,\n    \
         sum(l_extendedprice * (1 - l_discount)) as revenue\nfrom {{ ref('order_lines') }} ol\n\
         join {{ ref('stg_supplier') }} s on s.s_suppkey = ol.l_suppkey\n\
         join {{ ref('stg_nation') }} n on n.n_nationkey = s.s_nationkey and n.n_name = ol.customer_nation\n\
         where customer_region = 'ASIA'\n    and o_orderdate >= date '1994-01-01'\n    \
         and o_orderdate < date '1995-01-01'\ngroup by 1\n",
    ),
    (
        "returned_items",
        "-- TPC-H Q10\nselect\n    c.c_custkey,\n    c.c_name,\n    \
         sum(ol.l_extendedprice * (1 - ol.l_discount)) as revenue,\n    ol.customer_nation\n\
         from {{ ref('order_lines') }} ol\njoin {{ ref('stg_customer') }} c on c.c_custkey = ol.c_custkey\n\
         where ol.l_returnflag = 'R'\n    and ol.o_orderdate >= date '1993-10-01'\n    \
         and ol.o_orderdate < date '1994-01-01'\ngroup by 1, 2, 4\n",
    ),
    (
        "supplier_parts",
        "-- part and supplier availability, the base of TPC-H Q2, Q11, Q16\nselect\n    p.p_partkey,\n    \
         p.p_brand,\n    p.p_type,\n    p.p_size,\n    s.s_suppkey,\n    s.s_name,\n    ps.ps_availqty,\n    \
         ps.ps_supplycost\nfrom {{ ref('stg_partsupp') }} ps\n\
         join {{ ref('stg_part') }} p on p.p_partkey = ps.ps_partkey\n\
         join {{ ref('stg_supplier') }} s on s.s_suppkey = ps.ps_suppkey\n",
    ),
    (
        "large_volume_customers",
        "-- TPC-H Q18\nselect\n    c_custkey,\n    l_orderkey,\n    o_orderdate,\n    \
         sum(l_quantity) as quantity\nfrom {{ ref('order_lines') }}\n\
         where l_orderkey in (\n    select l_orderkey from {{ ref('stg_lineitem') }}\n    \
         group by 1 having sum(l_quantity) > 300\n)\ngroup by 1, 2, 3\n",
    ),
];

const PROPERTIES: &str = r#"version: 2

models:
  - name: order_lines
    columns:
      - name: l_orderkey
        data_tests: [not_null]
      - name: customer_region
        data_tests:
          - accepted_values:
              arguments:
                values: ['AFRICA', 'AMERICA', 'ASIA', 'EUROPE', 'MIDDLE EAST']
  - name: shipping_priority
    columns:
      - name: l_orderkey
        data_tests: [unique, not_null]
  - name: returned_items
    columns:
      - name: c_custkey
        data_tests: [unique]
  - name: supplier_parts
    columns:
      - name: p_partkey
        data_tests:
          - relationships:
              arguments:
                to: ref('stg_part')
                field: p_partkey
"#;
