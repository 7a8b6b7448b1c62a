"""The repair clock: when the contractor must be on site, how late it was, and who pays.

Deadline = notice date + N days (一般 7, 紧急 1, 涉及结构安全 1 by default; a per-row number of
days overrides). Counting follows 民法典 art. 201 (the notice day is not counted) and art. 203:
when the last day is a statutory rest day the deadline moves to the first working day after it
(setting 到期顺延, default on). Emergencies and structural-safety tickets count calendar days.

Example::

    >>> d = lambda *s: np.array(s, dtype="datetime64[D]")
    >>> due, errors = repair_due(d("2026-09-28", "2026-09-28"), ["一般", "紧急"])
    >>> [str(x) for x in due], errors
    (['2026-10-08', '2026-09-29'], {})
    >>> overdue_days(d("2026-10-08", "2026-10-08"), d("2026-10-10", "NaT"), dt.date(2026, 10, 9)).tolist()
    [2.0, 1.0]
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

import numpy as np
import pandas as pd

from pyfuncs.core.calendar import WorkCalendar
from pyfuncs.core.dates import NAT, is_blank
from pyfuncs.core.settings import Settings

NORMAL, URGENT, STRUCTURAL = "一般", "紧急", "涉及结构安全"
URGENCIES = (NORMAL, URGENT, STRUCTURAL)

FREE = "免费保修"
PAID = "有偿维修"
OWNER_DESIGN = "建设单位承担（可向设计单位追偿）"
OWNER = "建设单位承担"
PAID_OR_SEPARATE = "有偿维修或另行处理"
UNDECIDED = "待定（原因待查）"

#: 原因分类 → 费用承担 while in warranty (DOMAIN.md §2, 80号令 art. 13). Outside warranty: 有偿维修.
PAYER_IN_WARRANTY = {
    "施工质量": FREE,
    "施工方采购材料": FREE,
    "设计原因": OWNER_DESIGN,
    "建设单位采购材料设备": OWNER,
    "使用不当": PAID_OR_SEPARATE,
    "第三方责任": PAID_OR_SEPARATE,
    "不可抗力": PAID_OR_SEPARATE,
    "待查": UNDECIDED,
}

_default_calendar: WorkCalendar | None = None


def default_calendar() -> WorkCalendar:
    """The official calendar with no staff overrides (built once)."""
    global _default_calendar
    if _default_calendar is None:
        _default_calendar = WorkCalendar()
    return _default_calendar


def _column(values: Any, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, None, dtype=object)
    arr = values.to_numpy() if isinstance(values, (pd.Series, pd.Index)) else values
    arr = np.asarray(arr, dtype=object).reshape(-1)
    if len(arr) == 1 and n != 1:
        arr = np.repeat(arr, n)
    return arr


def day_counts(values: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A column of whole, non-negative numbers of days as staff type them (blank allowed).

    Returns (counts as int64, 0 where blank or bad; given = not blank; wrong = given but not a
    whole number ≥ 0).

    >>> counts, given, wrong = day_counts([3, "10", None, "三天", -1, 2.5])
    >>> counts.tolist(), given.tolist(), wrong.tolist()
    ([3, 10, 0, 0, 0, 0], [True, True, False, True, True, True], [False, False, False, True, True, True])
    """
    arr = np.asarray(values, dtype=object).reshape(-1)
    num = pd.to_numeric(pd.Series(arr, dtype=object), errors="coerce").to_numpy(dtype=float)
    given = np.array([not is_blank(v) for v in arr], dtype=bool)
    wrong = given & (np.isnan(num) | (num < 0) | (np.nan_to_num(num) % 1 != 0))
    counts = np.where(given & ~wrong, np.nan_to_num(num), 0).astype(np.int64)
    return counts, given, wrong


