"""Callback visits (回访) for a year: every kind in DOMAIN.md §3, merged per project and month.

The rules live here once, in :func:`project_plan` (one project, plain Python: the worksheet
function AC_CALLBACKS calls it once per project, well under a millisecond), and
:func:`plan_visits` runs that same function over every project of a ledger (the plan job, the
forms and visits jobs). What every project of one year shares (the settings' days, the city
rows, the working days) is worked out once per settings, calendar and year.

Kinds, their default timing (all in :class:`~pyfuncs.core.settings.Settings`) and the day each
reason gives (its *limit*: the visit is due by then):

- 例行回访: the first within ``first_visit_months`` (1) of handover, limit = that day (EDATE); the
  mid visit at ``mid_visit_months`` (6); then every 12 / 6 / 3 months for 大型 / 中型 / 小型
  (anything else in 项目规模: 中型, with a note), while any non-structural part is under warranty.
  It concerns the non-structural parts under warranty on the visit's day.
- 季节性回访: roofs and waterproofing before the rainy season (05-15); heating one month before
  the city's heating season starts (none for a city without district heating; a city not in the
  season table uses its 默认 row, with a note); cooling on 04-15. Only while that part is covered
  (its start < the day ≤ its end).
- 技术性回访: projects with 四新技术 (the cell's text; blank, 否, 无 = none), yearly on the handover
  anniversary while under warranty.
- 保修期满前回访: one month before each part's warranty ends (and after its start).

Every reason must be met by its day, never after it: the planned day is the last working day on
or before the limit (if that would fall on or before the handover or the part's start, the first
working day after it). A visit belongs to the year it is planned in: the reasons whose limits lie
from 1 December of the year before to 31 January of the year after are planned, and those whose
planned day falls in the year are kept (a heating season starting 1 January, visited a month
before, is in the plan of the December it is visited in, and in no other). Visits of one project
in one month become one visit listing every kind, part and reason, on the earliest of their
planned days, which is then on or before every limit.

Example::

    >>> import pandas as pd
    >>> projects = pd.DataFrame({"project_id": ["P1"], "accepted": [pd.Timestamp("2025-06-30")],
    ...                          "size": ["大型"], "four_new": ["否"], "city": ["北京"]})
    >>> parts = project_parts(projects)
    >>> plan = plan_visits(projects, parts, 2026)
    >>> plan[["date", "kinds"]].astype(str).values.tolist()[:3]
    [['2026-04-15', '季节性回访'], ['2026-05-15', '季节性回访'], ['2026-06-30', '例行回访']]
    >>> first = plan_visits(projects.assign(accepted=pd.Timestamp("2025-09-01")),
    ...                     project_parts(projects.assign(accepted=pd.Timestamp("2025-09-01"))), 2025)
    >>> str(first["date"].iloc[0].date()), first["reasons"].iloc[0]
    ('2025-09-30', '首次例行回访（交付后1个月内，最迟2025-10-01）')

One project, as AC_CALLBACKS plans it (the parts with their statutory terms)::

    >>> accepted = dt.date(2025, 6, 30)
    >>> visits = project_plan(accepted, 2026, default_part_rows(accepted, ["屋面防水"], "北京"), "大型")
    >>> [(str(v.date), v.kinds, v.parts, v.reasons) for v in visits]
    [('2026-05-15', '季节性回访', '屋面防水', '雨季前防水检查'), ('2026-06-30', '例行回访', '屋面防水', '例行回访（交付满12个月）')]
"""
from __future__ import annotations

import datetime as dt
import operator
import unicodedata
from typing import Any, Iterable, NamedTuple, Sequence

import numpy as np
import pandas as pd

from pyfuncs.core.calendar import WorkCalendar
from pyfuncs.core.dates import as_datetime64, edate, is_blank
from pyfuncs.core.parts import COOLING, HEATING, LEAK, PART_LABELS, ROOF, STRUCTURE
from pyfuncs.core.settings import Settings
from pyfuncs.core.warranty import default_ends, warranty_ends

