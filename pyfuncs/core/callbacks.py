"""Callback visits (回访) for a year: every kind in DOMAIN.md §3, merged per project and month.

Kinds and their default timing (all in :class:`~pyfuncs.core.settings.Settings`):

- 例行回访: ``first_visit_months`` (1) and ``mid_visit_months`` (6) after handover, then every
  12 / 6 / 3 months for 大型 / 中型 / 小型, while any non-structural part is under warranty.
- 季节性回访: roofs and waterproofing before the rainy season (05-15); heating one month before
  the city's heating season starts; cooling on 04-15. Only while that part is under warranty.
- 技术性回访: projects with 四新技术, yearly on the handover anniversary while under warranty.
- 保修期满前回访: one month before each part's warranty ends.

Visits of one project in one month become one visit listing every kind and part; its date is the
earliest reason's date, moved to a working day (the next one, or the previous one if the next
would leave the month).

Example::

    >>> import pandas as pd
    >>> projects = pd.DataFrame({"project_id": ["P1"], "accepted": [pd.Timestamp("2025-06-30")],
    ...                          "size": ["大型"], "four_new": ["否"], "city": ["北京"]})
    >>> parts = project_parts(projects)
    >>> plan = plan_visits(projects, parts, 2026)
    >>> plan[["date", "kinds"]].astype(str).values.tolist()[:3]
    [['2026-04-15', '季节性回访'], ['2026-05-15', '季节性回访'], ['2026-06-30', '例行回访']]
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from pyfuncs.core.calendar import WorkCalendar
from pyfuncs.core.dates import NAT, add_months, as_datetime64
from pyfuncs.core.parts import COOLING, HEATING, LEAK, PART_LABELS, ROOF, STRUCTURE
from pyfuncs.core.settings import Settings
from pyfuncs.core.warranty import warranty_ends

ROUTINE, SEASONAL, TECHNICAL, EXPIRY = "例行回访", "季节性回访", "技术性回访", "保修期满前回访"
KIND_ORDER = (ROUTINE, SEASONAL, TECHNICAL, EXPIRY)
RAINY_PARTS = (ROOF, LEAK)
SEP = "、"

PLAN_COLUMNS = ["date", "project_id", "kinds", "parts", "reasons"]


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


def _in_year(dates: np.ndarray, year: int) -> np.ndarray:
    return (dates >= _on(year, (1, 1))) & (dates <= _on(year, (12, 31)))


def _events(projects: pd.DataFrame, parts: pd.DataFrame, year: int, s: Settings) -> pd.DataFrame:
    """Every reason to visit in ``year``: rows (project_id, date, kind, part, reason)."""
    frames = []
    acc = as_datetime64(projects["accepted"])
    pid = projects["project_id"].to_numpy(dtype=object)
    p_start = as_datetime64(parts["start"])
    p_end = as_datetime64(parts["end"])
    p_part = parts["part"].to_numpy(dtype=object)
    p_pid = parts["project_id"].to_numpy(dtype=object)

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
        max_m = max(12 * (year - first_year + 1), 0)
        offsets = np.arange(1, max_m + 1, dtype=np.int64)
        if len(offsets):
            interval = np.array([s.routine_months(z) for z in projects.get("size", pd.Series([None] * len(projects)))],
                                dtype=np.int64)
            four_new = np.array([str(v).strip() == "是" for v in projects.get("four_new", pd.Series([None] * len(projects)))])
            dates = add_months(np.repeat(acc, len(offsets)), np.tile(offsets, len(acc))).reshape(len(acc), len(offsets))
            live = _in_year(dates, year) & (dates <= cover[:, None]) & ok[:, None]
            routine = ((offsets[None, :] == s.first_visit_months) | (offsets[None, :] == s.mid_visit_months)
                       | (offsets[None, :] % np.maximum(interval[:, None], 1) == 0))
            technical = four_new[:, None] & (offsets[None, :] % 12 == 0)
            for kind, mask, why in ((ROUTINE, routine & live, "交付后第{m}个月例行回访"),
                                    (TECHNICAL, technical & live, "四新技术应用情况回访（交付满{y}年）")):
                r, c = np.nonzero(mask)
                if len(r):
                    frames.append(pd.DataFrame({
                        "project_id": pid[r], "date": dates[r, c], "kind": kind, "part": None,
                        "reason": [why.format(m=m, y=m // 12) for m in offsets[c]],
                    }))

    # 季节性回访, per part row under warranty on the visit day
    def seasonal(mask: np.ndarray, day: np.ndarray, why: str):
        live = mask & (p_start < day) & (day <= p_end)
        if live.any():
            frames.append(pd.DataFrame({"project_id": p_pid[live], "date": day[live], "kind": SEASONAL,
                                        "part": p_part[live], "reason": why}))

    n = len(parts)
    seasonal(np.isin(p_part, RAINY_PARTS), np.full(n, _on(year, s.rainy_visit)), "雨季前防水检查")
    seasonal(p_part == COOLING, np.full(n, _on(year, s.cooling_visit)), "供冷期前空调通风检查")
    city_of = dict(zip(pid, projects["city"] if "city" in projects else [None] * len(pid)))
    heat_day = np.array([_on(year, s.season(city_of.get(p)).heat_start) for p in p_pid], dtype="datetime64[D]")
    heat_day = add_months(heat_day, -s.heating_visit_months_before) if n else heat_day
    seasonal(p_part == HEATING, heat_day, "采暖期前供热系统检查")

    # 保修期满前回访, per part
    before = add_months(p_end, -s.expiry_visit_months_before) if n else p_end
    live = ~np.isnat(p_end) & _in_year(before, year) & (before > p_start)
    if live.any():
        frames.append(pd.DataFrame({
            "project_id": p_pid[live], "date": before[live], "kind": EXPIRY, "part": p_part[live],
            "reason": [f"{pt}保修期将于{str(e)}届满" for pt, e in zip(p_part[live], p_end[live])],
        }))
    if not frames:
        return pd.DataFrame(columns=["project_id", "date", "kind", "part", "reason"])
    return pd.concat(frames, ignore_index=True)


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
    ``parts``: project_id, part, start, end (the warranty rows; see :func:`project_parts`).
    Returns columns ``date`` (datetime64), ``project_id``, ``kinds``, ``parts``, ``reasons``.
    """
    s = settings or Settings()
    cal = calendar or WorkCalendar()
    parts = parts.assign(start=as_datetime64(parts["start"]), end=as_datetime64(parts["end"]))
    ev = _events(projects, parts, year, s)
    if ev.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in PLAN_COLUMNS}).assign(
            date=pd.Series(dtype="datetime64[s]"))
    ev["date"] = as_datetime64(ev["date"])
    wide = _parts_in_warranty(ev, parts)
    part_lists = [[p] if p is not None else wide.get(i, []) for i, p in zip(ev.index, ev["part"])]
    ev["parts"] = part_lists
    ev["month"] = ev["date"].to_numpy().astype("datetime64[M]")
    kind_rank = {k: i for i, k in enumerate(KIND_ORDER)}
    part_rank = {p: i for i, p in enumerate(PART_LABELS)}
    ev = ev.sort_values(["project_id", "month", "date"], kind="stable")
    # one pass over plain columns (a pandas group per project and month was seconds on 2,000
    # projects): per (project, month) the first date, the kinds, the parts and the reasons
    groups: dict[tuple, list] = {}
    for proj, month, day, kind, plist, reason in zip(ev["project_id"], ev["month"], ev["date"],
                                                     ev["kind"], ev["parts"], ev["reason"]):
        g = groups.get((proj, month))
        if g is None:
            g = groups[(proj, month)] = [day, set(), set(), {}]
        g[1].add(kind)
        g[2].update(plist)
        g[3][reason] = None
    rows = [(day, proj, SEP.join(sorted(kinds, key=kind_rank.get)), SEP.join(sorted(ps, key=part_rank.get)),
             "；".join(reasons)) for (proj, _), (day, kinds, ps, reasons) in groups.items()]
    out = pd.DataFrame(rows, columns=["date", "project_id", "kinds", "parts", "reasons"])
    day = out["date"].to_numpy().astype("datetime64[D]")
    nxt = cal.next_workday(day)
    prv = cal.prev_workday(day)
    same_month = nxt.astype("datetime64[M]") == day.astype("datetime64[M]")
    out["date"] = np.where(same_month, nxt, prv)
    return out.sort_values(["date", "project_id"], kind="stable").reset_index(drop=True)
