"""``aftercare setup``: its Windows parts against stand-ins (a fake winreg, stand-in DLL files, the
Zone.Identifier stream as the plain file ``<name>:Zone.Identifier`` that Linux makes of it), on a
real built workbook; on Linux the command itself refuses plainly.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
import xlwings

from pyfuncs import build, schema
from pyfuncs import setup_windows as sw
from _fake_winreg import FakeRegistry

ROOT = Path(__file__).resolve().parents[1]
VERSION = xlwings.__version__
EXCEL_DEFAULTS = {  # what a fresh Excel 365 has under Trusted Locations (Location0..2)
    "Location0": r"C:\Program Files\Microsoft Office\Root\Office16\XLSTART" "\\",
    "Location1": r"C:\Users\me\AppData\Roaming\Microsoft\Excel\XLSTART" "\\",
    "Location2": r"C:\Program Files\Microsoft Office\Root\Templates" "\\",
}


def excel_registry(extra: dict[str, tuple[str, int]] | None = None) -> FakeRegistry:
    reg = FakeRegistry()
    reg.CreateKeyEx(reg.HKEY_CURRENT_USER, sw.EXCEL_KEY).Close()
    for name, path in {**EXCEL_DEFAULTS}.items():
        with reg.CreateKeyEx(reg.HKEY_CURRENT_USER, sw.TRUSTED_KEY + "\\" + name) as key:
            reg.SetValueEx(key, "Path", 0, reg.REG_SZ, path)
            reg.SetValueEx(key, "AllowSubfolders", 0, reg.REG_DWORD, 0)
    for name, (path, sub) in (extra or {}).items():
        with reg.CreateKeyEx(reg.HKEY_CURRENT_USER, sw.TRUSTED_KEY + "\\" + name) as key:
            reg.SetValueEx(key, "Path", 0, reg.REG_SZ, path)
            reg.SetValueEx(key, "AllowSubfolders", 0, reg.REG_DWORD, sub)
    return reg


def python_install(root: Path, *, dlls=("64", "32"), venv: bool = False) -> Path:
    """A stand-in Python folder: pythonw.exe, and xlwings' DLLs where pip puts them (sys.prefix)."""
    prefix = root / "Python312"
    exe = (prefix / "Scripts" / "pythonw.exe") if venv else (prefix / "pythonw.exe")
    exe.parent.mkdir(parents=True, exist_ok=True)
    exe.write_bytes(b"MZ")
    for bits in dlls:
        (prefix / f"xlwings{bits}-{VERSION}.dll").write_bytes(b"MZ")
    return exe


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    return build.build_workbook(tmp_path_factory.mktemp("setup") / "aftercare.xlsm")


@pytest.fixture
def workbook(fresh, tmp_path) -> Path:
    folder = tmp_path / "回访保修"
    folder.mkdir()
    return Path(shutil.copyfile(fresh, folder / "aftercare.xlsm"))


def mark_downloaded(path: Path, zone: str = "3") -> Path:
    mark = Path(str(path) + sw.ZONE_STREAM)
    mark.write_text(f"[ZoneTransfer]\r\nZoneId={zone}\r\nHostUrl=https://mail.example.com/\r\n", encoding="utf-8")
    return mark


def conf(path: Path) -> dict:
    ws = openpyxl.load_workbook(path)[schema.CONF_SHEET]
    return {str(r[0].value).upper(): r[1].value for r in ws.iter_rows(max_col=2) if r[0].value}


# --------------------------------------------------------------------------------------------------
# parts
# --------------------------------------------------------------------------------------------------

def test_dll_found_where_xlwings_vba_looks(tmp_path):
    exe = python_install(tmp_path / "std")
    assert {n: p.name if p else None for n, p in sw.find_xlwings_dlls(exe, VERSION).items()} == {
        f"xlwings64-{VERSION}.dll": f"xlwings64-{VERSION}.dll", f"xlwings32-{VERSION}.dll": f"xlwings32-{VERSION}.dll"}
    venv = python_install(tmp_path / "venv", venv=True)  # DLL in the venv root, one folder above Scripts
    assert all(p and p.parent == venv.parent.parent for p in sw.find_xlwings_dlls(venv, VERSION).values())
    bare = python_install(tmp_path / "bare", dlls=())
    assert set(sw.find_xlwings_dlls(bare, VERSION).values()) == {None}
    # the names are the ones the workbook's xlwings VBA declares
    bas = (Path(xlwings.__file__).parent / "xlwings.bas").read_text(encoding="utf-8")
    for name in sw.xlwings_dll_names():
        assert f'Lib "{name}"' in bas


