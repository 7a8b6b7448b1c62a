"""Worksheet functions (UDFs) staff type into cells. Python name = Excel name.

Two layers:

- the plain functions :func:`warranty_end`, :func:`warranty_status`, :func:`repair_due`,
  :func:`overdue_days`, :func:`next_workday`, :func:`is_workday` and :func:`callbacks_table` take
  the settings and the working-day calendar as keyword arguments (default: the built-in
  defaults). Tests and Python code call these; they are pure.
- the ``AC_`` functions Excel calls (xlwings UDFs). Each receives, besides the arguments staff
  type, a hidden ``stamp`` that its VBA wrapper fills in; :func:`pyfuncs.udf_tables.tables_for`
  turns it into the calling workbook's 设置 (with its 城市季节 table) and 节假日 calendar, read
  once per workbook and cached until those sheets change. So a function gives the same answer as
  the ribbon job for the same row. Out of Excel (no stamp) they use the defaults.

Each takes a single cell or a range and returns a value or an array of the same shape; arguments
of different sizes broadcast like Excel's array arithmetic (one cell against a column). Argument
names avoid VBA's reserved words (``Date``, ``End``): xlwings writes them into VBA wrappers. A bad
argument never raises: that cell gets a text starting with ``#`` and a short Chinese reason, and in
a range only the bad cells do. An Excel error value passed in (``#N/A``, ``#DIV/0!`` …) comes back
as a text that names it and the argument, e.g. ``#N/A（起算日期为错误值）`` (xlwings'
``err_to_str`` option on every argument; without it the error would arrive as an empty cell).
On Linux the xlwings decorators are no-ops, so these are plain functions over Python values
(dates, Excel serial numbers, text, nested lists for ranges).

Examples::

    >>> AC_WARRANTY_END("2024-02-29", "屋面防水")
    datetime.datetime(2029, 2, 28, 0, 0)
    >>> AC_WARRANTY_END([["2024-06-30"], ["2024-13-01"]], "电气管线")
    [[datetime.datetime(2026, 6, 30, 0, 0)], ['#日期无效: 2024-13-01']]
    >>> AC_REPAIR_DUE("2026-09-28")
    datetime.datetime(2026, 10, 8, 0, 0)
    >>> repair_due("2026-12-01", settings=Settings(clock_days=3))
    datetime.datetime(2026, 12, 4, 0, 0)
    >>> AC_WARRANTY_STATUS("2026-12-31", "2026-11-21")
    '即将到期'
    >>> AC_WARRANTY_END("#N/A", "屋面防水")
    '#N/A（起算日期为错误值）'
"""
from __future__ import annotations

import datetime as dt
import inspect
import re
from typing import Any, Callable

import numpy as np
import xlwings as xw

from pyfuncs.core import clock, warranty
from pyfuncs.core.calendar import WorkCalendar
from pyfuncs.core.dates import NAT, DateError, is_blank, to_date, to_dates
from pyfuncs.core.parts import PART_LABELS
from pyfuncs.core.callbacks import default_part_rows, project_plan, visit_text
from pyfuncs.core.settings import Settings
from pyfuncs.udf_tables import Tables, TablesError, tables_for

CATEGORY = "回访保修"
SHAPE_ERROR = "#参数区域大小不一致"

#: The hidden arguments the VBA wrappers fill in (module ``UdfSupport``, :mod:`pyfuncs.build_udfs`):
#: ``stamp`` = "<workbook>|<version of its 设置/节假日>"; ``area`` = "rows,cols,dynamic" of the
#: calling cells (dynamic = 1 when Excel spills arrays).
STAMP_VBA = "AcTablesStamp()"
AREA_VBA = "AcCallerArea()"
HIDDEN_ARGS = {"stamp": STAMP_VBA, "area": AREA_VBA}

