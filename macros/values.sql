{#-
  Reading typed values from text: one definition of "readable" per type, used by both the cast (the
  column) and the flag (the row's `unreadable_values`, which the staging gate quarantines). A value
  that is present but cannot be read is refused with a rule naming its field, never published as
  NULL; an absent (empty) value is NULL. Times: macros/timestamps.sql (parse_time, time_problem).

    integers  `[+-]?digits` only: `7.5`, `7.0`, `1e1`, `NaN`, `inf` are not integers (never rounded);
              one beyond the 32-bit range (`9999999999999999999`) is out of range
    decimals  `digits[.d[d]]` (at most two decimals: a money amount, never rounded), no sign
    dates     `YYYY-MM-DD` in the plausible window (var earliest_plausible_date .. latest_plausible_date)
    codes     a value of the column's code list (or mapped to one by the code map), else NULL with
              `<column>_null_reason = 'code_not_in_list'` (`no_code` when absent): the row is kept,
              the text is never published (it may be a phone number typed into the wrong field)
-#}

{% macro integer_pattern() -%} '[+-]?[0-9]+' {%- endmacro %}

{#- The text as an integer when it is one, else NULL. -#}
{% macro parse_integer(text_expression) -%}
    (case when regexp_full_match(trim({{ text_expression }}), {{ integer_pattern() }})
        then try_cast(trim({{ text_expression }}) as integer) end)
{%- endmacro %}

{#- Why a present integer is not read (`not_an_integer:<field>`, `out_of_range:<field>`), else NULL. -#}
{% macro integer_problem(text_expression, field) -%}
    case
        when nullif(trim({{ text_expression }}), '') is null then null
        when not regexp_full_match(trim({{ text_expression }}), {{ integer_pattern() }})
            then 'not_an_integer:{{ field }}'
        when try_cast(trim({{ text_expression }}) as integer) is null then 'out_of_range:{{ field }}'
    end
{%- endmacro %}

{% macro decimal_pattern() -%} '[0-9]+([.][0-9]{1,2})?' {%- endmacro %}

{#- The text as a decimal(18, 2) when it is one (at most two decimals, no sign), else NULL. -#}
{% macro parse_decimal(text_expression) -%}
    (case when regexp_full_match(trim({{ text_expression }}), {{ decimal_pattern() }})
        then try_cast(trim({{ text_expression }}) as decimal(18, 2)) end)
{%- endmacro %}

{% macro decimal_problem(text_expression, field) -%}
    case
        when nullif(trim({{ text_expression }}), '') is null then null
        when not regexp_full_match(trim({{ text_expression }}), {{ decimal_pattern() }})
            then 'not_a_decimal:{{ field }}'
        when try_cast(trim({{ text_expression }}) as decimal(18, 2)) is null then 'out_of_range:{{ field }}'
    end
{%- endmacro %}

{#- A calendar date `YYYY-MM-DD` in the plausible window, else NULL (date_problem says why). -#}
{% macro parse_date(text_expression) -%}
    (case when regexp_full_match(trim({{ text_expression }}), '[0-9]{4}-[0-9]{2}-[0-9]{2}')
        then try_cast(trim({{ text_expression }}) as date) end)
{%- endmacro %}

{% macro to_date(text_expression) -%}
    (case when {{ parse_date(text_expression) }} between date '{{ var("earliest_plausible_date") }}'
                                                     and date '{{ var("latest_plausible_date") }}'
        then {{ parse_date(text_expression) }} end)
{%- endmacro %}

{% macro date_problem(text_expression, field) -%}
    case
        when nullif(trim({{ text_expression }}), '') is null then null
        when {{ parse_date(text_expression) }} is null then 'unparseable_date:{{ field }}'
        when {{ to_date(text_expression) }} is null then 'implausible_date:{{ field }}'
    end
{%- endmacro %}

{#- The row's unreadable values: the non-NULL problems (rules `<problem>:<field>`), space-separated,
    in field order; NULL when every value reads. The staging gate quarantines such a row under the
    first rule (the detail lists them all). -#}
{% macro unreadable_values(problem_expressions) -%}
    nullif(concat_ws(' '
    {%- for problem_expression in problem_expressions %},
        {{ problem_expression }}
    {%- endfor %}
    ), '')
{%- endmacro %}

{#-
  Coded columns. The code lists journey defines itself (seeds hold the others: departments,
  channels); one definition here for staging and the GX suites' docs.
-#}
{% macro code_lists() -%}
    {%- do return({
        'complaint_category': ['waiting', 'attitude', 'communication', 'billing', 'environment', 'clinical', 'other'],
        'complaint_channel': ['phone', 'wechat', 'web', 'in_person', 'letter'],
        'review_platform': ['dianping', 'google', 'haodf', 'wechat'],
        'follow_up_outcome': ['reached', 'no_answer', 'wrong_number', 'declined', 'not_attempted'],
        'campaign_type': ['screening_day', 'health_lecture', 'livestream', 'community_clinic', 'search_ads',
                          'social_post'],
    }) -%}
{%- endmacro %}

{#- The SQL set a coded column's values must belong to: a code_lists() entry or a seed's `code`. -#}
{% macro _code_set(code_list) -%}
    {%- if code_list in ['departments', 'channels'] -%}
        select code from {{ ref(code_list) }}
    {%- else -%}
        {%- for code in code_lists()[code_list] -%}
        '{{ code }}'{{ ', ' if not loop.last }}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- The code a coded text value stands for: the value itself (trimmed, lower case) when it is in
    `code_list`, else (with `domain`) what the code map in effect maps the value to, else NULL. -#}
{% macro known_code(text_expression, code_list, domain=none) -%}
    coalesce(
        case when lower(trim({{ text_expression }})) in ({{ _code_set(code_list) }})
            then lower(trim({{ text_expression }})) end
        {%- if domain %},
        {{ mapped_code(domain, 'null', 'trim(' ~ text_expression ~ ')') }}
        {%- endif %}
    )
{%- endmacro %}

{#- Why a coded column is NULL: `no_code` (absent), `code_not_in_list` (present, neither in the list
    nor mapped); NULL when the code is known. -#}
{% macro code_null_reason(text_expression, code_list, domain=none) -%}
    case
        when nullif(trim({{ text_expression }}), '') is null then 'no_code'
        when {{ known_code(text_expression, code_list, domain) }} is null then 'code_not_in_list'
    end
{%- endmacro %}