def test_trusted_location_added_as_excel_writes_it():
    reg = excel_registry()
    when = dt.datetime(2026, 11, 21, 9, 5)
    key, added = sw.add_trusted_location(reg, r"D:\回访保修", now=when)
    assert (key, added) == ("Location3", True)
    path = sw.TRUSTED_KEY + "\\Location3"
    assert reg.value(path, "Path") == "D:\\回访保修\\"
    assert reg.value(path, "AllowSubfolders") == 1
    assert reg.value(path, "Description") == sw.DESCRIPTION
    assert reg.value(path, "Date") == "2026/11/21 09:05"
    assert reg.value(sw.TRUSTED_KEY, "AllowNetworkLocations") is None
    # again, in other spelling: nothing added
    assert sw.add_trusted_location(reg, "d:/回访保修/", now=when) == ("Location3", False)
    assert len(sw.trusted_locations(reg)) == 4


def test_trusted_location_covered_by_a_parent_only_with_subfolders():
    reg = excel_registry({"Location7": (r"D:\Shared" "\\", 1), "Location8": (r"E:\Top" "\\", 0)})
    assert sw.add_trusted_location(reg, r"D:\Shared\回访保修") == ("Location7", False)
    assert sw.add_trusted_location(reg, r"E:\Top\回访保修") == ("Location3", True)


def test_network_folder_also_allows_network_locations():
    reg = excel_registry()
    assert sw.add_trusted_location(reg, r"\\fileserver\工程部\回访保修")[1]
    assert reg.value(sw.TRUSTED_KEY, "AllowNetworkLocations") == 1


def test_zone_identifier_removed_and_reported(tmp_path):
    f = tmp_path / "a.xlsm"
    f.write_bytes(b"x")
    assert sw.remove_zone_identifier(f) is None
    mark = mark_downloaded(f)
    assert sw.zone_of(f) == "3"
    assert sw.remove_zone_identifier(f) == "3"
    assert not mark.exists() and f.read_bytes() == b"x"


# --------------------------------------------------------------------------------------------------
# the whole set-up
# --------------------------------------------------------------------------------------------------

def test_setup_does_every_step_and_a_second_run_changes_nothing(workbook, tmp_path):
    reg = excel_registry()
    exe = python_install(tmp_path / "py")
    mark = mark_downloaded(workbook)
    system = sw.System(registry=reg, interpreter=str(exe), now=lambda: dt.datetime(2026, 11, 21, 10, 0))
    report = sw.run_setup([workbook], system)
    assert report.ok, report.lines()
    text = "\n".join(report.lines())
    assert conf(workbook)["INTERPRETER_WIN"] == str(exe)
    assert not mark.exists() and "来自Internet" in text
    assert sw.is_trusted(reg, str(workbook.parent)) == "Location3"
    assert "受信任位置（Location3）" in text and "自检" in text
    assert all(s.status in (sw.DONE, sw.ALREADY) for s in report.steps)
    # the workbook keeps its VBA project and ribbon
    import zipfile

    with zipfile.ZipFile(workbook) as z, zipfile.ZipFile(build.DEFAULT_OUT) as c:
        assert z.read("xl/vbaProject.bin") == c.read("xl/vbaProject.bin")

    again = sw.run_setup([workbook], system)
    assert again.ok
    assert [s.status for s in again.steps if "受信任" in s.text or "下载标记" in s.text] == [sw.ALREADY, sw.ALREADY]
    assert len(sw.trusted_locations(reg)) == 4


