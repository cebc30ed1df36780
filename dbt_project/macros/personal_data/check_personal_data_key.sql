{#- on-run-start: in `hash` mode, a missing key stops the build with one line,
    before any model runs (and before a hash made with no key could be written). -#}
{% macro check_personal_data_key() -%}
    {%- if execute and personal_data_mode() == 'hash' -%}
        {%- set given = run_query(
            "select coalesce(current_setting('helpscout.personal_data_key', true), '') <> ''"
        ).columns[0].values()[0] -%}
        {%- if not given -%}
            {{ exceptions.raise_compiler_error(
                "var personal_data is 'hash' but HELPSCOUT_PERSONAL_DATA_KEY is not set") }}
        {%- endif -%}
    {%- endif -%}
    select 1
{%- endmacro %}