ROUTINE, SEASONAL, TECHNICAL, EXPIRY = "例行回访", "季节性回访", "技术性回访", "保修期满前回访"
KIND_ORDER = (ROUTINE, SEASONAL, TECHNICAL, EXPIRY)
RAINY_PARTS = (ROOF, LEAK)
SIZES = ("大型", "中型", "小型")
SEP = "、"
#: what a 四新技术 cell says when no new technique was used
NO_FOUR_NEW = ("", "否", "无", "没有", "未采用", "不采用", "无四新技术", "-", "—", "－", "/")

PLAN_COLUMNS = ["date", "project_id", "kinds", "parts", "reasons", "notes"]

_KIND_RANK = {k: i for i, k in enumerate(KIND_ORDER)}
_ROUTINE, _SEASONAL, _TECHNICAL, _EXPIRY = (_KIND_RANK[k] for k in (ROUTINE, SEASONAL, TECHNICAL, EXPIRY))
_ORDER = operator.itemgetter(0, 1, 2)  # an event's planned day, kind rank, part rank
_PART_RANK = {p: i for i, p in enumerate(PART_LABELS)}
_DEFAULT_SETTINGS = Settings()


class PartRow(NamedTuple):
    """One warranty row of a project: the part, its start and end (None = unknown: no visit
    depends on it) and its note (what a missing or unreadable input was replaced by, '' if
    nothing), shown with that part's seasonal and before-expiry visits."""

    part: str
    start: dt.date | None
    end: dt.date | None
    note: str = ""


class Visit(NamedTuple):
    """One planned visit: the day, the kinds and parts (joined by 、), the reasons and the notes
    (joined by ；, '' when no bad or missing cell changed anything)."""

    date: dt.date
    kinds: str
    parts: str
    reasons: str
    notes: str


def four_new_text(value) -> str:
    """The new technique a 四新技术 cell names: '' for none (blank, 否, 无 …); 是 (or 有, 采用)
    without saying which → '四新技术'; else the text as written.

    >>> four_new_text("装配式混凝土结构"), four_new_text(" 否 "), four_new_text(None), four_new_text("是")
    ('装配式混凝土结构', '', '', '四新技术')
    """
    if is_blank(value):
        return ""
    text = unicodedata.normalize("NFKC", str(value)).strip().rstrip("。.")
    if text in NO_FOUR_NEW or text.upper() in ("N", "NO", "NONE", "FALSE"):
        return ""
    if text in ("是", "有", "采用", "已采用", "Y", "YES", "TRUE"):
        return "四新技术"
    return str(value).strip()


def size_note(size, settings: Settings) -> str:
    """'' for 大型/中型/小型, else the note on the routine visits that fell back to 中型.

    >>> size_note("特大型", Settings()), size_note(None, Settings())
    ('项目规模「特大型」不是大型/中型/小型，例行回访按中型每6个月安排', '未填项目规模，例行回访按中型每6个月安排')
    """
    text = "" if is_blank(size) else str(size).strip()
    if text in SIZES:
        return ""
    what = f"项目规模「{text}」不是{'/'.join(SIZES)}" if text else "未填项目规模"
    return f"{what}，例行回访按中型每{settings.routine_months_medium}个月安排"


def visit_text(reasons: Any, notes: Any = None) -> str:
    """One visit's 回访事由及说明, as the plan sheet and AC_CALLBACKS show it: why the visit is
    due, then what a missing or bad cell changed.

    >>> visit_text("例行回访（交付满12个月）", "项目规模「特大型」不是大型/中型/小型，例行回访按中型每6个月安排")
    '例行回访（交付满12个月）。注：项目规模「特大型」不是大型/中型/小型，例行回访按中型每6个月安排'
    """
    text = "" if is_blank(reasons) else str(reasons).strip()
    note = "" if is_blank(notes) else str(notes).strip()
    return f"{text}。注：{note}" if note else text


def planned_day(limit: dt.date, floor: dt.date | None, calendar: WorkCalendar) -> dt.date:
    """The day to plan a visit due by ``limit``: the last working day on or before it; where that
    is on or before ``floor`` (the handover, the part's start), the first working day after the floor.

    >>> planned_day(dt.date(2025, 10, 1), dt.date(2025, 9, 1), WorkCalendar())
    datetime.date(2025, 9, 30)
    >>> planned_day(dt.date(2026, 5, 16), dt.date(2026, 5, 15), WorkCalendar())
    datetime.date(2026, 5, 18)
    """
    day = calendar.prev_workday_one(limit)
    if floor is not None and day <= floor:
        day = calendar.next_workday_one(floor + dt.timedelta(days=1))
    return day


