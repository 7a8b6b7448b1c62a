"""A recording fake of Excel's COM objects, beneath the real xlwings Windows code.

Test and benchmark infrastructure (``tests/test_xlbook.py``, ``python -m pyfuncs.bench``); the
product never imports it. There is no Excel on the build machine, but what the ribbon's jobs cost
in Excel is mostly how many times they cross the process boundary, and that can be counted.

- :func:`xlwindows` imports the real ``xlwings._xlwindows`` (xlwings' Windows engine) behind the
  stand-in pywin32 modules of :mod:`pyfuncs.winstubs`;
- :class:`Application` is a fake ``Excel.Application``: workbooks, worksheets, ranges, tables
  (ListObjects), formats, merges, row heights, outlines, page setup, hyperlinks, charts, windows,
  the status bar and message boxes. Every property get, property set and method call on any of
  its objects is one round trip, counted by its :class:`Recorder`;
- :func:`xlwings_book` gives the ``xlwings.Book`` that ``xw.Book.caller()`` gives a RunPython
  macro, and :func:`caller` makes ``xw.Book.caller()`` itself return it.

Excel's behaviour that matters to the jobs is modelled, not stubbed: cells hold what was written
and ``Value`` reads it back as Excel gives it (tuples of rows, numbers as floats, dates as
``pywintypes`` datetimes where the number format is a date format); setting ``Value`` to a string
parses it the way Excel parses typed input — ``"=..."`` enters a formula, ``"-x"``/``"+x"``/``"@x"``
too, ``"0012"`` becomes the number 12, ``"2026-11-21"`` a date, ``"TRUE"`` a boolean — unless
the cell's number format is text (``"@"``) or the string starts with an apostrophe. A range address
longer than 255 characters is refused, as Excel refuses it. Values that pywin32 cannot marshal
(``datetime.date``, numpy integers) are refused with pywin32's error. The fake does not calculate:
a formula entered through COM reads back as empty (its ``Formula`` holds the text); formulas loaded
from a file keep their cached values.

The application also records what staff would notice: ``status_history`` (every status bar text),
``message_boxes`` (xlwings' ``App.alert``), ``dialogs`` (prompts Excel would have shown because
``DisplayAlerts`` was on), and ``screen_changes`` / ``events`` / ``recalcs``: cell changes made
while screen updating, events or automatic calculation were on.

Example::

    >>> app = Application()
    >>> wb = app.add_workbook("demo.xlsm", ["台账"])
    >>> ws = wb.Worksheets("台账")
    >>> ws.Range("A1:B2").Value = (("=1+1", "'=1+1"), ("0012", "项目"))
    >>> ws.Range("A1:B2").Value
    ((None, '=1+1'), (12.0, '项目'))
    >>> ws.Range("A1").Formula
    '=1+1'
    >>> app.rec.calls  # Worksheets, ("台账"); Range, Value= ; Range, Value ; Range, Formula
    8
    >>> book = xlwings_book(wb)
    >>> book.sheets["台账"].range("B2").value
    '项目'
"""
from __future__ import annotations

import contextlib
import copy
import datetime as dt
import decimal
import math
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

from pyfuncs.io.book import col_letter, col_number as _col_number
from pyfuncs.winstubs import CDispatch, ComError, TimeType, installed, message_box_hooks

MAX_ROWS = 1_048_576
MAX_COLS = 16_384
#: Excel's error 1004 ("Application-defined or object-defined error") and friends
E_EXCEL = -2146827284
DISP_E_BADINDEX = -2147352565
DISP_E_UNKNOWNNAME = -2147352570
ERRORS = {"#NULL!": -2146826288, "#DIV/0!": -2146826281, "#VALUE!": -2146826273, "#REF!": -2146826265,
          "#NAME?": -2146826259, "#NUM!": -2146826252, "#N/A": -2146826246}
ERROR_TEXT = {v: k for k, v in ERRORS.items()}
RANGE_IID = "{00020846-0000-0000-C000-000000000046}"
EPOCH = dt.datetime(1899, 12, 30)

#: what a fresh cell looks like (a zh-CN Excel 2016+)
DEFAULTS: dict[str, Any] = {
    "NumberFormat": "General", "Font.Size": 11.0, "Font.Bold": False, "Font.Italic": False,
    "Font.Color": 0, "Font.Underline": -4142, "Font.Name": "等线", "Interior.Color": 16777215,
    "Interior.Pattern": -4142, "Borders.LineStyle": -4142, "Borders.Weight": 2, "Borders.Color": 0,
    "HorizontalAlignment": 1, "VerticalAlignment": -4107, "WrapText": False, "Locked": True,
}
STANDARD_HEIGHT = 13.5
STANDARD_WIDTH = 8.38


# --------------------------------------------------------------------------------------------------
# xlwings' Windows engine, imported behind the stand-ins
# --------------------------------------------------------------------------------------------------
def xlwindows():
    """The real ``xlwings._xlwindows`` module, imported once behind :mod:`pyfuncs.winstubs`.

    Its module-level Windows calls (``ctypes.oledll``/``windll``, ``PyDLL(pythoncom.__file__)``)
    get inert stand-ins for the duration of the import only; the stand-in modules leave
    ``sys.modules`` afterwards (the engine keeps its own references to them)."""
    mod = sys.modules.get("xlwings._xlwindows")
    if mod is not None:
        return mod
    import ctypes
    import importlib

    class _Inert:
        restype = None

        def __getattr__(self, _name):
            return _Inert()

        def __call__(self, *_a, **_k):
            return _Inert()

    saved = {n: getattr(ctypes, n, _MISSING) for n in ("oledll", "windll", "PyDLL")}
    ctypes.oledll = _Inert()
    ctypes.windll = _Inert()
    ctypes.PyDLL = lambda *_a, **_k: _Inert()
    try:
        with installed():
            return importlib.import_module("xlwings._xlwindows")
    finally:
        for n, v in saved.items():
            if v is _MISSING:
                delattr(ctypes, n)
            else:
                setattr(ctypes, n, v)


def xlwings_book(wb: "Workbook"):
    """The ``xlwings.Book`` a RunPython macro gets from ``xw.Book.caller()`` for the fake workbook
    ``wb``: the real xlwings classes over xlwings' Windows engine, the workbook in xlwings' COM
    retry wrapper as xlwings wraps every object it gets from pywin32."""
    import xlwings

    xw = xlwindows()
    return xlwings.Book(impl=xw.Book(xw.COMRetryObjectWrapper(wb)))


@contextlib.contextmanager
def caller(wb: "Workbook") -> Iterator[None]:
    """``xw.Book.caller()`` returns the fake workbook ``wb`` meanwhile, through xlwings' own code
    path for a workbook handed over by Excel (``_xlwindows.BOOK_CALLER``)."""
    xw = xlwindows()
    before = xw.BOOK_CALLER
    xw.BOOK_CALLER = wb
    try:
        yield
    finally:
        xw.BOOK_CALLER = before


# --------------------------------------------------------------------------------------------------
# counting
# --------------------------------------------------------------------------------------------------
class Recorder:
    """Counts round trips: ``calls`` in total, ``members`` by ``"Object.Member"`` (get),
    ``"Object.Member="`` (set) and ``"Object.Member()"`` (call)."""

    def __init__(self) -> None:
        self.calls = 0
        self.members: Counter[str] = Counter()

    def hit(self, what: str) -> None:
        self.calls += 1
        self.members[what] += 1

    def reset(self) -> None:
        self.calls = 0
        self.members.clear()

    def top(self, n: int = 15) -> list[tuple[str, int]]:
        return self.members.most_common(n)


_MISSING = object()


def _unwrap(v: Any) -> Any:
    """xlwings' COMRetryObjectWrapper → the object inside (pywin32 passes the IDispatch within)."""
    try:
        return object.__getattribute__(v, "_inner")
    except AttributeError:
        return v


def _marshal(v: Any, depth: int = 0) -> Any:
    """A Python value as pywin32 would pass it to COM, or pywin32's TypeError."""
    v = _unwrap(v)
    if v is None or isinstance(v, (str, bool, ComObject)):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            raise ComError(E_EXCEL, f"Excel does not take {v!r} as a value")
        return float(v)
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return dt.datetime(v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond)
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, (list, tuple)) and depth < 2:
        out = tuple(_marshal(x, depth + 1) for x in v)
        if depth == 0 and out and all(isinstance(x, tuple) for x in out):
            if len({len(x) for x in out}) > 1:
                raise TypeError("All dimensions of a SAFEARRAY must be the same size")
        return out
    raise TypeError(f"Objects of type '{type(v).__name__}' can not be converted to a COM VARIANT")


class _Ole:
    """What xlwings asks of ``_oleobj_``: GetIDsOfNames (on a failed attribute) and the type's IID."""

    def __init__(self, iid: str):
        self.iid = iid

    def GetIDsOfNames(self, *_a):  # noqa: N802 - COM name
        raise ComError(DISP_E_UNKNOWNNAME, "Unknown name.")

    def GetTypeInfo(self):  # noqa: N802
        return self

    def GetTypeAttr(self):  # noqa: N802
        return self


