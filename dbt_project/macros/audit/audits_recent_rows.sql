{#- True when `relation` is an incremental model of this project with a
    lake_loaded_at column: its data tests look at the rows the latest runs
    built (see get_where_subquery). -#}
{% macro audits_recent_rows(relation) -%}
    {%- if not execute or relation is string -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model'
            and node.package_name == project_name
            and (node.alias or node.name) == relation.identifier
            and node.schema == relation.schema -%}
            {{- return(node.config.materialized == 'incremental' and 'lake_loaded_at' in node.columns) -}}
        {%- endif -%}
    {%- endfor -%}
    {{- return(false) -}}
{%- endmacro %}
