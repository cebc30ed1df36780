{#- The `personal_data` var (default from HELPSCOUT_PERSONAL_DATA, else `keep`),
    checked once so a typo stops the build with one line naming the var. -#}
{% macro personal_data_mode() -%}
    {%- set mode = var('personal_data', env_var('HELPSCOUT_PERSONAL_DATA', 'keep')) | lower -%}
    {%- if mode not in ('keep', 'hash', 'drop') -%}
        {{ exceptions.raise_compiler_error(
            "var personal_data must be keep, hash or drop, not '" ~ mode ~ "'") }}
    {%- endif -%}
    {{- return(mode) -}}
{%- endmacro %}
