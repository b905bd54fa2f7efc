{#-
  The change feed: how an incremental model downstream of another incremental model learns which
  keys changed, without comparing its inputs with history.

  A *producer* (every incremental staging model, int_touchpoints_unioned, dim_patient) appends to
  ops.change_feed the keys it rebuilt (deleted and/or recomputed) in each build; a build in full
  appends one row with a null key ("any key may have changed"). Rows are numbered in order
  (`position`, a sequence).

  A *consumer* (int_touchpoints_unioned, fct_touchpoints, int_encounter_waits_derived, fct_encounters;
  macros/change_feed_consumers.sql says what each reads) records in ops.change_feed_positions, per
  producer it reads, the last position it has taken in. An incremental run recomputes only the keys
  its producers wrote after those positions; it recomputes everything (as a full build would) when
  it has no position for some producer (its first incremental run, or a producer new to it) or a
  producer was built in full since. dbt's DAG orders every producer before its consumers, so a
  consumer's producers have finished writing when it reads.

  A row every consumer of its producer has read (or whose producer no consumer reads) is pruned at
  the end of each dbt invocation (on-run-end: no model runs beside it), and so are the positions of
  a consumer no longer in the project or of a producer it no longer reads.

  Tables: journey.warehouse.schema (and tests/dbt/fixtures/make_raw_fixture.sql).
-#}

{#- Producer: append the keys of `keys_select` (a select of one column) as rebuilt by this model. -#}
{% macro change_feed_record(keys_select) -%}
    insert into ops.change_feed (producer, changed_key)
        select '{{ this.identifier }}', changed_key from ({{ keys_select }}) as changed (changed_key)
        where changed_key is not null
{%- endmacro %}

{#- Producer built in full: any key may have changed. -#}
{% macro change_feed_record_all() -%}
    insert into ops.change_feed (producer, changed_key) values ('{{ this.identifier }}', null)
{%- endmacro %}

{#- The position this consumer has read `producer` up to (-1: never read). -#}
{% macro change_feed_position(producer) -%}
    coalesce({{ change_feed_position_of("'" ~ producer ~ "'") }}, -1)
{%- endmacro %}

{#- The same for a producer given as an SQL expression (null: never read). -#}
{% macro change_feed_position_of(producer_expression) -%}
    (select read.position from ops.change_feed_positions as read
     where read.consumer = '{{ this.identifier }}' and read.producer = {{ producer_expression }})
{%- endmacro %}

{#- The keys `producer` rebuilt since this consumer last read it (a select of `changed_key`). -#}
{% macro change_feed_keys(producer) -%}
    select changed_key from ops.change_feed
    where producer = '{{ producer }}' and changed_key is not null
      and position > {{ change_feed_position(producer) }}
{%- endmacro %}

{#- Whether this consumer must recompute everything: not an incremental run, or some producer is
    new to it or was built in full since it last read it. Asked of the warehouse at execution. -#}
{% macro change_feed_needs_full(producers) -%}
    {%- if not is_incremental() -%}
        {{ return(true) }}
    {%- endif -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set query -%}
        select count(*) from (
            {%- for producer in producers %}
            select '{{ producer }}' as producer, {{ change_feed_position(producer) }} as read_position
            {{- ' union all' if not loop.last }}
            {%- endfor %}
        ) as producers
        where producers.read_position < 0
           or exists (
               select 1 from ops.change_feed
               where change_feed.producer = producers.producer and change_feed.changed_key is null
                 and change_feed.position > producers.read_position
           )
    {%- endset -%}
    {{ return(run_query(query).columns[0].values()[0] > 0) }}
{%- endmacro %}

{#- Consumer pre-hook for a model keyed by `key_column`: the keys `changed_keys` (a select whose
    first column is `changed_key`) names go to `<model>__changed` and leave the model, which then
    appends them recomputed; when it must recompute everything, every row leaves. -#}
{% macro change_feed_delete_changed(producers, key_column, changed_keys) -%}
    {%- if is_incremental() and change_feed_needs_full(producers) -%}
    delete from {{ this }}
    {%- elif is_incremental() -%}
    create or replace temp table {{ changed_keys_relation() }} as {{ changed_keys }};
    delete from {{ this }} where {{ key_column }} in (select changed_key from {{ changed_keys_relation() }})
    {%- endif -%}
{%- endmacro %}

{#- Consumer post-hook: it has now read every producer up to the latest position written. -#}
{% macro change_feed_commit(producers) -%}
    insert or replace into ops.change_feed_positions
        select '{{ this.identifier }}', producers.producer,
               -- (rows every consumer has read are pruned: then the position stays where it was)
               coalesce((select max(position) from ops.change_feed
                         where change_feed.producer = producers.producer),
                        {{ change_feed_position_of('producers.producer') }}, 0),
               now()::timestamp
        from (
            {%- for producer in producers %}
            select '{{ producer }}' as producer{{ ' union all' if not loop.last }}
            {%- endfor %}
        ) as producers
{%- endmacro %}

{#- on-run-end: drop the positions nobody advances any more, then the rows every consumer of their
    producer has read. -#}
{% macro change_feed_prune() -%}
    {%- set feed = adapter.get_relation(database=target.database, schema='ops', identifier='change_feed') if execute else none -%}
    {%- if feed is not none -%}
    {%- set models = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model') | map(attribute='name') | list -%}
    -- a position nobody reads any more holds the feed back forever: a model since removed or
    -- renamed, or a producer its consumer no longer reads (its last commit did not include it)
    delete from ops.change_feed_positions as positions
    where positions.consumer not in ('{{ models | join("', '") }}')
       or positions.recorded_at < (select max(latest.recorded_at) from ops.change_feed_positions as latest
                                   where latest.consumer = positions.consumer);
    delete from ops.change_feed
    where position <= coalesce(
        (select min(positions.position) from ops.change_feed_positions as positions
         where positions.producer = change_feed.producer),
        9223372036854775807
    );
    -- dbt rolls an on-run-end hook's transaction back unless it commits
    commit
    {%- endif -%}
{%- endmacro %}

{#- A producer that is a table rebuilt in full every run (e.g. dim_patient): its pre-hook keeps the
    keys it had, its post-hook records the keys that appeared or went (a set difference over the
    table, which the model rebuilds anyway). -#}
{% macro change_feed_keep_keys(key_column) -%}
    {%- set existing = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) -%}
    create or replace temp table {{ this.identifier }}__before as
    {%- if existing is not none %}
        select distinct {{ key_column }} as changed_key from {{ this }}
    {%- else %}
        select cast(null as varchar) as changed_key where false;
    {{ change_feed_record_all() }}
    {%- endif %}
{%- endmacro %}

{% macro change_feed_record_key_changes(key_column) -%}
    {{ change_feed_record(
        '(select changed_key from ' ~ this.identifier ~ '__before except select ' ~ key_column ~ ' from ' ~ this ~ ')'
        ~ ' union all '
        ~ '(select ' ~ key_column ~ ' from ' ~ this ~ ' except select changed_key from ' ~ this.identifier ~ '__before)'
    ) }}
{%- endmacro %}
