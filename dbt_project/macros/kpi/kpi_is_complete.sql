{#- True when a period that ends at instant `period_end_at` ended at or before
    the data watermark (int_helpscout__data_watermark); false when it did not or
    there is no watermark yet. Expects the watermark model joined as `watermark`. -#}
{% macro kpi_is_complete(period_end_at) -%}
    coalesce({{ period_end_at }} <= watermark.data_watermark_at, false)
{%- endmacro %}
