"""Turning whatever a cell holds into a date, or a clear problem.

A cell may hold a ``datetime``/``date``, an Excel serial number (the 1900 date system, with its
leap-year quirk: serial 60 is the non-existent 1900-02-29), ISO text, ``2024/3/5``, ``2024.3.5``,
``2024年3月5日`` or any of these in full-width digits. Blank is "no date", not an error.

Example::

    >>> to_date("２０２４年３月５日")
    datetime.date(2024, 3, 5)
    >>> to_date(45356.0)
    datetime.date(2024, 3, 5)
    >>> to_date("") is None
    True
    >>> dates, errors = to_dates(["2024-02-29", None, "2024-13-01", 61])
    >>> [str(d) for d in dates], errors
    (['2024-02-29', 'NaT', 'NaT', '1900-03-01'], {2: '日期无效: 2024-13-01'})
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from typing import Any, Iterable

import numpy as np
import pandas as pd

NAT = np.datetime64("NaT", "D")
EXCEL_EPOCH = np.datetime64("1899-12-30", "D")  # serial 0 for serials after the 1900-02-29 quirk
MIN_DATE = dt.date(1900, 1, 1)
MAX_SERIAL = 2958465  # 9999-12-31


class DateError(ValueError):
    """A cell that should hold a date holds something else; ``str(e)`` is the Chinese reason."""


_DATE_RE = re.compile(
    r"(\d{4})\s*(?:[-/.年])\s*(\d{1,2})\s*(?:[-/.月])\s*(\d{1,2})\s*日?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_COMPACT_RE = re.compile(r"(\d{4})(\d{2})(\d{2})")


def is_blank(value: Any) -> bool:
    """None, NaN, NaT and whitespace-only text are blank cells."""
    if value is None:
        return True
    t = type(value)  # the common cell types first: this runs once per cell of a big ledger
    if t is str:
        return not value.strip()
    if t is float:
        return value != value
    if t is int or t is bool or t is dt.date or t is dt.datetime:
        return False
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def from_serial(serial: float) -> dt.date:
    """An Excel serial (1900 date system) → date. The time-of-day fraction is dropped.

    >>> from_serial(59), from_serial(61)
    (datetime.date(1900, 2, 28), datetime.date(1900, 3, 1))
    """
    if isinstance(serial, bool) or not math.isfinite(serial):
        raise DateError(f"日期无效: {serial}")
    day = math.floor(serial)
    if day == 60:
        raise DateError("日期无效: 序号60是不存在的1900-02-29")
    if day < 1 or day > MAX_SERIAL:
        raise DateError(f"日期无效: 序号{_num_text(serial)}超出Excel日期范围")
    if day < 60:
        day += 1
    return dt.date(1899, 12, 30) + dt.timedelta(days=day)


def to_serial(date: dt.date) -> int:
    """date → Excel serial (1900 date system).

    >>> to_serial(dt.date(2024, 3, 5))
    45356
    """
    n = (date - dt.date(1899, 12, 30)).days
    return n if n > 60 else n - 1


def to_date(value: Any) -> dt.date | None:
    """One cell → ``date``, ``None`` for blank, or raises :class:`DateError`."""
    if is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        d = value.date()
    elif isinstance(value, dt.date):
        d = value
    elif isinstance(value, np.datetime64):
        d = pd.Timestamp(value).date()
    elif isinstance(value, bool):
        raise DateError(f"日期无效: {value}")
    elif isinstance(value, (int, float, np.integer, np.floating)):
        return from_serial(float(value))
    elif isinstance(value, str):
        d = _parse_text(value)
    else:
        raise DateError(f"日期无效: {value!r}")
    if d < MIN_DATE:
        raise DateError(f"日期无效: {d.isoformat()}早于1900-01-01")
    return d


def _parse_text(text: str) -> dt.date:
    s = unicodedata.normalize("NFKC", text).strip()
    m = _DATE_RE.fullmatch(s) or _COMPACT_RE.fullmatch(s)
    if not m:
        raise DateError(f"日期无效: {text.strip()}")
    y, mo, d = (int(g) for g in m.groups())
    try:
        return dt.date(y, mo, d)
    except ValueError:
        raise DateError(f"日期无效: {text.strip()}") from None


def _num_text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def serials_to_dates(serials: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised Excel serials → (datetime64[D] array, bool mask of invalid serials)."""
    s = np.asarray(serials, dtype=float)
    with np.errstate(invalid="ignore"):
        day = np.floor(s)
        bad = ~np.isfinite(s) | (day < 1) | (day > MAX_SERIAL) | (day == 60)
        day = np.where(bad, 0, day).astype(np.int64)
    day = np.where(day < 60, day + 1, day)
    out = EXCEL_EPOCH + day.astype("timedelta64[D]")
    out[bad] = NAT
    return out, bad