def test_setup_says_what_is_left_when_it_cannot(workbook, tmp_path):
    reg = FakeRegistry()  # no Excel settings, trusted locations disabled by policy
    with reg.CreateKeyEx(reg.HKEY_CURRENT_USER, sw.POLICY_KEY) as key:
        reg.SetValueEx(key, "AllLocationsDisabled", 0, reg.REG_DWORD, 1)
    exe = python_install(tmp_path / "py", dlls=())
    lock = workbook.with_name("~$" + workbook.name)  # open in Excel
    lock.write_bytes(b"x")
    report = sw.run_setup([workbook, tmp_path / "missing.xlsm"], sw.System(registry=reg, interpreter=str(exe)))
    assert not report.ok
    text = "\n".join(report.lines())
    assert "没有找到 Excel 2016" in text
    assert f"xlwings64-{VERSION}.dll" in text and "--user" in text
    assert "没能写入「aftercare.xlsm」" in text and "关闭 Excel" in text
    assert "组策略" in text and not sw.trusted_locations(reg)
    assert "找不到工作簿" in text and "aftercare new" in text
    assert conf(workbook)["INTERPRETER_WIN"] is None  # the open workbook was not written


def test_setup_without_a_workbook_makes_the_default_one(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))
    exe = python_install(tmp_path / "py")
    reg = excel_registry()
    args = argparse.Namespace(paths=[], no_trust=False, no_unblock=False, json=True)
    assert sw.run_command(args, sw.System(registry=reg, interpreter=str(exe))) == 0
    wb = tmp_path / "Documents" / "aftercare" / "aftercare.xlsm"
    assert wb.exists() and conf(wb)["INTERPRETER_WIN"] == str(exe)
    assert sw.is_trusted(reg, str(wb.parent))


def test_setup_command_json_and_no_trust(workbook, tmp_path, capsys):
    reg = excel_registry()
    exe = python_install(tmp_path / "py")
    args = argparse.Namespace(paths=[str(workbook)], no_trust=True, no_unblock=True, json=True)
    assert sw.run_command(args, sw.System(registry=reg, interpreter=str(exe))) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["job"] == "setup" and out["ok"]
    assert any(s["status"] == sw.SKIPPED for s in out["steps"])
    assert any("启用内容" in t for t in out["todo"])
    assert len(sw.trusted_locations(reg)) == 3


@pytest.mark.skipif(sys.platform == "win32", reason="on Windows the command does the real set-up")
def test_setup_command_on_linux_says_it_is_for_windows(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "pyfuncs.cli", "setup"], capture_output=True, text=True,
                       env=env, cwd=tmp_path, timeout=120)
    assert r.returncode == 2
    assert "只用于 Windows" in r.stderr and "没有做任何改动" in r.stderr
    assert not (tmp_path / "Documents").exists()


def test_install_guide_matches_the_program():
    """docs/install-windows.md names the real key, commands and options; its links resolve."""
    import re

    from pyfuncs.cli import build_parser

    doc = (ROOT / "docs" / "install-windows.md").read_text(encoding="utf-8")
    assert "HKEY_CURRENT_USER\\" + sw.TRUSTED_KEY in doc
    for needle in ("py -m pyfuncs.offline", "install.bat", "install.ps1", "--no-index", "aftercare setup",
                   f"xlwings64-{VERSION}.dll", "解除锁定", "受信任位置", "启用内容", "Zone.Identifier"):
        assert needle in doc, needle
    setup = build_parser()._subparsers._group_actions[0].choices["setup"]
    options = {o for a in setup._actions for o in a.option_strings}
    for option in set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", doc)) - {"--no-index", "--find-links", "--list",
                                                                      "--python", "--user", "--version"}:
        assert option in options, option
    for target in re.findall(r"\]\(([^)#]+\.md)", doc):
        assert (ROOT / "docs" / target).exists(), target
    smoke = (ROOT / "docs" / "excel-smoke-test.md").read_text(encoding="utf-8")
    assert "install-windows.md" in smoke and "aftercare setup" in smoke
    for target in re.findall(r"\]\(([^)#]+\.md)", smoke):
        assert (ROOT / "docs" / target).exists(), target
