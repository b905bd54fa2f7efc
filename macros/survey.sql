{#- The post-visit survey's HCAHPS-style items (frequency scale never / sometimes / usually / always),
    in questionnaire order. One list for staging, the fact and the metrics. -#}
{% macro hcahps_items() -%}
    {%- do return(['nurse_communication', 'doctor_communication', 'responsiveness',
                   'cleanliness', 'quietness', 'discharge_information']) -%}
{%- endmacro %}

{#- HCAHPS-style box categories of the frequency scale: top = always, middle = usually,
    bottom = never or sometimes (CMS HCAHPS box scoring). -#}
{% macro hcahps_boxes() -%}
    {%- do return({'top': ['always'], 'middle': ['usually'], 'bottom': ['never', 'sometimes']}) -%}
{%- endmacro %}

{#- Composites: each is the mean of its items' box shares (CMS HCAHPS composite scoring). -#}
{% macro hcahps_composites() -%}
    {%- do return({
        'communication': ['nurse_communication', 'doctor_communication'],
        'environment': ['cleanliness', 'quietness'],
        'care_transition': ['responsiveness', 'discharge_information'],
    }) -%}
{%- endmacro %}
