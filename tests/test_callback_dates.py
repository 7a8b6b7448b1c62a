"""Planned visit days against independent oracles: chinese-calendar (the State Council's working
days for 2025–2026, a different package from the holidays package the product uses) and
dateutil's relativedelta for the month arithmetic (EDATE).

The rule (DOMAIN.md §3): a visit that must happen within a period, or before a day, is planned on
the last working day on or before that day, never after it, and always after the handover.
"""
from __future__ import annotations

import datetime as dt
import re

import chinese_calendar
import pandas as pd
import pytest
from dateutil.relativedelta import relativedelta

from pyfuncs.core.callbacks import plan_visits, project_parts
from pyfuncs.core.parts import STRUCTURE
from pyfuncs.core.settings import Settings

D = dt.date
FIRST, LAST = D(2025, 1, 1), D(2026, 11, 30)
DAYS = [FIRST + dt.timedelta(days=i) for i in range((LAST - FIRST).days + 1)]


def workday(d: dt.date) -> bool:
    return chinese_calendar.is_workday(d)


def last_workday_on_or_before(d: dt.date) -> dt.date:
    while not workday(d):
        d -= dt.timedelta(days=1)
    return d


def projects_accepted_on(days, size="大型", city="北京", four_new="否"):
    return pd.DataFrame({
        "project_id": [f"P{d:%Y%m%d}" for d in days],
        "accepted": pd.to_datetime(days),
        "size": size, "four_new": four_new, "city": city,
    })


def plans(projects, parts, years):
    out = pd.concat([plan_visits(projects, parts, y) for y in years], ignore_index=True)
    out["day"] = [pd.Timestamp(x).date() for x in out["date"]]
    return out


def test_first_visit_of_the_issue_is_inside_the_month():
    # accepted 2025-09-01: due by 2025-10-01 (National Day); was planned 2025-10-09, after the month
    p = projects_accepted_on([D(2025, 9, 1)])
    plan = plans(p, project_parts(p), [2025])
    first = plan[plan["reasons"].str.contains("首次例行回访")]
    assert list(first["day"]) == [D(2025, 9, 30)]
    assert "最迟2025-10-01" in first["reasons"].iloc[0]


def test_every_first_visit_2025_2026_is_the_last_working_day_of_its_month():
    """699 acceptance days; only a 2-year part, so nothing else shares the first visit's month and
    the planned day must be exactly the oracle's last working day on or before the limit."""
    p = projects_accepted_on(DAYS)
    parts = project_parts(p)
    parts = parts[parts["part"] == "电气管线"]
    plan = plans(p, parts, [2025, 2026])
    first = plan[plan["reasons"].str.contains("首次例行回访")].set_index("project_id")["day"]
    assert len(first) == len(DAYS) == 699
    late = []
    for d in DAYS:
        limit = d + relativedelta(months=1)
        got = first[f"P{d:%Y%m%d}"]
        if got != last_workday_on_or_before(limit) or not d < got <= limit:
            late.append((d, limit, got))
    assert not late, late[:10]


def test_every_before_expiry_visit_is_the_last_working_day_before_its_limit():
    """Warranty ends on every day from 2025-02-01 to 2026-12-31 (a part with no routine or
    seasonal visits, so the month holds this reason alone): the visit is due one month before."""
    ends = [D(2025, 2, 1) + dt.timedelta(days=i) for i in range((D(2026, 12, 31) - D(2025, 2, 1)).days + 1)]
    starts = [e - relativedelta(years=2) for e in ends]
    p = projects_accepted_on(starts)
    parts = pd.DataFrame({"project_id": p["project_id"], "part": STRUCTURE,
                          "start": pd.to_datetime(starts), "end": pd.to_datetime(ends)})
    plan = plans(p, parts, [2025, 2026])
    exp = plan[plan["kinds"] == "保修期满前回访"].set_index("project_id")["day"]
    wrong = []
    for s, e in zip(starts, ends):
        limit = e - relativedelta(months=1)
        got = exp.get(f"P{s:%Y%m%d}")
        if got is None:
            if limit.year in (2025, 2026) and last_workday_on_or_before(limit).year in (2025, 2026):
                wrong.append((e, limit, None))
            continue
        if got != last_workday_on_or_before(limit):
            wrong.append((e, limit, got))
    assert not wrong, wrong[:10]
    assert len(exp) > 690