def _on(year: int, month_day: tuple[int, int]) -> dt.date:
    # like the season arithmetic: the month's first day + (day - 1) days
    return dt.date(year, month_day[0], 1) + dt.timedelta(days=month_day[1] - 1)


class _City(NamedTuple):
    heating: tuple[tuple[dt.date, str], ...]  # (limit, reason) of the pre-heating visits in the window
    cooling: bool  # the city has a cooling season
    heat_note: str  # the note on heating visits of a part row without a note of its own


class _Year:
    """What every project's plan for one year shares: the settings, the working days, the window
    of limits, the rainy and cooling days, and (memoised) the rows per city, size and 四新技术 cell."""

    def __init__(self, year: int, settings: Settings, calendar: WorkCalendar):
        self.year, self.s, self.cal = year, settings, calendar
        self.lo, self.hi = dt.date(year - 1, 12, 1), dt.date(year + 1, 1, 31)
        self.years = (year - 1, year, year + 1)
        self.rainy = self._inside((_on(y, settings.rainy_visit), "雨季前防水检查") for y in self.years)
        self.cooling = self._inside((_on(y, settings.cooling_visit), "供冷期前空调通风检查") for y in self.years)
        self._cities: dict[Any, _City] = {}
        self._sizes: dict[Any, tuple[int, str]] = {}
        self._techs: dict[Any, str] = {}

    def _inside(self, days: Iterable[tuple[dt.date | None, str]]) -> tuple[tuple[dt.date, str], ...]:
        return tuple((d, why) for d, why in days if d is not None and self.lo <= d <= self.hi)

    def city(self, city: Any) -> _City:
        key = None if is_blank(city) else str(city)
        got = self._cities.get(key)
        if got is None:
            s = self.s
            season = s.season(key)
            heating: tuple[tuple[dt.date, str], ...] = ()
            if season.has_heating:
                why = f"采暖期（{season.heat_start[0]:02d}-{season.heat_start[1]:02d}起）前供热系统检查"
                heating = self._inside((edate(_on(y, season.heat_start), -s.heating_visit_months_before), why)
                                       for y in self.years)
            note = s.city_note(key)
            got = self._cities[key] = _City(heating, season.has_cooling, f"{HEATING}：{note}" if note else "")
        return got

    def size(self, size: Any) -> tuple[int, str]:
        key = size if isinstance(size, str) or size is None else repr(size)
        got = self._sizes.get(key)
        if got is None:
            got = self._sizes[key] = (max(self.s.routine_months(size), 1), size_note(size, self.s))
        return got

    def tech(self, four_new: Any) -> str:
        key = four_new if isinstance(four_new, str) or four_new is None else repr(four_new)
        got = self._techs.get(key)
        if got is None:
            got = self._techs[key] = four_new_text(four_new)
        return got


#: (ids of settings and calendar, year) → _Year; the settings and calendar are held by the
#: entry, so their ids cannot be reused while it lives
_YEARS: dict[tuple[int, int, int], _Year] = {}


def _year_rules(year: int, settings: Settings | None, calendar: WorkCalendar | None) -> _Year:
    if settings is None:
        settings = _DEFAULT_SETTINGS
    if calendar is None:
        from pyfuncs.core.clock import default_calendar

        calendar = default_calendar()
    key = (id(settings), id(calendar), year)
    got = _YEARS.get(key)
    if got is None or got.s is not settings or got.cal is not calendar:
        if len(_YEARS) >= 8:  # a calendar holds 1.3 MB: keep the few a session uses
            _YEARS.clear()
        got = _YEARS[key] = _Year(year, settings, calendar)
    return got