#: Excel's error values by their code (``CVErr`` number); COM hands them over as
#: ``-2146826288 + (code - 2000)`` and xlwings' ``err_to_str`` turns the first seven into text.
EXCEL_ERRORS = {
    2000: "#NULL!", 2007: "#DIV/0!", 2015: "#VALUE!", 2023: "#REF!", 2029: "#NAME?", 2036: "#NUM!",
    2042: "#N/A", 2043: "#GETTING_DATA", 2045: "#SPILL!", 2046: "#CONNECT!", 2047: "#BLOCKED!",
    2048: "#UNKNOWN!", 2049: "#FIELD!", 2050: "#CALC!", 2051: "#BUSY!",
}
_SCODE_BASE = -2146826288 - 2000
_ERROR_BY_VALUE: dict[Any, str] = {**{name: name for name in EXCEL_ERRORS.values()},
                                   **{_SCODE_BASE + code: name for code, name in EXCEL_ERRORS.items()}}
_ERROR_KEYS = list(_ERROR_BY_VALUE)

#: Function name → {argument: Chinese help}, in signature order (the function wizard's texts;
#: the text before the first ：or （ names the argument in error messages).
ARG_HELP: dict[str, dict[str, str]] = {}


def worksheet_function(ndim: int | None = 2, ndims: dict[str, int] | None = None, **docs: str) -> Callable:
    """Declare an AC_ function to xlwings: category 回访保修, the Chinese help of each argument
    (``docs``, in signature order), ``err_to_str`` and ``ndim`` on every argument staff type,
    and the hidden arguments of :data:`HIDDEN_ARGS` it has filled in by its VBA wrapper."""

    def wrap(f: Callable) -> Callable:
        params = list(inspect.signature(f).parameters)
        visible = [p for p in params if p not in HIDDEN_ARGS]
        if list(docs) != visible:
            raise TypeError(f"{f.__name__}: help for {list(docs)}, arguments {visible}")
        ARG_HELP[f.__name__] = dict(docs)
        for name, doc in docs.items():
            options: dict[str, Any] = {"err_to_str": True}
            d = (ndims or {}).get(name, ndim)
            if d is not None:
                options["ndim"] = d
            f = xw.arg(name, doc=doc, **options)(f)
        for name in params:
            if name in HIDDEN_ARGS:
                f = xw.arg(name, vba=HIDDEN_ARGS[name], doc="（由工作簿自动提供）")(f)
        return xw.func(category=CATEGORY)(f)

    return wrap


def arg_label(func: str, arg: str) -> str:
    """The short Chinese name of an argument, from its help.

    >>> arg_label("AC_WARRANTY_END", "term")
    '约定保修期'
    """
    return re.split(r"[：（(:]", ARG_HELP[func][arg], maxsplit=1)[0].strip()


def excel_error(value: Any) -> str | None:
    """The Excel error a cell value stands for (``"#N/A"`` …), or None.

    >>> excel_error("#DIV/0!"), excel_error(-2146826246), excel_error("N/A"), excel_error(True)
    ('#DIV/0!', '#N/A', None, None)
    """
    t = type(value)
    if t is str or t is int:
        return _ERROR_BY_VALUE.get(value)
    return None


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


def _shape_back(flat: np.ndarray, shape: tuple[int, ...]) -> Any:
    if shape == ():
        return flat[0]
    return flat.reshape(shape).tolist()


def _error_cells(values: np.ndarray) -> list[tuple[int, str]]:
    """(flat position, error name) of the Excel error values in an argument's cells."""
    flat = values.reshape(-1)
    if len(flat) > 64:  # a big range: find the candidates in C first (hits are rare)
        import pandas as pd

        hit = pd.Series(flat, dtype=object, copy=False).isin(_ERROR_KEYS).to_numpy()
        if not hit.any():
            return []
        candidates = np.flatnonzero(hit).tolist()
    else:
        candidates = range(len(flat))
    found = []
    for i in candidates:
        name = excel_error(flat[i])
        if name:
            found.append((int(i), name))
    return found


