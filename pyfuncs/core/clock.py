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
from typing import Any, NamedTuple, Sequence

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
    agreed_days: Sequence[Any] | None = None,
) -> tuple[np.ndarray, dict[int, str]]:
    """The on-site deadline per ticket: (datetime64[D] array, {position: problem}).

    ``urgencies``: 一般 / 紧急 / 涉及结构安全 (blank = 一般). ``days``: per-row number of days that
    overrides the setting for that urgency (blank = the setting). ``agreed_days``: the dispatch
    time the project's contract agrees (项目台账 约定到场天数), per row; it replaces the setting's
    报修到场天数 for 一般 tickets only (emergencies keep their own, shorter clock); blank = the
    setting.

    >>> d = np.array(["2026-03-02", "2026-03-02", "2026-03-02"], dtype="datetime64[D]")
    >>> due, _ = repair_due(d, ["一般", "一般", "紧急"], agreed_days=[3, None, 3])
    >>> [str(x) for x in due]
    ['2026-03-05', '2026-03-09', '2026-03-03']
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
    if agreed_days is not None:
        agreed = _column(agreed_days, n)
        counts, given, wrong = day_counts(agreed)
        normal = ~cal_only & ~bad
        wrong &= normal  # an emergency's clock does not depend on the agreed days
        for i in np.flatnonzero(wrong):
            errors.setdefault(int(i), f"约定到场天数无效: {agreed[i]}（应为不小于0的整数）")
        n_days = np.where(normal & given & ~wrong, counts, n_days)
        bad |= wrong
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


# --- one ticket's clock: the single definition of on site, open, overdue and response time ----------
PENDING, ON_SITE_STATE, REPAIRING, DONE, SIGNED_OFF, CLOSED = "待派工", "已到场", "维修中", "已完成", "已验收", "已关闭"
# the finished states (the ticket is no longer open) are CLOSED_STATES above: DONE, SIGNED_OFF, CLOSED
#: How far along each 状态 is (a 状态 behind what the dates say gets a reminder).
STATE_RANK = {PENDING: 0, ON_SITE_STATE: 1, REPAIRING: 1, DONE: 2, SIGNED_OFF: 3, CLOSED: 4}


def _dates(values: Any, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, NAT)
    return np.asarray(values, dtype="datetime64[D]").reshape(-1)


def _signed(values: Any, n: int) -> np.ndarray:
    """用户签认 as bool: 是 (or True) means the user signed the repair off."""
    arr = _column(values, n)
    return np.array([v is True or (isinstance(v, np.bool_) and bool(v))
                     or (isinstance(v, str) and v.strip() == "是") for v in arr], dtype=bool)


def on_site_dates(arrivals: Any, done: Any = None, accepted: Any = None) -> np.ndarray:
    """The day the contractor was on site: 到场日期; where it is blank, the 完成日期, else the
    验收日期 (whoever completed the repair was there by then).

    >>> d = lambda *s: np.array(s, dtype="datetime64[D]")
    >>> [str(x) for x in on_site_dates(d("2026-09-02", "NaT", "NaT"), d("NaT", "2026-09-05", "NaT"),
    ...                                d("NaT", "NaT", "2026-09-09"))]
    ['2026-09-02', '2026-09-05', '2026-09-09']
    """
    arr = _dates(arrivals, 0 if arrivals is None else len(np.asarray(arrivals).reshape(-1)))
    n = len(arr)
    fin, acc = _dates(done, n), _dates(accepted, n)
    return np.where(np.isnat(arr), np.where(np.isnat(fin), acc, fin), arr)


def derived_state(arrivals: Any, done: Any = None, accepted: Any = None, signed: Any = None) -> np.ndarray:
    """状态 as the dates and the sign-off say: 已验收 only when the user signed (用户签认 是);
    完成日期 or 验收日期 without the signature: 已完成; 到场日期 only: 维修中; nothing: 待派工.

    >>> d = lambda *s: np.array(s, dtype="datetime64[D]")
    >>> derived_state(d("2026-09-02", "2026-09-02", "2026-09-02", "NaT"), d("NaT", "2026-09-05", "2026-09-05", "NaT"),
    ...               d("NaT", "2026-09-06", "2026-09-06", "NaT"), [None, None, "是", None]).tolist()
    ['维修中', '已完成', '已验收', '待派工']
    """
    arr = _dates(arrivals, len(np.asarray(arrivals).reshape(-1)))
    n = len(arr)
    fin, acc = _dates(done, n), _dates(accepted, n)
    return np.where(_signed(signed, n), SIGNED_OFF,
                    np.where(~np.isnat(fin) | ~np.isnat(acc), DONE,
                             np.where(~np.isnat(arr), REPAIRING, PENDING))).astype(object)


class TicketClock(NamedTuple):
    """Everything the ledger, the report and the to-do list say about each ticket's clock.

    ``late`` is NaN where the clock does not run: deadline unknown, closed with no date at all,
    or a paid repair outside warranty (unless the setting 过保报修计超期 is 是).
    """

    due: np.ndarray          # 应到场日期, datetime64[D]
    errors: dict[int, str]   # position → problem (bad urgency / days): due is NaT there
    on_site: np.ndarray      # 到场日期, else 完成日期, else 验收日期
    state: np.ndarray        # 状态 as given, else as the dates and 用户签认 say
    open: np.ndarray         # not finished: no 完成/验收日期 and 状态 not 已完成/已验收/已关闭
    late: np.ndarray         # days overdue (float; NaN where the clock does not run)
    clock_off: np.ndarray    # True where the clock does not run because the repair is out of warranty
    response: np.ndarray     # days from 报修日期 to on_site (float; NaN where either is unknown)

    @property
    def overdue(self) -> np.ndarray:
        """超期: days overdue > 0 (closed tickets that were late included)."""
        return np.nan_to_num(self.late, nan=0.0) > 0


def no_clock(out_of_warranty: Any, n: int, settings: Settings) -> np.ndarray:
    """Which tickets have no statutory clock: a paid repair outside warranty (``out_of_warranty``
    True, or the ledger's 是否在保 text 否), unless the setting 过保报修计超期 says it counts.

    >>> no_clock([True, False, "否", "是", None], 5, Settings()).tolist()
    [True, False, True, False, False]
    """
    if out_of_warranty is None or settings.overdue_out_of_warranty:
        return np.zeros(n, dtype=bool)
    return np.array([v is True or (isinstance(v, np.bool_) and bool(v)) or (isinstance(v, str) and v.strip() == "否")
                     for v in _column(out_of_warranty, n)], dtype=bool)


def ticket_clock(
    notices: Any,
    urgencies: Sequence[Any] | None = None,
    *,
    arrivals: Any = None,
    done: Any = None,
    accepted: Any = None,
    signed: Any = None,
    states: Sequence[Any] | None = None,
    out_of_warranty: Any = None,
    agreed_days: Sequence[Any] | None = None,
    as_of: Any = None,
    settings: Settings | None = None,
    calendar: WorkCalendar | None = None,
) -> TicketClock:
    """The one definition of a ticket's deadline, overdue days, open/closed and response time
    (docs/rules-ledger.md §2), used by 刷新台账, 统计报表 and anything else that counts overdue repairs.

    - deadline: :func:`repair_due` (the project's agreed days for 一般 tickets, if any);
    - on site: 到场日期, else 完成日期, else 验收日期 (:func:`on_site_dates`);
    - days overdue: (on site, or ``as_of`` while nobody has been) − deadline, when positive;
      a ticket closed (状态 已完成/已验收/已关闭) with no date at all does not keep growing;
      a repair outside warranty (``out_of_warranty`` True) has no clock unless the setting
      过保报修计超期 says so;
    - open: no 完成日期, no 验收日期 and 状态 (given, else from the dates) not a closed state.

    The issue's case: notice 2026-09-01, done 2026-09-05, no arrival, 已完成: on site 09-05, due
    09-08, not overdue, not open.

    >>> d = lambda *s: np.array(s, dtype="datetime64[D]")
    >>> c = ticket_clock(d("2026-09-01", "2026-09-01", "2026-01-05", "2026-09-01"), ["一般"] * 4,
    ...                  arrivals=d("NaT", "NaT", "NaT", "NaT"), done=d("2026-09-05", "NaT", "NaT", "NaT"),
    ...                  states=["已完成", None, "已关闭", None], out_of_warranty=[False, False, False, True],
    ...                  as_of=dt.date(2026, 9, 20))
    >>> c.late.tolist(), c.open.tolist(), c.overdue.tolist()
    ([0.0, 12.0, nan, nan], [False, True, False, True], [False, True, False, False])
    """
    s = settings or Settings()
    notice = np.asarray(notices, dtype="datetime64[D]").reshape(-1)
    n = len(notice)
    today = np.datetime64(as_of if as_of is not None else dt.date.today(), "D")
    due, errors = repair_due(notice, urgencies, None, s, calendar, agreed_days)
    arr, fin, acc = _dates(arrivals, n), _dates(done, n), _dates(accepted, n)
    on_site = on_site_dates(arr, fin, acc)
    derived = derived_state(arr, fin, acc, signed)
    given = _column(states, n)
    given = np.array([v.strip() if isinstance(v, str) and v.strip() else None for v in given], dtype=object)
    state = np.where(pd.isna(given), derived, given).astype(object)
    closed = pd.Series(state, dtype=object).isin(CLOSED_STATES).to_numpy()
    is_open = np.isnat(fin) & np.isnat(acc) & ~closed
    # days late: the ledger's one rule (on site = arrival, else completion, else acceptance; closed
    # with no date: no clock), judged on the state as given or, where blank, as the dates say
    late = ticket_overdue_days(due, arr, fin, acc, state, today) if n else np.zeros(0)
    clock_off = no_clock(out_of_warranty, n, s)
    late = np.where(clock_off, np.nan, late)
    response = (on_site - notice).astype("timedelta64[D]").astype(float)
    response[np.isnat(on_site) | np.isnat(notice)] = np.nan
    return TicketClock(due, errors, on_site, state, is_open, late, clock_off, response)
