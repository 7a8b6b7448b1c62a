"""Files the program reads at run time, shipped inside the package (one copy, also the sources).

``macros/`` holds the workbook's own VBA modules and its ribbon (``Ribbon.bas``,
``ThisWorkbook.cls``, ``customUI.xml``); ``templates/`` the printed forms and the plan's texts
(``forms.toml``, ``plan.toml``). They are read through :mod:`importlib.resources`, so a wheel or
a ``pip install .`` carries them and the program finds them wherever it was installed; in the
repository they are the files you edit.

Example::

    >>> read_bytes("macros", "customUI.xml").startswith(b"<?xml")
    True
    >>> "company" in load_toml("templates", "forms.toml")
    True
    >>> read_bytes("macros", "missing.bas")
    Traceback (most recent call last):
    ...
    FileNotFoundError: 程序包不完整：找不到 pyfuncs/resources/macros/missing.bas，请重新安装 aftercare（pip install --force-reinstall aftercare）。
"""
from __future__ import annotations

import tomllib
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

PACKAGE = "pyfuncs.resources"


def resource(*parts: str) -> Traversable:
    """The shipped file ``pyfuncs/resources/<parts...>`` (raises a Chinese FileNotFoundError)."""
    item = resources.files(PACKAGE).joinpath(*parts)
    if not item.is_file():
        raise FileNotFoundError(
            f"程序包不完整：找不到 pyfuncs/resources/{'/'.join(parts)}，"
            "请重新安装 aftercare（pip install --force-reinstall aftercare）。")
    return item


def read_bytes(*parts: str) -> bytes:
    """The bytes of a shipped file."""
    return resource(*parts).read_bytes()


def read_text(*parts: str) -> str:
    """The text (UTF-8) of a shipped file."""
    return read_bytes(*parts).decode("utf-8")


def load_toml(*parts: str) -> dict[str, Any]:
    """A shipped TOML file, parsed."""
    return tomllib.loads(read_text(*parts))
