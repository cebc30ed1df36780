{#- One schedule of a business-hours var, checked: returns {timezone, weekly,
    intervals} (see business_hours_schedules) or stops dbt with a message that
    names the var (`name`, e.g. 'business_hours' or 'mailbox_business_hours.7')
    and what is wrong. Left-out `timezone` / `weekly` take the defaults given
    (default_timezone_from names the var the time zone then comes from). -#}
{% macro business_hours_schedule(name, schedule, default_timezone, default_timezone_from, default_weekly, weekdays) -%}
    {%- set prefix = "Invalid var " ~ name ~ ": " -%}
    {%- if schedule is not mapping -%}
        {{ exceptions.raise_compiler_error(
            prefix ~ "expected a mapping with `timezone` and `weekly`, got " ~ (schedule | tojson)) }}
    {%- endif -%}
    {%- for key in schedule -%}
        {%- if key not in ['timezone', 'weekly'] -%}
            {{ exceptions.raise_compiler_error(
                prefix ~ "unknown key " ~ (key | tojson) ~ " (a schedule has `timezone` and `weekly`)") }}
        {%- endif -%}
    {%- endfor -%}

    {%- set timezone = schedule.get('timezone') or default_timezone -%}
    {%- if timezone is not string or timezone not in modules.pytz.all_timezones_set -%}
        {{ exceptions.raise_compiler_error(
            prefix ~ "unknown time zone " ~ (timezone | tojson)
            ~ ("" if schedule.get('timezone') else " (from " ~ default_timezone_from ~ ")")
            ~ " (use an IANA name such as 'Europe/Madrid' or 'UTC')") }}
    {%- endif -%}

    {%- set weekly = schedule.get('weekly', default_weekly) -%}
    {%- if weekly is none -%}{%- set weekly = {} -%}{%- endif -%}
    {%- if weekly is not mapping -%}
        {{ exceptions.raise_compiler_error(
            prefix ~ "`weekly` must map weekday names to lists of ['HH:MM', 'HH:MM'] intervals, got "
            ~ (weekly | tojson)) }}
    {%- endif -%}

    {%- set intervals = [] -%}
    {%- for day, day_intervals in weekly.items() -%}
        {%- set day_name = day | string | lower | trim -%}
        {%- if day_name not in weekdays -%}
            {{ exceptions.raise_compiler_error(
                prefix ~ "unknown weekday " ~ (day | tojson) ~ " (use " ~ weekdays | join(', ') ~ ")") }}
        {%- endif -%}
        {%- set where = prefix ~ "weekly." ~ day_name ~ ": " -%}
        {%- if day_intervals is none -%}{%- set day_intervals = [] -%}{%- endif -%}
        {%- if day_intervals is string or day_intervals is mapping or day_intervals is not iterable -%}
            {{ exceptions.raise_compiler_error(
                where ~ "expected a list of ['HH:MM', 'HH:MM'] intervals, got " ~ (day_intervals | tojson)) }}
        {%- endif -%}
        {%- set day_minutes = [] -%}
        {%- for interval in day_intervals -%}
            {%- if interval is string or interval is mapping or interval is not iterable
                or interval | length != 2 -%}
                {{ exceptions.raise_compiler_error(
                    where ~ "interval " ~ (interval | tojson) ~ " is not a pair ['HH:MM', 'HH:MM']") }}
            {%- endif -%}
            {%- set bounds = [] -%}
            {%- for value in interval -%}
                {%- if value is not string -%}
                    {{ exceptions.raise_compiler_error(
                        where ~ "interval " ~ (interval | tojson) ~ ": " ~ (value | tojson)
                        ~ " is not a quoted 'HH:MM' time (YAML reads an unquoted 09:00 as a number)") }}
                {%- endif -%}
                {%- set match = modules.re.fullmatch('([0-9]{1,2}):([0-9]{2})', value | trim) -%}
                {%- set minutes = (match.group(1) | int) * 60 + (match.group(2) | int) if match else none -%}
                {%- if minutes is none or (match.group(2) | int) > 59 or minutes > 24 * 60 -%}
                    {{ exceptions.raise_compiler_error(
                        where ~ "interval " ~ (interval | tojson) ~ ": " ~ (value | tojson)
                        ~ " is not a time of day (HH:MM from 00:00 to 24:00)") }}
                {%- endif -%}
                {%- do bounds.append(minutes) -%}
            {%- endfor -%}
            {%- if bounds[1] <= bounds[0] -%}
                {{ exceptions.raise_compiler_error(
                    where ~ "interval " ~ (interval | tojson)
                    ~ " ends before it starts (an interval cannot cross midnight: split it in two days)") }}
            {%- endif -%}
            {%- do day_minutes.append(bounds) -%}
        {%- endfor -%}
        {%- set ordered = day_minutes | sort -%}
        {%- for bounds in ordered -%}
            {%- if not loop.first and bounds[0] < ordered[loop.index0 - 1][1] -%}
                {{ exceptions.raise_compiler_error(where ~ "intervals overlap " ~ (day_intervals | tojson)) }}
            {%- endif -%}
            {%- do intervals.append({
                'weekday': weekdays.index(day_name) + 1, 'opens': bounds[0], 'closes': bounds[1],
            }) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{- return({'timezone': timezone, 'weekly': weekly, 'intervals': intervals}) -}}
{%- endmacro %}
