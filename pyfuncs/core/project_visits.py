"""One project's callback visits in one year, in plain Python: what AC_CALLBACKS returns per call.

:func:`pyfuncs.core.callbacks.plan_visits` plans a whole ledger at once with pandas; for a single
project that costs about 10 ms, mostly building DataFrames. A worksheet calls AC_CALLBACKS once
per project, so this module applies the same rules to one project with plain dates and sets
(tens of microseconds): the same kinds and timings (DOMAIN.md §3, every number from
:class:`~pyfuncs.core.settings.Settings`), the same statutory default term per part, the same
merge of a month's visits into one and the same move to a working day. tests/test_udf_callbacks.py
proves on random projects, settings and calendars that both give the same visits; a rule changed
in ``callbacks`` without this module fails that test.

Example::

    >>> rows = project_visits(dt.date(2025, 6, 30), 2026, size="大型", city="北京")
    >>> [(str(d), kinds, parts) for d, kinds, parts in rows][:2]
    [('2026-04-15', '季节性回访', '供冷系统'), ('2026-05-15', '季节性回访', '屋面防水、防渗漏')]
"""
from __future__ import annotations

import datetime as dt
import weakref
from typing import Any, Iterable

import numpy as np

from pyfuncs.core.calendar import WorkCalendar
from pyfuncs.core.callbacks import EXPIRY, KIND_ORDER, RAINY_PARTS, ROUTINE, SEASONAL, SEP, TECHNICAL
from pyfuncs.core.clock import default_calendar
from pyfuncs.core.parts import COOLING, DEFAULT_TERM, HEATING, PART_LABELS, STRUCTURE, Term
from pyfuncs.core.settings import Settings

_KIND_RANK = {k: i for i, k in enumerate(KIND_ORDER)}
_PART_RANK = {p: i for i, p in enumerate(PART_LABELS)}


def edate(day: dt.date, months: int) -> dt.date | None:
    """Excel's ``EDATE`` on one date; None beyond the year 9999 (no visit can fall there).

    >>> edate(dt.date(2024, 2, 29), 60), edate(dt.date(2024, 1, 31), 1), edate(dt.date(9999, 1, 1), 12)
    (datetime.date(2029, 2, 28), datetime.date(2024, 2, 29), None)
    """
    t = day.year * 12 + day.month - 1 + months
    year, month0 = divmod(t, 12)
    if not 1 <= year <= 9999:
        return None
    last = _MONTH_DAYS[month0]
    if month0 == 1 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        last = 29
    return dt.date(year, month0 + 1, day.day if day.day <= last else last)


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def season_end(start: dt.date, count: int, season: tuple[tuple[int, int], tuple[int, int]]) -> dt.date | None:
    """:func:`pyfuncs.core.warranty.season_ends` on one date: the end of the ``count``-th
    complete season that starts after ``start``.

    >>> season_end(dt.date(2024, 6, 30), 2, ((11, 15), (3, 15))), season_end(dt.date(2024, 12, 1), 2, ((11, 15), (3, 15)))
    (datetime.date(2026, 3, 15), datetime.date(2027, 3, 15))
    """
    (sm, sd), (em, ed) = season
    first_year = start.year if _on(start.year, sm, sd) > start else start.year + 1
    end_year = first_year + count - 1 + (1 if (em, ed) < (sm, sd) else 0)
    return _on(end_year, em, ed) if end_year <= 9999 else None


def _on(year: int, month: int, day: int) -> dt.date:
    # like the numpy version: month start + (day - 1) days
    return dt.date(year, month, 1) + dt.timedelta(days=day - 1)


def part_ends(accepted: dt.date, parts: Iterable[str], city: Any = None,
              settings: Settings | None = None) -> dict[str, dt.date | None]:
    """Each part's warranty end from the statutory default term (the structure: the design life
    setting), as :func:`pyfuncs.core.callbacks.project_parts` computes them.

    >>> part_ends(dt.date(2024, 6, 30), ["供热系统", "电气管线"], "北京")
    {'供热系统': datetime.date(2026, 3, 15), '电气管线': datetime.date(2026, 6, 30)}
    """
    s = settings or Settings()
    season = s.season(city)
    out: dict[str, dt.date | None] = {}
    for part in parts:
        term = Term(s.design_life, "year") if part == STRUCTURE else DEFAULT_TERM[part]
        if term.months is not None:
            out[part] = edate(accepted, term.months)
        else:
            edges = (season.heat_start, season.heat_end) if term.unit == "heating" else (season.cool_start, season.cool_end)
            out[part] = season_end(accepted, term.amount, edges)
    return out


