{#- The key, hashed when longer than the 64-byte SHA-256 block, zero-padded to it,
    and xor-ed with `pad` byte by byte (54 = 0x36 inner, 92 = 0x5c outer); the xor is
    written (a | b) - (a & b), which sqlfluff's parser reads, unlike PostgreSQL's `#`. -#}
{% macro hmac_padded_key(pad) -%}
    select decode(string_agg(lpad(to_hex(
        (get_byte(block.key, byte_no) | {{ pad }}) - (get_byte(block.key, byte_no) & {{ pad }})
    ), 2, '0'), '' order by byte_no), 'hex')
    from (
        select raw.key || decode(repeat('00', 64 - length(raw.key)), 'hex') as key
        from (
            select case when length(given.key) > 64 then sha256(given.key) else given.key end
                as key
            from (
                select convert_to(current_setting('helpscout.personal_data_key'), 'UTF8')
                    as key
            ) as given
        ) as raw
    ) as block
    cross join generate_series(0, 63) as byte_no
{%- endmacro %}