class ComObject(CDispatch):
    """A fake COM object. Members are the attributes whose names start with a capital letter:
    properties (counted on get and set) and methods (counted on call). Calling the object itself
    is its default member (``Worksheets("x")``, ``Rows(4)``), iterating it is ``_NewEnum`` plus one
    ``Next`` per item. Unknown members raise AttributeError, as pywin32 does."""

    _kind = "Object"
    _iid = ""

    def __init__(self, app: "Application"):
        object.__setattr__(self, "_app", app)

    def __getattribute__(self, name: str) -> Any:
        if not name[:1].isupper():
            return object.__getattribute__(self, name)
        cls = type(self)
        attr = getattr(cls, name, _MISSING)
        if attr is _MISSING:
            raise AttributeError(f"{cls._kind}.{name}")
        rec = object.__getattribute__(self, "_app").rec
        if isinstance(attr, property):
            rec.hit(f"{cls._kind}.{name}")
            return attr.fget(self)
        if callable(attr):
            return _Method(self, name, attr)
        rec.hit(f"{cls._kind}.{name}")
        return attr

    def __setattr__(self, name: str, value: Any) -> None:
        if not name[:1].isupper():
            object.__setattr__(self, name, value)
            return
        attr = getattr(type(self), name, None)
        if not isinstance(attr, property) or attr.fset is None:
            raise AttributeError(f"Property '{type(self)._kind}.{name}' can not be set.")
        self._app.rec.hit(f"{type(self)._kind}.{name}=")
        attr.fset(self, _marshal(value))

    def __call__(self, *args, **kwargs):
        self._app.rec.hit(f"{type(self)._kind}()")
        return self._default(*[_marshal(a) for a in args], **{k: _marshal(v) for k, v in kwargs.items()})

    def _default(self, *args, **kwargs):
        raise ComError(E_EXCEL, f"{type(self)._kind} has no default member")

    def __iter__(self):
        self._app.rec.hit(f"{type(self)._kind}._NewEnum")
        for item in list(self._items()):
            self._app.rec.hit(f"{type(self)._kind}.Next")
            yield item

    def _items(self) -> list:
        raise TypeError(f"{type(self)._kind} is not a collection")

    def __len__(self) -> int:
        self._app.rec.hit(f"{type(self)._kind}.Count")
        return len(self._items())

    def __bool__(self) -> bool:  # pywin32: "if object:" is always true
        return True

    @property
    def _oleobj_(self):
        return _Ole(type(self)._iid)

    @property
    def Application(self):  # noqa: N802
        return self._app


class _Method:
    __slots__ = ("obj", "name", "fn")

    def __init__(self, obj, name, fn):
        self.obj, self.name, self.fn = obj, name, fn

    def __call__(self, *args, **kwargs):
        obj = self.obj
        obj._app.rec.hit(f"{type(obj)._kind}.{self.name}()")
        return self.fn(obj, *[_marshal(a) for a in args], **{k: _marshal(v) for k, v in kwargs.items()})


def _fail(text: str, hresult: int = -2147352567) -> ComError:
    return ComError(hresult, "Exception occurred.", (0, "Microsoft Excel", text, None, 0, E_EXCEL), None)


# --------------------------------------------------------------------------------------------------
# addresses and Excel's parsing of typed input
# --------------------------------------------------------------------------------------------------
Area = tuple[int, int, int, int]  # top, left, bottom, right


_CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)$")
_COLS = re.compile(r"\$?([A-Za-z]{1,3}):\$?([A-Za-z]{1,3})$")
_ROWS = re.compile(r"\$?(\d+):\$?(\d+)$")


def parse_address(text: str) -> list[Area]:
    """``"A1:B2,$D:$E,3:5"`` → areas; raises Excel's error for what Excel's Range() refuses."""
    if not isinstance(text, str) or not text.strip():
        raise _fail("Method 'Range' of object '_Worksheet' failed", E_EXCEL)
    if len(text) > 255:
        raise _fail(f"Method 'Range' of object '_Worksheet' failed (address of {len(text)} characters)", E_EXCEL)
    areas = []
    for part in text.split(","):
        part = part.strip()
        m = _COLS.match(part)
        if m:
            a, b = sorted((_col_number(m.group(1)), _col_number(m.group(2))))
            areas.append((1, a, MAX_ROWS, b))
            continue
        m = _ROWS.match(part)
        if m:
            a, b = sorted((int(m.group(1)), int(m.group(2))))
            areas.append((a, 1, b, MAX_COLS))
            continue
        ends = part.split(":")
        if len(ends) > 2:
            raise _fail(f"bad address {part!r}", E_EXCEL)
        cells = []
        for e in ends:
            m = _CELL.match(e.strip())
            if not m:
                raise _fail(f"Method 'Range' of object '_Worksheet' failed ({part!r})", E_EXCEL)
            cells.append((int(m.group(2)), _col_number(m.group(1))))
        (r1, c1), (r2, c2) = cells[0], cells[-1]
        areas.append((min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)))
    for t, l, b, r in areas:
        if not (1 <= t <= b <= MAX_ROWS and 1 <= l <= r <= MAX_COLS):
            raise _fail(f"address out of the sheet: {text!r}", E_EXCEL)
    return areas


def format_area(a: Area, absolute: bool = True) -> str:
    d = "$" if absolute else ""
    t, l, b, r = a
    if t == 1 and b == MAX_ROWS:
        return f"{d}{col_letter(l)}:{d}{col_letter(r)}"
    if l == 1 and r == MAX_COLS:
        return f"{d}{t}:{d}{b}"
    first = f"{d}{col_letter(l)}{d}{t}"
    return first if (t, l) == (b, r) else f"{first}:{d}{col_letter(r)}{d}{b}"


def to_serial(v: dt.datetime) -> float:
    delta = v - EPOCH
    return delta.days + delta.seconds / 86400 + delta.microseconds / 86400e6


def from_serial(x: float) -> dt.datetime:
    days = math.floor(x)
    secs = round((x - days) * 86400, 3)
    return EPOCH + dt.timedelta(days=days, seconds=secs)


_DATE_TOKENS = re.compile(r"(\"[^\"]*\"|\[[^\]]*\]|\\.)")


def is_date_format(fmt: str) -> bool:
    """A number format that shows a date or time (Excel then gives the cell's Value as a date)."""
    if not fmt or fmt in ("General", "@"):
        return False
    bare = _DATE_TOKENS.sub("", fmt.split(";")[0]).lower()
    return any(ch in bare for ch in "ymdhs")


