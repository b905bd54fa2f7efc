{#- Generic tests written here because dbt packages cannot be installed (no hub access). -#}

{#- Rows where the SQL expression is not true fail. With column_name, the expression is appended
    to the column (`column_name <expression>`); NULLs pass unless the expression says otherwise. -#}
{% test expression_is_true(model, expression, column_name=none, where_sql=none) %}
select *
from {{ model }}
where not coalesce(
    {%- if column_name is not none %} {{ column_name }} {% endif %}{{ expression }},
    true
)
{%- if where_sql is not none %}
  and ({{ where_sql }})
{%- endif %}
{% endtest %}

{#- Values outside [min_value, max_value] fail (bounds inclusive, either may be omitted); NULLs pass. -#}
{% test in_range(model, column_name, min_value=none, max_value=none) %}
select {{ column_name }} as failing_value
from {{ model }}
where {{ column_name }} is not null
  and (
    false
    {%- if min_value is not none %} or {{ column_name }} < {{ min_value }}{% endif %}
    {%- if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %}
  )
{% endtest %}

{#- A combination of columns must be unique (a composite primary key). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
select {{ combination_of_columns | join(', ') }}, count(*) as row_count
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}

{#- column_name must not be greater than other_column on the same row (e.g. p50 ≤ p90). -#}
{% test not_greater_than(model, column_name, other_column) %}
select {{ column_name }}, {{ other_column }}
from {{ model }}
where {{ column_name }} > {{ other_column }}
{% endtest %}

{#- Text must match a regular expression (NULLs pass). -#}
{% test matches_pattern(model, column_name, pattern) %}
select {{ column_name }} as failing_value
from {{ model }}
where {{ column_name }} is not null
  and not regexp_full_match({{ column_name }}, '{{ pattern }}')
{% endtest %}

{#- When a flag column is true, value_column must be NULL (suppressed cells carry no value). -#}
{% test null_when_flagged(model, column_name, flag_column) %}
select {{ column_name }}, {{ flag_column }}
from {{ model }}
where {{ flag_column }} and {{ column_name }} is not null
{% endtest %}

{#- column_name must be unique where it can repeat at all: within each partition_column value (e.g.
    a Slot snapshot id `<slot>@<date>` within its snapshot date), checked over the partitions from
    the earliest one holding a row of the latest load (`loaded_at_column` = its maximum; in a full
    build, every row) onwards. A partition before it was not loaded since and was checked when it was
    built; an incremental model that rebuilds whole partitions changes no other. The plain `unique`
    re-reads the whole history every night; this reads a range, so DuckDB skips the older row groups
    by their min/max (bench/README.md has both timings). -#}
{% test unique_within_latest_load(model, column_name, partition_column, loaded_at_column='_loaded_at') %}
select {{ column_name }}, count(*) as row_count
from {{ model }}
where {{ partition_column }} >= (
        select min({{ partition_column }}) from {{ model }}
        where {{ loaded_at_column }} = (select max({{ loaded_at_column }}) from {{ model }})
    )
  and {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1
{% endtest %}