def to_dates(values: Iterable[Any] | np.ndarray | pd.Series) -> tuple[np.ndarray, dict[int, str]]:
    """A column of cells → (datetime64[D] array with NaT for blank or bad, {position: reason}).

    One call for the whole column: numeric and datetime columns convert in numpy; mixed columns
    parse each distinct value once.
    """
    arr = values.to_numpy() if isinstance(values, (pd.Series, pd.Index)) else np.asarray(values)
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    n = len(arr)
    if arr.dtype.kind == "M":
        out = arr.astype("datetime64[D]")
        bad = ~np.isnat(out) & (out < np.datetime64("1900-01-01"))
        return _with_errors(out, bad, arr)
    if arr.dtype.kind in "iuf":
        out, bad = serials_to_dates(arr)
        bad &= ~np.isnan(arr.astype(float))
        return _with_errors(out, bad, arr)
    if arr.dtype.kind == "b":
        return np.full(n, NAT), {i: f"日期无效: {v}" for i, v in enumerate(arr)}
    if arr.dtype.kind in "UST":
        arr = arr.astype(object)
    kind = pd.api.types.infer_dtype(arr, skipna=True)
    if kind in ("floating", "integer", "mixed-integer-float"):  # Excel serials, blanks as None/NaN
        num = np.array([np.nan if v is None else v for v in arr], dtype=float) if None in arr else arr.astype(float)
        return to_dates(num)
    if kind == "datetime":  # datetime.datetime / Timestamp cells
        return to_dates(pd.to_datetime(pd.Series(arr, dtype=object)).to_numpy())
    # object column: parse each distinct value once, then broadcast back
    codes, uniques = pd.factorize(pd.Series(arr, dtype=object), use_na_sentinel=True)
    parsed = np.full(len(uniques) + 1, NAT)
    reasons: dict[int, str] = {}
    for k, v in enumerate(uniques):
        try:
            d = to_date(v)
        except DateError as e:
            reasons[k] = str(e)
            continue
        if d is not None:
            parsed[k] = np.datetime64(d, "D")
    out = parsed[codes]  # code -1 (missing) picks the trailing NaT
    errors = {}
    if reasons:
        bad_codes = np.fromiter(reasons, dtype=np.int64)
        for i in np.flatnonzero(np.isin(codes, bad_codes)):
            errors[int(i)] = reasons[int(codes[i])]
    return out, errors


def _with_errors(out: np.ndarray, bad: np.ndarray, raw: np.ndarray) -> tuple[np.ndarray, dict[int, str]]:
    errors = {}
    for i in np.flatnonzero(bad):
        v = raw[i]
        if isinstance(v, np.datetime64):
            errors[int(i)] = f"日期无效: {str(v)[:10]}早于1900-01-01"
        elif float(v) == 60 or math.floor(float(v)) == 60:
            errors[int(i)] = "日期无效: 序号60是不存在的1900-02-29"
        else:
            errors[int(i)] = f"日期无效: 序号{_num_text(float(v))}超出Excel日期范围"
    out = out.copy()
    out[bad] = NAT
    return out, errors


def as_datetime64(values: Any) -> np.ndarray:
    """Dates already checked (date objects, Timestamps, datetime64, NaT/None) → datetime64[D]."""
    arr = values.to_numpy() if isinstance(values, (pd.Series, pd.Index)) else values
    if isinstance(arr, np.ndarray) and arr.dtype.kind == "M":
        return arr.astype("datetime64[D]")
    out, _ = to_dates(arr if isinstance(arr, np.ndarray) else list(arr))
    return out


def to_pydate(d: np.datetime64) -> dt.date | None:
    """datetime64 → date, or None for NaT."""
    if np.isnat(d):
        return None
    return dt.date.fromordinal(int(d.astype("datetime64[D]").astype(np.int64)) + 719163)


_MONTH_DAYS_FROM_MARCH = np.array([31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 31, 28], dtype=np.int64)


def add_months(dates: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """Excel ``EDATE`` over a column: same day of the month ``months`` later, clamped to month end.

    >>> [str(d) for d in add_months(np.array(["2024-02-29", "2024-01-31"], "datetime64[D]"), np.array([60, 1]))]
    ['2029-02-28', '2024-02-29']

    Integer calendar arithmetic (H. Hinnant's days↔civil algorithms, years counted from March so
    that February is the last month): twice as fast as numpy's datetime64[M] conversions, and
    tested equal to them and to LibreOffice's EDATE.
    """
    d = np.asarray(dates, dtype="datetime64[D]")
    nat = np.isnat(d)
    z = np.where(nat, 0, d.view(np.int64)) + 719468  # days since 0000-03-01
    era = z // 146097
    doe = z - era * 146097                                              # day of the 400-year era
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365      # year of the era
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)                      # day of the March year
    mp = (5 * doy + 2) // 153                                           # month, 0 = March
    day = doy - (153 * mp + 2) // 5 + 1
    t = (era * 400 + yoe) * 12 + mp + np.asarray(months, dtype=np.int64)
    y, mp = t // 12, t % 12
    feb_year = y + 1  # February (mp 11) belongs to the next calendar year
    leap = (feb_year % 4 == 0) & ((feb_year % 100 != 0) | (feb_year % 400 == 0))
    day = np.minimum(day, _MONTH_DAYS_FROM_MARCH[mp] + ((mp == 11) & leap))
    era = y // 400
    yoe = y - era * 400
    out = (era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + (153 * mp + 2) // 5 + day - 1 - 719468)
    return np.where(nat, NAT.view(np.int64), out).view("datetime64[D]")


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def edate(day: dt.date, months: int) -> dt.date | None:
    """:func:`add_months` on one date, in plain Python (a worksheet function plans one project
    per call, where a numpy call per date would cost more than the rule); None outside the
    years 1–9999. tests/test_udf_callbacks.py holds the two equal on random dates.

    >>> edate(dt.date(2024, 2, 29), 60), edate(dt.date(2024, 1, 31), 1), edate(dt.date(9999, 1, 1), 12)
    (datetime.date(2029, 2, 28), datetime.date(2024, 2, 29), None)
    """
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    if not 1 <= year <= 9999:
        return None
    last = _MONTH_DAYS[month0]
    if month0 == 1 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        last = 29
    return dt.date(year, month0 + 1, day.day if day.day <= last else last)