_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][+-]?\d+)?%?$")
_YMD = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_MD = re.compile(r"^(\d{1,2})[-/](\d{1,2})$")
_CJK_DATE = re.compile(r"^(?:(\d{4})年)?(\d{1,2})月(?:(\d{1,2})日)?$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def parse_typed(text: str, year: int | None = None) -> tuple[str, Any]:
    """How Excel takes a string set as a cell's Value (as if typed): ``("formula", text)``,
    ``("number", float)``, ``("date", datetime)``, ``("bool", b)``, ``("error", code)`` or
    ``("text", text)``.

    >>> parse_typed("=A1"), parse_typed("-x"), parse_typed("+1"), parse_typed("０１２")
    (('formula', '=A1'), ('formula', '=-x'), ('number', 1.0), ('number', 12.0))
    >>> parse_typed("2026-11-21")[0], parse_typed("BX2026-0001"), parse_typed("@a")
    ('date', ('text', 'BX2026-0001'), ('formula', '=@a'))
    """
    if text.startswith("=") and len(text) > 1:
        return "formula", text
    s = unicodedata.normalize("NFKC", text).strip()
    if not s:
        return "text", text
    if s.upper() in ("TRUE", "FALSE"):
        return "bool", s.upper() == "TRUE"
    if s.upper() in ERRORS:
        return "error", ERRORS[s.upper()]
    num = s
    neg = num.startswith("(") and num.endswith(")")
    if neg:
        num = num[1:-1]
    num = num.lstrip("$¥")
    if any(ch.isdigit() for ch in num) and _NUMBER.match(num):
        pct = num.endswith("%")
        x = float(num.rstrip("%").replace(",", ""))
        x = -x if neg else x
        return "number", x / 100 if pct else x
    m = _YMD.match(s)
    try:
        if m:
            y, mo, d, hh, mi, ss = (int(g) if g else 0 for g in m.groups())
            return "date", dt.datetime(y, mo, d, hh, mi, ss)
        m = _MD.match(s)
        if m:
            return "date", dt.datetime(year or dt.date.today().year, int(m.group(1)), int(m.group(2)))
        m = _CJK_DATE.match(s)
        if m:
            return "date", dt.datetime(int(m.group(1) or year or dt.date.today().year), int(m.group(2)),
                                       int(m.group(3) or 1))
    except ValueError:
        pass
    m = _TIME.match(s)
    if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
        return "date", EPOCH + dt.timedelta(hours=int(m.group(1)), minutes=int(m.group(2)),
                                            seconds=int(m.group(3) or 0))
    if text[:1] in "+-@" and len(text) > 1:
        return "formula", "=" + text
    return "text", text


# --------------------------------------------------------------------------------------------------
# the workbook's data (plain Python; what the COM objects below show)
# --------------------------------------------------------------------------------------------------
class SheetData:
    """One worksheet's content: values, formulas, formats, merges, sizes, tables, and so on."""

    def __init__(self, name: str, code_name: str):
        self.name = name
        self.code_name = code_name
        self.values: dict[tuple[int, int], Any] = {}     # str | float | bool | _Error; dates as serials
        self.formulas: dict[tuple[int, int], str] = {}
        self.prefix: set[tuple[int, int]] = set()         # cells typed with a leading apostrophe
        self.styles: dict[tuple[int, int], dict[str, Any]] = {}
        self.row_styles: dict[int, dict[str, Any]] = {}
        self.col_styles: dict[int, dict[str, Any]] = {}
        self.sheet_style: dict[str, Any] = {}
        self.merges: list[Area] = []
        self.row_heights: dict[int, float] = {}
        self.col_widths: dict[int, float] = {}
        self.row_levels: dict[int, int] = {}
        self.page_breaks: list[int] = []                  # rows a new printed page starts at
        self.summary_row = 1
        self.tables: list[TableData] = []
        self.hyperlinks: dict[tuple[int, int], dict[str, Any]] = {}
        self.validations: list[tuple[list[Area], dict[str, Any]]] = []
        self.conditions: list[tuple[list[Area], dict[str, Any]]] = []
        self.charts: list[dict[str, Any]] = []
        self.page_setup: dict[str, Any] = {}
        self.autofilter: Area | None = None
        self.freeze: tuple[int, int] | None = None
        self.autofit: list[tuple[str | None, list[Area]]] = []
        self.visible = -1

    # ---- styles ---------------------------------------------------------------------------------
    def style(self, key: tuple[int, int], attr: str) -> Any:
        s = self.styles.get(key)
        if s is not None and attr in s:
            return s[attr]
        s = self.row_styles.get(key[0])
        if s is not None and attr in s:
            return s[attr]
        s = self.col_styles.get(key[1])
        if s is not None and attr in s:
            return s[attr]
        return self.sheet_style.get(attr, DEFAULTS[attr])

    def set_style(self, areas: list[Area], attr: str, value: Any) -> None:
        for t, l, b, r in areas:
            whole_rows, whole_cols = l == 1 and r == MAX_COLS, t == 1 and b == MAX_ROWS
            if whole_rows or whole_cols:
                if whole_rows and whole_cols:
                    self.sheet_style[attr] = value
                elif whole_rows:
                    for row in range(t, b + 1):
                        self.row_styles.setdefault(row, {})[attr] = value
                else:
                    for col in range(l, r + 1):
                        self.col_styles.setdefault(col, {})[attr] = value
                for key, s in self.styles.items():
                    if attr in s and t <= key[0] <= b and l <= key[1] <= r:
                        s[attr] = value
                continue
            styles = self.styles
            for row in range(t, b + 1):
                for col in range(l, r + 1):
                    s = styles.get((row, col))
                    if s is None:
                        styles[(row, col)] = {attr: value}
                    else:
                        s[attr] = value

    def clear_styles(self, areas: list[Area]) -> None:
        for area in areas:
            for key in [k for k in self.styles if _inside(k, area)]:
                del self.styles[key]
            t, l, b, r = area
            if l == 1 and r == MAX_COLS:
                for row in range(t, b + 1):
                    self.row_styles.pop(row, None)
            if t == 1 and b == MAX_ROWS:
                for col in range(l, r + 1):
                    self.col_styles.pop(col, None)
            if area == (1, 1, MAX_ROWS, MAX_COLS):
                self.sheet_style.clear()

    def used(self) -> Area | None:
        keys = list(self.values) + list(self.formulas) + list(self.styles)
        rows = [k[0] for k in keys] + [m[0] for m in self.merges] + [m[2] for m in self.merges]
        cols = [k[1] for k in keys] + [m[1] for m in self.merges] + [m[3] for m in self.merges]
        if not rows:
            return None
        return (min(rows), min(cols), max(rows), max(cols))

    def merge_at(self, key: tuple[int, int]) -> Area | None:
        for m in self.merges:
            if _inside(key, m):
                return m
        return None


class _Error(int):
    """A cell's error value (#N/A, ...): COM gives it as its integer code."""


class TableData:
    def __init__(self, name: str, ref: Area, style: str = "TableStyleMedium2"):
        self.name, self.ref, self.style = name, ref, style
        self.show_autofilter = True
        self.show_totals = False


def _inside(key: tuple[int, int], a: Area) -> bool:
    return a[0] <= key[0] <= a[2] and a[1] <= key[1] <= a[3]


def _overlaps(a: Area, b: Area) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _cells(a: Area):
    t, l, b, r = a
    for row in range(t, b + 1):
        for col in range(l, r + 1):
            yield (row, col)


def _size(a: Area) -> int:
    return (a[2] - a[0] + 1) * (a[3] - a[1] + 1)


# --------------------------------------------------------------------------------------------------
# Application
# --------------------------------------------------------------------------------------------------
class Application(ComObject):
    """The fake ``Excel.Application``."""

    _kind = "Application"
    _next_hwnd = 70000

    def __init__(self):
        super().__init__(self)
        self.rec = Recorder()
        Application._next_hwnd += 2
        self.hwnd = Application._next_hwnd
        self.books: list[WorkbookData] = []
        self.active_book: WorkbookData | None = None
        self.state = {"ScreenUpdating": True, "Calculation": -4105, "EnableEvents": True,
                      "DisplayAlerts": True, "StatusBar": False, "DisplayStatusBar": True,
                      "Cursor": -4143, "Interactive": True, "PrintCommunication": True}
        self.status_history: list[Any] = []
        self.message_boxes: list[tuple[str, str, int]] = []
        #: files written by ``Workbook.SaveCopyAs`` (the ribbon's backup before a job)
        self.saved_copies: list[str] = []
        #: ``ExportAsFixedFormat`` calls: (sheet names, file)
        self.exported: list[tuple[list[str], str]] = []
        self.dialogs: list[str] = []
        self.screen_changes = 0
        self.events = 0
        self.recalcs = 0
        self.calculations = 0
        message_box_hooks[self.hwnd] = self._message_box

    def _message_box(self, text: str, title: str, style: int) -> int:
        self.message_boxes.append((text, title, style))
        return 1  # IDOK

    def _changed(self, values: bool = True) -> None:
        """A visible change of a sheet: a repaint if screen updating is on; an event and a recalc
        when values change with events / automatic calculation on."""
        if self.state["ScreenUpdating"]:
            self.screen_changes += 1
        if values and self.state["EnableEvents"]:
            self.events += 1
        if values and self.state["Calculation"] == -4105:
            self.recalcs += 1

    def _dialog(self, text: str) -> None:
        if self.state["DisplayAlerts"]:
            self.dialogs.append(text)

    def _state(name, check=None):  # noqa: N805 - a property factory used in the class body
        def get(self):
            return self.state[name]

        def set_(self, v):
            if check is not None:
                check(v)
            self.state[name] = v
        return property(get, set_)

    def _check_calc(v):  # noqa: N805
        if v not in (-4105, -4135, 2):
            raise _fail("Unable to set the Calculation property of the Application class")

    ScreenUpdating = _state("ScreenUpdating")
    Calculation = _state("Calculation", _check_calc)
    EnableEvents = _state("EnableEvents")
    DisplayAlerts = _state("DisplayAlerts")
    DisplayStatusBar = _state("DisplayStatusBar")
    Cursor = _state("Cursor")
    Interactive = _state("Interactive")
    PrintCommunication = _state("PrintCommunication")
    del _state, _check_calc

    @property
    def StatusBar(self):  # noqa: N802
        return self.state["StatusBar"]

    @StatusBar.setter
    def StatusBar(self, v):  # noqa: N802
        self.state["StatusBar"] = False if v is False or v == "" or v is None else str(v)
        self.status_history.append(self.state["StatusBar"])

    Hwnd = property(lambda self: self.hwnd)
    Version = property(lambda self: "16.0")
    Name = property(lambda self: "Microsoft Excel")
    Visible = property(lambda self: True)
    Parent = property(lambda self: self)
    Workbooks = property(lambda self: Workbooks(self))

    @property
    def ActiveWorkbook(self):  # noqa: N802
        return Workbook(self, self.active_book) if self.active_book else None

    @property
    def ActiveSheet(self):  # noqa: N802
        b = self.active_book
        return Worksheet(self, b, b.active) if b else None

    @property
    def ActiveWindow(self):  # noqa: N802
        return Window(self, self.active_book) if self.active_book else None

    @property
    def Selection(self):  # noqa: N802
        b = self.active_book
        return Range(self, b, b.active, [b.selection.get(b.active.name, (1, 1, 1, 1))])

    def Calculate(self):  # noqa: N802
        self.calculations += 1

    def Intersect(self, *ranges):  # noqa: N802
        rs = [r for r in ranges if r is not None]
        areas = rs[0].areas
        for r in rs[1:]:
            areas = [(max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
                     for a in areas for b in r.areas if _overlaps(a, b)]
        return Range(self, rs[0].book, rs[0].sheet, areas) if areas else None

    def Union(self, *ranges):  # noqa: N802
        rs = [r for r in ranges if r is not None]
        return Range(self, rs[0].book, rs[0].sheet, [a for r in rs for a in r.areas])

    # ---- not COM: building the fake ------------------------------------------------------------
    def add_workbook(self, name: str = "Book1.xlsx", sheets: list[str] | None = None,
                     folder: str = r"C:\Users\staff\Documents") -> "Workbook":
        data = WorkbookData(self, name, folder)
        for s in sheets or ["Sheet1"]:
            data.add_sheet(s)
        data.active = data.sheets[0]
        self.books.append(data)
        self.active_book = data
        return Workbook(self, data)

    def open(self, path: str | Path, name: str | None = None) -> "Workbook":
        """Load a workbook file into the fake (cells, formulas with their cached values, number
        formats, tables, merges, column widths, row heights); nothing of it is counted."""
        return load_file(self, Path(path), name)


class WorkbookData:
    def __init__(self, app: Application, name: str, folder: str):
        self.app, self.name, self.folder = app, name, folder
        self.sheets: list[SheetData] = []
        self.active: SheetData | None = None
        self.selection: dict[str, Area] = {}
        self.saved = True
        self._code = 0
        #: the file the workbook was loaded from (what the fake's SaveCopyAs writes)
        self.source: Path | None = None

    def add_sheet(self, name: str, index: int | None = None) -> SheetData:
        self._code += 1
        while any(s.code_name == f"Sheet{self._code}" for s in self.sheets):
            self._code += 1
        s = SheetData(name, f"Sheet{self._code}")
        self.sheets.insert(len(self.sheets) if index is None else index, s)
        return s

    def sheet(self, key: Any) -> SheetData:
        if isinstance(key, str):
            for s in self.sheets:
                if s.name.lower() == key.lower():
                    return s
        elif isinstance(key, (int, float)) and 1 <= int(key) <= len(self.sheets):
            return self.sheets[int(key) - 1]
        raise _fail("Subscript out of range", DISP_E_BADINDEX)

    def check_name(self, name: str, sheet: SheetData | None = None) -> None:
        bad = set('[]:*?/\\')
        if not isinstance(name, str) or not name or len(name) > 31 or bad & set(name) or \
                name.startswith("'") or name.endswith("'") or name.lower() == "history":
            raise _fail(f"You typed an invalid name for a sheet or chart: {name!r}", E_EXCEL)
        if any(s is not sheet and s.name.lower() == name.lower() for s in self.sheets):
            raise _fail(f"That name is already taken: {name!r}", E_EXCEL)

    def table_names(self) -> set[str]:
        return {t.name.lower() for s in self.sheets for t in s.tables}


class Workbooks(ComObject):
    _kind = "Workbooks"

    def __init__(self, app):
        super().__init__(app)

    def _items(self):
        return [Workbook(self._app, b) for b in self._app.books]

    Count = property(lambda self: len(self._app.books))
    Parent = property(lambda self: self._app)

    def Item(self, key):  # noqa: N802
        return self._default(key)

    def _default(self, key):
        for b in self._app.books:
            if isinstance(key, str) and b.name.lower() == key.lower():
                return Workbook(self._app, b)
        if isinstance(key, (int, float)) and 1 <= key <= len(self._app.books):
            return Workbook(self._app, self._app.books[int(key) - 1])
        raise _fail("Subscript out of range", DISP_E_BADINDEX)

    def Add(self, Template=None):  # noqa: N802,N803
        return self._app.add_workbook(f"工作簿{len(self._app.books) + 1}")


class Workbook(ComObject):
    _kind = "Workbook"

    def __init__(self, app, data: WorkbookData):
        super().__init__(app)
        self.data = data

    def __eq__(self, other):
        return isinstance(_unwrap(other), Workbook) and _unwrap(other).data is self.data

    __hash__ = object.__hash__

    Name = property(lambda self: self.data.name)
    #: Windows joins with a backslash; a workbook the fake loaded from a file here keeps this
    #: machine's folder, so code that goes from FullName to the file (the backup) finds it
    #: (a never-saved workbook has no folder: its FullName is its name, e.g. 工作簿1)
    FullName = property(lambda self: self.data.folder + ("\\" if "\\" in self.data.folder else "/")
                        + self.data.name if self.data.folder else self.data.name)
    Path = property(lambda self: self.data.folder)
    Parent = property(lambda self: self._app)
    Worksheets = property(lambda self: Sheets(self._app, self.data))
    Sheets = Worksheets
    ActiveSheet = property(lambda self: Worksheet(self._app, self.data, self.data.active))
    Saved = property(lambda self: self.data.saved)
    FileFormat = property(lambda self: 52 if self.data.name.lower().endswith(".xlsm") else 51)

    def Windows(self, index=None):  # noqa: N802
        return Window(self._app, self.data)

    def Activate(self):  # noqa: N802
        self._app.active_book = self.data

    def SaveCopyAs(self, Filename):  # noqa: N802,N803
        """Excel writes the open workbook, unsaved changes included, to ``Filename`` and leaves
        the open one as it is. The fake writes the file it was loaded from (it has no writer of
        its own) and records the name."""
        if self.data.source is None:
            raise _fail("Microsoft Excel cannot access the file", E_EXCEL)
        Path(Filename).write_bytes(self.data.source.read_bytes())
        self._app.saved_copies.append(str(Filename))

    @property
    def Names(self):  # noqa: N802
        return _Loose(self._app, "Names")


class Window(ComObject):
    """The workbook's window: freeze panes and splits act on the active sheet."""

    _kind = "Window"

    def __init__(self, app, book: WorkbookData):
        super().__init__(app)
        self.book = book

    def _get(self, key, default):
        return getattr(self.book.active, "window", {}).get(key, default)

    def _set(self, key, value):
        sheet = self.book.active
        if not hasattr(sheet, "window"):
            sheet.window = {}
        sheet.window[key] = value
        if key == "FreezePanes":
            sheet.freeze = (sheet.window.get("SplitRow", 0), sheet.window.get("SplitColumn", 0)) if value else None

    def _prop(key, default):  # noqa: N805
        return property(lambda self: self._get(key, default), lambda self, v: self._set(key, v))

    FreezePanes = _prop("FreezePanes", False)
    SplitRow = _prop("SplitRow", 0)
    SplitColumn = _prop("SplitColumn", 0)
    ScrollRow = _prop("ScrollRow", 1)
    ScrollColumn = _prop("ScrollColumn", 1)
    Zoom = _prop("Zoom", 100)
    DisplayGridlines = _prop("DisplayGridlines", True)
    del _prop


class Sheets(ComObject):
    _kind = "Sheets"

    def __init__(self, app, book: WorkbookData):
        super().__init__(app)
        self.book = book

    def _items(self):
        return [Worksheet(self._app, self.book, s) for s in self.book.sheets]

    Count = property(lambda self: len(self.book.sheets))
    Parent = property(lambda self: Workbook(self._app, self.book))

    def Item(self, key):  # noqa: N802
        return self._default(key)

    def _default(self, key):
        if isinstance(key, (tuple, list)):  # Sheets(Array("a", "b")): a group of sheets
            return SheetGroup(self._app, self.book, [self.book.sheet(k) for k in key])
        return Worksheet(self._app, self.book, self.book.sheet(key))

    def Add(self, Before=None, After=None, Count=None, Type=None):  # noqa: N802,N803
        book = self.book
        if Before is not None:
            index = book.sheets.index(Before.data)
        elif After is not None:
            index = book.sheets.index(After.data) + 1
        else:
            index = book.sheets.index(book.active) if book.active in book.sheets else 0
        n = 1
        while any(s.name.lower() == f"sheet{n}" for s in book.sheets):
            n += 1
        data = book.add_sheet(f"Sheet{n}", index)
        book.active = data
        book.saved = False
        self._app._changed(values=False)
        return Worksheet(self._app, book, data)


class SheetGroup(ComObject):
    """``Sheets(Array(...))``: the sheets named, for printing them together."""

    _kind = "Sheets"

    def __init__(self, app, book: WorkbookData, sheets: list):
        super().__init__(app)
        self.book, self.sheets = book, sheets

    Count = property(lambda self: len(self.sheets))

    def ExportAsFixedFormat(self, Type, Filename=None, Quality=0, IncludeDocProperties=True,  # noqa: N802,N803
                            IgnorePrintAreas=False, From=None, To=None, OpenAfterPublish=False):
        """Excel prints the sheets into one PDF (Type 0). The fake records the call and writes a
        placeholder file (it has no renderer); ``app.exported`` holds (sheet names, file)."""
        if Type != 0 or not Filename:
            raise _fail("Document not saved.", E_EXCEL)
        Path(Filename).write_bytes(b"%PDF-1.4\n% comfake placeholder\n")
        self._app.exported.append(([s.name for s in self.sheets], str(Filename)))


class Worksheet(ComObject):
    _kind = "Worksheet"

    def __init__(self, app, book: WorkbookData, data: SheetData):
        super().__init__(app)
        self.book = book
        self.data = data

    def __eq__(self, other):
        return isinstance(_unwrap(other), Worksheet) and _unwrap(other).data is self.data

    __hash__ = object.__hash__

    def _range(self, areas):
        return Range(self._app, self.book, self.data, areas)

    @property
    def Name(self):  # noqa: N802
        return self.data.name

    @Name.setter
    def Name(self, value):  # noqa: N802
        self.book.check_name(value, self.data)
        self.data.name = value

    CodeName = property(lambda self: self.data.code_name)
    Index = property(lambda self: self.book.sheets.index(self.data) + 1)
    Parent = property(lambda self: Workbook(self._app, self.book))

    @property
    def Visible(self):  # noqa: N802
        return self.data.visible

    @Visible.setter
    def Visible(self, v):  # noqa: N802
        self.data.visible = -1 if v is True else (0 if v is False else v)

    def Range(self, Cell1, Cell2=None):  # noqa: N802,N803
        return _range_of(self, Cell1, Cell2, origin=(1, 1))

    Cells = property(lambda self: self._range([(1, 1, MAX_ROWS, MAX_COLS)]))
    Rows = property(lambda self: self._range([(1, 1, MAX_ROWS, MAX_COLS)])._view("rows"))
    Columns = property(lambda self: self._range([(1, 1, MAX_ROWS, MAX_COLS)])._view("columns"))

    @property
    def UsedRange(self):  # noqa: N802
        used = self.data.used()
        return self._range([used or (1, 1, 1, 1)])

    ListObjects = property(lambda self: ListObjects(self._app, self.book, self.data))
    PageSetup = property(lambda self: PageSetup(self._app, self.data))
    Outline = property(lambda self: Outline(self._app, self.data))
    Hyperlinks = property(lambda self: Hyperlinks(self._app, self.book, self.data, None))
    HPageBreaks = property(lambda self: HPageBreaks(self._app, self.data))

    def ResetAllPageBreaks(self):  # noqa: N802
        self.data.page_breaks.clear()
    StandardHeight = property(lambda self: STANDARD_HEIGHT)
    StandardWidth = property(lambda self: STANDARD_WIDTH)

    @property
    def AutoFilterMode(self):  # noqa: N802
        return self.data.autofilter is not None

    @AutoFilterMode.setter
    def AutoFilterMode(self, v):  # noqa: N802
        if not v:
            self.data.autofilter = None

    def ChartObjects(self, Index=None):  # noqa: N802,N803
        coll = ChartObjects(self._app, self.book, self.data)
        return coll if Index is None else coll._default(Index)

    def Activate(self):  # noqa: N802
        self.book.active = self.data
        self._app.active_book = self.book

    Select = Activate

    def Delete(self):  # noqa: N802
        book = self.book
        if len([s for s in book.sheets if s.visible == -1]) <= 1 and self.data.visible == -1:
            raise _fail("A workbook must contain at least one visible worksheet.", E_EXCEL)
        self._app._dialog(f"删除工作表「{self.data.name}」：Microsoft Excel 将永久删除此工作表。是否继续？")
        i = book.sheets.index(self.data)
        book.sheets.remove(self.data)
        if book.active is self.data:
            book.active = book.sheets[max(0, i - 1)]
        book.saved = False
        self._app._changed()

    def Copy(self, Before=None, After=None):  # noqa: N802,N803
        book = self.book
        new = copy.deepcopy(self.data)
        base, n = self.data.name, 2
        while any(s.name.lower() == f"{base} ({n})".lower() for s in book.sheets):
            n += 1
        new.name = f"{base} ({n})"[:31]
        book._code += 1
        new.code_name = f"Sheet{book._code}"
        taken = book.table_names()
        for t in new.tables:
            k = 1
            while f"{t.name}{k}".lower() in taken:
                k += 1
            t.name = f"{t.name}{k}"
            taken.add(t.name.lower())
        index = book.sheets.index(Before.data) if Before is not None else (
            book.sheets.index(After.data) + 1 if After is not None else len(book.sheets))
        book.sheets.insert(index, new)
        book.active = new
        self._app._changed()

    def Move(self, Before=None, After=None):  # noqa: N802,N803
        book = self.book
        book.sheets.remove(self.data)
        index = book.sheets.index(Before.data) if Before is not None else (
            book.sheets.index(After.data) + 1 if After is not None else len(book.sheets))
        book.sheets.insert(index, self.data)
        self._app._changed(values=False)


def _range_of(owner, cell1, cell2, origin: tuple[int, int]) -> "Range":
    """Worksheet.Range / Range.Range: an address (relative to ``origin`` for a Range), or the
    rectangle spanned by two cells or ranges."""
    cell1, cell2 = _unwrap(cell1), _unwrap(cell2)
    app, book, sheet = owner._app, owner.book, owner.data

    def areas_of(x):
        if isinstance(x, Range):
            if x.sheet is not sheet:
                raise _fail("Method 'Range' of object '_Worksheet' failed (another sheet)", E_EXCEL)
            return x.areas
        if isinstance(x, str):
            r0, c0 = origin
            return [(t + r0 - 1, l + c0 - 1, b + r0 - 1, r + c0 - 1) if (r0, c0) != (1, 1) else (t, l, b, r)
                    for t, l, b, r in parse_address(x)]
        raise _fail(f"Method 'Range' failed: {x!r}", E_EXCEL)

    a = areas_of(cell1)
    if cell2 is None:
        return Range(app, book, sheet, a)
    b = areas_of(cell2)
    allx = a + b
    return Range(app, book, sheet, [(min(x[0] for x in allx), min(x[1] for x in allx),
                                     max(x[2] for x in allx), max(x[3] for x in allx))])


# --------------------------------------------------------------------------------------------------
# Range
# --------------------------------------------------------------------------------------------------
class Range(ComObject):
    _kind = "Range"
    _iid = RANGE_IID

    def __init__(self, app, book: WorkbookData, sheet: SheetData, areas: list[Area]):
        super().__init__(app)
        self.book, self.sheet, self.areas = book, sheet, list(areas)
        self.view = None  # "rows" / "columns": what Count and Item count

    def _view(self, view):
        self.view = view
        return self

    def __eq__(self, other):
        o = _unwrap(other)
        return isinstance(o, Range) and o.sheet is self.sheet and o.areas == self.areas

    __hash__ = object.__hash__

    def __repr__(self):
        return f"<fake Range {self.sheet.name}!{','.join(format_area(a) for a in self.areas)}>"

    @property
    def _area(self) -> Area:
        return self.areas[0]

    def _sub(self, areas):
        return Range(self._app, self.book, self.sheet, areas)

    def _keys(self):
        for a in self.areas:
            yield from _cells(a)

    def _n(self) -> int:
        return sum(_size(a) for a in self.areas)

    def _guard(self, limit: int = 5_000_000) -> None:
        if self._n() > limit:
            raise _fail(f"the fake refuses to walk {self._n():,} cells one by one", E_EXCEL)

    # ---- where --------------------------------------------------------------------------------
    Row = property(lambda self: self._area[0])
    Column = property(lambda self: self._area[1])
    Worksheet = property(lambda self: Worksheet(self._app, self.book, self.sheet))
    Parent = Worksheet

    @property
    def Address(self):  # noqa: N802
        return ",".join(format_area(a) for a in self.areas)

    def GetAddress(self, RowAbsolute=True, ColumnAbsolute=True, ReferenceStyle=1, External=False):  # noqa: N802,N803
        text = ",".join(format_area(a, bool(RowAbsolute and ColumnAbsolute)) for a in self.areas)
        return f"[{self.book.name}]{self.sheet.name}!{text}" if External else text

    @property
    def Count(self):  # noqa: N802
        t, l, b, r = self._area
        if self.view == "rows":
            return b - t + 1
        if self.view == "columns":
            return r - l + 1
        return self._n()

    CountLarge = Count

    @property
    def Rows(self):  # noqa: N802
        return self._sub([self._area])._view("rows")

    @property
    def Columns(self):  # noqa: N802
        return self._sub([self._area])._view("columns")

    @property
    def EntireRow(self):  # noqa: N802
        return self._sub([(a[0], 1, a[2], MAX_COLS) for a in self.areas])

    @property
    def EntireColumn(self):  # noqa: N802
        return self._sub([(1, a[1], MAX_ROWS, a[3]) for a in self.areas])

    @property
    def Areas(self):  # noqa: N802
        return Areas(self._app, self)

    @property
    def Cells(self):  # noqa: N802
        return self._sub([self._area])

    def _default(self, row=None, col=None):
        return self._item(row, col)

    def Item(self, RowIndex, ColumnIndex=None):  # noqa: N802,N803
        return self._item(RowIndex, ColumnIndex)

    def _item(self, row, col=None):
        t, l, b, r = self._area
        if isinstance(row, str):
            if self.view == "columns":
                areas = parse_address(row if ":" in row else f"{row}:{row}")
                return self._sub([(t, a[1] + l - 1, b, a[3] + l - 1) for a in areas])
            if self.view == "rows":
                areas = parse_address(row if ":" in row else f"{row}:{row}")
                return self._sub([(a[0] + t - 1, l, a[2] + t - 1, r) for a in areas])
            return _range_of(self, row, None, origin=(t, l))
        row = int(row)
        if self.view == "rows" and col is None:
            return self._sub([(t + row - 1, l, t + row - 1, r)])
        if self.view == "columns" and col is None:
            return self._sub([(t, l + row - 1, b, l + row - 1)])
        if col is None:  # the n-th cell, row by row
            width = r - l + 1
            row, col = divmod(row - 1, width)
            row, col = row + 1, col + 1
        col = _col_number(col) if isinstance(col, str) else int(col)
        return self._sub([(t + row - 1, l + col - 1, t + row - 1, l + col - 1)])

    def Range(self, Cell1, Cell2=None):  # noqa: N802,N803
        t, l, _, _ = self._area
        return _range_of(self, Cell1, Cell2, origin=(t, l))

    def Offset(self, RowOffset=0, ColumnOffset=0):  # noqa: N802,N803
        return self._sub([(a[0] + RowOffset, a[1] + ColumnOffset, a[2] + RowOffset, a[3] + ColumnOffset)
                          for a in self.areas])

    def Resize(self, RowSize=None, ColumnSize=None):  # noqa: N802,N803
        t, l, b, r = self._area
        return self._sub([(t, l, t + (RowSize or b - t + 1) - 1, l + (ColumnSize or r - l + 1) - 1)])

    # ---- values ---------------------------------------------------------------------------------
    def _value_of(self, key, value2: bool):
        s = self.sheet
        v = s.values.get(key)
        if v is None:
            return None
        if isinstance(v, _Error):
            return int(v)
        if type(v) is float and not value2 and is_date_format(s.style(key, "NumberFormat")):
            d = from_serial(v)
            return TimeType(d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond,
                            tzinfo=dt.timezone.utc)
        return v

    def _get_values(self, value2=False):
        t, l, b, r = self._area
        if (t, l) == (b, r):
            return self._value_of((t, l), value2)
        self._guard()
        return tuple(tuple(self._value_of((row, col), value2) for col in range(l, r + 1))
                     for row in range(t, b + 1))

    def _set_values(self, data, formula=False):
        self._guard()
        s = self.sheet
        for a in self.areas:
            t, l, b, r = a
            if isinstance(data, tuple):
                rows = data if data and isinstance(data[0], tuple) else (data,)
                for row in range(t, b + 1):
                    i = row - t
                    for col in range(l, r + 1):
                        j = col - l
                        if i < len(rows) and j < len(rows[i]):
                            self._enter((row, col), rows[i][j])
                        elif len(rows) == 1 and j < len(rows[0]):
                            self._enter((row, col), rows[0][j])  # one row fills every row
                        else:
                            self._enter((row, col), "#N/A")  # Excel fills what the array lacks
            else:
                for key in _cells(a):
                    self._enter(key, data)
        self.book.saved = False
        self._app._changed()

    def _enter(self, key, v) -> None:
        s = self.sheet
        s.formulas.pop(key, None)
        s.prefix.discard(key)
        s.values.pop(key, None)
        if v is None or isinstance(v, str) and v == "":
            return
        if isinstance(v, bool):
            s.values[key] = v
        elif isinstance(v, (int, float)):
            s.values[key] = float(v)
        elif isinstance(v, dt.datetime):
            s.values[key] = to_serial(v)
            if s.style(key, "NumberFormat") == "General":
                fmt = "yyyy/m/d" if v.time() == dt.time() else "yyyy/m/d h:mm"
                s.styles.setdefault(key, {})["NumberFormat"] = fmt
        elif isinstance(v, str):
            if v.startswith("'"):
                if len(v) > 1:
                    s.values[key] = v[1:]
                s.prefix.add(key)
            elif s.style(key, "NumberFormat") == "@":
                s.values[key] = v
            else:
                kind, x = parse_typed(v)
                if kind == "formula":
                    s.formulas[key] = x
                elif kind == "number":
                    s.values[key] = x
                elif kind == "date":
                    self._enter(key, x)
                elif kind == "error":
                    s.values[key] = _Error(x)
                else:
                    s.values[key] = x
        else:
            raise _fail(f"cannot enter {v!r}", E_EXCEL)

    @property
    def Value(self):  # noqa: N802
        return self._get_values()

    @Value.setter
    def Value(self, data):  # noqa: N802
        self._set_values(data)

    @property
    def Value2(self):  # noqa: N802
        return self._get_values(value2=True)

    @Value2.setter
    def Value2(self, data):  # noqa: N802
        self._set_values(data)

    def _formula_of(self, key):
        f = self.sheet.formulas.get(key)
        if f is not None:
            return f
        v = self.sheet.values.get(key)
        if v is None:
            return ""
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, _Error):
            return ERROR_TEXT[int(v)]
        if isinstance(v, float):
            return str(int(v)) if v.is_integer() else repr(v)
        return v

    @property
    def Formula(self):  # noqa: N802
        t, l, b, r = self._area
        if (t, l) == (b, r):
            return self._formula_of((t, l))
        self._guard()
        return tuple(tuple(self._formula_of((row, col)) for col in range(l, r + 1)) for row in range(t, b + 1))

    @Formula.setter
    def Formula(self, data):  # noqa: N802
        self._set_values(data)

    Formula2 = Formula

    @property
    def HasFormula(self):  # noqa: N802
        f = self.sheet.formulas
        if not f:
            return False
        n = self._n()
        inside = sum(1 for k in f if any(_inside(k, a) for a in self.areas))
        return False if inside == 0 else (True if inside == n else None)

    @property
    def PrefixCharacter(self):  # noqa: N802
        return "'" if (self._area[0], self._area[1]) in self.sheet.prefix else ""

    @property
    def Text(self):  # noqa: N802
        v = self._value_of((self._area[0], self._area[1]), False)
        return "" if v is None else str(v)

    def SpecialCells(self, Type, Value=None):  # noqa: N802,N803
        if Type != -4123:  # xlCellTypeFormulas
            raise _fail("the fake models SpecialCells(xlCellTypeFormulas) only", E_EXCEL)
        areas = self.areas
        if len(areas) == 1 and _size(areas[0]) == 1:  # one cell: Excel searches the used range
            areas = [self.sheet.used() or areas[0]]
        keys = sorted((k for k in self.sheet.formulas if any(_inside(k, a) for a in areas)),
                      key=lambda k: (k[1], k[0]))
        if not keys:
            raise _fail("No cells were found.", E_EXCEL)
        out: list[Area] = []
        for row, col in keys:  # vertical runs, like Excel's areas of a formula column
            if out and out[-1][1] == col and out[-1][2] == row - 1:
                out[-1] = (out[-1][0], col, row, col)
            else:
                out.append((row, col, row, col))
        return self._sub(out)

    def Clear(self):  # noqa: N802
        self._clear(contents=True, formats=True)

    def ClearContents(self):  # noqa: N802
        self._clear(contents=True, formats=False)

    def ClearFormats(self):  # noqa: N802
        self._clear(contents=False, formats=True)

    def _clear(self, contents: bool, formats: bool):
        s = self.sheet
        whole = self.areas == [(1, 1, MAX_ROWS, MAX_COLS)]
        for area in self.areas:
            if contents:
                for d in (s.values, s.formulas, s.hyperlinks):
                    for key in [k for k in d if _inside(k, area)]:
                        del d[key]
                s.prefix = {k for k in s.prefix if not _inside(k, area)}
            if formats:
                s.merges = [m for m in s.merges if not _overlaps(m, area)]
                s.validations = [v for v in s.validations if not all(_overlaps(a, area) for a in v[0])]
                s.conditions = [c for c in s.conditions if not all(_overlaps(a, area) for a in c[0])]
        if formats:
            s.clear_styles(self.areas)
        if whole and contents and formats:
            s.autofilter = None
        self.book.saved = False
        self._app._changed(values=contents)

    def ClearOutline(self):  # noqa: N802
        for a in self.areas:
            for row in range(a[0], min(a[2], MAX_ROWS) + 1) if _size(a) < 5_000_000 else list(self.sheet.row_levels):
                self.sheet.row_levels.pop(row, None)

    def Group(self):  # noqa: N802
        if len(self.areas) > 1:
            raise _fail("Cannot do that with multiple selections.", E_EXCEL)
        t, l, b, r = self._area
        if not (l == 1 and r == MAX_COLS):
            raise _fail("Group method of Range class failed (the fake groups whole rows only)", E_EXCEL)
        for row in range(t, b + 1):
            self.sheet.row_levels[row] = min(8, self.sheet.row_levels.get(row, 0) + 1)
        self._app._changed(values=False)

    def Ungroup(self):  # noqa: N802
        t, _, b, _ = self._area
        for row in range(t, b + 1):
            lv = self.sheet.row_levels.get(row, 0) - 1
            if lv > 0:
                self.sheet.row_levels[row] = lv
            else:
                self.sheet.row_levels.pop(row, None)

    def AutoFilter(self, *args, **kwargs):  # noqa: N802
        self.sheet.autofilter = None if self.sheet.autofilter else self._area
        self._app._changed(values=False)
        return True

    def AutoFit(self):  # noqa: N802
        """Recorded (``SheetData.autofit``), not computed: the fake has no fonts to measure."""
        self.sheet.autofit.append((self.view, list(self.areas)))
        self._app._changed(values=False)

    def Select(self):  # noqa: N802
        self.book.selection[self.sheet.name] = self._area

    Activate = Select

    # ---- merges ---------------------------------------------------------------------------------
    def Merge(self, Across=False):  # noqa: N802,N803
        s = self.sheet
        for a in self.areas:
            parts = [(row, a[1], row, a[3]) for row in range(a[0], a[2] + 1)] if Across else [a]
            for p in parts:
                if _size(p) == 1:
                    continue
                extra = [k for k in _cells(p) if k != (p[0], p[1]) and (k in s.values or k in s.formulas)]
                if extra:
                    self._app._dialog(f"合并单元格时，仅保留左上角的值（{format_area(p, False)}）")
                    for k in extra:
                        s.values.pop(k, None)
                        s.formulas.pop(k, None)
                s.merges = [m for m in s.merges if not _overlaps(m, p)] + [p]
        self._app._changed(values=False)

    def UnMerge(self):  # noqa: N802
        self.sheet.merges = [m for m in self.sheet.merges if not any(_overlaps(m, a) for a in self.areas)]

    @property
    def MergeCells(self):  # noqa: N802
        s = self.sheet
        if not s.merges:
            return False
        n = self._n()
        if n > 5_000_000:
            inside = sum(_size(m) for m in s.merges if any(_overlaps(m, a) for a in self.areas))
        else:
            inside = sum(1 for k in self._keys() if s.merge_at(k))
        return False if inside == 0 else (True if inside == n else None)

    @MergeCells.setter
    def MergeCells(self, v):  # noqa: N802
        if v:
            Range.Merge(self)
        else:
            Range.UnMerge(self)

    @property
    def MergeArea(self):  # noqa: N802
        m = self.sheet.merge_at((self._area[0], self._area[1]))
        return self._sub([m or (self._area[0], self._area[1], self._area[0], self._area[1])])

    # ---- formats ------------------------------------------------------------------------------
    def _style_get(self, attr):
        s = self.sheet
        if self._n() > 5_000_000:  # a whole column/row: the sheet-wide default and the cells set
            seen = {s.sheet_style.get(attr, DEFAULTS[attr])}
            seen |= {st[attr] for k, st in s.styles.items() if attr in st and any(_inside(k, a) for a in self.areas)}
        else:
            seen = {s.style(k, attr) for k in self._keys()}
        return seen.pop() if len(seen) == 1 else None

    def _style_set(self, attr, value):
        self.sheet.set_style(self.areas, attr, value)
        self.book.saved = False
        self._app._changed(values=False)

    def _style(attr):  # noqa: N805
        return property(lambda self: self._style_get(attr), lambda self, v: self._style_set(attr, v))

    NumberFormat = _style("NumberFormat")
    NumberFormatLocal = NumberFormat
    HorizontalAlignment = _style("HorizontalAlignment")
    VerticalAlignment = _style("VerticalAlignment")
    WrapText = _style("WrapText")
    Locked = _style("Locked")
    del _style

    Font = property(lambda self: Font(self._app, self))
    Interior = property(lambda self: Interior(self._app, self))

    def _borders(self, index=None):
        return Borders(self._app, self, index)

    Borders = property(_borders)

    @property
    def RowHeight(self):  # noqa: N802
        s = self.sheet
        hs = {s.row_heights.get(row, STANDARD_HEIGHT) for a in self.areas
              for row in (range(a[0], a[2] + 1) if a[2] - a[0] < 100_000 else [a[0]])}
        return hs.pop() if len(hs) == 1 else None

    @RowHeight.setter
    def RowHeight(self, h):  # noqa: N802
        if not 0 <= h <= 409:
            raise _fail("Unable to set the RowHeight property of the Range class", E_EXCEL)
        for a in self.areas:
            for row in range(a[0], a[2] + 1):
                self.sheet.row_heights[row] = float(h)
        self._app._changed(values=False)

    @property
    def ColumnWidth(self):  # noqa: N802
        s = self.sheet
        ws = {s.col_widths.get(col, STANDARD_WIDTH) for a in self.areas for col in range(a[1], a[3] + 1)}
        return ws.pop() if len(ws) == 1 else None

    @ColumnWidth.setter
    def ColumnWidth(self, w):  # noqa: N802
        if not 0 <= w <= 255:
            raise _fail("Unable to set the ColumnWidth property of the Range class", E_EXCEL)
        for a in self.areas:
            for col in range(a[1], a[3] + 1):
                self.sheet.col_widths[col] = float(w)
        self._app._changed(values=False)

    @property
    def UseStandardHeight(self):  # noqa: N802
        return all(row not in self.sheet.row_heights for a in self.areas for row in range(a[0], a[2] + 1))

    @UseStandardHeight.setter
    def UseStandardHeight(self, v):  # noqa: N802
        if v:
            for a in self.areas:
                for row in [r for r in self.sheet.row_heights if a[0] <= r <= a[2]]:
                    del self.sheet.row_heights[row]

    @property
    def UseStandardWidth(self):  # noqa: N802
        return all(col not in self.sheet.col_widths for a in self.areas for col in range(a[1], a[3] + 1))

    @UseStandardWidth.setter
    def UseStandardWidth(self, v):  # noqa: N802
        if v:
            for a in self.areas:
                for col in [c for c in self.sheet.col_widths if a[1] <= c <= a[3]]:
                    del self.sheet.col_widths[col]

    # ---- position (for chart anchors) -------------------------------------------------------------
    @property
    def Left(self):  # noqa: N802
        return sum(self.sheet.col_widths.get(c, STANDARD_WIDTH) * 6.0 for c in range(1, self._area[1]))

    @property
    def Top(self):  # noqa: N802
        return sum(self.sheet.row_heights.get(r, STANDARD_HEIGHT) for r in range(1, self._area[0]))

    @property
    def Width(self):  # noqa: N802
        return sum(self.sheet.col_widths.get(c, STANDARD_WIDTH) * 6.0 for c in range(self._area[1], self._area[3] + 1))

    @property
    def Height(self):  # noqa: N802
        return sum(self.sheet.row_heights.get(r, STANDARD_HEIGHT) for r in range(self._area[0], self._area[2] + 1))

    # ---- objects attached to cells -------------------------------------------------------------------
    Hyperlinks = property(lambda self: Hyperlinks(self._app, self.book, self.sheet, self.areas))
    Validation = property(lambda self: Validation(self._app, self))
    FormatConditions = property(lambda self: FormatConditions(self._app, self))


class Areas(ComObject):
    _kind = "Areas"

    def __init__(self, app, rng: Range):
        super().__init__(app)
        self.rng = rng

    def _items(self):
        return [self.rng._sub([a]) for a in self.rng.areas]

    Count = property(lambda self: len(self.rng.areas))

    def Item(self, Index):  # noqa: N802,N803
        return self._default(Index)

    def _default(self, index):
        return self.rng._sub([self.rng.areas[int(index) - 1]])


class _StyleGroup(ComObject):
    """Font / Interior / Borders of a range: each property is a cell format attribute."""

    _prefix = ""

    def __init__(self, app, rng: Range):
        super().__init__(app)
        self.rng = rng

    def _attr(name):  # noqa: N805
        def get(self):
            return self.rng._style_get(f"{self._prefix}.{name}")

        def set_(self, v):
            self.rng._style_set(f"{self._prefix}.{name}", v)
        return property(get, set_)


class Font(_StyleGroup):
    _kind = "Font"
    _prefix = "Font"
    Size = _StyleGroup._attr("Size")
    Bold = _StyleGroup._attr("Bold")
    Italic = _StyleGroup._attr("Italic")
    Color = _StyleGroup._attr("Color")
    Underline = _StyleGroup._attr("Underline")
    Name = _StyleGroup._attr("Name")


class Interior(_StyleGroup):
    _kind = "Interior"
    _prefix = "Interior"
    Color = _StyleGroup._attr("Color")
    Pattern = _StyleGroup._attr("Pattern")

    @property
    def ColorIndex(self):  # noqa: N802
        return -4142 if self.rng._style_get("Interior.Pattern") == -4142 else 1

    @ColorIndex.setter
    def ColorIndex(self, v):  # noqa: N802
        if v == -4142:
            self.rng._style_set("Interior.Pattern", -4142)
            self.rng._style_set("Interior.Color", 16777215)


class Borders(_StyleGroup):
    """``Borders`` (every edge of every cell) or ``Borders(i)`` (one edge: modelled per cell)."""

    _kind = "Borders"
    _prefix = "Borders"

    def __init__(self, app, rng, index=None):
        super().__init__(app, rng)
        self.index = index

    def _default(self, index):
        return Borders(self._app, self.rng, index)

    def Item(self, Index):  # noqa: N802,N803
        return self._default(Index)
    LineStyle = _StyleGroup._attr("LineStyle")
    Weight = _StyleGroup._attr("Weight")
    Color = _StyleGroup._attr("Color")


del _StyleGroup._attr


class _Loose(ComObject):
    """A permissive object for what the jobs only decorate (charts, hyperlinks, names): every
    capitalised member exists; a get returns what was set (else a new loose object, kept),
    calling a loose object returns a new one. Everything is counted."""

    _kind = "Loose"

    def __init__(self, app, kind: str):
        super().__init__(app)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "props", {})
        object.__setattr__(self, "calls", [])

    def __getattribute__(self, name):
        if not name[:1].isupper():
            return object.__getattribute__(self, name)
        app = object.__getattribute__(self, "_app")
        kind = object.__getattribute__(self, "kind")
        props = object.__getattribute__(self, "props")
        app.rec.hit(f"{kind}.{name}")
        if name not in props:
            props[name] = _Loose(app, f"{kind}.{name}")
        return props[name]

    def __setattr__(self, name, value):
        if not name[:1].isupper():
            object.__setattr__(self, name, value)
            return
        self._app.rec.hit(f"{self.kind}.{name}=")
        self.props[name] = _marshal(value)

    def __call__(self, *args, **kwargs):
        self._app.rec.hit(f"{self.kind}()")
        self.calls.append((args, kwargs))
        return _Loose(self._app, f"{self.kind}()")


