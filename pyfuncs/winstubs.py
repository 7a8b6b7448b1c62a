"""Stand-in pywin32 modules, so that xlwings' Windows code imports where pywin32 does not exist.

Two users, one set of stand-ins:

- the build (:mod:`pyfuncs.build_udfs`) imports ``xlwings.udfs`` behind them to generate the VBA
  wrappers of the worksheet functions without Excel (the generator itself never touches COM);
- the recording fake of Excel (:mod:`pyfuncs.comfake`) imports ``xlwings._xlwindows`` behind them
  and puts a fake ``Excel.Application`` beneath it, to count COM round trips of the ribbon's jobs.

The modules are created once per process (``xlwings._xlwindows`` keeps references to them, so a
second set would make its ``isinstance`` checks fail). :func:`installed` puts the missing ones into
``sys.modules`` for the duration of an import and takes out again exactly those it added, so
nothing stays importable afterwards that would not be on a machine without pywin32.

What the stand-ins do: nothing that needs Windows. ``win32api.MessageBox`` (which xlwings' Windows
``App.alert`` calls) hands the message to a hook that the COM fake registers per window handle;
``pywintypes.TimeType`` is a :class:`datetime.datetime` subclass, as in pywin32;
``win32com.client.CDispatch`` is the base class of the fake's COM objects, so that xlwings wraps
them in its retry wrapper exactly as it wraps real ones.

Example::

    >>> import sys
    >>> with installed():
    ...     import pywintypes
    ...     isinstance(pywintypes.com_error(-2147352567, "x", None, None), Exception)
    True
    >>> "pywintypes" in sys.modules and sys.platform != "win32"
    False
"""
from __future__ import annotations

import contextlib
import datetime as dt
import sys
import types
from typing import Callable, Iterator

#: the names of the stand-in modules, in import order
NAMES = ("pythoncom", "pywintypes", "win32api", "win32con", "win32gui", "win32process", "win32timezone",
         "win32com", "win32com.client")


class ComError(Exception):
    """Stand-in for ``pywintypes.com_error``: ``args == (hresult, text, excepinfo, argerror)``."""

    def __init__(self, hresult: int = -2147352567, text: str = "Exception occurred.",
                 excepinfo: tuple | None = None, argerror: int | None = None):
        super().__init__(hresult, text, excepinfo, argerror)
        self.hresult, self.strerror, self.excepinfo, self.argerror = hresult, text, excepinfo, argerror


class TimeType(dt.datetime):
    """Stand-in for ``pywintypes.TimeType``: pywin32 gives dates from COM as this datetime subclass."""


class CDispatch:
    """Stand-in for ``win32com.client.CDispatch`` (a late-bound COM object)."""


class DispatchBaseClass:
    """Stand-in for ``win32com.client.DispatchBaseClass`` (an early-bound COM object)."""


class _Utc:
    @staticmethod
    def utc() -> dt.tzinfo:
        return dt.timezone.utc


#: hwnd → callable(text, title, style) -> int, registered by the COM fake for its application
message_box_hooks: dict[int, Callable[[str, str, int], int]] = {}


def _message_box(hwnd, text, title, style=0):
    hook = message_box_hooks.get(hwnd)
    if hook is None:
        raise ComError(-2147467259, f"no window {hwnd!r} to show a message box in")
    return hook(text, title, style)


def _noop(*_a, **_k):
    return None


def _not_on_this_machine(*_a, **_k):
    raise ComError(-2147221005, "pywin32 stand-in: there is no Excel on this machine")


def _make() -> dict[str, types.ModuleType]:
    pythoncom = types.ModuleType("pythoncom")
    pythoncom.__file__ = "pythoncom-stand-in"
    pythoncom.CoInitialize = _noop
    pythoncom.CoUninitialize = _noop
    pythoncom.CoMarshalInterThreadInterfaceInStream = _noop
    pythoncom.CoGetInterfaceAndReleaseStream = _noop
    pythoncom.IID_IDispatch = None
    pythoncom.com_error = ComError
    pythoncom.ole_error = ComError
    pythoncom.new = _not_on_this_machine

    pywintypes = types.ModuleType("pywintypes")
    pywintypes.com_error = ComError
    pywintypes.error = ComError
    pywintypes.TimeType = TimeType
    pywintypes.IID = str

    win32api = types.ModuleType("win32api")
    win32api.MessageBox = _message_box
    win32api.OpenProcess = _not_on_this_machine
    win32api.TerminateProcess = _not_on_this_machine
    win32api.CloseHandle = _noop

    win32con = types.ModuleType("win32con")
    for name, value in dict(MB_OK=0, MB_OKCANCEL=1, MB_YESNOCANCEL=3, MB_YESNO=4, MB_ICONWARNING=0x30,
                            MB_ICONINFORMATION=0x40).items():
        setattr(win32con, name, value)

    win32gui = types.ModuleType("win32gui")
    win32gui.FindWindowEx = _not_on_this_machine

    win32process = types.ModuleType("win32process")
    win32process.GetWindowThreadProcessId = lambda hwnd: (0, int(hwnd or 0))

    win32timezone = types.ModuleType("win32timezone")
    win32timezone.TimeZoneInfo = _Utc

    win32com = types.ModuleType("win32com")
    win32com.__path__ = []  # a package, so "win32com.client" resolves
    client = types.ModuleType("win32com.client")
    client.CDispatch = CDispatch
    client.DispatchBaseClass = DispatchBaseClass
    client.CoClassBaseClass = type("CoClassBaseClass", (), {})
    client.Dispatch = _not_on_this_machine
    client.DispatchEx = _not_on_this_machine
    win32com.client = client
    return {"pythoncom": pythoncom, "pywintypes": pywintypes, "win32api": win32api, "win32con": win32con,
            "win32gui": win32gui, "win32process": win32process, "win32timezone": win32timezone,
            "win32com": win32com, "win32com.client": client}


#: the stand-in modules, created once per process
MODULES: dict[str, types.ModuleType] = _make()


@contextlib.contextmanager
def installed() -> Iterator[dict[str, types.ModuleType]]:
    """The stand-ins in ``sys.modules`` where no module of that name is (a real pywin32 wins);
    exactly those are taken out again on exit."""
    added = []
    for name in NAMES:
        if name not in sys.modules:
            sys.modules[name] = MODULES[name]
            added.append(name)
    try:
        yield MODULES
    finally:
        for name in added:
            sys.modules.pop(name, None)
