"""``aftercare setup``: make a Windows PC ready to run the workbook's macros and functions.

What it does, for each workbook it is given (or the default one, created if missing:
``文档\\aftercare\\aftercare.xlsm``):

1. writes this Python into the workbook's ``xlwings.conf`` sheet (``Interpreter_Win``, as
   ``aftercare configure`` does: :func:`pyfuncs.configure.configure_workbook`);
2. checks that xlwings' DLL (``xlwings64-<version>.dll`` / ``xlwings32-<version>.dll``) is where
   xlwings' VBA loads it from: beside the interpreter, or one folder up (a virtual environment),
   the two folders ``XLPyLoadDLL`` in xlwings.bas tries;
3. removes the downloaded-file mark (the ``Zone.Identifier`` alternate data stream) that makes
   Excel block the macros of a file that came from the internet, a mail or a network share;
4. adds the workbook's folder to Excel's trusted locations (``HKCU\\Software\\Microsoft\\Office\\
   16.0\\Excel\\Security\\Trusted Locations\\LocationN``: ``Path``, ``AllowSubfolders``,
   ``Description``, ``Date``), unless it is trusted already or a policy disables trusted locations;

and says in Chinese what it did and what is left to do. Steps 2–4 talk to Windows through a
:class:`System` (the registry module, the interpreter, the alternate data stream); tests give it
stand-ins. On another OS the command says plainly that these steps are for Windows and changes
nothing.

Example::

    >>> xlwings_dll_names("0.37.8")[0]
    'xlwings64-0.37.8.dll'
    >>> _norm("D:\\\\回访保修\\\\") == _norm("d:/回访保修")
    True
"""
from __future__ import annotations

import datetime as dt
import ntpath
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

OFFICE_VERSION = "16.0"  # Excel 2016, 2019, 2021, 2024 and Microsoft 365 all keep their settings here
TRUSTED_KEY = rf"Software\Microsoft\Office\{OFFICE_VERSION}\Excel\Security\Trusted Locations"
POLICY_KEY = rf"Software\Policies\Microsoft\Office\{OFFICE_VERSION}\Excel\Security\Trusted Locations"
EXCEL_KEY = rf"Software\Microsoft\Office\{OFFICE_VERSION}\Excel"
ZONE_STREAM = ":Zone.Identifier"
DESCRIPTION = "回访保修 aftercare（由 aftercare setup 添加）"
ZONES = {"0": "本机", "1": "本地 Intranet", "2": "受信任的站点", "3": "Internet", "4": "受限制的站点"}

DONE, ALREADY, TODO, SKIPPED = "完成", "已就绪", "需处理", "跳过"


def default_workbook() -> Path:
    """Where ``aftercare setup`` puts the workbook when it is given none: Documents\\aftercare."""
    return Path.home() / "Documents" / "aftercare" / "aftercare.xlsm"


# --------------------------------------------------------------------------------------------------
# xlwings' DLL
# --------------------------------------------------------------------------------------------------

def xlwings_dll_names(version: str | None = None) -> list[str]:
    """The DLL names xlwings' VBA declares (64-bit Excel, then 32-bit) for this xlwings version.

    >>> xlwings_dll_names("0.37.8")
    ['xlwings64-0.37.8.dll', 'xlwings32-0.37.8.dll']
    """
    if version is None:
        import xlwings

        version = xlwings.__version__
    return [f"xlwings64-{version}.dll", f"xlwings32-{version}.dll"]


def find_xlwings_dlls(interpreter: str | os.PathLike, version: str | None = None) -> dict[str, Path | None]:
    """DLL name → where xlwings' VBA finds it for this interpreter (its folder, then the folder above
    it, as ``XLPyLoadDLL`` tries), or None."""
    exe = Path(interpreter)
    out: dict[str, Path | None] = {}
    for name in xlwings_dll_names(version):
        found = None
        for folder in (exe.parent, exe.parent.parent):
            if (folder / name).is_file():
                found = folder / name
                break
        out[name] = found
    return out


