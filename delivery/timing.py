"""When a row may go: quiet hours and digest times, in the subscriber's own time zone.

All arithmetic is on local wall-clock dates and times, then converted to UTC, so a quiet
window "23:00–07:00" ends at 07:00 local time on the night the clocks change too. A local
time that does not exist (the hour skipped in spring) resolves to the same instant as the
time just after the gap; an ambiguous one (the hour repeated in autumn) to its first pass.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from alerts.vocabulary import Level

# Only these wait for quiet hours and go into digests; warnings and red alerts go at once.
DEFERRABLE = frozenset({Level.INFO, Level.CAUTION})


def quiet_until(start: int, end: int, zone_name: str, moment: datetime) -> datetime | None:
    """The end (UTC) of the quiet window `moment` falls in, or None when it is not quiet.

    start and end are minutes after local midnight; a window may wrap past midnight.
    """
    if start == end:
        return None
    zone = ZoneInfo(zone_name)
    local = moment.astimezone(zone)
    minutes = local.hour * 60 + local.minute
    if start < end:
        inside, end_day = start <= minutes < end, local.date()
    else:
        inside = minutes >= start or minutes < end
        end_day = local.date() if minutes < end else local.date() + timedelta(days=1)
    if not inside:
        return None
    return _at(end_day, end, zone)


def next_digest(hour: int, weekday: int | None, zone_name: str, moment: datetime) -> datetime:
    """The next digest time (UTC) strictly after `moment`: daily at `hour`, or weekly on `weekday`."""
    zone = ZoneInfo(zone_name)
    day = moment.astimezone(zone).date()
    while True:
        candidate = _at(day, hour * 60, zone)
        if candidate > moment and (weekday is None or day.weekday() == weekday):
            return candidate
        day += timedelta(days=1)


def _at(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)
    # Round-trip through UTC to normalise a wall-clock time that falls in a DST gap.
    return local.astimezone(UTC)
