"""Callback visits (回访) for a year: every kind in DOMAIN.md §3, merged per project and month.

Kinds, their default timing (all in :class:`~pyfuncs.core.settings.Settings`) and the day each
reason gives (its *limit*: the visit is due by then):

- 例行回访: the first within ``first_visit_months`` (1) of handover, limit = that day (EDATE); the
  mid visit at ``mid_visit_months`` (6); then every 12 / 6 / 3 months for 大型 / 中型 / 小型
  (anything else in 项目规模: 中型, with a note), while any non-structural part is under warranty.
- 季节性回访: roofs and waterproofing before the rainy season (05-15); heating one month before
  the city's heating season starts (none for a city without district heating; a city not in the
  season table uses its 默认 row, with a note); cooling on 04-15. Only while that part is covered.
- 技术性回访: projects with 四新技术 (the cell's text; blank, 否, 无 = none), yearly on the handover
  anniversary while under warranty.
- 保修期满前回访: one month before each part's warranty ends.

Every reason must be met by its day, never after it: the planned day is the last working day on
or before the limit (if that would fall on or before the handover or the part's start, the first
working day after it). Visits of one project in one month become one visit listing every kind,
part and reason, on the earliest of their planned days, which is then on or before every limit.

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
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from pyfuncs.core.calendar import WorkCalendar
from pyfuncs.core.dates import NAT, add_months, as_datetime64, is_blank
from pyfuncs.core.parts import COOLING, HEATING, LEAK, PART_LABELS, ROOF, STRUCTURE
from pyfuncs.core.settings import Settings
from pyfuncs.core.warranty import warranty_ends

ROUTINE, SEASONAL, TECHNICAL, EXPIRY = "例行回访", "季节性回访", "技术性回访", "保修期满前回访"
KIND_ORDER = (ROUTINE, SEASONAL, TECHNICAL, EXPIRY)
RAINY_PARTS = (ROOF, LEAK)
SIZES = ("大型", "中型", "小型")
SEP = "、"
#: what a 四新技术 cell says when no new technique was used
NO_FOUR_NEW = ("", "否", "无", "没有", "未采用", "不采用", "无四新技术", "-", "—", "－", "/")

PLAN_COLUMNS = ["date", "project_id", "kinds", "parts", "reasons", "notes"]
EVENT_COLUMNS = ["project_id", "date", "floor", "kind", "part", "reason", "note"]


def four_new_text(value) -> str:
    """The new technique a 四新技术 cell names: '' for none (blank, 否, 无 …); 是 (or 有, 采用)
    without saying which → '四新技术'; else the text as written.

    >>> four_new_text("装配式混凝土结构"), four_new_text(" 否 "), four_new_text(None), four_new_text("是")
    ('装配式混凝土结构', '', '', '四新技术')
    """
    import unicodedata

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


def _on(year: int, month_day: tuple[int, int]) -> np.datetime64:
    return np.datetime64(f"{year:04d}-{month_day[0]:02d}-{month_day[1]:02d}", "D")


def project_parts(projects: pd.DataFrame, settings: Settings | None = None) -> pd.DataFrame:
    """Default warranty rows (all ten parts, statutory terms from 竣工验收日期) for projects.

    Used where a project has no 保修条款 rows yet, and by the AC_CALLBACKS worksheet function.
    """
    s = settings or Settings()
    n = len(projects)
    pid = np.repeat(projects["project_id"].to_numpy(dtype=object), len(PART_LABELS))
    start = np.repeat(as_datetime64(projects["accepted"]), len(PART_LABELS))
    part = np.tile(np.array(PART_LABELS, dtype=object), n)
    city = np.repeat(projects["city"].to_numpy(dtype=object), len(PART_LABELS)) if "city" in projects else None
    life = (np.repeat(projects["design_life"].to_numpy(dtype=object), len(PART_LABELS))
            if "design_life" in projects else None)
    r = warranty_ends(start, part, cities=city, design_lives=life, settings=s)
    return pd.DataFrame({"project_id": pid, "part": part, "start": start, "end": r.ends})


def _window(year: int) -> tuple[np.datetime64, np.datetime64]:
    """The reasons' days that can give a visit planned in ``year``: moving a visit back to a
    working day can take an early-January day into the year before (New Year's holiday)."""
    return _on(year, (1, 1)), _on(year + 1, (1, 20))


def _within(dates: np.ndarray, window: tuple[np.datetime64, np.datetime64]) -> np.ndarray:
    return (dates >= window[0]) & (dates <= window[1])


def _events(projects: pd.DataFrame, parts: pd.DataFrame, year: int, s: Settings) -> pd.DataFrame:
    """Every reason to visit that can fall in ``year``: rows (project_id, date = the reason's day,
    the limit; floor = the visit must come after it; kind, part, reason, note)."""
    frames = []
    window = _window(year)
    acc = as_datetime64(projects["accepted"])
    pid = projects["project_id"].to_numpy(dtype=object)
    p_start = as_datetime64(parts["start"])
    p_end = as_datetime64(parts["end"])
    p_part = parts["part"].to_numpy(dtype=object)
    p_pid = parts["project_id"].to_numpy(dtype=object)
    # a warranty row's own note (what a missing or unreadable input of that row was replaced by)
    # goes with the visits for that part
    p_note = np.array([f"{pt}：{x}" if isinstance(x, str) and x else "" for pt, x in
                       zip(p_part, parts["note"] if "note" in parts else [None] * len(parts))], dtype=object)
    blank = pd.Series([None] * len(projects), index=projects.index, dtype=object)

    # last day any non-structural part of the project is under warranty
    nonstruct = (p_part != STRUCTURE) & ~np.isnat(p_end)
    cover = np.full(len(pid), NAT)
    if nonstruct.any() and len(pid):
        last_end = pd.Series(p_end[nonstruct]).groupby(p_pid[nonstruct]).max()
        at = last_end.index.get_indexer(pid)
        ends = last_end.to_numpy().astype("datetime64[D]")
        cover = np.where(at >= 0, ends[np.maximum(at, 0)], NAT)

    # 例行回访 and 技术性回访: month offsets from handover, as one grid over all projects
    ok = ~np.isnat(acc)
    if ok.any():
        first_year = int(acc[ok].min().astype("datetime64[Y]").astype(int)) + 1970
        max_m = max(12 * (year + 1 - first_year) + 1, 0)
        offsets = np.arange(1, max_m + 1, dtype=np.int64)
        if len(offsets):
            sizes = projects.get("size", blank).to_numpy(dtype=object)
            interval = np.array([s.routine_months(z) for z in sizes], dtype=np.int64)
            size_notes = np.array([size_note(z, s) for z in sizes], dtype=object)
            tech = np.array([four_new_text(v) for v in projects.get("four_new", blank)], dtype=object)
            dates = add_months(np.repeat(acc, len(offsets)), np.tile(offsets, len(acc))).reshape(len(acc), len(offsets))
            live = _within(dates, window) & (dates <= cover[:, None]) & ok[:, None]
            fixed = (offsets[None, :] == s.first_visit_months) | (offsets[None, :] == s.mid_visit_months)
            by_size = (offsets[None, :] % np.maximum(interval[:, None], 1) == 0) & ~fixed
            technical = (tech != "")[:, None] & (offsets[None, :] % 12 == 0)

            def routine_reason(m: int, limit) -> str:
                if m == s.first_visit_months:
                    return f"首次例行回访（交付后{m}个月内，最迟{str(limit)}）"
                if m == s.mid_visit_months:
                    return f"中期例行回访（交付满{m}个月）"
                return f"例行回访（交付满{m}个月）"

            for kind, mask, noted in ((ROUTINE, fixed & live, False), (ROUTINE, by_size & live, True),
                                      (TECHNICAL, technical & live, False)):
                r, c = np.nonzero(mask)
                if not len(r):
                    continue
                if kind == ROUTINE:
                    reasons = [routine_reason(int(offsets[j]), dates[i, j]) for i, j in zip(r, c)]
                    notes = size_notes[r] if noted else np.full(len(r), "", object)
                else:
                    reasons = [f"四新技术（{tech[i]}）应用情况回访（交付满{offsets[j] // 12}年）" if tech[i] != "四新技术"
                               else f"四新技术应用情况回访（交付满{offsets[j] // 12}年）" for i, j in zip(r, c)]
                    notes = np.full(len(r), "", object)
                frames.append(pd.DataFrame({
                    "project_id": pid[r], "date": dates[r, c], "floor": acc[r], "kind": kind, "part": None,
                    "reason": reasons, "note": notes,
                }))

    # 季节性回访, per part row under warranty on the visit day; the seasons starting this year and
    # next (a visit day early in January can belong to this year's plan)
    n = len(parts)
    city_of = dict(zip(pid, projects["city"] if "city" in projects else [None] * len(pid)))
    p_city = [city_of.get(p) for p in p_pid]

    def seasonal(mask: np.ndarray, day: np.ndarray, why, note=p_note):
        live = mask & ~np.isnat(day) & (p_start < day) & (day <= p_end) & _within(day, window)
        if live.any():
            frames.append(pd.DataFrame({
                "project_id": p_pid[live], "date": day[live], "floor": p_start[live], "kind": SEASONAL,
                "part": p_part[live], "reason": why if isinstance(why, str) else why[live],
                "note": note[live]}))

    heating = p_part == HEATING
    cooling = p_part == COOLING
    # the season table is looked up once per distinct city, not once per warranty row
    city_keys = pd.Series(p_city, dtype=object).map(lambda c: None if is_blank(c) else str(c)).tolist()
    by_city = {c: s.season(c) for c in set(city_keys)}
    seasons = [by_city[c] for c in city_keys]
    note_of = {c: (f"{HEATING}：{s.city_note(c)}" if s.city_note(c) else "") for c in by_city}
    heat_note = np.array([own or (note_of[c] if h else "") for c, h, own in zip(city_keys, heating, p_note)],
                         dtype=object)
    has_cool = np.array([x.has_cooling for x in seasons], dtype=bool)
    has_heat = heating & np.array([x.has_heating for x in seasons], dtype=bool)
    for y in (year, year + 1):
        seasonal(np.isin(p_part, RAINY_PARTS), np.full(n, _on(y, s.rainy_visit)), "雨季前防水检查")
        seasonal(cooling & has_cool, np.full(n, _on(y, s.cooling_visit)), "供冷期前空调通风检查")
        if not has_heat.any():
            continue
        start_of = {c: _on(y, x.heat_start) for c, x in by_city.items() if x.has_heating}
        starts = np.array([start_of[c] if h else NAT for c, h in zip(city_keys, has_heat)], dtype="datetime64[D]")
        day = add_months(starts, -s.heating_visit_months_before)
        why_of = {c: f"采暖期（{x.heat_start[0]:02d}-{x.heat_start[1]:02d}起）前供热系统检查"
                  for c, x in by_city.items() if x.has_heating}
        why = np.array([why_of[c] if h else "" for c, h in zip(city_keys, has_heat)], dtype=object)
        seasonal(has_heat, day, why, heat_note)

    # 保修期满前回访, per part
    before = add_months(p_end, -s.expiry_visit_months_before) if n else p_end
    live = ~np.isnat(p_end) & _within(before, window) & (before > p_start)
    if live.any():
        frames.append(pd.DataFrame({
            "project_id": p_pid[live], "date": before[live], "floor": p_start[live], "kind": EXPIRY,
            "part": p_part[live], "note": p_note[live],
            "reason": [f"{pt}保修期{str(e)}届满，期满前回访" for pt, e in zip(p_part[live], p_end[live])],
        }))
    if not frames:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    return pd.concat(frames, ignore_index=True)[EVENT_COLUMNS]


def planned_days(limits: np.ndarray, floors: np.ndarray, calendar: WorkCalendar) -> np.ndarray:
    """The day to plan each visit: the last working day on or before its limit; where that is on
    or before the floor (the handover, the part's start), the first working day after the floor.

    >>> d = lambda *x: np.array(x, dtype="datetime64[D]")
    >>> [str(x) for x in planned_days(d("2025-10-01", "2026-05-16"), d("2025-09-01", "2026-05-15"), WorkCalendar())]
    ['2025-09-30', '2026-05-18']
    """
    limits = np.asarray(limits, dtype="datetime64[D]")
    floors = np.asarray(floors, dtype="datetime64[D]")
    out = calendar.prev_workday(limits)
    early = ~np.isnat(floors) & (out <= floors)
    if early.any():
        out = np.where(early, calendar.next_workday(floors + np.timedelta64(1, "D")), out)
    return out


def _parts_in_warranty(events: pd.DataFrame, parts: pd.DataFrame) -> pd.Series:
    """For routine/technical events (part None): the non-structural parts under warranty that day."""
    need = events[events["part"].isna()][["project_id", "date"]].reset_index()
    if need.empty:
        return pd.Series(dtype=object)
    p = parts[parts["part"] != STRUCTURE][["project_id", "part", "start", "end"]]
    m = need.merge(p, on="project_id")
    m = m[(m["start"] < m["date"]) & (m["date"] <= m["end"])]
    return m.groupby("index")["part"].agg(list)


def plan_visits(projects: pd.DataFrame, parts: pd.DataFrame, year: int,
                settings: Settings | None = None, calendar: WorkCalendar | None = None) -> pd.DataFrame:
    """The year's visits, one row per project and month, sorted by date then project.

    ``projects``: project_id, accepted, and optionally size, four_new, city.
    ``parts``: project_id, part, start, end (the warranty rows; see :func:`project_parts`), and
    optionally note (shown with that part's seasonal and before-expiry visits).
    Returns columns ``date`` (datetime64), ``project_id``, ``kinds``, ``parts``, ``reasons``,
    ``notes`` (what a bad or missing cell changed, '' if nothing).
    """
    s = settings or Settings()
    cal = calendar or WorkCalendar()
    parts = parts.assign(start=as_datetime64(parts["start"]), end=as_datetime64(parts["end"]))
    ev = _events(projects, parts, year, s)
    if len(ev):
        day = planned_days(as_datetime64(ev["date"]), as_datetime64(ev["floor"]), cal)
        keep = (day >= _on(year, (1, 1))) & (day <= _on(year, (12, 31)))
        ev = ev[keep].assign(planned=day[keep])
    if ev.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in PLAN_COLUMNS}).assign(
            date=pd.Series(dtype="datetime64[s]"))
    ev["date"] = as_datetime64(ev["planned"])
    ev = ev.drop(columns=["planned", "floor"]).reset_index(drop=True)
    wide = _parts_in_warranty(ev, parts)
    part_lists = [[p] if p is not None else wide.get(i, []) for i, p in zip(ev.index, ev["part"])]
    ev["parts"] = part_lists
    ev["month"] = ev["date"].to_numpy().astype("datetime64[M]")
    kind_rank = {k: i for i, k in enumerate(KIND_ORDER)}
    part_rank = {p: i for i, p in enumerate(PART_LABELS)}
    ev = ev.sort_values(["project_id", "month", "date"], kind="stable")
    # one pass over plain columns (a pandas group per project and month was seconds on 2,000
    # projects): per (project, month) the first planned day, the kinds, parts, reasons, notes
    groups: dict[tuple, list] = {}
    for proj, month, day, kind, plist, reason, note in zip(ev["project_id"], ev["month"], ev["date"],
                                                           ev["kind"], ev["parts"], ev["reason"], ev["note"]):
        g = groups.get((proj, month))
        if g is None:
            g = groups[(proj, month)] = [day, set(), set(), {}, {}]
        g[1].add(kind)
        g[2].update(plist)
        g[3][reason] = None
        if note:
            g[4][note] = None
    rows = [(day, proj, SEP.join(sorted(kinds, key=kind_rank.get)), SEP.join(sorted(ps, key=part_rank.get)),
             "；".join(reasons), "；".join(notes))
            for (proj, _), (day, kinds, ps, reasons, notes) in groups.items()]
    out = pd.DataFrame(rows, columns=PLAN_COLUMNS)
    return out.sort_values(["date", "project_id"], kind="stable").reset_index(drop=True)