class PageSetup(ComObject):
    _kind = "PageSetup"
    _names = ("Orientation", "PaperSize", "Zoom", "FitToPagesWide", "FitToPagesTall", "LeftMargin",
              "RightMargin", "TopMargin", "BottomMargin", "HeaderMargin", "FooterMargin",
              "CenterHorizontally", "CenterVertically", "PrintTitleRows", "PrintTitleColumns", "PrintArea",
              "CenterFooter", "LeftFooter", "RightFooter", "CenterHeader", "LeftHeader", "RightHeader")

    def __init__(self, app, sheet: SheetData):
        super().__init__(app)
        self.sheet = sheet

    def _prop(name, default):  # noqa: N805
        return property(lambda self: self.sheet.page_setup.get(name, default),
                        lambda self, v: self.sheet.page_setup.__setitem__(name, v))

    Orientation = _prop("Orientation", 1)
    PaperSize = _prop("PaperSize", 9)
    Zoom = _prop("Zoom", 100)
    FitToPagesWide = _prop("FitToPagesWide", 1)
    FitToPagesTall = _prop("FitToPagesTall", 1)
    LeftMargin = _prop("LeftMargin", 51.0)
    RightMargin = _prop("RightMargin", 51.0)
    TopMargin = _prop("TopMargin", 54.0)
    BottomMargin = _prop("BottomMargin", 54.0)
    HeaderMargin = _prop("HeaderMargin", 22.0)
    FooterMargin = _prop("FooterMargin", 22.0)
    CenterHorizontally = _prop("CenterHorizontally", False)
    CenterVertically = _prop("CenterVertically", False)
    PrintTitleRows = _prop("PrintTitleRows", "")
    PrintTitleColumns = _prop("PrintTitleColumns", "")
    PrintArea = _prop("PrintArea", "")
    CenterFooter = _prop("CenterFooter", "")
    LeftFooter = _prop("LeftFooter", "")
    RightFooter = _prop("RightFooter", "")
    CenterHeader = _prop("CenterHeader", "")
    LeftHeader = _prop("LeftHeader", "")
    RightHeader = _prop("RightHeader", "")
    del _prop


