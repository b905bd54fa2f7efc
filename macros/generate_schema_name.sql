{#- Use the folder's schema as-is (staging, intermediate, marts, seeds) instead of dbt's
    "<target schema>_<custom schema>", so analysts and GX find marts.metrics_wait_daily. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
