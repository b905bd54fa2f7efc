{#- Small-cell rule: a rate or percentile over fewer than var('min_cell_size') units is NULL. -#}
{% macro suppress(value_expression, unit_count_expression) -%}
    case when {{ unit_count_expression }} >= {{ var('min_cell_size') }} then {{ value_expression }} end
{%- endmacro %}

{% macro is_suppressed(unit_count_expression) -%}
    (coalesce({{ unit_count_expression }}, 0) < {{ var('min_cell_size') }})
{%- endmacro %}

{#- numerator ÷ denominator as a rate in [0, 1], suppressed for small denominators. -#}
{% macro safe_rate(numerator_expression, denominator_expression) -%}
    {{ suppress('cast(' ~ numerator_expression ~ ' as double) / nullif(' ~ denominator_expression ~ ', 0)', denominator_expression) }}
{%- endmacro %}

{#- md5 of the parts joined with '|' (NULL parts as an empty string): a stable text key. -#}
{% macro surrogate_key(column_expressions) -%}
    md5(concat_ws('|'
    {%- for column_expression in column_expressions -%}
        , coalesce(cast({{ column_expression }} as varchar), '')
    {%- endfor -%}
    ))
{%- endmacro %}