class HPageBreaks(ComObject):
    """Manual page breaks: ``Add(Before)`` starts a new page at ``Before``'s first row."""

    _kind = "HPageBreaks"

    def __init__(self, app, sheet: SheetData):
        super().__init__(app)
        self.sheet = sheet

    def Add(self, Before):  # noqa: N802,N803
        self.sheet.page_breaks.append(_unwrap(Before).Row)

    @property
    def Count(self):  # noqa: N802
        return len(self.sheet.page_breaks)


class Outline(ComObject):
    _kind = "Outline"

    def __init__(self, app, sheet: SheetData):
        super().__init__(app)
        self.sheet = sheet

    @property
    def SummaryRow(self):  # noqa: N802
        return self.sheet.summary_row

    @SummaryRow.setter
    def SummaryRow(self, v):  # noqa: N802
        self.sheet.summary_row = v

    def ShowLevels(self, RowLevels=0, ColumnLevels=0):  # noqa: N802,N803
        self.sheet.shown_levels = RowLevels


# --------------------------------------------------------------------------------------------------
# tables, hyperlinks, validation, conditional formats, charts
# --------------------------------------------------------------------------------------------------
class ListObjects(ComObject):
    _kind = "ListObjects"

    def __init__(self, app, book: WorkbookData, sheet: SheetData):
        super().__init__(app)
        self.book, self.sheet = book, sheet

    def _items(self):
        return [ListObject(self._app, self.book, self.sheet, t) for t in self.sheet.tables]

    Count = property(lambda self: len(self.sheet.tables))
    Parent = property(lambda self: Worksheet(self._app, self.book, self.sheet))

    def Item(self, Index):  # noqa: N802,N803
        return self._default(Index)

    def _default(self, key):
        tables = self.sheet.tables
        if isinstance(key, str):
            for t in tables:
                if t.name.lower() == key.lower():
                    return ListObject(self._app, self.book, self.sheet, t)
        elif isinstance(key, (int, float)) and 1 <= key <= len(tables):
            return ListObject(self._app, self.book, self.sheet, tables[int(key) - 1])
        raise _fail("Subscript out of range", DISP_E_BADINDEX)

    def Add(self, SourceType=1, Source=None, LinkSource=None, XlListObjectHasHeaders=0,  # noqa: N802,N803
            Destination=None, TableStyleName="TableStyleMedium2"):
        area = Source.areas[0]
        if any(_overlaps(area, t.ref) for s in [self.sheet] for t in s.tables):
            raise _fail("A table cannot overlap another table.", E_EXCEL)
        taken = self.book.table_names()
        n = 1
        while f"table{n}" in taken:
            n += 1
        t = TableData(f"Table{n}", area, TableStyleName or "TableStyleMedium2")
        self.sheet.tables.append(t)
        self._app._changed(values=False)
        return ListObject(self._app, self.book, self.sheet, t)


