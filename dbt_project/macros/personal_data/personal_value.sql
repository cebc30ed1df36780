{#- A personal value (a customer's name or address) as the `personal_data` var asks:
    `keep` it, `hash` it (keyed HMAC-SHA256, hex; equal inputs give equal hashes, so
    distinct counts and joins still work) or `drop` it (null). Addresses are
    lower-cased before hashing so that one person hashes alike however they typed it.
    The key never appears in SQL (dbt writes compiled SQL to disk): it reaches the
    session as the setting `helpscout.personal_data_key`, which `hs-ops dbt` sets
    from HELPSCOUT_PERSONAL_DATA_KEY. -#}
{% macro personal_value(expression, is_email=false) -%}
    {%- set mode = personal_data_mode() -%}
    {%- set value = 'lower(' ~ expression ~ ')' if is_email else expression -%}
    {%- if mode == 'keep' -%}
        {{ expression }}
    {%- elif mode == 'drop' -%}
        null::text
    {%- else -%}
        {{ hmac_sha256_hex(value) }}
    {%- endif -%}
{%- endmacro %}
