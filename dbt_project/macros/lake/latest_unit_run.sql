{#- The run of the latest completed unit of a listed stream (load_windows), for
    the listings read per parent (team members, mailbox custom fields): the
    loader commits such a listing as one unit with its load_windows row, so
    that run's rows are the whole current set, and a row missing from it (a
    member who left, a field deleted) is gone. Reading the unit rather than the
    newest lake row matters when the current set is empty. -#}
{% macro latest_unit_run(stream) -%}
    (
        select units.run_id
        from {{ source('helpscout_raw', 'load_windows') }} as units
        where units.stream = '{{ stream }}' and units.status = 'completed'
        order by units.finished_at desc, units.window_id desc
        limit 1
    )
{%- endmacro %}
