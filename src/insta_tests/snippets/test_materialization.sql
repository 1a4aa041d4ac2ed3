{#- The query the test materialization runs (templates/tests/): the failure
    count, and whether it meets warn_if and error_if, over the test's rows;
    with a limit, and with a fail_calc of the project's own. -#}
{{ get_test_sql("select * from " ~ ref('orders') ~ " where id is null", "count(*)", "!= 0", "!= 0", none) }}
union all
{{ get_test_sql("select id, 1 as n_records from " ~ ref('orders'), "sum(n_records)", ">3", ">100", 5) }}
