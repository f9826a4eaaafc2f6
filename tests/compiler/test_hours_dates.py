"""Hours on given dates replace the weekday's: reduced hours on Dec 24, a full date before the yearly one."""
from __future__ import annotations

import datetime

import pytest

from ivrc.compiler import compile_text
from ivrc.compiler.compiled import Machine
from ivrc.compiler.hours import is_open

FLOW = """\
ivrc: 1
flow: shop
numbers: ["+46812345670"]
timezone: Europe/Stockholm
start: check
hours:
  shop:
    weekly: {mon: ["09:00-17:00"], tue: ["09:00-17:00"], wed: ["09:00-17:00"], thu: ["09:00-17:00"]}
    dates:
      "12-24": ["09:00-12:00"]
      "2026-12-24": ["10:00-11:00"]
      "12-31": closed
      "2026-12-27": ["10:00-14:00"]
    holidays: ["12-25"]
states:
  check:
    branch:
      - if: is_open('shop')
        goto: open
      - else: closed
  open:
    say: "Open."
    hangup: true
  closed:
    say: "Closed."
    hangup: true
"""


@pytest.fixture(scope="module")
def shop() -> Machine:
    result = compile_text(FLOW)
    assert result.machine is not None, [d.message for d in result.diagnostics]
    return Machine.load(result.machine)


@pytest.mark.parametrize("local, expected", [
    ("2025-12-24T11:30", True),    # a Wednesday, reduced hours every year: open until 12
    ("2025-12-24T12:00", False),   # ... and closed from 12, though Wednesdays run to 17
    ("2026-12-24T11:30", False),   # a full date wins over the yearly one: 10-11 in 2026
    ("2026-12-24T10:30", True),
    ("2026-12-31T10:00", False),   # a Thursday, closed by its date
    ("2026-12-27T12:00", True),    # a Sunday, opened by its date
    ("2026-12-25T10:00", False),   # a holiday
    ("2026-12-22T16:00", True),    # an ordinary Tuesday
])
def test_hours_on_a_date_replace_the_weekdays(shop: Machine, local: str, expected: bool) -> None:
    schedule = shop.hours["shop"]
    moment = datetime.datetime.fromisoformat(local).replace(tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    assert is_open(schedule.weekly, schedule.holidays, schedule.timezone, moment, schedule.dates) is expected


def test_the_caller_hears_the_dates_hours(ivrc, tmp_path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(FLOW)
    heard = {now: ivrc("simulate", str(path), "--now", now).out for now in ("2025-12-24T11:30", "2025-12-24T13:00")}
    assert "  🔊 Open." in heard["2025-12-24T11:30"].splitlines()
    assert "  🔊 Closed." in heard["2025-12-24T13:00"].splitlines()