def _plan(y: _Year, accepted: dt.date | None, rows: Sequence[PartRow], size: Any, tech: str,
          city: Any) -> list[Visit]:
    """The rules, for one project: every reason whose limit is in the window, planned; those
    planned in the year, merged per month."""
    s, cal, year = y.s, y.cal, y.year
    # (planned day, kind rank (KIND_ORDER), part rank, kind, parts, reason, note)
    events: list[tuple[dt.date, int, int, str, tuple[str, ...], str, str]] = []

    # 例行回访 and 技术性回访: month offsets from handover whose limit is in the window, while any
    # non-structural part is under warranty (limit ≤ the last such end)
    wide = [r for r in rows if r[0] != STRUCTURE and r[1] is not None and r[2] is not None]
    cover = max((r[2] for r in rows if r[0] != STRUCTURE and r[2] is not None), default=None)
    if accepted is not None and cover is not None:
        interval, note = y.size(size)
        first, mid = s.first_visit_months, s.mid_visit_months
        months_from = 12 * (y.lo.year - accepted.year) + y.lo.month - accepted.month
        months_to = 12 * (y.hi.year - accepted.year) + y.hi.month - accepted.month  # the window is whole months
        for m in range(max(months_from, 1), months_to + 1):
            routine = m == first or m == mid or m % interval == 0
            technical = tech and m % 12 == 0
            if not (routine or technical):
                continue
            limit = edate(accepted, m)
            if limit is None or limit > cover:
                break
            day = planned_day(limit, accepted, cal)
            if day.year != year:
                continue
            # the non-structural parts under warranty on the visit's day
            concerned = tuple(r[0] for r in wide if r[1] < day <= r[2])
            if routine:
                why, why_note = ((f"首次例行回访（交付后{m}个月内，最迟{limit}）", "") if m == first else
                                 (f"中期例行回访（交付满{m}个月）", "") if m == mid else
                                 (f"例行回访（交付满{m}个月）", note))
                events.append((day, _ROUTINE, -1, ROUTINE, concerned, why, why_note))
            if technical:
                named = f"四新技术（{tech}）" if tech != "四新技术" else "四新技术"
                events.append((day, _TECHNICAL, -1, TECHNICAL, concerned, f"{named}应用情况回访（交付满{m // 12}年）", ""))

    town = y.city(city)
    lo, hi, before = y.lo, y.hi, -s.expiry_visit_months_before
    for part, start, end, own in rows:
        if start is None or end is None:
            continue
        own = f"{part}：{own}" if own else ""
        rank = _PART_RANK.get(part, len(PART_LABELS))
        # 季节性回访, while the part is covered on the day
        if part in RAINY_PARTS:
            days, note = y.rainy, own
        elif part == COOLING and town.cooling:
            days, note = y.cooling, own
        elif part == HEATING:
            days, note = town.heating, own or town.heat_note
        else:
            days = ()
        for limit, why in days:
            if start < limit <= end:
                day = planned_day(limit, start, cal)
                if day.year == year:
                    events.append((day, _SEASONAL, rank, SEASONAL, (part,), why, note))
        # 保修期满前回访
        limit = edate(end, before)
        if limit is not None and lo <= limit <= hi and limit > start:
            day = planned_day(limit, start, cal)
            if day.year == year:
                events.append((day, _EXPIRY, rank, EXPIRY, (part,), f"{part}保修期{end}届满，期满前回访", own))

    # one visit per month, on its earliest planned day, listing every kind, part, reason, note
    # (reasons by day, then kind, then part)
    events.sort(key=_ORDER)
    months: dict[tuple[int, int], list] = {}
    for day, _, _, kind, concerned, why, note in events:
        g = months.get((day.year, day.month))
        if g is None:
            g = months[(day.year, day.month)] = [day, set(), set(), {}, {}]
        g[1].add(kind)
        g[2].update(concerned)
        g[3][why] = None
        if note:
            g[4][note] = None
    return [Visit(day, SEP.join(sorted(kinds, key=_KIND_RANK.__getitem__)),
                  SEP.join(sorted(ps, key=lambda p: _PART_RANK.get(p, len(PART_LABELS)))),
                  "；".join(reasons), "；".join(notes))
            for day, kinds, ps, reasons, notes in months.values()]


def project_plan(accepted: dt.date | None, year: int, parts: Sequence[PartRow], size: Any = None,
                 four_new: Any = None, city: Any = None, settings: Settings | None = None,
                 calendar: WorkCalendar | None = None) -> list[Visit]:
    """One project's visits in ``year``, in date order.

    ``parts``: its warranty rows (:class:`PartRow`; see :func:`default_part_rows` for the
    statutory terms); ``size`` 大型/中型/小型 (anything else: 中型, with a note); ``four_new``
    the 四新技术 cell (see :func:`four_new_text`); ``city`` for the heating season.
    """
    y = _year_rules(year, settings, calendar)
    return _plan(y, accepted, parts, size, y.tech(four_new), city)


