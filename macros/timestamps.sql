{#-
  Timestamp conventions.
  * Every `*_at` column is a naive `timestamp` in UTC.
  * FHIR dateTime/instant values carry an offset (`Z`, `+08:00`): converted to UTC.
  * CSV/JSONL values (and FHIR dates without a time) carry none: read as hospital local time
    (`var('timezone')`) and converted to UTC. A FHIR dateTime with a time but no offset (FHIR says it
    SHALL have one; many EHR exports omit it) is read the same way, as hospital local time.
  * FHIR partial dates (`2026`, `2026-01`) are valid dateTimes: read as the first day of the period,
    local midnight (the precision is the export's, not journey's).
  * A value is read only when it *parses* (parse_time: ISO 8601, the forms above) and lies in the
    plausible window [var earliest_plausible_date, var latest_plausible_date] (journey's
    thresholds.*_plausible_date). Anything else present is NULL in the column and named in the row's
    `unreadable_values` (time_problem: `unparseable_time:<field>` / `implausible_time:<field>`), which
    the staging gate quarantines: a value that cannot be read is refused, never published as NULL.
    Absent (empty) values stay NULL. One definition (parse_time) serves the cast and the flag.
-#}

{#- ISO 8601 as FHIR writes it: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, or a date and `hh:mm[:ss[.f…]]`
    (after `T` or a space), optionally `Z` or an offset `±hh:mm` / `±hhmm` (a space before it is
    tolerated). A leap second (`:60`), `24:00`, a US/European date or a time without a date do not
    parse. -#}
{% macro iso_time_pattern() -%}
    '[0-9]{4}(-[0-9]{2}(-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)? ?(Z|[+-][0-9]{2}:?[0-9]{2})?)?)?)?'
{%- endmacro %}

{#- The text as a naive UTC timestamp when it parses (see above), else NULL; the window is not
    applied here (to_utc). The instant's microseconds since the epoch (`epoch_us` of a timestamptz is
    the UTC instant's) give the same value as `timezone('UTC', instant)` without an ICU calendar
    conversion per row (staging converts every FHIR time of every Slot snapshot; bench/README.md has the saving). -#}
{% macro parse_time(text_expression) -%}
    case when regexp_full_match(trim({{ text_expression }}), {{ iso_time_pattern() }})
              and not regexp_matches(trim({{ text_expression }}), '[T ]24:')
    then make_timestamp(epoch_us(case
        when regexp_matches(trim({{ text_expression }}), '(Z|[+-][0-9]{2}:?[0-9]{2})$')
            then try_cast(trim({{ text_expression }}) as timestamptz)
        else timezone('{{ var("timezone") }}', try_cast(case length(trim({{ text_expression }}))
            when 4 then trim({{ text_expression }}) || '-01-01'
            when 7 then trim({{ text_expression }}) || '-01'
            else trim({{ text_expression }}) end as timestamp))
    end)) end
{%- endmacro %}

{#- Whether a parsed UTC timestamp lies in the plausible window (bounds inclusive). -#}
{% macro in_plausible_window(timestamp_expression) -%}
    ({{ timestamp_expression }} between timestamp '{{ var("earliest_plausible_date") }}'
                                    and timestamp '{{ var("latest_plausible_date") }}')
{%- endmacro %}

{#- The time journey reads: parsed and in the plausible window, else NULL (time_problem says why). -#}
{% macro to_utc(text_expression) -%}
    (case when {{ in_plausible_window(parse_time(text_expression)) }} then {{ parse_time(text_expression) }} end)
{%- endmacro %}

{#- Why a present time is not read, as a quarantine rule naming its source field; NULL when it is
    read or absent (empty). -#}
{% macro time_problem(text_expression, field) -%}
    case
        when nullif(trim({{ text_expression }}), '') is null then null
        when {{ parse_time(text_expression) }} is null then 'unparseable_time:{{ field }}'
        when not {{ in_plausible_window(parse_time(text_expression)) }} then 'implausible_time:{{ field }}'
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
