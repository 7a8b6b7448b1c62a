"""xlwings' Windows UDF path on Linux: the real ``xlwings._xlwindows``, ``xlwings.udfs`` and
``xlwings.com_server`` (0.37.8), imported behind stand-in pywin32 modules, with fake COM objects
for the cells Excel passes in.

This runs what Excel's call goes through after VBA: ``XLPython.CallUDF`` (the COM server) →
``call_udf`` (missing arguments, Range arguments read with ``xl.Value``, the converters with each
argument's options such as ``err_to_str``) → the decorated function → the converters on the
result. Only pywin32 itself is faked: a ``Value`` read returns what pywin32 hands Python (numbers,
text, datetimes, and an Excel error as its integer code).

Usage::

    with windows_xlwings() as xlw:
        xlw.call("AC_WARRANTY_END", [FakeRange(-2146826246), "屋面防水"])
"""
from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import importlib
import sys
import types
from dataclasses import dataclass
from typing import Any, Iterator

RANGE_IID = "{00020846-0000-0000-C000-000000000046}"
MISSING = -2147352572  # what VBA passes for an omitted Optional argument (DISP_E_PARAMNOTFOUND)


class _Anything:
    """Attribute access and calls that succeed and return another such object."""

    def __init__(self, *_a, **_k):
        pass

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Anything()

    def __call__(self, *_a, **_k):
        return _Anything()


class _StandIn(types.ModuleType):
    """A pywin32 module whose every attribute is a harmless class."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        value = type(name, (_Anything,), {})
        setattr(self, name, value)
        return value


class _ComError(Exception):
    pass


class _PyIDispatch:
    """pythoncom's PyIDispatch type: none of the fakes is one (so FromVariant leaves them as they are)."""


class _TimeZoneInfo:
    @staticmethod
    def utc():
        return dt.timezone.utc


def _not_wrapped(_value):
    raise ValueError("not a wrapped Python object")


def _stand_ins() -> dict[str, types.ModuleType]:
    names = ["pywintypes", "win32api", "win32con", "win32gui", "win32process", "win32timezone", "win32event",
             "pythoncom", "win32com", "win32com.client", "win32com.client.gencache", "win32com.server",
             "win32com.server.dispatcher", "win32com.server.policy", "win32com.server.util"]
    mods = {n: _StandIn(n) for n in names}
    for pkg in ("win32com", "win32com.client", "win32com.server"):
        mods[pkg].__path__ = []
    mods["win32com"].client = mods["win32com.client"]
    mods["win32com"].server = mods["win32com.server"]
    mods["win32com.client"].gencache = mods["win32com.client.gencache"]
    for sub in ("dispatcher", "policy", "util"):
        setattr(mods["win32com.server"], sub, mods[f"win32com.server.{sub}"])
    pythoncom, pywintypes = mods["pythoncom"], mods["pywintypes"]
    pythoncom.__file__ = "pythoncom311.dll"
    pythoncom.IID_IDispatch = "{00020400-0000-0000-C000-000000000046}"
    pythoncom.TypeIIDs = {pythoncom.IID_IDispatch: _PyIDispatch}
    pythoncom.com_error = pywintypes.com_error = pywintypes.error = _ComError
    pywintypes.IID = str
    pywintypes.TimeType = type("TimeType", (), {})
    mods["win32timezone"].TimeZoneInfo = _TimeZoneInfo
    mods["win32com.client"].Dispatch = lambda obj, *a, **k: obj
    mods["win32com.server.util"].unwrap = _not_wrapped
    mods["win32process"].GetWindowThreadProcessId = lambda hwnd: (1, 4242)
    return mods


class _Recorded:
    """Records the name of every COM property read (one round trip each in Excel)."""

    def __init__(self, log: list[str]):
        object.__setattr__(self, "_log", log)

    def __getattribute__(self, name):
        if not name.startswith("_") and name != "reads":
            object.__getattribute__(self, "_log").append(f"{type(self).__name__}.{name}")
        return object.__getattribute__(self, name)


class FakeApp(_Recorded):
    Hwnd = 1


class FakeWorkbook(_Recorded):
    Name = "aftercare.xlsm"

    def __init__(self, log):
        super().__init__(log)
        object.__setattr__(self, "Application", FakeApp(log))