# The planned day for every day of a year (the next working day in the same month, else the last
# working day before it), per calendar: one vectorised pass per (calendar, year), then lookups.
_planned_days: "weakref.WeakKeyDictionary[WorkCalendar, dict[int, list[dt.date]]]" = weakref.WeakKeyDictionary()

def planned_day(day: dt.date, calendar: WorkCalendar) -> dt.date:
    """``day`` moved to a working day as the plan moves it (see :mod:`pyfuncs.core.callbacks`).

    >>> planned_day(dt.date(2026, 10, 1), WorkCalendar()), planned_day(dt.date(2026, 1, 31), WorkCalendar())
    (datetime.date(2026, 10, 8), datetime.date(2026, 1, 30))
    """
    by_year = _planned_days.setdefault(calendar, {})
    days = by_year.get(day.year)
    if days is None:
        first = np.datetime64(f"{day.year:04d}-01-01", "D")
        span = np.arange(first, np.datetime64(f"{day.year + 1:04d}-01-01", "D"))
        nxt = calendar.next_workday(span)
        prv = calendar.prev_workday(span)
        same_month = nxt.astype("datetime64[M]") == span.astype("datetime64[M]")
        days = by_year[day.year] = np.where(same_month, nxt, prv).astype(dt.date).tolist()
    return days[day.timetuple().tm_yday - 1]


def project_visits(accepted: dt.date, year: int, parts: Iterable[str] = PART_LABELS, size: Any = None,
                   four_new: Any = None, city: Any = None, settings: Settings | None = None,
                   calendar: WorkCalendar | None = None) -> list[tuple[dt.date, str, str]]:
    """The year's visits of one project: ``(date, kinds, parts)`` rows in date order.

    ``parts``: the parts the project has (default all ten), each with its statutory default term
    from ``accepted``; ``size`` 大型/中型/小型; ``four_new`` 是 for 四新技术; ``city`` for the
    heating season.
    """
    s = settings or Settings()
    cal = calendar or default_calendar()
    wanted = set(parts)
    names = [p for p in PART_LABELS if p in wanted]
    ends = part_ends(accepted, names, city, s)
    events: list[tuple[dt.date, str, tuple[str, ...]]] = []

    def in_warranty(day: dt.date, part: str) -> bool:
        end = ends[part]
        return end is not None and accepted < day <= end

    # 例行回访 and 技术性回访: month offsets from handover whose date falls in the year, while any
    # non-structural part is under warranty; they concern every non-structural part covered that day
    covered = [ends[p] for p in names if p != STRUCTURE and ends[p] is not None]
    if covered:
        cover = max(covered)
        interval = max(s.routine_months(size), 1)
        technical = str(four_new).strip() == "是"
        first = 12 * (year - accepted.year) - (accepted.month - 1)
        for m in range(max(first, 1), min(first + 12, 12 * (year - accepted.year + 1) + 1)):
            day = edate(accepted, m)
            if day is None or day.year != year or day > cover:
                continue
            kinds = []
            if m == s.first_visit_months or m == s.mid_visit_months or m % interval == 0:
                kinds.append(ROUTINE)
            if technical and m % 12 == 0:
                kinds.append(TECHNICAL)
            if kinds:
                also = tuple(p for p in names if p != STRUCTURE and in_warranty(day, p))
                events.extend((day, kind, also) for kind in kinds)

    # 季节性回访: each part concerned, while under warranty on the visit day
    rainy = dt.date(year, *s.rainy_visit)
    cooling = dt.date(year, *s.cooling_visit)
    heating = edate(dt.date(year, *s.season(city).heat_start), -s.heating_visit_months_before)
    for part in names:
        day = rainy if part in RAINY_PARTS else cooling if part == COOLING else heating if part == HEATING else None
        if day is not None and in_warranty(day, part):
            events.append((day, SEASONAL, (part,)))

    # 保修期满前回访: before each part's end, when that falls in the year and after handover
    for part in names:
        end = ends[part]
        before = edate(end, -s.expiry_visit_months_before) if end is not None else None
        if before is not None and before.year == year and before > accepted:
            events.append((before, EXPIRY, (part,)))

    # one visit per month: the earliest reason's date, every kind and part
    months: dict[tuple[int, int], list] = {}
    for day, kind, concerned in events:
        g = months.get((day.year, day.month))
        if g is None:
            months[(day.year, day.month)] = [day, {kind}, set(concerned)]
            continue
        g[0] = min(g[0], day)
        g[1].add(kind)
        g[2].update(concerned)
    rows = [(planned_day(day, cal), SEP.join(sorted(kinds, key=_KIND_RANK.get)),
             SEP.join(sorted(ps, key=_PART_RANK.get))) for _, (day, kinds, ps) in sorted(months.items())]
    rows.sort(key=lambda r: r[0])
    return rows
