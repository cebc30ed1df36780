{#- The `personal_data` var (dbt_project.yml defaults it to HELPSCOUT_PERSONAL_DATA,
    else `keep`), checked so that a typo stops the build with one line naming the var. -#}
{% macro personal_data_mode() -%}
    {%- set mode = var('personal_data', 'keep') | lower -%}
    {%- if execute and mode not in ('keep', 'hash', 'drop') -%}
        {{ exceptions.raise_compiler_error(
            "var personal_data must be keep, hash or drop, not '" ~ mode ~ "'") }}
    {%- endif -%}
    {{- return(mode) -}}
{%- endmacro %}
