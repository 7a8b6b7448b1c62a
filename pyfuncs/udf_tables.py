"""The 设置 / 城市季节 / 节假日 tables the worksheet functions use: read once per workbook, cached.

The ribbon jobs read these tables on every run (:func:`pyfuncs.tables.read_settings`,
:func:`pyfuncs.tables.read_calendar`). A worksheet function is called once per formula cell, so
reading the sheets on every call would cost many COM round trips per cell. Instead:

- every AC_ function's VBA wrapper (module ``xlwings_udfs``) passes one hidden argument, the
  *stamp* ``"<workbook full name>|<version>"``, from the VBA function ``AcTablesStamp`` of the
  generated module ``UdfSupport`` (:mod:`pyfuncs.build_udfs`). That is plain VBA inside Excel:
  no COM call from Python.
- The version is a number kept in ``UdfSupport``. It changes when staff edit the 设置 or 节假日
  sheet (``Workbook_SheetChange`` in ``ThisWorkbook``), when they press Ctrl+Alt+F9 in the
  workbook or run the macro ``AcRefreshFunctions`` (forced refresh), and whenever the VBA project
  starts afresh (it is seeded from the clock, so a reset never repeats an old version).
- :func:`tables_for` keeps, per workbook, the tables and the version they were read at. Same
  version: the cached tables, no COM call. Another version: the tables are read again through
  the :class:`~pyfuncs.io.book.Book` interface (:class:`~pyfuncs.io.xlbook.XlBook` of the workbook
  that holds the functions, ``xlwings.Book.caller()``), exactly as the jobs read them.

Outside Excel (tests, Python callers, the self-test) there is no stamp: the built-in defaults,
unless the caller passes its own settings to the plain functions of :mod:`pyfuncs.udfs`.

Example (a file book stands in for Excel)::

    >>> from pyfuncs.io.filebook import FileBook          # doctest: +SKIP
    >>> t = tables_for("C:\\\\台账.xlsm|1", lambda: FileBook("台账.xlsm"))  # doctest: +SKIP
    >>> t.settings.clock_days                              # doctest: +SKIP
    3
    >>> tables_for(None).settings.clock_days
    7
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

from pyfuncs.core.calendar import WorkCalendar
from pyfuncs.core.clock import default_calendar
from pyfuncs.core.settings import Settings
from pyfuncs.io.book import Book
from pyfuncs.problem import Problem

#: How many workbooks' tables are kept (the least recently used are dropped first).
MAX_BOOKS = 16


@dataclass(frozen=True)
class Tables:
    """What the functions need from a workbook: its settings (with the season table) and its
    working-day calendar (the official calendar with the 节假日 overrides)."""

    settings: Settings
    calendar: WorkCalendar
    problems: tuple[Problem, ...] = ()


class TablesError(Exception):
    """The tables could not be read at all; ``str(e)`` is the Chinese reason."""


_default: list[Tables] = []
_cache: "OrderedDict[str, tuple[str, Tables]]" = OrderedDict()
_lock = threading.Lock()


def default_tables() -> Tables:
    """The built-in defaults (no workbook)."""
    if not _default:
        _default.append(Tables(Settings(), default_calendar()))
    return _default[0]


def read_tables(book: Book) -> Tables:
    """The tables of ``book``, read the way the ribbon jobs read them (bad rows become problems
    and their defaults stay, as in the jobs)."""
    from pyfuncs.tables import read_calendar, read_settings

    settings, p1 = read_settings(book)
    calendar, p2 = read_calendar(book)
    return Tables(settings, calendar, tuple(p1 + p2))


def calling_book() -> Book:
    """The workbook whose functions Excel is calling, as a :class:`Book`.

    xlwings hands every UDF call the workbook of the VBA wrapper (``ThisWorkbook``) and exposes
    it as ``xlwings.Book.caller()``; a formula always calls the functions of its own workbook.
    """
    import xlwings as xw

    from pyfuncs.io.xlbook import XlBook

    return XlBook(xw.Book.caller())


def split_stamp(stamp: str) -> tuple[str, str]:
    """``"path|version"`` → ``("path", "version")`` (the path may itself hold ``|``).

    >>> split_stamp("D:\\\\回访|保修.xlsm|46000.5")
    ('D:\\\\回访|保修.xlsm', '46000.5')
    """
    book, _, version = str(stamp).rpartition("|")
    return book, version


def tables_for(stamp: str | None, open_book: Callable[[], Book] | None = None) -> Tables:
    """The tables for a call that carries ``stamp`` (None: outside Excel → defaults).

    Reads ``open_book()`` (default :func:`calling_book`) only when this workbook is not cached
    at this version; raises
    :class:`TablesError` when reading fails (nothing is cached then, so the next call retries).
    """
    if stamp is None or (isinstance(stamp, str) and not stamp.strip()):
        return default_tables()
    book, version = split_stamp(stamp)
    with _lock:
        hit = _cache.get(book)
        if hit is not None and hit[0] == version:
            _cache.move_to_end(book)
            return hit[1]
    try:
        tables = read_tables((open_book or calling_book)())
    except Exception as e:  # noqa: BLE001 - any failure becomes the functions' error text
        raise TablesError(f"无法读取工作簿的设置和节假日：{e}") from e
    with _lock:
        _cache[book] = (version, tables)
        _cache.move_to_end(book)
        while len(_cache) > MAX_BOOKS:
            _cache.popitem(last=False)
    return tables


def forget(book: str | None = None) -> None:
    """Drop the cached tables of ``book`` (a workbook full name), or of every workbook."""
    with _lock:
        if book is None:
            _cache.clear()
        else:
            _cache.pop(book, None)


def cached_books() -> list[str]:
    """The workbooks whose tables are cached, least recently used first."""
    with _lock:
        return list(_cache)