class ListObject(ComObject):
    _kind = "ListObject"

    def __init__(self, app, book: WorkbookData, sheet: SheetData, table: TableData):
        super().__init__(app)
        self.book, self.sheet, self.table = book, sheet, table

    def _range(self, area):
        return Range(self._app, self.book, self.sheet, [area])

    @property
    def Name(self):  # noqa: N802
        return self.table.name

    @Name.setter
    def Name(self, v):  # noqa: N802
        if not re.fullmatch(r"[A-Za-z_\\\u4e00-\u9fff][\w.\u4e00-\u9fff]{0,254}", v or ""):
            raise _fail(f"invalid table name {v!r}", E_EXCEL)
        if v.lower() in self.book.table_names() - {self.table.name.lower()}:
            raise _fail(f"A table named {v!r} already exists", E_EXCEL)
        self.table.name = v

    DisplayName = Name
    Range = property(lambda self: self._range(self.table.ref))
    HeaderRowRange = property(lambda self: self._range((self.table.ref[0], self.table.ref[1],
                                                        self.table.ref[0], self.table.ref[3])))
    Parent = property(lambda self: Worksheet(self._app, self.book, self.sheet))

    @property
    def DataBodyRange(self):  # noqa: N802
        t, l, b, r = self.table.ref
        return self._range((t + 1, l, b, r)) if b > t else None

    @property
    def TableStyle(self):  # noqa: N802
        return self.table.style

    @TableStyle.setter
    def TableStyle(self, v):  # noqa: N802
        self.table.style = v

    @property
    def ShowAutoFilter(self):  # noqa: N802
        return self.table.show_autofilter

    @ShowAutoFilter.setter
    def ShowAutoFilter(self, v):  # noqa: N802
        self.table.show_autofilter = bool(v)

    @property
    def ListColumns(self):  # noqa: N802
        t, l, _, r = self.table.ref
        heads = [self.sheet.values.get((t, c)) for c in range(l, r + 1)]
        loose = _Loose(self._app, "ListColumns")
        loose.props["Count"] = len(heads)
        return loose

    def Resize(self, Range):  # noqa: N802,N803
        new = _unwrap(Range).areas[0]
        old = self.table.ref
        if new[0] != old[0] or not _overlaps(new, old):
            raise _fail("The header row must remain in the same row and the table must overlap the original.",
                        E_EXCEL)
        if any(t is not self.table and _overlaps(new, t.ref) for t in self.sheet.tables):
            raise _fail("A table cannot overlap another table.", E_EXCEL)
        self.table.ref = new
        self._app._changed(values=False)

    def Unlist(self):  # noqa: N802
        self.sheet.tables.remove(self.table)

    def Delete(self):  # noqa: N802
        self.sheet.tables.remove(self.table)
        self._range(self.table.ref)._clear(contents=True, formats=True)