LIMITS = (
    (re.compile(r"首次例行回访（交付后(\d+)个月内"), lambda acc, m, y: acc + relativedelta(months=int(m))),
    (re.compile(r"例行回访（交付满(\d+)个月）"), lambda acc, m, y: acc + relativedelta(months=int(m))),
    (re.compile(r"应用情况回访（交付满(\d+)年）"), lambda acc, m, y: acc + relativedelta(years=int(m))),
    (re.compile(r"保修期(\d{4}-\d\d-\d\d)届满"),
     lambda acc, m, y: D.fromisoformat(m) - relativedelta(months=1)),
    (re.compile(r"雨季前防水检查"), None),
    (re.compile(r"供冷期前空调通风检查"), None),
    (re.compile(r"采暖期（(\d\d)-(\d\d)起）前供热系统检查"), None),
)


def reason_limits(reason: str, acc: dt.date, planned: dt.date) -> list[dt.date]:
    """The days the reason's visit is due by, worked out from the reason's own words."""
    out = []
    for pat, f in LIMITS:
        for m in pat.finditer(reason):
            if f is not None:
                out.append(f(acc, m.group(1), planned.year))
            elif "雨季" in pat.pattern:
                out.append(min(D(y, 5, 15) for y in (planned.year, planned.year + 1) if D(y, 5, 15) >= planned))
            elif "供冷" in pat.pattern:
                out.append(min(D(y, 4, 15) for y in (planned.year, planned.year + 1) if D(y, 4, 15) >= planned))
            else:
                mo, da = int(m.group(1)), int(m.group(2))
                out.append(min(D(y, mo, da) - relativedelta(months=1) for y in (planned.year, planned.year + 1)
                               if D(y, mo, da) - relativedelta(months=1) >= planned))
    return out


@pytest.mark.parametrize("size, city", [("大型", "北京"), ("小型", "哈尔滨"), ("中型", "广州")])
def test_no_visit_of_any_kind_is_after_its_limit(size, city):
    """Every kind, all ten parts with their statutory terms, handed over on every day of
    2023–2026: every planned day is a working day (oracle), after the handover, and on or before
    the day of every reason it serves."""
    days = [D(2023, 1, 1) + dt.timedelta(days=i) for i in range(0, (LAST - D(2023, 1, 1)).days + 1, 3)]
    p = projects_accepted_on(days, size=size, city=city, four_new="装配式混凝土结构")
    plan = plans(p, project_parts(p), [2025, 2026])
    acc = dict(zip(p["project_id"], [d for d in days]))
    bad = []
    kinds = set()
    for pid, day, reasons, k in zip(plan["project_id"], plan["day"], plan["reasons"], plan["kinds"]):
        kinds.update(k.split("、"))
        limits = reason_limits(reasons, acc[pid], day)
        assert limits, reasons
        if not workday(day) or not acc[pid] < day or any(day > x for x in limits):
            bad.append((pid, day, reasons, limits))
    assert not bad, bad[:5]
    assert kinds == {"例行回访", "季节性回访", "技术性回访", "保修期满前回访"}
    assert any("四新技术（装配式混凝土结构）" in r for r in plan["reasons"])
    heating = plan["reasons"].str.contains("供热系统检查").any()
    assert heating == (city != "广州")  # no district heating in 广州: no heating visit invented


def test_staff_settings_keep_the_rule():
    """The timings are settings; the rule holds for whatever staff set (here: first visit within
    two months, the rainy-season visit by 06-01)."""
    s = Settings(first_visit_months=2, rainy_visit=(6, 1))
    p = projects_accepted_on([D(2026, 7, 31)])
    plan = plan_visits(p, project_parts(p, s), 2026, s)
    first = plan[plan["reasons"].str.contains("首次例行回访")]
    # due by 2026-09-30; the National Day week follows, the day itself is a working day
    assert [pd.Timestamp(x).date() for x in first["date"]] == [D(2026, 9, 30)]
    p = projects_accepted_on([D(2024, 7, 31)])
    plan = plan_visits(p, project_parts(p, s), 2026, s)
    rainy = plan[plan["reasons"].str.contains("雨季前")]
    # 2026-06-01 is a Monday and a working day
    assert [pd.Timestamp(x).date() for x in rainy["date"]] == [D(2026, 6, 1)]
