{#- A filter keeping the entities of the most recent complete listing (tags,
    mailboxes, users are listed whole on every load): rows of a staging model
    whose latest copy came from the run of the newest copy in that model. The
    loader commits a listing in one transaction, so that run listed everything
    the account had then; an entity missing from it was deleted or deactivated. -#}
{% macro in_latest_listing(staging_relation) -%}
    run_id = (
        select newest.run_id
        from {{ staging_relation }} as newest
        order by newest.extracted_at desc, newest.lake_id desc
        limit 1
    )
{%- endmacro %}