class Hyperlinks(ComObject):
    _kind = "Hyperlinks"

    def __init__(self, app, book, sheet: SheetData, areas):
        super().__init__(app)
        self.book, self.sheet, self.areas = book, sheet, areas

    def _keys(self):
        return [k for k in self.sheet.hyperlinks if self.areas is None or any(_inside(k, a) for a in self.areas)]

    def _items(self):
        return [_Loose(self._app, "Hyperlink") for _ in self._keys()]

    Count = property(lambda self: len(self._keys()))

    def Add(self, Anchor, Address="", SubAddress=None, ScreenTip=None, TextToDisplay=None):  # noqa: N802,N803
        rng = _unwrap(Anchor)
        for key in rng._keys():
            self.sheet.hyperlinks[key] = {"Address": Address, "SubAddress": SubAddress, "ScreenTip": ScreenTip}
            if TextToDisplay is not None:
                rng._sub([(key[0], key[1], key[0], key[1])])._enter(key, TextToDisplay)
        self._app._changed()
        return _Loose(self._app, "Hyperlink")

    def Delete(self):  # noqa: N802
        for k in self._keys():
            del self.sheet.hyperlinks[k]


class Validation(ComObject):
    _kind = "Validation"

    def __init__(self, app, rng: Range):
        super().__init__(app)
        self.rng = rng

    def _mine(self):
        for v in self.rng.sheet.validations:
            if v[0] == self.rng.areas:
                return v[1]
        return None

    def Add(self, Type, AlertStyle=1, Operator=None, Formula1=None, Formula2=None):  # noqa: N802,N803
        if self._mine() is not None or any(any(_overlaps(a, b) for a in v[0] for b in self.rng.areas)
                                           for v in self.rng.sheet.validations):
            raise _fail("Application-defined or object-defined error (validation exists)", E_EXCEL)
        self.rng.sheet.validations.append((list(self.rng.areas), {"Type": Type, "Formula1": Formula1,
                                                                  "AlertStyle": AlertStyle, "Formula2": Formula2}))

    def Delete(self):  # noqa: N802
        s = self.rng.sheet
        s.validations = [v for v in s.validations if not any(_overlaps(a, b) for a in v[0] for b in self.rng.areas)]

    def _prop(name):  # noqa: N805
        def get(self):
            return (self._mine() or {}).get(name)

        def set_(self, v):
            mine = self._mine()
            if mine is None:
                raise _fail("No validation on this range", E_EXCEL)
            mine[name] = v
        return property(get, set_)

    InputMessage = _prop("InputMessage")
    ShowInput = _prop("ShowInput")
    InCellDropdown = _prop("InCellDropdown")
    IgnoreBlank = _prop("IgnoreBlank")
    Formula1 = _prop("Formula1")
    Formula2 = _prop("Formula2")
    Type = _prop("Type")
    AlertStyle = _prop("AlertStyle")
    ErrorMessage = _prop("ErrorMessage")
    ShowError = _prop("ShowError")
    del _prop


