"""China's working-day calendar: weekends, public holidays, make-up working days, staff overrides.

The base calendar comes from the ``holidays`` package (China, ``public`` category: the days off,
and ``weekend_workdays``: the 调休上班日). Staff add or correct days in the 节假日 sheet (类型 休 or
班); those overrides take precedence. Years outside the package's range count weekends only.

Official and estimated years: the package takes a year's days off and make-up working days from
the State Council's notice (国务院办公厅关于某年部分节假日安排的通知) once it is published; for
later years it only applies the holiday rules (lunar dates, weekend substitutes), which is an
estimate: the real notice moves days and adds make-up working days nobody can predict.
:func:`official_years` reads which years the installed package has from a notice (the years
that have 调休上班日: only a notice creates them), so a newer package widens it by itself.

The calendar is a boolean array over every day from 1950 to 2100, so a column of dates is one
lookup and "next working day" is one more.

Example::

    >>> cal = WorkCalendar()
    >>> cal.is_workday_one(dt.date(2026, 10, 5)), cal.is_workday_one(dt.date(2026, 10, 10))
    (False, True)
    >>> cal.next_workday_one(dt.date(2026, 10, 5))
    datetime.date(2026, 10, 8)
    >>> WorkCalendar({dt.date(2026, 10, 8): False}).next_workday_one(dt.date(2026, 10, 5))
    datetime.date(2026, 10, 9)
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any, Iterable, Mapping

import numpy as np

from pyfuncs.core.dates import DateError, NAT, to_date

FIRST = np.datetime64("1950-01-01", "D")
LAST = np.datetime64("2100-12-31", "D")
_FIRST_ORDINAL = dt.date(1950, 1, 1).toordinal()
REST, WORK = "休", "班"


@lru_cache(maxsize=1)
def _base_table() -> tuple[np.ndarray, tuple[dt.date, ...]]:
    """Working-day flags for 1950..2100 from the holidays package (computed once, ~0.2 s)."""
    import holidays

    days = np.arange(FIRST, LAST + 1)
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday (3)
    work = weekday < 5
    cn = holidays.China(years=range(1950, 2101), categories="public")
    off = np.array(sorted(cn.keys()), dtype="datetime64[D]")
    off = off[(off >= FIRST) & (off <= LAST)]
    work[(off - FIRST).astype(np.int64)] = False
    on = np.array(sorted(cn.weekend_workdays), dtype="datetime64[D]")
    on = on[(on >= FIRST) & (on <= LAST)]
    work[(on - FIRST).astype(np.int64)] = True
    work.flags.writeable = False
    return work, tuple(sorted(cn.weekend_workdays))


def official_years() -> tuple[int, ...]:
    """The years whose calendar the installed holidays package takes from the State Council's
    notice: the years in which it lists make-up working days (every notice since 2001 has some,
    and the package has no other source for them).

    >>> years = official_years()
    >>> years[0], 2026 in years
    (2001, True)
    """
    return tuple(sorted({d.year for d in _base_table()[1]}))


def estimated_years(years: Iterable[int], staff_years: Iterable[int] = ()) -> list[int]:
    """Of ``years``, those after the package's last official year for which staff have entered
    nothing in the 节假日 sheet (``staff_years``: years with at least one 休/班 row there): their
    working days are an estimate.

    >>> last = official_years()[-1]
    >>> estimated_years([last, last + 1, last + 2], staff_years=[last + 2]) == [last + 1]
    True
    """
    official = official_years()
    last = official[-1] if official else 0
    staff = set(staff_years)
    return sorted({int(y) for y in years if int(y) > last and int(y) not in staff})


def _weekday_work(days: np.ndarray) -> np.ndarray:
    return ((days.astype(np.int64) + 3) % 7) < 5


class WorkCalendar:
    """Working days: the official calendar with ``overrides`` (date → True 班 / False 休) on top."""

    def __init__(self, overrides: Mapping[dt.date, bool] | None = None):
        base, _ = _base_table()
        self.overrides = dict(overrides or {})
        work = base.copy()
        for day, is_work in self.overrides.items():
            d = np.datetime64(day, "D")
            if FIRST <= d <= LAST:
                work[int((d - FIRST).astype(np.int64))] = bool(is_work)
        self._work = work
        # index of the next working day at or after each day (len(work) when none follows)
        idx = np.where(work, np.arange(len(work)), len(work))
        self._next = np.minimum.accumulate(idx[::-1])[::-1]
        idx = np.where(work, np.arange(len(work)), -1)
        self._prev = np.maximum.accumulate(idx)

    def is_workday(self, dates: Any) -> np.ndarray:
        """Vectorised: True where the day is a working day (False for NaT)."""
        d = np.asarray(dates, dtype="datetime64[D]")
        out = _weekday_work(d)
        inside = (d >= FIRST) & (d <= LAST)
        pos = np.where(inside, (d - FIRST).astype(np.int64), 0)
        out = np.where(inside, self._work[pos], out)
        out = self._outside_overrides(d, inside, out)
        return out & ~np.isnat(d)

    def _outside_overrides(self, d: np.ndarray, inside: np.ndarray, out: np.ndarray) -> np.ndarray:
        if (~inside).any() and self.overrides:
            for day, is_work in self.overrides.items():
                out = np.where(d == np.datetime64(day, "D"), is_work, out)
        return out

    def next_workday(self, dates: Any) -> np.ndarray:
        """Vectorised: the day itself if it is a working day, else the first working day after it."""
        d = np.asarray(dates, dtype="datetime64[D]")
        inside = (d >= FIRST) & (d <= LAST)
        pos = np.where(inside, (d - FIRST).astype(np.int64), 0)
        nxt = self._next[pos]
        out = np.where(nxt < len(self._work), FIRST + np.minimum(nxt, len(self._work) - 1), d)
        out = np.where(inside, out, self._step_outside(d, 1))
        return np.where(np.isnat(d), NAT, out)

    def prev_workday(self, dates: Any) -> np.ndarray:
        """Vectorised: the day itself if it is a working day, else the last working day before it."""
        d = np.asarray(dates, dtype="datetime64[D]")
        inside = (d >= FIRST) & (d <= LAST)
        pos = np.where(inside, (d - FIRST).astype(np.int64), 0)
        prv = self._prev[pos]
        out = np.where(prv >= 0, FIRST + np.maximum(prv, 0), d)
        out = np.where(inside, out, self._step_outside(d, -1))
        return np.where(np.isnat(d), NAT, out)

    def _step_outside(self, d: np.ndarray, step: int) -> np.ndarray:
        # Outside 1950..2100 only weekends and staff overrides apply: at most a few steps.
        out = d.copy()
        for _ in range(14):
            work = self.is_workday(out) | np.isnat(out)
            inside = (out >= FIRST) & (out <= LAST)
            if (work | inside).all():
                break
            out = np.where(work | inside, out, out + np.timedelta64(step, "D"))
        return out

    # one day at a time, in plain Python (a lookup, no numpy call, for 1950..2100): what a plan
    # for one project needs, a few hundred times per worksheet function call
    def is_workday_one(self, day: dt.date) -> bool:
        i = day.toordinal() - _FIRST_ORDINAL
        if 0 <= i < len(self._work):
            return bool(self._work.item(i))
        return bool(self.is_workday(np.array([day], dtype="datetime64[D]"))[0])

    def next_workday_one(self, day: dt.date) -> dt.date:
        """The day itself if it is a working day, else the first working day after it."""
        i = day.toordinal() - _FIRST_ORDINAL
        if 0 <= i < len(self._work):
            j = self._next.item(i)
            if j < len(self._work):
                return dt.date.fromordinal(_FIRST_ORDINAL + j)
        return self.next_workday(np.array([day], dtype="datetime64[D]"))[0].astype(dt.date)

    def prev_workday_one(self, day: dt.date) -> dt.date:
        """The day itself if it is a working day, else the last working day before it.

        >>> WorkCalendar().prev_workday_one(dt.date(2025, 10, 1))
        datetime.date(2025, 9, 30)
        """
        i = day.toordinal() - _FIRST_ORDINAL
        if 0 <= i < len(self._work):
            j = self._prev.item(i)
            if j >= 0:
                return dt.date.fromordinal(_FIRST_ORDINAL + j)
        return self.prev_workday(np.array([day], dtype="datetime64[D]"))[0].astype(dt.date)

    @property
    def make_up_workdays(self) -> tuple[dt.date, ...]:
        """The official 调休上班日 the package knows (weekend days that are working days)."""
        return _base_table()[1]


def overrides_from_rows(rows: Iterable[tuple[Any, Any, Any]]) -> tuple[dict[dt.date, bool], list[tuple[int, str, str]]]:
    """Rows of the 节假日 sheet (日期, 类型 休/班, 说明) → (overrides, [(row position, column, problem)]).

    >>> overrides_from_rows([("2027-02-06", "班", "春节调休"), ("2027-13-01", "休", ""), ("2027-01-01", "放假", "")])
    ({datetime.date(2027, 2, 6): True}, [(1, '日期', '日期无效: 2027-13-01'), (2, '类型', '类型应为“休”或“班”，实为「放假」')])
    """
    out: dict[dt.date, bool] = {}
    problems: list[tuple[int, str, str]] = []
    for i, (date, kind, _note) in enumerate(rows):
        try:
            d = to_date(date)
        except DateError as e:
            problems.append((i, "日期", str(e)))
            continue
        if d is None:
            if kind not in (None, "") and str(kind).strip():
                problems.append((i, "日期", "缺少日期"))
            continue
        k = "" if kind is None else str(kind).strip()
        if k not in (REST, WORK):
            problems.append((i, "类型", f"类型应为“休”或“班”，实为「{k}」"))
            continue
        out[d] = k == WORK
    return out, problems
