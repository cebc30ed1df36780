{#- The schedules of the `business_hours` and `mailbox_business_hours` vars,
    checked and normalised, as a list of dicts:
    {schedule_id, mailbox_id (none for the account's), timezone,
     intervals: [{weekday (ISO, 1 = Monday), opens (minutes after local
     midnight), closes}]}.

    A schedule is {timezone: <IANA name>, weekly: {monday: [['09:00', '17:00'], ...],
    ...}}. business_hours.timezone defaults to reporting_timezone and its
    `weekly` to Monday-Friday 09:00-17:00; a weekday left out of `weekly` is
    closed. A mailbox schedule inherits whatever it leaves out from business_hours.

    Everything is checked here, in Jinja, so that a bad schedule stops dbt with
    one message naming the var (raised while the project is parsed, before any
    model is built) instead of a SQL error halfway through a build. -#}
{% macro business_hours_schedules() -%}
    {%- set weekdays = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] -%}
    {%- set default_weekly = {
        'monday': [['09:00', '17:00']], 'tuesday': [['09:00', '17:00']],
        'wednesday': [['09:00', '17:00']], 'thursday': [['09:00', '17:00']],
        'friday': [['09:00', '17:00']], 'saturday': [], 'sunday': [],
    } -%}
    {%- set account = var('business_hours', {}) or {} -%}
    {%- set account_schedule = business_hours_schedule(
        'business_hours', account, var('reporting_timezone', 'UTC'), 'reporting_timezone',
        default_weekly, weekdays
    ) -%}
    {%- set schedules = [{
        'schedule_id': 'account', 'mailbox_id': none,
        'timezone': account_schedule.timezone, 'intervals': account_schedule.intervals,
    }] -%}
    {%- set per_mailbox = var('mailbox_business_hours', {}) or {} -%}
    {%- if per_mailbox is not mapping -%}
        {{ exceptions.raise_compiler_error(
            "Invalid var mailbox_business_hours: expected a mapping of mailbox id to schedule, got "
            ~ (per_mailbox | tojson)) }}
    {%- endif -%}
    {%- for key, schedule in per_mailbox.items() -%}
        {%- set mailbox_id = key | string | trim -%}
        {%- if not modules.re.fullmatch('[0-9]+', mailbox_id) -%}
            {{ exceptions.raise_compiler_error(
                "Invalid var mailbox_business_hours: key " ~ (key | tojson)
                ~ " is not a mailbox id (a whole number)") }}
        {%- endif -%}
        {%- set checked = business_hours_schedule(
            'mailbox_business_hours.' ~ mailbox_id, schedule,
            account_schedule.timezone, 'business_hours', account_schedule.weekly, weekdays
        ) -%}
        {%- do schedules.append({
            'schedule_id': 'mailbox ' ~ mailbox_id, 'mailbox_id': mailbox_id | int,
            'timezone': checked.timezone, 'intervals': checked.intervals,
        }) -%}
    {%- endfor -%}
    {%- set target = var('sla_first_response_business_minutes', 480) | string | trim -%}
    {%- if not modules.re.fullmatch('[0-9]+([.][0-9]+)?', target) -%}
        {{ exceptions.raise_compiler_error(
            "Invalid var sla_first_response_business_minutes: " ~ (target | tojson)
            ~ " is not a number of minutes (0 or more)") }}
    {%- endif -%}
    {{- return(schedules) -}}
{%- endmacro %}
