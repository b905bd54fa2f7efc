{#-
  Small-cell rule — the one implementation every metrics_* model uses.

  A rate, percentage, percentile or mean computed over fewer than var('min_cell_size') units
  (default 11) is published as NULL, and its flag says it was suppressed:
    * suppress(value, n)        the value, or NULL when 0 < n < min_cell_size (NULL anyway when n = 0)
    * is_suppressed(n)          the per-metric `*_suppressed` flag: 0 < n < min_cell_size
    * safe_rate(num, den)       num ÷ den as a double, suppressed on den
    * safe_pct(num, den)        100 × num ÷ den rounded to 2 decimals, suppressed on den
    * any_suppressed([n, ...])  the row-level `suppressed` flag: some metric on the row was suppressed
    * is_small_cell(n)          the row's main unit count is below min_cell_size (0 included)
  A cell with no units (n = 0) has nothing to publish: its value is NULL and its flag false, so
  "suppressed" always means "there was a number, and it was hidden".
  Counts (units, numerators) are published as they are: analysts need them to add cells up
  correctly (e.g. a month from its days), and a count does not pretend to be a stable rate.
-#}
{% macro suppress(value_expression, unit_count_expression) -%}
    case when {{ unit_count_expression }} >= {{ var('min_cell_size') }} then {{ value_expression }} end
{%- endmacro %}

{% macro is_suppressed(unit_count_expression) -%}
    (coalesce({{ unit_count_expression }}, 0) between 1 and {{ var('min_cell_size') }} - 1)
{%- endmacro %}

{% macro is_small_cell(unit_count_expression) -%}
    (coalesce({{ unit_count_expression }}, 0) < {{ var('min_cell_size') }})
{%- endmacro %}

{% macro any_suppressed(unit_count_expressions) -%}
    (
    {%- for unit_count_expression in unit_count_expressions %}
        {{ is_suppressed(unit_count_expression) }}{{ ' or' if not loop.last }}
    {%- endfor %}
    )
{%- endmacro %}

{#- numerator ÷ denominator as a rate in [0, 1], suppressed for small denominators. -#}
{% macro safe_rate(numerator_expression, denominator_expression) -%}
    {{ suppress('cast(' ~ numerator_expression ~ ' as double) / nullif(' ~ denominator_expression ~ ', 0)', denominator_expression) }}
{%- endmacro %}

{#- 100 × numerator ÷ denominator in [0, 100], 2 decimals, suppressed for small denominators. -#}
{% macro safe_pct(numerator_expression, denominator_expression) -%}
    round(100.0 * {{ safe_rate(numerator_expression, denominator_expression) }}, 2)
{%- endmacro %}

{#- Net Promoter Score in [-100, 100], 2 decimals, suppressed on the scored responses. -#}
{% macro nps(promoters_expression, detractors_expression, scored_expression) -%}
    round({{ suppress(
        '100.0 * (' ~ promoters_expression ~ ' - ' ~ detractors_expression ~ ') / nullif(' ~ scored_expression ~ ', 0)',
        scored_expression) }}, 2)
{%- endmacro %}

{#- md5 of the parts joined with '|' (NULL parts as an empty string): a stable text key. -#}
{% macro surrogate_key(column_expressions) -%}
    md5(concat_ws('|'
    {%- for column_expression in column_expressions -%}
        , coalesce(cast({{ column_expression }} as varchar), '')
    {%- endfor -%}
    ))
{%- endmacro %}

{#-
  Per counting-day snapshot of the staged slots (ISO weekday var('access_count_weekday')): a
  signature of what metrics_access_weekly reads of it (the row count and every row's values), so
  that any row added, refused or changed — a newer version, a re-delivered file, staging rebuilt
  by a changed definition — changes it.
-#}
{% macro slot_snapshot_signatures(slots_relation, except_days_in=none) -%}
    select
        snapshot_date,
        hash(
            count(*),
            bit_xor(hash(slot_id, schedule_id, slot_status, start_at, snapshot_at, department_code))
        ) as source_signature

    from {{ slots_relation }}
    where isodow(snapshot_date) = {{ var('access_count_weekday') }}
    {%- if except_days_in is not none %}
      -- only the days `except_days_in` (a relation with count_date) does not hold yet
      and snapshot_date not in (select count_date from {{ except_days_in }})
    {%- endif %}
    group by snapshot_date
{%- endmacro %}

{#- metrics_access_weekly's pre-hook: drop the rows of counting days whose snapshot changed or went
    (all rows when the table predates source_signature); the model then appends the missing days. -#}
{% macro delete_changed_snapshot_counts(slots_relation) -%}
    {%- if is_incremental() -%}
        {%- if is_incremental_with('source_signature') -%}
    delete from {{ this }} as built
    where not exists (
        select 1
        from ({{ slot_snapshot_signatures(slots_relation) }}) as signatures
        where signatures.snapshot_date = built.count_date
          and signatures.source_signature = built.source_signature
    )
        {%- else -%}
    delete from {{ this }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#-
  Why a fact's wait is NULL (NULL when the wait is known), in the encounter's own columns
  (arrived_at, is_lwbs, encounter_status, has_tracking_evidence):
    no_arrival_time          no arrival at all
    left_without_being_seen  the milestone never came: the patient left (LWBS; not for departures)
    not_departed             the milestone has not come yet: the encounter is still open
    no_tracking              only `period`: no statusHistory and no location with a known role
    <missing_end_reason>     tracked, but the milestone is not recorded
    implausible_interval     both times known, the interval is not a wait (macros/timestamps.sql)
-#}
{% macro wait_reason(wait_expression, end_expression, missing_end_reason, lwbs_explains=true) -%}
    case
        when {{ wait_expression }} is not null then null
        when arrived_at is null then 'no_arrival_time'
        {%- if lwbs_explains %}
        when {{ end_expression }} is null and is_lwbs then 'left_without_being_seen'
        {%- endif %}
        when {{ end_expression }} is null
            and encounter_status in ('planned', 'arrived', 'triaged', 'in-progress', 'onleave') then 'not_departed'
        when {{ end_expression }} is null and not has_tracking_evidence then 'no_tracking'
        when {{ end_expression }} is null then '{{ missing_end_reason }}'
        else 'implausible_interval'
    end
{%- endmacro %}

-- The class a metric cell reports: an encounter whose source class is neither v3 nor in the code map
-- (fct_encounters.encounter_class NULL, counted in stg_ehr__unmapped_codes) is kept in its own
-- 'unmapped' cell, so its visits still reconcile and are never merged into a real class.
{% macro metric_class(class_expression) -%}
coalesce({{ class_expression }}, 'unmapped')
{%- endmacro %}

-- The last hospital-local day any source recorded: the latest visit arrival or appointment change.
-- Appointments starting later have not happened yet in the data (outcome and lead time not final).
{% macro last_recorded_local_date() -%}
greatest(
    (select max(arrived_local_date) from {{ ref('fct_encounters') }} where is_visit),
    (select max({{ to_local_date('coalesce(last_updated_at, booked_at)') }}) from {{ ref('stg_ehr__appointments') }})
)
{%- endmacro %}
