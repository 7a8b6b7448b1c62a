"""A stand-in for :mod:`winreg` (HKEY_CURRENT_USER only), for testing pyfuncs.setup_windows on
any OS: the calls and errors that module uses, with winreg's semantics (case-insensitive key and
value names, OpenKey of a missing key raises FileNotFoundError, EnumKey/EnumValue past the end
raise OSError, keys are context managers with Close()).
"""
from __future__ import annotations

from typing import Any


class FakeRegistry:

    HKEY_CURRENT_USER = "HKCU"
    KEY_READ, KEY_ALL_ACCESS = 0x20019, 0xF003F
    REG_SZ, REG_DWORD = 1, 4

    class _Key:
        def __init__(self, path: str):
            self.path = path

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.Close()

        def Close(self):  # noqa: N802 (winreg's name)
            pass

    def __init__(self):
        self.keys: dict[str, dict[str, tuple[Any, int]]] = {}

    def _path(self, parent, sub: str) -> str:
        base = parent if isinstance(parent, str) else parent.path
        return "\\".join(p for p in (base, sub) if p)

    def _find(self, path: str) -> str | None:
        return next((k for k in self.keys if k.casefold() == path.casefold()), None)

    def OpenKey(self, parent, sub, reserved=0, access=0):  # noqa: N802
        found = self._find(self._path(parent, sub))
        if found is None:
            raise FileNotFoundError(2, "系统找不到指定的文件。")
        return self._Key(found)

    def CreateKeyEx(self, parent, sub, reserved=0, access=0):  # noqa: N802
        path = self._path(parent, sub)
        parts = path.split("\\")
        for i in range(1, len(parts) + 1):
            p = "\\".join(parts[:i])
            if self._find(p) is None:
                self.keys[p] = {}
        return self._Key(self._find(path))

    def EnumKey(self, key, index):  # noqa: N802
        prefix = key.path.casefold() + "\\"
        children = [k[len(prefix):] for k in self.keys if k.casefold().startswith(prefix) and "\\" not in k[len(prefix):]]
        if index >= len(children):
            raise OSError(259, "没有可用的数据了。")
        return children[index]

    def EnumValue(self, key, index):  # noqa: N802
        items = list(self.keys[key.path].items())
        if index >= len(items):
            raise OSError(259, "没有可用的数据了。")
        name, (value, kind) = items[index]
        return name, value, kind

    def SetValueEx(self, key, name, reserved, kind, value):  # noqa: N802
        values = self.keys[key.path]
        old = next((n for n in values if n.casefold() == name.casefold()), name)
        values.pop(old, None)
        values[name] = (value, kind)

    def value(self, path: str, name: str) -> Any:
        """Test helper: the value ``name`` of the key ``path`` under HKEY_CURRENT_USER, or None."""
        found = self._find(self._path(self.HKEY_CURRENT_USER, path))
        return self.keys[found].get(name, (None, 0))[0] if found else None