# --------------------------------------------------------------------------------------------------
# Trusted locations (the registry)
# --------------------------------------------------------------------------------------------------

def _norm(path: str) -> str:
    """A folder as Windows compares it: case-insensitive, no trailing separator."""
    return ntpath.normcase(ntpath.normpath(path.replace("/", "\\"))).rstrip("\\")


def _values(reg, key) -> dict[str, Any]:
    out, i = {}, 0
    while True:
        try:
            name, value, _kind = reg.EnumValue(key, i)
        except OSError:
            return out
        out[name] = value
        i += 1


def _subkeys(reg, key) -> list[str]:
    out, i = [], 0
    while True:
        try:
            out.append(reg.EnumKey(key, i))
        except OSError:
            return out
        i += 1


def trusted_locations(reg) -> list[tuple[str, str, bool]]:
    """(key name, Path, AllowSubfolders) of every trusted location of Excel for this user."""
    try:
        root = reg.OpenKey(reg.HKEY_CURRENT_USER, TRUSTED_KEY)
    except OSError:
        return []
    out = []
    with root:
        for name in _subkeys(reg, root):
            with reg.OpenKey(root, name) as key:
                values = _values(reg, key)
            if "Path" in values:
                out.append((name, str(values["Path"]), bool(values.get("AllowSubfolders", 0))))
    return out


def trusted_locations_disabled(reg) -> bool:
    """Whether a policy (or the user) turned trusted locations off (``AllLocationsDisabled`` = 1)."""
    for key_path in (POLICY_KEY, TRUSTED_KEY):
        try:
            with reg.OpenKey(reg.HKEY_CURRENT_USER, key_path) as key:
                if _values(reg, key).get("AllLocationsDisabled") == 1:
                    return True
        except OSError:
            continue
    return False


def is_trusted(reg, folder: str) -> str | None:
    """The key name of a trusted location that covers ``folder`` (itself, or a parent with
    subfolders allowed), or None."""
    want = _norm(folder)
    for name, path, subfolders in trusted_locations(reg):
        have = _norm(path)
        if want == have or (subfolders and want.startswith(have + "\\")):
            return name
    return None


def add_trusted_location(reg, folder: str, *, description: str = DESCRIPTION,
                         now: dt.datetime | None = None) -> tuple[str, bool]:
    """Trust ``folder`` (and its subfolders) in Excel; returns (key name, whether it was added).

    A folder already covered is left as it is. A new location gets the next free ``LocationN``
    with the values Excel's Trust Center writes: ``Path`` (ending in a backslash),
    ``AllowSubfolders`` = 1, ``Description`` and ``Date``. A network folder (``\\\\server\\share``)
    also needs ``AllowNetworkLocations`` = 1 on the Trusted Locations key, which is set then.
    """
    existing = is_trusted(reg, folder)
    if existing:
        return existing, False
    now = now or dt.datetime.now()
    path = folder.replace("/", "\\").rstrip("\\") + "\\"
    with reg.CreateKeyEx(reg.HKEY_CURRENT_USER, TRUSTED_KEY, 0, reg.KEY_ALL_ACCESS) as root:
        taken = {n.casefold() for n in _subkeys(reg, root)}
        n = 0
        while f"location{n}" in taken:
            n += 1
        name = f"Location{n}"
        if path.startswith("\\\\"):
            reg.SetValueEx(root, "AllowNetworkLocations", 0, reg.REG_DWORD, 1)
        with reg.CreateKeyEx(root, name, 0, reg.KEY_ALL_ACCESS) as key:
            reg.SetValueEx(key, "Path", 0, reg.REG_SZ, path)
            reg.SetValueEx(key, "AllowSubfolders", 0, reg.REG_DWORD, 1)
            reg.SetValueEx(key, "Description", 0, reg.REG_SZ, description)
            reg.SetValueEx(key, "Date", 0, reg.REG_SZ, f"{now:%Y/%m/%d %H:%M}")
    return name, True


def excel_installed(reg) -> bool:
    """Whether Excel 2016 or later has ever run for this user (its settings key exists)."""
    try:
        reg.OpenKey(reg.HKEY_CURRENT_USER, EXCEL_KEY).Close()
        return True
    except OSError:
        return False