def _vectorised(func: str, *args: Any, compute: Callable[..., np.ndarray]) -> Any:
    """Broadcast ``args``, mark Excel error cells (the first bad argument names the error),
    compute the rest and put the marks over the result."""
    arrays = [_as_array(a) for a in args]
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        return SHAPE_ERROR
    names = list(ARG_HELP[func])
    marks: np.ndarray | None = None
    flat = []
    for j, a in enumerate(arrays):
        found = _error_cells(a)
        if found:
            a = a.copy()
            text = np.full(a.shape, None, dtype=object)
            for i, name in found:
                at = np.unravel_index(i, a.shape) if a.shape else ()
                a[at] = None
                text[at] = f"{name}（{arg_label(func, names[j])}为错误值）"
            spread = np.broadcast_to(text, shape).reshape(-1)
            marks = spread.copy() if marks is None else np.where(np.equal(marks, None), spread, marks)
        flat.append(np.broadcast_to(a, shape).reshape(-1))
    out = compute(*flat)
    if marks is not None:
        at = np.flatnonzero(~np.equal(marks, None))
        out[at] = marks[at]
    return _shape_back(out, shape)


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


def _cal(calendar: WorkCalendar | None) -> WorkCalendar:
    return calendar or clock.default_calendar()


# --- the plain functions: settings and calendar passed in ---------------------------------------
def warranty_end(start, part, term=None, city=None, design_life=None, *, settings: Settings | None = None):
    """Warranty end per cell (see :func:`AC_WARRANTY_END`), with ``settings``' season table and
    default design life."""
    s = settings or Settings()

    def compute(start, part, term, city, life):
        errors: dict[int, str] = {}
        d = _dates_in(start, errors)
        r = warranty.warranty_ends(d, part, term, city, life, s)
        for i, msg in r.errors.items():
            errors.setdefault(i, msg)
        return _out_dates(r.ends, errors)

    return _vectorised("AC_WARRANTY_END", start, part, term, city, design_life, compute=compute)


def warranty_status(expiry, as_of=None, warn_days=None, *, settings: Settings | None = None):
    """保修中 / 即将到期 / 已过保 per cell; ``warn_days`` blank → ``settings.warn_days``."""
    s = settings or Settings()

    def compute(end, as_of, warn):
        errors: dict[int, str] = {}
        e = _dates_in(end, errors, blank_error="缺少到期日期")
        a = _as_of(as_of, errors)
        w = _ints(warn, errors, "提醒天数", s.warn_days)
        out = np.full(len(e), "", dtype=object)
        for days in np.unique(w):
            rows = w == days
            out[rows] = warranty.warranty_status(e[rows], a[rows], int(days))
        for i, msg in errors.items():
            out[i] = "#" + msg
        return out

    return _vectorised("AC_WARRANTY_STATUS", expiry, as_of, warn_days, compute=compute)


def repair_due(notice, urgency=None, days=None, *, settings: Settings | None = None,
               calendar: WorkCalendar | None = None):
    """The on-site deadline per cell, with ``settings``' days and roll-forward and ``calendar``."""

    def compute(notice, urgency, days):
        errors: dict[int, str] = {}
        n = _dates_in(notice, errors, blank_error="缺少报修日期")
        due, errs = clock.repair_due(n, urgency, days, settings, _cal(calendar))
        for i, msg in errs.items():
            errors.setdefault(i, msg)
        due[list(errors)] = NAT
        return _out_dates(due, errors)

    return _vectorised("AC_REPAIR_DUE", notice, urgency, days, compute=compute)


def overdue_days(due, arrival=None, as_of=None, done=None, accepted=None, state=None, in_warranty=None, *,
                 settings: Settings | None = None):
    """超期天数 per cell, the ledger's definition (:func:`pyfuncs.core.clock.ticket_overdue_days`;
    a repair whose 是否在保 is 否 has no clock unless ``settings`` count it, :func:`~pyfuncs.core.clock.no_clock`)."""
    s = settings or Settings()

    def compute(due, arrival, as_of, done, accepted, state, in_warranty):
        errors: dict[int, str] = {}
        d = _dates_in(due, errors, blank_error="缺少应到场日期")
        a = _dates_in(arrival, errors)
        f = _dates_in(done, errors)
        c = _dates_in(accepted, errors)
        today = _as_of(as_of, errors)
        late = np.full(len(d), np.nan)
        for day in np.unique(today):
            rows = today == day
            late[rows] = clock.ticket_overdue_days(d[rows], a[rows], f[rows], c[rows], state[rows], day)
        late[clock.no_clock(in_warranty, len(d), s)] = np.nan
        out = np.nan_to_num(late).astype(np.int64).astype(object)  # Python ints
        out[np.isnan(late)] = None
        for i, msg in errors.items():
            out[i] = "#" + msg
        return out

    return _vectorised("AC_OVERDUE_DAYS", due, arrival, as_of, done, accepted, state, in_warranty, compute=compute)


