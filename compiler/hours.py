"""Business hours: is a schedule open at a given moment? Shared by the compiler's checks and the runtime."""
from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping, Sequence
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def valid_timezone(name: str) -> bool:
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def is_open(weekly: Mapping[str, Sequence[Sequence[str]]], holidays: Collection[str], timezone: str, moment: datetime.datetime,
            dates: Mapping[str, Sequence[Sequence[str]]] | None = None) -> bool:
    """Open at `moment` (aware) in the schedule's own time zone? Holidays close the whole day; hours
    given for a date replace the weekday's. A full date wins over the same day every year (MM-DD)."""
    local = moment.astimezone(zone(timezone))
    day = local.date().isoformat()
    dates = dates or {}
    for key in (day, day[5:]):
        if key in dates:
            ranges = dates[key]
            break
        if key in holidays:
            return False
    else:
        ranges = weekly.get(DAYS[local.weekday()], ())
    clock = local.strftime("%H:%M")
    return any(start <= clock < end for start, end in ranges)
