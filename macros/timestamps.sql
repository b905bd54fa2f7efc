{#-
  Timestamp conventions.
  * Every `*_at` column is a naive `timestamp` in UTC.
  * FHIR dateTime/instant values carry an offset (`Z`, `+08:00`): converted to UTC.
  * CSV/JSONL values (and FHIR dates without a time) carry none: read as hospital local time
    (`var('timezone')`) and converted to UTC.
  Unparseable text becomes NULL (the quality gates report it before it reaches raw).
-#}

{#- The instant as a naive UTC timestamp: its microseconds since the epoch (`epoch_us` of a
    timestamptz is the UTC instant's), the same value as `timezone('UTC', instant)` without an ICU
    calendar conversion per row (staging converts every FHIR time of every Slot snapshot: 28 % less
    time for the conversions, 12-15 % of stg_ehr__slots' build). -#}
{% macro to_utc(text_expression) -%}
    make_timestamp(epoch_us(case
        when regexp_matches(trim({{ text_expression }}), '(Z|[+-][0-9]{2}:?[0-9]{2})$')
            then try_cast(trim({{ text_expression }}) as timestamptz)
        else timezone('{{ var("timezone") }}', try_cast(trim({{ text_expression }}) as timestamp))
    end))
{%- endmacro %}

{#- A UTC timestamp shown in hospital local time (naive timestamp). -#}
{% macro to_local(utc_timestamp_expression) -%}
    timezone('{{ var("timezone") }}', timezone('UTC', {{ utc_timestamp_expression }}))
{%- endmacro %}

{#- The hospital-local calendar date of a UTC timestamp. -#}
{% macro to_local_date(utc_timestamp_expression) -%}
    cast({{ to_local(utc_timestamp_expression) }} as date)
{%- endmacro %}

{#- Minutes / hours / days between two timestamps, exact (NULL if either is NULL): facts keep the
    exact value and a metric rounds once, at publication (a percentile of per-visit rounded values
    differs from the rounded percentile of the exact ones). Signed: a negative value means the end
    came first (e.g. a cancellation after the start). Waits use plausible_minutes / plausible_hours
    below instead. -#}
{% macro minutes_between(start_expression, end_expression) -%}
    (date_diff('millisecond', {{ start_expression }}, {{ end_expression }}) / 60000.0)
{%- endmacro %}

{% macro hours_between(start_expression, end_expression) -%}
    (date_diff('millisecond', {{ start_expression }}, {{ end_expression }}) / 3600000.0)
{%- endmacro %}

{% macro days_between(start_expression, end_expression) -%}
    (date_diff('millisecond', {{ start_expression }}, {{ end_expression }}) / 86400000.0)
{%- endmacro %}

{#-
  The elapsed time of a wait or stay between two milestones of one visit, or NULL when it cannot be
  one: the end before the start (EHR milestones out of order: clock skew, late charting) or longer
  than max_hours (default var('max_wait_hours'), journey's thresholds.max_wait_hours, 48 h). Such an
  interval is not a wait: it is left out of every percentile, mean and share built on it, the same as
  a missing timestamp. max_hours is a number or a SQL expression; one evaluating to NULL means no
  upper bound (inpatient stays last days). The value is exact (not rounded: see minutes_between).
  tests/dbt/assert_encounter_milestones_ordered.sql counts the visits concerned.
-#}
{% macro plausible_minutes(start_expression, end_expression, max_hours=none) -%}
    {{ _plausible_interval(start_expression, end_expression, 60000.0, max_hours) }}
{%- endmacro %}

{% macro plausible_hours(start_expression, end_expression, max_hours=none) -%}
    {{ _plausible_interval(start_expression, end_expression, 3600000.0, max_hours) }}
{%- endmacro %}

{% macro _plausible_interval(start_expression, end_expression, unit_milliseconds, max_hours) -%}
    {%- set elapsed = "date_diff('millisecond', " ~ start_expression ~ ", " ~ end_expression ~ ")" -%}
    {%- set bound = var('max_wait_hours') if max_hours is none else max_hours -%}
    case
        when {{ elapsed }} >= 0 and ({{ elapsed }} <= ({{ bound }}) * 3600000.0) is not false
            then {{ elapsed }} / {{ unit_milliseconds }}
    end
{%- endmacro %}