def next_workday(when, *, calendar: WorkCalendar | None = None):
    """The day itself if it is a working day, else the next one, per ``calendar``."""

    def compute(date):
        errors: dict[int, str] = {}
        d = _dates_in(date, errors, blank_error="缺少日期")
        return _out_dates(_cal(calendar).next_workday(d), errors)

    return _vectorised("AC_NEXT_WORKDAY", when, compute=compute)


def is_workday(when, *, calendar: WorkCalendar | None = None):
    """TRUE / FALSE per cell, per ``calendar``."""

    def compute(date):
        errors: dict[int, str] = {}
        d = _dates_in(date, errors, blank_error="缺少日期")
        out = _cal(calendar).is_workday(d).astype(object)
        for i, msg in errors.items():
            out[i] = "#" + msg
        return out

    return _vectorised("AC_IS_WORKDAY", when, compute=compute)


CALLBACK_HEADER = ["回访日期", "回访类型", "涉及部位", "回访事由及说明"]
NO_VISITS = "（该年度无回访）"


def callbacks_table(start, parts=None, size=None, year=None, four_new=None, city=None, *,
                    settings: Settings | None = None, calendar: WorkCalendar | None = None):
    """One project's visits in a year as a table (header + one row per visit), or ``#reason``.

    The rows are the plan job's for the same project (:func:`pyfuncs.core.callbacks.project_plan`,
    the same rules): the parts get their statutory default terms from ``start``; ``settings``
    gives the visit timings, seasons and design life, ``calendar`` the working days. Like the
    plan, 项目规模 other than 大型/中型/小型 plans as 中型 and 四新技术 is text (blank, 否, 无 =
    none), with what a missing or unusual value changed in the 回访事由及说明 column.

    >>> t = callbacks_table("2025-09-01", "电气管线", "特大型", 2026, "装配式混凝土结构")
    >>> t[0]
    ['回访日期', '回访类型', '涉及部位', '回访事由及说明']
    >>> t[1]
    [datetime.datetime(2026, 2, 28, 0, 0), '例行回访', '电气管线', '中期例行回访（交付满6个月）']
    >>> t[2][:3]
    [datetime.datetime(2026, 9, 1, 0, 0), '例行回访、技术性回访', '电气管线']
    >>> print(t[2][3])
    例行回访（交付满12个月）；四新技术（装配式混凝土结构）应用情况回访（交付满1年）。注：项目规模「特大型」不是大型/中型/小型，例行回访按中型每6个月安排
    """
    values = (start, parts, size, year, four_new, city)
    for name, value in zip(ARG_HELP["AC_CALLBACKS"], values):
        for v in (value if isinstance(value, (list, tuple)) else [value]):
            code = excel_error(v)
            if code:
                return f"{code}（{arg_label('AC_CALLBACKS', name)}为错误值）"
    try:
        try:
            accepted = to_date(start)
        except DateError as e:
            return "#" + str(e)
        if accepted is None:
            return "#缺少竣工验收日期"
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
        wanted = [p for p in PART_LABELS if p in wanted]  # each once, in the usual order
        town = None if is_blank(city) else str(city).strip()
        rows = default_part_rows(accepted, wanted, town, settings)
        visits = project_plan(accepted, y, rows, size, four_new, town, settings, calendar)
        table = [[dt.datetime(v.date.year, v.date.month, v.date.day), v.kinds, v.parts, visit_text(v.reasons, v.notes)]
                 for v in visits]
        return [list(CALLBACK_HEADER)] + (table or [[None, NO_VISITS, None, None]])
    except Exception as e:  # a worksheet function never raises into Excel
        return f"#计算出错: {e}"