def repair_due(
    notices: Any,
    urgencies: Sequence[Any] | None = None,
    days: Sequence[Any] | None = None,
    settings: Settings | None = None,
    calendar: WorkCalendar | None = None,
) -> tuple[np.ndarray, dict[int, str]]:
    """The on-site deadline per ticket: (datetime64[D] array, {position: problem}).

    ``urgencies``: 一般 / 紧急 / 涉及结构安全 (blank = 一般). ``days``: per-row number of days that
    overrides the setting for that urgency (blank = the setting).
    """
    s = settings or Settings()
    cal = calendar or default_calendar()
    notice = np.asarray(notices, dtype="datetime64[D]").reshape(-1)
    n = len(notice)
    urg = _column(urgencies, n)
    urg_codes, urg_values = pd.factorize(pd.Series(urg, dtype=object), use_na_sentinel=True)
    errors: dict[int, str] = {}
    default_days = {NORMAL: s.clock_days, URGENT: s.urgent_days, STRUCTURAL: s.structural_days}
    per_code_days = np.full(len(urg_values) + 1, s.clock_days, dtype=np.int64)
    calendar_only = np.zeros(len(urg_values) + 1, dtype=bool)
    bad_codes = []
    for k, u in enumerate(urg_values):
        key = u.strip() if isinstance(u, str) else u
        if is_blank(key):
            continue
        if key not in default_days:
            bad_codes.append(k)
            continue
        per_code_days[k] = default_days[key]
        calendar_only[k] = key != NORMAL
    n_days = per_code_days[urg_codes]
    cal_only = calendar_only[urg_codes]
    bad = np.zeros(n, dtype=bool)
    if bad_codes:
        bad = np.isin(urg_codes, bad_codes)
        for i in np.flatnonzero(bad):
            errors[int(i)] = f"紧急程度无效: {urg[i]}（应为 一般、紧急 或 涉及结构安全）"
    if days is not None:
        override = _column(days, n)
        counts, given, wrong = day_counts(override)
        for i in np.flatnonzero(wrong):
            errors[int(i)] = f"到场天数无效: {override[i]}（应为不小于0的整数）"
        n_days = np.where(given & ~wrong, counts, n_days)
        bad |= wrong
    due = notice + n_days.astype("timedelta64[D]")
    if s.roll_forward:
        rolled = cal.next_workday(due)
        due = np.where(cal_only, due, rolled)
    due[bad] = NAT
    return due, errors


def overdue_days(dues: Any, arrivals: Any = None, as_of: Any = None) -> np.ndarray:
    """Days late: (arrival, or ``as_of`` while nobody has arrived) − deadline, when positive.

    Float array (whole numbers) with NaN where the deadline is unknown. ``as_of`` defaults to today.
    """
    due = np.asarray(dues, dtype="datetime64[D]").reshape(-1)
    today = np.datetime64(as_of if as_of is not None else dt.date.today(), "D")
    if arrivals is None:
        arr = np.full(len(due), NAT)
    else:
        arr = np.asarray(arrivals, dtype="datetime64[D]").reshape(-1)
    end = np.where(np.isnat(arr), today, arr)
    late = (end - due).astype("timedelta64[D]").astype(float)
    late = np.maximum(late, 0.0)
    late[np.isnat(due)] = np.nan
    return late


#: 状态 values of a ticket that is over: with no date recorded, its clock stops (no growing 超期).
CLOSED_STATES = ("已完成", "已验收", "已关闭")


def ticket_overdue_days(dues: Any, arrivals: Any = None, done: Any = None, accepted: Any = None,
                        states: Any = None, as_of: Any = None) -> np.ndarray:
    """超期天数 of ledger tickets (DOMAIN.md §2), the ledger's one definition.

    Where no arrival was recorded, the completion date (完成日期), else the acceptance date
    (验收日期), stands for it; a ticket whose 状态 says it is over (:data:`CLOSED_STATES`) with
    none of these dates gets NaN instead of a clock that keeps growing.

    >>> d = lambda *s: np.array(s, dtype="datetime64[D]")
    >>> ticket_overdue_days(d("2026-10-08", "2026-10-08", "2026-10-08"), d("NaT", "NaT", "NaT"),
    ...                     d("2026-10-11", "NaT", "NaT"), None, ["已完成", "已关闭", None], dt.date(2026, 10, 20)).tolist()
    [3.0, nan, 12.0]
    """
    due = np.asarray(dues, dtype="datetime64[D]").reshape(-1)
    n = len(due)

    def dates(values: Any) -> np.ndarray:
        if values is None:
            return np.full(n, NAT)
        return np.asarray(values, dtype="datetime64[D]").reshape(-1)

    arrival, finished, signed = dates(arrivals), dates(done), dates(accepted)
    on_site = np.where(np.isnat(arrival), np.where(np.isnat(finished), signed, finished), arrival)
    late = overdue_days(due, on_site, as_of)
    if states is not None:
        state = pd.Series(_column(states, n), dtype=object).map(lambda v: v.strip() if isinstance(v, str) else v)
        late = np.where(np.isnat(on_site) & state.isin(CLOSED_STATES).to_numpy(), np.nan, late)
    return late


def payer(causes: Sequence[Any], in_warranty: Sequence[Any]) -> np.ndarray:
    """费用承担 per ticket from 原因分类 and whether it is in warranty (bool or 是/否).

    >>> payer(["施工质量", "设计原因", "施工质量", None], [True, True, False, True]).tolist()
    ['免费保修', '建设单位承担（可向设计单位追偿）', '有偿维修', '待定（原因待查）']
    """
    cause = pd.Series(_column(causes, len(in_warranty)), dtype=object)
    inw = np.array([v is True or v == "是" or (isinstance(v, (np.bool_,)) and bool(v)) for v in in_warranty])
    mapped = cause.map(lambda c: PAYER_IN_WARRANTY.get(c.strip() if isinstance(c, str) else c, UNDECIDED))
    return np.where(inw, mapped.to_numpy(dtype=object), PAID).astype(object)
