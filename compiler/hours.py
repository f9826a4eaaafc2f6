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


def is_open(weekly: Mapping[str, Sequence[Sequence[str]]], holidays: Collection[str], timezone: str, moment: datetime.datetime) -> bool:
    """Open at `moment` (aware) in the schedule's own time zone? Holidays close the whole day."""
    local = moment.astimezone(zone(timezone))
    day = local.date().isoformat()
    if day in holidays or day[5:] in holidays:
        return False
    clock = local.strftime("%H:%M")
    return any(start <= clock < end for start, end in weekly.get(DAYS[local.weekday()], ()))
