"""Worksheet functions (UDFs) staff type into cells. Python name = Excel name.

Each takes a single cell or a range and returns a value or an array of the same shape; arguments
of different sizes broadcast like Excel's array arithmetic (one cell against a column). Argument
names avoid VBA's reserved words (``Date``, ``End``): xlwings writes them into VBA wrappers. A bad
argument never raises: that cell gets a text starting with ``#`` and a short Chinese reason, and in
a range only the bad cells do. On Linux the xlwings decorators are no-ops, so these are plain
functions over Python values (dates, Excel serial numbers, text, nested lists for ranges).

Examples::

    >>> AC_WARRANTY_END("2024-02-29", "屋面防水")
    datetime.datetime(2029, 2, 28, 0, 0)
    >>> AC_WARRANTY_END([["2024-06-30"], ["2024-13-01"]], "电气管线")
    [[datetime.datetime(2026, 6, 30, 0, 0)], ['#日期无效: 2024-13-01']]
    >>> AC_REPAIR_DUE("2026-09-28")
    datetime.datetime(2026, 10, 8, 0, 0)
    >>> AC_WARRANTY_STATUS("2026-12-31", "2026-11-21")
    '即将到期'
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable

import numpy as np
import pandas as pd
import xlwings as xw

from pyfuncs.core import callbacks, clock, warranty
from pyfuncs.core.dates import NAT, is_blank, to_dates
from pyfuncs.core.parts import PART_LABELS
from pyfuncs.core.settings import Settings

CATEGORY = "回访保修"
SHAPE_ERROR = "#参数区域大小不一致"


# --- shape handling: scalar / row / 2-D range in, the same shape out ---------------------------
def _as_array(x: Any) -> np.ndarray:
    if isinstance(x, np.ndarray):
        return x.astype(object)
    if isinstance(x, (list, tuple)):
        if len(x) and isinstance(x[0], (list, tuple)):
            try:  # a rectangular range: one C-level conversion
                out = np.array(x, dtype=object)
                if out.ndim == 2:
                    return out
            except ValueError:
                pass
            width = max(len(r) for r in x)  # ragged rows (only from Python callers): pad with blanks
            out = np.empty((len(x), width), dtype=object)
            for i, r in enumerate(x):
                out[i, : len(r)] = list(r)
            return out
        out = np.empty(len(x), dtype=object)
        out[:] = list(x)
        return out
    out = np.empty((), dtype=object)
    out[()] = x
    return out


def _broadcast(*args: Any) -> tuple[list[np.ndarray], tuple[int, ...]] | None:
    arrays = [_as_array(a) for a in args]
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        return None
    return [np.broadcast_to(a, shape).reshape(-1) for a in arrays], shape


def _shape_back(flat: np.ndarray, shape: tuple[int, ...]) -> Any:
    if shape == ():
        return flat[0]
    return flat.reshape(shape).tolist()


def _vectorised(*args: Any, compute: Callable[..., np.ndarray]) -> Any:
    b = _broadcast(*args)
    if b is None:
        return SHAPE_ERROR
    flat, shape = b
    return _shape_back(compute(*flat), shape)


def _out_dates(dates: np.ndarray, errors: dict[int, str]) -> np.ndarray:
    """datetime64 → datetime (Excel shows them as dates); NaT → None; errors → '#reason'."""
    out = dates.astype("datetime64[us]").astype(object)
    for i, msg in errors.items():
        out[i] = "#" + msg
    return out


def _dates_in(values: np.ndarray, errors: dict[int, str], blank_error: str | None = None) -> np.ndarray:
    d, bad = to_dates(values)
    for i, msg in bad.items():
        errors.setdefault(i, msg)
    if blank_error:
        for i in np.flatnonzero(np.isnat(d)):
            errors.setdefault(int(i), blank_error)
    return d


def _as_of(values: np.ndarray, errors: dict[int, str]) -> np.ndarray:
    d = _dates_in(values, errors)
    return np.where(np.isnat(d), np.datetime64(dt.date.today(), "D"), d)


def _ints(values: np.ndarray, errors: dict[int, str], what: str, default: int) -> np.ndarray:
    counts, given, wrong = clock.day_counts(values)
    for i in np.flatnonzero(wrong):
        errors.setdefault(int(i), f"{what}无效: {values[i]}")
    return np.where(given & ~wrong, counts, default)


# --- the functions --------------------------------------------------------------------------------
@xw.func(category=CATEGORY)
@xw.arg("start", ndim=2, doc="起算日期：竣工验收日期（或该部位单独验收的日期）")
@xw.arg("part", ndim=2, doc="保修部位：地基基础和主体结构、屋面防水、防渗漏、供热系统、供冷系统、电气管线、给排水管道、设备安装、装修工程、其他")
@xw.arg("term", ndim=2, doc="约定保修期（可空）：如 5年、18个月、2个采暖期；短于法定最低期限时按法定最低期限")
@xw.arg("city", ndim=2, doc="所在城市（可空）：决定采暖期、供冷期的起止")
@xw.arg("design_life", ndim=2, doc="合理使用年限（可空，默认50年）：地基基础和主体结构的保修期")
def AC_WARRANTY_END(start, part, term=None, city=None, design_life=None):
    """保修到期日：按保修部位、约定保修期与法定最低期限计算（同EDATE；采暖期/供冷期按第N个完整季度末）。"""

    def compute(start, part, term, city, life):
        errors: dict[int, str] = {}
        s = _dates_in(start, errors)
        r = warranty.warranty_ends(s, part, term, city, life)
        for i, msg in r.errors.items():
            errors.setdefault(i, msg)
        return _out_dates(r.ends, errors)

    return _vectorised(start, part, term, city, design_life, compute=compute)


@xw.func(category=CATEGORY)
@xw.arg("expiry", ndim=2, doc="保修到期日")
@xw.arg("as_of", ndim=2, doc="查询日期（可空，默认今天；建议填 TODAY()）")
@xw.arg("warn_days", ndim=2, doc="提前提醒天数（可空，默认90）")
def AC_WARRANTY_STATUS(expiry, as_of=None, warn_days=None):
    """保修状态：保修中 / 即将到期 / 已过保。"""

    def compute(end, as_of, warn):
        errors: dict[int, str] = {}
        e = _dates_in(end, errors, blank_error="缺少到期日期")
        a = _as_of(as_of, errors)
        w = _ints(warn, errors, "提醒天数", Settings().warn_days)
        out = np.full(len(e), "", dtype=object)
        for days in np.unique(w):
            rows = w == days
            out[rows] = warranty.warranty_status(e[rows], a[rows], int(days))
        for i, msg in errors.items():
            out[i] = "#" + msg
        return out

    return _vectorised(expiry, as_of, warn_days, compute=compute)


@xw.func(category=CATEGORY)
@xw.arg("notice", ndim=2, doc="报修日期（接到通知的日期）")
@xw.arg("urgency", ndim=2, doc="紧急程度（可空）：一般 / 紧急 / 涉及结构安全")
@xw.arg("days", ndim=2, doc="约定到场天数（可空，默认：一般7天、紧急1天、涉及结构安全1天）")
def AC_REPAIR_DUE(notice, urgency=None, days=None):
    """应到场日期：报修日期加约定天数；一般报修末日为法定休假日的顺延至其后第一个工作日。"""

    def compute(notice, urgency, days):
        errors: dict[int, str] = {}
        n = _dates_in(notice, errors, blank_error="缺少报修日期")
        due, errs = clock.repair_due(n, urgency, days)
        for i, msg in errs.items():
            errors.setdefault(i, msg)
        due[list(errors)] = NAT
        return _out_dates(due, errors)

    return _vectorised(notice, urgency, days, compute=compute)


@xw.func(category=CATEGORY)
@xw.arg("due", ndim=2, doc="应到场日期")
@xw.arg("arrival", ndim=2, doc="实际到场日期（可空：未到场按查询日期计）")
@xw.arg("as_of", ndim=2, doc="查询日期（可空，默认今天）")
def AC_OVERDUE_DAYS(due, arrival=None, as_of=None):
    """超期天数：到场日期（未到场按查询日期）减应到场日期，不为负。"""

    def compute(due, arrival, as_of):
        errors: dict[int, str] = {}
        d = _dates_in(due, errors, blank_error="缺少应到场日期")
        a = _dates_in(arrival, errors)
        today = _as_of(as_of, errors)
        late = np.full(len(d), np.nan)
        for day in np.unique(today):
            rows = today == day
            late[rows] = clock.overdue_days(d[rows], a[rows], day)
        out = np.nan_to_num(late).astype(np.int64).astype(object)  # Python ints
        out[np.isnan(late)] = None
        for i, msg in errors.items():
            out[i] = "#" + msg
        return out

    return _vectorised(due, arrival, as_of, compute=compute)


@xw.func(category=CATEGORY)
@xw.arg("when", ndim=2, doc="日期")
def AC_NEXT_WORKDAY(when):
    """该日或其后第一个工作日（按国务院放假调休安排及“节假日”表的休/班）。"""

    def compute(date):
        errors: dict[int, str] = {}
        d = _dates_in(date, errors, blank_error="缺少日期")
        return _out_dates(clock.default_calendar().next_workday(d), errors)

    return _vectorised(when, compute=compute)


@xw.func(category=CATEGORY)
@xw.arg("when", ndim=2, doc="日期")
def AC_IS_WORKDAY(when):
    """是否工作日：TRUE / FALSE（调休上班的周末为工作日）。"""

    def compute(date):
        errors: dict[int, str] = {}
        d = _dates_in(date, errors, blank_error="缺少日期")
        out = clock.default_calendar().is_workday(d).astype(object)
        for i, msg in errors.items():
            out[i] = "#" + msg
        return out

    return _vectorised(when, compute=compute)


CALLBACK_HEADER = ["回访日期", "回访类型", "涉及部位"]


@xw.func(category=CATEGORY)
@xw.arg("start", doc="竣工验收日期")
@xw.arg("parts", ndim=1, doc="保修部位（可空=全部十个部位）：一个区域，或用、分隔的文字")
@xw.arg("size", doc="项目规模（可空，默认中型）：大型 / 中型 / 小型")
@xw.arg("year", doc="计划年度（可空，默认今年）")
@xw.arg("four_new", doc="是否采用四新技术（可空，默认否）：是 / 否")
@xw.arg("city", doc="所在城市（可空）：决定采暖期前回访的日期")
@xw.ret(expand="table")
def AC_CALLBACKS(start, parts=None, size=None, year=None, four_new=None, city=None):
    """某项目某年度的回访计划（溢出为表格：回访日期、回访类型、涉及部位），各部位按法定默认保修期。"""
    try:
        errors: dict[int, str] = {}
        d = _dates_in(np.array([start], dtype=object), errors, blank_error="缺少竣工验收日期")
        if errors:
            return "#" + errors[0]
        y = dt.date.today().year if is_blank(year) else year
        try:
            y = int(float(y))
            if not 1900 < y < 2200:
                raise ValueError
        except (TypeError, ValueError):
            return f"#年度无效: {year}"
        if isinstance(parts, str):
            wanted = [p for p in parts.replace("，", "、").replace(",", "、").split("、") if p.strip()]
        else:
            wanted = [p for p in (parts or []) if not is_blank(p)]
        wanted = [str(p).strip() for p in wanted] or list(PART_LABELS)
        unknown = [p for p in wanted if p not in PART_LABELS]
        if unknown:
            return f"#保修部位无效: {unknown[0]}"
        z = "中型" if is_blank(size) else str(size).strip()
        if z not in ("大型", "中型", "小型"):
            return f"#项目规模无效: {size}"
        f = "否" if is_blank(four_new) else str(four_new).strip()
        if f not in ("是", "否"):
            return f"#四新技术应为是或否: {four_new}"
        projects = pd.DataFrame({"project_id": ["P"], "accepted": d, "size": [z], "four_new": [f],
                                 "city": [None if is_blank(city) else str(city).strip()]})
        all_parts = callbacks.project_parts(projects)
        plan = callbacks.plan_visits(projects, all_parts[all_parts["part"].isin(wanted)], y)
        rows = [[pd.Timestamp(r.date).to_pydatetime(), r.kinds, r.parts] for r in plan.itertuples()]
        return [CALLBACK_HEADER] + (rows or [[None, "（该年度无回访）", None]])
    except Exception as e:  # a worksheet function never raises into Excel
        return f"#计算出错: {e}"
