{#- Incremental strategy `replace_by_key`, for child tables (a conversation's
    tags or threads) where a new version of the parent can have FEWER children
    than the old one: a plain merge, or a delete+insert keyed on rows that exist
    now, would leave the removed children behind.

    Every row of the target whose `unique_key` value occurs in the batch is
    deleted, then the batch is inserted minus the rows whose `present_column`
    is null: those only carry a key to clear (a conversation that has no tags
    left, a thread that no conversation holds any more). Models build such rows
    with `keys left join rows using (key)`. Both statements run in the model's
    transaction; each is a semi-join on the target's key index, so the cost
    follows the batch, not the table. With `present_column` set to the key
    itself, this is a plain delete+insert (the models with one row per key use
    it so, for one strategy throughout). -#}
{% macro get_incremental_replace_by_key_sql(arg_dict) %}
{%- set target = arg_dict["target_relation"] -%}
{%- set batch = arg_dict["temp_relation"] -%}
{%- set unique_key = arg_dict["unique_key"] -%}
{%- set key = unique_key if unique_key is string else unique_key | join(", ") -%}
{%- set present_column = config.require("present_column") -%}
{%- set columns = get_quoted_csv(arg_dict["dest_columns"] | map(attribute="name")) %}

    delete from {{ target }}
    where ({{ key }}) in (select {{ key }} from {{ batch }});

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ batch }}
    where {{ present_column }} is not null;
{% endmacro %}