class FormatConditions(ComObject):
    _kind = "FormatConditions"

    def __init__(self, app, rng: Range):
        super().__init__(app)
        self.rng = rng

    def _items(self):
        return [c for c in self.rng.sheet.conditions if c[0] == self.rng.areas]

    Count = property(lambda self: len(self._items()))

    def Add(self, Type, Operator=None, Formula1=None, Formula2=None):  # noqa: N802,N803
        props: dict[str, Any] = {"Type": Type, "Formula1": Formula1}
        self.rng.sheet.conditions.append((list(self.rng.areas), props))
        cond = _Loose(self._app, "FormatCondition")
        props["object"] = cond
        return cond

    def Delete(self):  # noqa: N802
        s = self.rng.sheet
        s.conditions = [c for c in s.conditions if c[0] != self.rng.areas]


class ChartObjects(ComObject):
    _kind = "ChartObjects"

    def __init__(self, app, book, sheet: SheetData):
        super().__init__(app)
        self.book, self.sheet = book, sheet

    def _items(self):
        return [ChartObject(self._app, self.sheet, c) for c in self.sheet.charts]

    Count = property(lambda self: len(self.sheet.charts))

    def _default(self, index):
        if isinstance(index, (int, float)) and 1 <= index <= len(self.sheet.charts):
            return ChartObject(self._app, self.sheet, self.sheet.charts[int(index) - 1])
        for c in self.sheet.charts:
            if c["Name"] == index:
                return ChartObject(self._app, self.sheet, c)
        raise _fail("Subscript out of range", DISP_E_BADINDEX)

    def Item(self, Index):  # noqa: N802,N803
        return self._default(Index)

    def Add(self, Left, Top, Width, Height):  # noqa: N802,N803
        c = {"Name": f"图表 {len(self.sheet.charts) + 1}", "Left": Left, "Top": Top, "Width": Width,
             "Height": Height, "Chart": _Loose(self._app, "Chart")}
        self.sheet.charts.append(c)
        self._app._changed(values=False)
        return ChartObject(self._app, self.sheet, c)

    def Delete(self):  # noqa: N802
        if not self.sheet.charts:
            raise _fail("Delete method of ChartObjects class failed", E_EXCEL)
        self.sheet.charts.clear()


class ChartObject(ComObject):
    _kind = "ChartObject"

    def __init__(self, app, sheet: SheetData, c: dict):
        super().__init__(app)
        self.sheet, self.c = sheet, c

    Chart = property(lambda self: self.c["Chart"])
    Name = property(lambda self: self.c["Name"])
    Left = property(lambda self: self.c["Left"])
    Top = property(lambda self: self.c["Top"])
    Width = property(lambda self: self.c["Width"])
    Height = property(lambda self: self.c["Height"])

    def Delete(self):  # noqa: N802
        self.sheet.charts.remove(self.c)


# --------------------------------------------------------------------------------------------------
# loading a file
# --------------------------------------------------------------------------------------------------
def load_file(app: Application, path: Path, name: str | None = None) -> Workbook:
    """Cells (values, formulas with their cached values from python-calamine, number formats),
    tables, merges, column widths and row heights of every worksheet of ``path``."""
    import openpyxl

    wb = openpyxl.load_workbook(path, rich_text=False)
    book = WorkbookData(app, name or path.name, str(path.parent))
    book.source = path
    cached: dict[str, list] = {}
    for ws in wb.worksheets:
        s = book.add_sheet(ws.title)
        s.code_name = ws.sheet_properties.codeName or s.code_name
        if ws.sheet_state != "visible":
            s.visible = 0
        formula_cells = []
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                key = (c.row, c.column)
                fmt = c.number_format
                if fmt and fmt != "General":
                    s.styles[key] = {"NumberFormat": fmt}
                if v is None:
                    continue
                if c.data_type == "f" or type(v).__name__ in ("ArrayFormula", "DataTableFormula"):
                    s.formulas[key] = v if isinstance(v, str) else getattr(v, "text", str(v))
                    formula_cells.append(key)
                elif isinstance(v, bool):
                    s.values[key] = v
                elif isinstance(v, (int, float)):
                    s.values[key] = float(v)
                elif isinstance(v, dt.datetime):
                    s.values[key] = to_serial(v)
                elif isinstance(v, dt.date):
                    s.values[key] = to_serial(dt.datetime(v.year, v.month, v.day))
                elif isinstance(v, dt.time):
                    s.values[key] = (v.hour * 3600 + v.minute * 60 + v.second) / 86400
                elif c.data_type == "e":
                    s.values[key] = _Error(ERRORS.get(str(v), ERRORS["#N/A"]))
                else:
                    s.values[key] = str(v)
                    if c.quotePrefix:
                        s.prefix.add(key)
        if formula_cells:
            grid = cached.get(ws.title)
            if grid is None:
                grid = cached[ws.title] = _calamine_grid(path, ws.title)
            for r, c in formula_cells:
                v = grid[r - 1][c - 1] if r - 1 < len(grid) and c - 1 < len(grid[r - 1]) else None
                if v not in (None, ""):
                    if isinstance(v, dt.datetime):
                        v = to_serial(v)
                    elif isinstance(v, dt.date):
                        v = to_serial(dt.datetime(v.year, v.month, v.day))
                    elif isinstance(v, (int, float)) and not isinstance(v, bool):
                        v = float(v)
                    s.values[(r, c)] = v
        s.merges = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges]
        for t in ws.tables.values():
            a = parse_address(t.ref)[0]
            s.tables.append(TableData(t.name, a, t.tableStyleInfo.name if t.tableStyleInfo else None))
        for letter, d in ws.column_dimensions.items():
            if d.width and d.customWidth:
                s.col_widths[_col_number(letter)] = float(d.width)
        for r, d in ws.row_dimensions.items():
            if d.height is not None and d.customHeight:
                s.row_heights[r] = float(d.height)
            if d.outlineLevel:
                s.row_levels[r] = d.outlineLevel
        if ws.freeze_panes:
            m = _CELL.match(ws.freeze_panes)
            s.freeze = (int(m.group(2)) - 1, _col_number(m.group(1)) - 1)
        if ws.auto_filter and ws.auto_filter.ref:
            s.autofilter = parse_address(ws.auto_filter.ref)[0]
    book.active = book.sheets[wb.index(wb.active)] if wb.active in wb.worksheets else book.sheets[0]
    app.books.append(book)
    app.active_book = book
    return Workbook(app, book)


def _calamine_grid(path: Path, sheet: str) -> list:
    try:
        from python_calamine import CalamineWorkbook

        with CalamineWorkbook.from_path(str(path)) as wb:
            return wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except Exception:  # noqa: BLE001 - no cached values: the formulas read as empty
        return []
