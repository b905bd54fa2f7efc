{#-
  Timestamp conventions.
  * Every `*_at` column is a naive `timestamp` in UTC.
  * FHIR dateTime/instant values carry an offset (`Z`, `+08:00`): converted to UTC.
  * CSV/JSONL values (and FHIR dates without a time) carry none: read as hospital local time
    (`var('timezone')`) and converted to UTC.
  Unparseable text becomes NULL (the quality gates report it before it reaches raw).
-#}

{% macro to_utc(text_expression) -%}
    case
        when regexp_matches(trim({{ text_expression }}), '(Z|[+-][0-9]{2}:?[0-9]{2})$')
            then timezone('UTC', try_cast(trim({{ text_expression }}) as timestamptz))
        else timezone('UTC', timezone('{{ var("timezone") }}', try_cast(trim({{ text_expression }}) as timestamp)))
    end
{%- endmacro %}

{#- A UTC timestamp shown in hospital local time (naive timestamp). -#}
{% macro to_local(utc_timestamp_expression) -%}
    timezone('{{ var("timezone") }}', timezone('UTC', {{ utc_timestamp_expression }}))
{%- endmacro %}

{#- The hospital-local calendar date of a UTC timestamp. -#}
{% macro to_local_date(utc_timestamp_expression) -%}
    cast({{ to_local(utc_timestamp_expression) }} as date)
{%- endmacro %}

{#- Minutes / hours / days between two timestamps, as decimals (NULL if either is NULL). -#}
{% macro minutes_between(start_expression, end_expression) -%}
    round(date_diff('millisecond', {{ start_expression }}, {{ end_expression }}) / 60000.0, 2)
{%- endmacro %}

{% macro hours_between(start_expression, end_expression) -%}
    round(date_diff('millisecond', {{ start_expression }}, {{ end_expression }}) / 3600000.0, 3)
{%- endmacro %}

{% macro days_between(start_expression, end_expression) -%}
    round(date_diff('millisecond', {{ start_expression }}, {{ end_expression }}) / 86400000.0, 3)
{%- endmacro %}