def default_part_rows(accepted: dt.date, parts: Iterable[str] = PART_LABELS, city: Any = None,
                      settings: Settings | None = None) -> list[PartRow]:
    """The warranty rows of ``parts`` with their default terms from ``accepted`` (what the plan
    job gives a project without 保修条款 rows), for :func:`project_plan`.

    >>> default_part_rows(dt.date(2024, 6, 30), ["供热系统"], "北京")
    [PartRow(part='供热系统', start=datetime.date(2024, 6, 30), end=datetime.date(2026, 3, 15), note='')]
    """
    parts = list(parts)
    return [PartRow(p, accepted, end, note)
            for p, (end, note) in zip(parts, default_ends(accepted, parts, city, settings))]


def project_parts(projects: pd.DataFrame, settings: Settings | None = None) -> pd.DataFrame:
    """Default warranty rows (all ten parts, statutory terms from 竣工验收日期) for projects, with
    each row's data note (``note``), as :func:`pyfuncs.core.warranty.warranty_ends` gives them."""
    s = settings or Settings()
    n = len(projects)
    pid = np.repeat(projects["project_id"].to_numpy(dtype=object), len(PART_LABELS))
    start = np.repeat(as_datetime64(projects["accepted"]), len(PART_LABELS))
    part = np.tile(np.array(PART_LABELS, dtype=object), n)
    city = np.repeat(projects["city"].to_numpy(dtype=object), len(PART_LABELS)) if "city" in projects else None
    life = (np.repeat(projects["design_life"].to_numpy(dtype=object), len(PART_LABELS))
            if "design_life" in projects else None)
    r = warranty_ends(start, part, cities=city, design_lives=life, settings=s, fallback=True)
    return pd.DataFrame({"project_id": pid, "part": part, "start": start, "end": r.ends, "note": r.data_notes})


def _column(frame: pd.DataFrame, name: str) -> list:
    return frame[name].tolist() if name in frame else [None] * len(frame)


def plan_visits(projects: pd.DataFrame, parts: pd.DataFrame, year: int,
                settings: Settings | None = None, calendar: WorkCalendar | None = None) -> pd.DataFrame:
    """The year's visits of every project (:func:`project_plan` for each), one row per project
    and month, sorted by date then project.

    ``projects``: project_id, accepted, and optionally size, four_new, city (a project id seen
    twice is planned once, from its first row). ``parts``: project_id, part, start, end (the
    warranty rows; see :func:`project_parts`), and optionally note.
    Returns columns ``date`` (datetime64), ``project_id``, ``kinds``, ``parts``, ``reasons``,
    ``notes`` (what a bad or missing cell changed, '' if nothing).
    """
    y = _year_rules(year, settings, calendar)
    rows_of: dict[Any, list[tuple]] = {}
    starts = as_datetime64(parts["start"]).tolist()  # dates, None for NaT
    ends = as_datetime64(parts["end"]).tolist()
    for pid, part, start, end, note in zip(_column(parts, "project_id"), _column(parts, "part"), starts, ends,
                                           _column(parts, "note")):
        if not isinstance(part, str) or not part.strip():
            continue  # a row naming no part concerns no visit
        # plain tuples in PartRow's order: a named tuple per row costs twice as much here
        rows_of.setdefault(pid, []).append((part, start, end, note.strip() if isinstance(note, str) else ""))
    out: list[tuple] = []
    seen: set = set()
    for pid, accepted, size, four_new, city in zip(
            _column(projects, "project_id"), as_datetime64(projects["accepted"]).tolist(),
            _column(projects, "size"), _column(projects, "four_new"), _column(projects, "city")):
        if pid in seen:
            continue
        seen.add(pid)
        for v in _plan(y, accepted, rows_of.get(pid, ()), size, y.tech(four_new), city):
            out.append((v.date, pid, v.kinds, v.parts, v.reasons, v.notes))
    frame = pd.DataFrame(out, columns=PLAN_COLUMNS)
    frame["date"] = pd.Series(np.array([r[0] for r in out], dtype="datetime64[D]"), dtype="datetime64[s]")
    return frame.sort_values(["date", "project_id"], kind="stable").reset_index(drop=True)