# --------------------------------------------------------------------------------------------------
# The downloaded-file mark
# --------------------------------------------------------------------------------------------------

def zone_of(path: str | os.PathLike) -> str | None:
    """The ``ZoneId`` in a file's ``Zone.Identifier`` stream ("3" = Internet), "" if it has one
    without a ZoneId, None if it has none."""
    try:
        with open(str(path) + ZONE_STREAM, "r", encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip().casefold() == "zoneid":
            return value.strip()
    return ""


def remove_zone_identifier(path: str | os.PathLike) -> str | None:
    """Remove the downloaded-file mark of ``path`` (what 属性 → 解除锁定 does); returns the zone it
    had, None if it had none. On NTFS ``<file>:Zone.Identifier`` names the alternate data stream."""
    zone = zone_of(path)
    if zone is None:
        return None
    os.remove(str(path) + ZONE_STREAM)
    return zone


# --------------------------------------------------------------------------------------------------
# The whole set-up
# --------------------------------------------------------------------------------------------------

@dataclass
class System:
    """What :func:`run_setup` needs from Windows. The real one on Windows; tests pass stand-ins."""

    registry: Any
    interpreter: str
    remove_zone: Callable[[str | os.PathLike], str | None] = remove_zone_identifier
    now: Callable[[], dt.datetime] = dt.datetime.now

    @classmethod
    def windows(cls) -> "System":
        import winreg  # only on Windows

        from pyfuncs.configure import default_interpreter

        return cls(registry=winreg, interpreter=default_interpreter("win"))


@dataclass
class Step:
    status: str
    text: str


@dataclass
class SetupReport:
    steps: list[Step] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)

    def add(self, status: str, text: str) -> None:
        self.steps.append(Step(status, text))

    @property
    def ok(self) -> bool:
        return not any(s.status == TODO for s in self.steps)

    def lines(self) -> list[str]:
        out = [f"[{s.status}] {s.text}" for s in self.steps]
        if self.todo:
            out.append("还需要做：")
            out += [f"  {i}. {t}" for i, t in enumerate(self.todo, start=1)]
        return out