class FakeSheet(_Recorded):
    Name = "报修台账"

    def __init__(self, log):
        super().__init__(log)
        object.__setattr__(self, "Parent", FakeWorkbook(log))


class _Count:
    def __init__(self, n):
        self.Count = n


class FakeRange(_Recorded):
    """A cell or block as pywin32 presents it to xlwings: ``Value`` is a scalar for one cell, a
    tuple of row tuples for a block (an error cell: its integer code). ``reads`` lists every COM
    property xlwings read through it or the sheet, workbook and application behind it."""

    Row = 2
    Column = 1

    def __init__(self, value: Any):
        log: list[str] = []
        super().__init__(log)
        rows = value if isinstance(value, tuple) else ((value,),)
        for name, v in (("Value", value), ("Rows", _Count(len(rows))), ("Columns", _Count(len(rows[0]))),
                        ("Worksheet", FakeSheet(log)), ("reads", log)):
            object.__setattr__(self, name, v)
        oleobj = types.SimpleNamespace(GetTypeInfo=lambda: types.SimpleNamespace(
            GetTypeAttr=lambda: types.SimpleNamespace(iid=RANGE_IID)))
        object.__setattr__(self, "_oleobj_", oleobj)


@dataclass
class WindowsXlwings:
    udfs: types.ModuleType       # xlwings.udfs
    com_server: types.ModuleType  # xlwings.com_server
    xlwindows: types.ModuleType   # xlwings._xlwindows

    def call(self, name: str, args: list[Any], module: str = "pyfuncs.udfs", caller: Any = None) -> Any:
        """What the VBA wrapper does: ``XLPy.CallUDF(module, name, Array(args...), ThisWorkbook,
        Application.Caller)``; ``args`` as VBA passes them (:data:`MISSING` for an omitted one)."""
        server = self.com_server.XLPython()
        return server.CallUDF(module, name, tuple(args), "ThisWorkbook", caller or FakeRange(None))


@contextlib.contextmanager
def windows_xlwings(module: str = "pyfuncs.udfs") -> Iterator[WindowsXlwings]:
    """The real xlwings Windows UDF machinery with ``module`` registered under its real decorators;
    everything (modules, ctypes, the ``excel`` engine) is put back afterwards."""
    import xlwings
    from xlwings.main import Engine

    from pyfuncs.build_udfs import _load_decorated, xlwings_udfs_module

    before = set(sys.modules)
    saved_ctypes = {n: getattr(ctypes, n, None) for n in ("windll", "oledll", "PyDLL")}
    engines = xlwings.engines
    saved_engines = (list(engines.engines), dict(engines.engines_by_name), engines.active)
    for name, mod in _stand_ins().items():
        sys.modules.setdefault(name, mod)
    ctypes.windll = ctypes.oledll = _Anything()
    ctypes.PyDLL = _Anything
    loop = None
    try:
        xlwindows = importlib.import_module("xlwings._xlwindows")
        ctypes.PyDLL = saved_ctypes["PyDLL"]
        engines.add(Engine(impl=xlwindows.engine))
        udfs = importlib.import_module("xlwings.udfs")
        com_server = importlib.import_module("xlwings.com_server")
        loop = com_server.loop
        with xlwings_udfs_module():
            decorated = _load_decorated(module)
        udfs.udf_modules[module] = {"filename": module, "filetime": None, "module": decorated}
        yield WindowsXlwings(udfs, com_server, xlwindows)
    finally:
        if loop is not None:
            loop.close()
        engines.engines[:], engines.engines_by_name, engines.active = saved_engines[0], saved_engines[1], saved_engines[2]
        stand_ins = set(_stand_ins())
        new = set(sys.modules) - before
        for name in new:
            if name in stand_ins or name.startswith("xlwings."):
                del sys.modules[name]
        # only what this context imported: the COM fake (pyfuncs.comfake) may have imported
        # xlwings._xlwindows before, and xlwings.main looks it up as an attribute of the package
        for attr in ("_xlwindows", "udfs", "com_server", "_win32patch"):
            if f"xlwings.{attr}" in new and attr in vars(xlwings):
                delattr(xlwings, attr)
        for name, value in saved_ctypes.items():
            if value is None:
                if hasattr(ctypes, name):
                    delattr(ctypes, name)
            else:
                setattr(ctypes, name, value)