def fit_table(table: Any, area: Any) -> Any:
    """What the calling cells can show of ``table`` (``area`` = "rows,cols,dynamic" from VBA).

    - one cell in an Excel that spills (365/2021), or no area (outside Excel): the table itself;
    - one cell in an Excel without dynamic arrays (2016/2019): one text listing every visit;
    - a block entered as an array formula (Ctrl+Shift+Enter): the table cut or padded with
      blanks to the block (no #N/A in spare cells; a last row says how many visits did not fit).

    >>> t = [CALLBACK_HEADER, [dt.datetime(2026, 4, 15), "季节性回访", "供冷系统", "供冷期前空调通风检查"]]
    >>> fit_table(t, "1,1,0")
    '2026-04-15 季节性回访（供冷系统）'
    >>> fit_table(t, "3,4,0")[2]
    ['', '', '', '']
    """
    if not isinstance(table, list):
        return table
    try:
        rows, cols, dynamic = (int(x) for x in str(area).split(","))
    except ValueError:
        return table
    if rows == 1 and cols == 1:
        return table if dynamic else summary_text(table)
    out = [list(r[:cols]) + [""] * (cols - len(r)) for r in table[:rows]]
    if len(table) > rows:
        hidden = len(table) - rows + 1
        out[-1] = [f"…另有{hidden}次回访未显示，请把数组公式区域扩大到{len(table)}行"] + [""] * (cols - 1)
    out += [[""] * cols for _ in range(rows - len(out))]
    return out


def summary_text(table: list) -> str:
    """The visits of a :func:`callbacks_table` as one line of text: date, kinds and parts (the
    事由及说明 column would make the line too long to read in one cell)."""
    parts = []
    for day, kinds, ps, *_ in table[1:]:
        if day is None:
            parts.append(kinds)
        else:
            parts.append(f"{day:%Y-%m-%d} {kinds}（{ps}）" if ps else f"{day:%Y-%m-%d} {kinds}")
    return "；".join(parts)


# --- the worksheet functions -------------------------------------------------------------------
def _tables(stamp: Any) -> Tables | str:
    try:
        return tables_for(stamp)
    except TablesError as e:
        return "#" + str(e)


@worksheet_function(
    start="起算日期：竣工验收日期（或该部位单独验收的日期）",
    part="保修部位：地基基础和主体结构、屋面防水、防渗漏、供热系统、供冷系统、电气管线、给排水管道、设备安装、装修工程、其他",
    term="约定保修期（可空）：如 5年、18个月、2个采暖期；短于法定最低期限时按法定最低期限",
    city="所在城市（可空）：按“设置”表的城市季节决定采暖期、供冷期的起止",
    design_life="合理使用年限（可空，默认按“设置”的默认合理使用年限）：地基基础和主体结构的保修期",
)
def AC_WARRANTY_END(start, part, term=None, city=None, design_life=None, stamp=None):
    """保修到期日：按保修部位、约定保修期与法定最低期限计算（同EDATE；采暖期/供冷期按本工作簿“设置”的城市季节，第N个完整季度末）。改了“设置”后结果未更新时按 Ctrl+Alt+F9。"""
    t = _tables(stamp)
    if isinstance(t, str):
        return t
    return warranty_end(start, part, term, city, design_life, settings=t.settings)


@worksheet_function(
    expiry="保修到期日",
    as_of="查询日期（可空，默认今天；建议填 TODAY()）",
    warn_days="提前提醒天数（可空，默认按“设置”的到期提醒天数）",
)
def AC_WARRANTY_STATUS(expiry, as_of=None, warn_days=None, stamp=None):
    """保修状态：保修中 / 即将到期 / 已过保（提醒天数默认取本工作簿“设置”）。改了“设置”后结果未更新时按 Ctrl+Alt+F9。"""
    t = _tables(stamp)
    if isinstance(t, str):
        return t
    return warranty_status(expiry, as_of, warn_days, settings=t.settings)


