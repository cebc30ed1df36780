{#- HMAC-SHA256 (RFC 2104) of a text expression with the session's
    `helpscout.personal_data_key`, as lower-case hex, from the built-in sha256()
    (the embedded PostgreSQL has no pgcrypto). The two padded keys are uncorrelated
    subqueries, so PostgreSQL computes them once per statement, not per row. -#}
{% macro hmac_sha256_hex(expression) -%}
    encode(sha256(
        ({{ hmac_padded_key(92) }})
        || sha256(({{ hmac_padded_key(54) }}) || convert_to({{ expression }}, 'UTF8'))
    ), 'hex')
{%- endmacro %}
