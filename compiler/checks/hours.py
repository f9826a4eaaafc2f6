"""Time: real IANA time zones, sensible opening hours, holidays that exist."""
from __future__ import annotations

import datetime
import difflib
from functools import lru_cache
from typing import Iterator

from .. import ir
from ..diagnostics import Diagnostic, Related
from ..hours import valid_timezone
from ..loader import Document


def check(flow: ir.Flow, doc: Document) -> Iterator[Diagnostic]:
    if not valid_timezone(flow.timezone):
        yield Diagnostic("IVR120", f"'{flow.timezone}' is not a known time zone", doc.span(("timezone",)),
                         help=_zone_help(flow.timezone))
    for schedule in flow.schedules:
        if schedule.timezone != flow.timezone and not valid_timezone(schedule.timezone):
            yield Diagnostic("IVR120", f"'{schedule.timezone}' is not a known time zone",
                             doc.span(schedule.path + ("timezone",)), help=_zone_help(schedule.timezone))
        for day, ranges in schedule.weekly:
            yield from _ranges(ranges, schedule.path + ("weekly", day), day, doc)
        for date, ranges in schedule.dates:
            yield from _ranges(ranges, schedule.path + ("dates", date), date, doc)
            if not _real_date(date):
                yield Diagnostic("IVR122", f"'{date}' is not a real date", doc.span(schedule.path + ("dates", date), key=True),
                                 help="write YYYY-MM-DD, or MM-DD for every year")
        for i, holiday in enumerate(schedule.holidays):
            if not _real_date(holiday):
                yield Diagnostic("IVR122", f"'{holiday}' is not a real date", doc.span(schedule.path + ("holidays", i)),
                                 help="write YYYY-MM-DD, or MM-DD for every year")
            elif holiday in dict(schedule.dates):
                yield Diagnostic("IVR170", f"{holiday} is both a holiday (closed) and a date with its own hours",
                                 doc.span(schedule.path + ("holidays", i)),
                                 related=(Related(doc.span(schedule.path + ("dates", holiday), key=True),
                                                  "its hours are given here"),),
                                 help=f"remove it from `holidays`, or write `{holiday}: closed` under `dates`")


def _ranges(ranges: tuple[tuple[str, str], ...], path: tuple, day: str, doc: Document) -> Iterator[Diagnostic]:
    """One day's opening ranges (a weekday's or a date's): each ends after it starts, none overlap."""
    spans: list[tuple[str, str]] = []
    for i, (start, end) in enumerate(ranges):
        if end <= start:
            yield Diagnostic("IVR121", f"{start}-{end} ends before it starts", doc.span(path + (i,)),
                             help="ranges cannot cross midnight; split them at 24:00 and 00:00")
            continue
        for other_start, other_end in spans:
            if start < other_end and other_start < end:
                yield Diagnostic("IVR121", f"{start}-{end} overlaps {other_start}-{other_end} on {day}",
                                 doc.span(path + (i,)), help="merge the two ranges")
        spans.append((start, end))


def _real_date(text: str) -> bool:
    """YYYY-MM-DD, or MM-DD that exists in some year (2000 is a leap year: 02-29 exists)."""
    try:
        datetime.date.fromisoformat(text if len(text) == 10 else "2000-" + text)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    """Every IANA zone, by its name folded to lower case and by its city alone ("stockholm")."""
    import zoneinfo

    names = {name for name in zoneinfo.available_timezones() if "/" in name and not name.startswith(("Etc/", "SystemV/"))}
    by_key = {name.lower(): name for name in names}
    for name in sorted(names):
        by_key.setdefault(name.rsplit("/", 1)[-1].lower(), name)
    return by_key


def _zone_help(name: str) -> str:
    """Did you mean: for a misspelt zone, a city without its region, or a zone in the wrong case."""
    zones = _zones()
    key = name.strip().lower().replace(" ", "_")
    close = difflib.get_close_matches(key, zones, n=1, cutoff=0.75)  # stricter than names: zones are many
    best = zones.get(key) or (zones[close[0]] if close else None)
    if best:
        return f"did you mean '{best}'?"
    return "use an IANA name like Europe/Stockholm or America/New_York"