@worksheet_function(
    notice="报修日期（接到通知的日期）",
    urgency="紧急程度（可空）：一般 / 紧急 / 涉及结构安全",
    days="约定到场天数（可空，默认按“设置”：报修到场天数、紧急到场天数、结构安全到场天数）",
)
def AC_REPAIR_DUE(notice, urgency=None, days=None, stamp=None):
    """应到场日期：报修日期加到场天数（按本工作簿“设置”）；一般报修末日为法定休假日的顺延至其后第一个工作日（按“节假日”表）。改了设置或节假日后未更新时按 Ctrl+Alt+F9。"""
    t = _tables(stamp)
    if isinstance(t, str):
        return t
    return repair_due(notice, urgency, days, settings=t.settings, calendar=t.calendar)


@worksheet_function(
    due="应到场日期",
    arrival="实际到场日期（可空：未到场按查询日期计）",
    as_of="查询日期（可空，默认今天）",
    done="完成日期（可空：未填到场日期时以此作为到场日期）",
    accepted="验收日期（可空：到场、完成日期都未填时以此作为到场日期）",
    state="状态（可空）：已完成、已验收、已关闭且无日期的报修不再计超期",
    in_warranty="是否在保（可空）：否 = 过保的有偿维修，不计超期（除非“设置”中过保报修计超期为是）",
)
def AC_OVERDUE_DAYS(due, arrival=None, as_of=None, done=None, accepted=None, state=None, in_warranty=None,
                    stamp=None):
    """超期天数：到场日期（未到场按查询日期；未填到场的按完成或验收日期）减应到场日期，不为负；过保的有偿维修不计；与“刷新台账”的超期天数相同。"""
    t = _tables(stamp)
    if isinstance(t, str):
        return t
    return overdue_days(due, arrival, as_of, done, accepted, state, in_warranty, settings=t.settings)


@worksheet_function(when="日期")
def AC_NEXT_WORKDAY(when, stamp=None):
    """该日或其后第一个工作日（按国务院放假调休安排及本工作簿“节假日”表的休/班）。改了节假日后结果未更新时按 Ctrl+Alt+F9。"""
    t = _tables(stamp)
    if isinstance(t, str):
        return t
    return next_workday(when, calendar=t.calendar)


@worksheet_function(when="日期")
def AC_IS_WORKDAY(when, stamp=None):
    """是否工作日：TRUE / FALSE（调休上班的周末为工作日；按本工作簿“节假日”表的休/班）。改了节假日后结果未更新时按 Ctrl+Alt+F9。"""
    t = _tables(stamp)
    if isinstance(t, str):
        return t
    return is_workday(when, calendar=t.calendar)


@worksheet_function(
    ndim=None,
    ndims={"parts": 1},
    start="竣工验收日期",
    parts="保修部位（可空=全部十个部位）：一个区域，或用、分隔的文字",
    size="项目规模（可空）：大型 / 中型 / 小型；空白或其他按中型安排例行回访，在事由及说明中注明",
    year="计划年度（可空，默认今年）",
    four_new="四新技术（可空）：采用的新技术名称（如 装配式混凝土结构）或“是”；空白、否、无 = 未采用",
    city="所在城市（可空）：决定采暖期前回访的日期",
)
def AC_CALLBACKS(start, parts=None, size=None, year=None, four_new=None, city=None, stamp=None, area=None):
    """某项目某年度的回访计划（回访日期、回访类型、涉及部位、回访事由及说明），与“生成年度回访计划”同一规则，按本工作簿“设置”和“节假日”。Excel 365/2021 自动溢出为表格；Excel 2016 单元格内显示一行文字，或选中区域按 Ctrl+Shift+Enter 输入为数组公式。改了设置后未更新时按 Ctrl+Alt+F9。"""
    t = _tables(stamp)
    if isinstance(t, str):
        return t
    return fit_table(callbacks_table(start, parts, size, year, four_new, city,
                                     settings=t.settings, calendar=t.calendar), area)