def run_setup(workbooks: list[Path], system: System, *, trust: bool = True, unblock: bool = True,
              create_missing: bool = False) -> SetupReport:
    """Set this PC up for ``workbooks``; every step is reported, none stops the others."""
    from pyfuncs.configure import configure_workbook

    report = SetupReport()
    reg = system.registry
    if not excel_installed(reg):
        report.add(TODO, f"没有找到 Excel 2016 或更新版本的设置（HKCU\\{EXCEL_KEY}）。")
        report.todo.append("安装 Excel 2016 或更新版本（或 Microsoft 365），打开一次 Excel 后再运行 aftercare setup。")

    dlls = find_xlwings_dlls(system.interpreter)
    found = {n: p for n, p in dlls.items() if p}
    if len(found) == len(dlls):
        report.add(ALREADY, "xlwings 的 DLL 在 Python 旁边：" + "、".join(str(p) for p in found.values()))
    elif found:
        (name, where), = found.items()
        missing = next(n for n in dlls if n not in found)
        bits = "64" if "64-" in missing else "32"
        report.add(TODO, f"只找到 {where}，缺少 {missing}（{bits} 位 Excel 需要它）。")
        report.todo.append(f"如果本机是 {bits} 位 Excel：重新安装 xlwings（py -m pip install --force-reinstall xlwings）。")
    else:
        folder = Path(system.interpreter).parent
        report.add(TODO, f"在 {folder} 和 {folder.parent} 都没有找到 {' 或 '.join(dlls)}：宏和工作表函数无法启动 Python。")
        report.todo.append("不要用 --user 安装：用安装 Python 的同一账户运行 install.bat（或 "
                           "py -m pip install --force-reinstall xlwings），让 DLL 装到 Python 的文件夹。")

    disabled = trusted_locations_disabled(reg)
    for wb in workbooks:
        wb = Path(wb)
        name = wb.name
        if not wb.exists():
            if not create_missing:
                report.add(TODO, f"找不到工作簿：{wb}")
                report.todo.append(f"确认路径，或先运行 aftercare new \"{wb}\" 新建工作簿。")
                continue
            from pyfuncs.build import build_workbook

            build_workbook(wb)
            report.add(DONE, f"新建了工作簿：{wb}")
        try:
            written = configure_workbook(wb, interpreter=system.interpreter, platform="win")
            report.add(DONE, f"「{name}」的 xlwings.conf 已写入本机 Python：{written['Interpreter_Win']}")
        except Exception as e:  # noqa: BLE001 (a refused file is reported, the other steps go on)
            report.add(TODO, f"没能写入「{name}」的 xlwings.conf：{e}")
            report.todo.append(f"关闭 Excel 中打开的「{name}」，再运行一次 aftercare setup。")
        if unblock:
            zone = system.remove_zone(wb)
            if zone is None:
                report.add(ALREADY, f"「{name}」没有下载标记。")
            else:
                where = ZONES.get(zone, f"区域 {zone}" if zone else "未知区域")
                report.add(DONE, f"已解除「{name}」的下载标记（来自{where}），Excel 不会因此阻止宏。")
        folder = str(wb.resolve().parent)
        if not trust:
            report.add(SKIPPED, f"未把 {folder} 加入受信任位置（--no-trust）。")
            report.todo.append("打开工作簿时点黄色栏上的「启用内容」。")
        elif disabled:
            report.add(TODO, "组策略（或本机设置）禁用了所有受信任位置，无法添加。")
            report.todo.append(f"请 IT 通过组策略把 {folder} 设为受信任位置，或打开工作簿时点「启用内容」。")
        else:
            key, added = add_trusted_location(reg, folder, now=system.now())
            if added:
                report.add(DONE, f"已把 {folder} 及其子文件夹加入 Excel 的受信任位置（{key}）。")
            else:
                report.add(ALREADY, f"{folder} 已是 Excel 的受信任位置（{key}）。")
            if folder.startswith("\\\\"):
                report.add(DONE, "这是网络文件夹：已允许网络上的受信任位置（AllowNetworkLocations）。")
    report.todo.append("打开工作簿，确认功能区有「回访保修」选项卡，然后点「自检」，结果应全部“通过”"
                       "（完整检查见 docs/excel-smoke-test.md）。")
    return report


def not_windows_message(platform: str = sys.platform) -> str:
    """What ``aftercare setup`` says on a machine that is not Windows (nothing is changed)."""
    name = {"linux": "Linux", "darwin": "苹果 macOS"}.get(platform, platform)
    return (f"aftercare setup 只用于 Windows（本机是 {name}），本次没有做任何改动。\n"
            "它在 Windows 上做这些事：把本机 Python 写入工作簿的 xlwings.conf 工作表；检查 xlwings 的 DLL "
            "是否在 Python 旁边；解除工作簿的“来自网络”下载标记；把工作簿所在文件夹加入 Excel 的"
            "受信任位置。\n在本机只需把 Python 写入工作簿时，用 aftercare configure 工作簿路径。")


def run_command(args, system: System | None = None) -> int:
    """The ``aftercare setup`` command (``args``: paths, no_trust, no_unblock, json)."""
    import json

    paths = [Path(p) for p in (getattr(args, "paths", None) or [])]
    if system is None:
        if sys.platform != "win32":
            print(not_windows_message(), file=sys.stderr)
            return 2
        system = System.windows()
    create = not paths
    report = run_setup(paths or [default_workbook()], system, trust=not getattr(args, "no_trust", False),
                       unblock=not getattr(args, "no_unblock", False), create_missing=create)
    if getattr(args, "json", False):
        print(json.dumps({"job": "setup", "ok": report.ok,
                          "steps": [{"status": s.status, "text": s.text} for s in report.steps],
                          "todo": report.todo}, ensure_ascii=False, indent=1))
    else:
        for line in report.lines():
            print(line)
    return 0 if report.ok else 1
