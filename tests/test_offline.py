"""The offline installation folder for Windows (pyfuncs.offline): what can be proven on Linux.

- the Windows closure of the dependencies, computed from wheel metadata with Windows markers
  (pip itself evaluates markers for the machine it runs on);
- the install scripts' text (what cmd.exe and PowerShell will run);
- a real ``pip download`` of Windows wheels where the package index is reachable (skipped, with
  the reason, where it is not): xlwings' win_amd64 wheel and the pywin32 only Windows needs;
- the whole folder for every supported Python with ``AFTERCARE_FULL_OFFLINE=1`` (≈125 MB).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pyfuncs import __version__, offline


def fake_wheel(folder: Path, filename: str, requires: list[str] = ()) -> Path:
    """A minimal wheel: just the METADATA pip and :mod:`pyfuncs.offline` read."""
    name, version = filename.split("-")[:2]
    path = folder / filename
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{name}-{version}.dist-info/METADATA", meta)
        z.writestr(f"{name}-{version}.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n")
        z.writestr(f"{name}-{version}.dist-info/RECORD", "")
    return path


def test_windows_closure_evaluates_markers_for_windows_and_the_target_python(tmp_path):
    fake_wheel(tmp_path, "aftercare-0.1.0-py3-none-any.whl", [
        "alpha>=1", 'winonly; platform_system == "Windows"', 'maconly; sys_platform == "darwin"',
        'old; python_version < "3.12"', 'testing; extra == "test"', "Compiled"])
    fake_wheel(tmp_path, "alpha-1.0-py3-none-any.whl", ["Deep_Dep"])
    fake_wheel(tmp_path, "compiled-2.0-cp312-cp312-win_amd64.whl")
    fake_wheel(tmp_path, "deep_dep-1.0-cp38-abi3-win_amd64.whl")
    fake_wheel(tmp_path, "winonly-1.0-cp311-cp311-manylinux_2_17_x86_64.whl")  # not a Windows wheel
    assert offline.missing_for_windows(tmp_path, "3.12") == ["winonly"]
    # for 3.11: the cp312 wheel does not fit, and 'old' is needed
    assert offline.missing_for_windows(tmp_path, "3.11") == ["compiled", "old", "winonly"]
    fake_wheel(tmp_path, "winonly-1.0-py3-none-any.whl")
    assert offline.missing_for_windows(tmp_path, "3.12") == []


def test_download_command_asks_for_windows_wheels_only():
    cmd = offline.download_command("3.13", "/x", ["a", "b"])
    assert cmd[:4] == [sys.executable, "-m", "pip", "download"]
    for flag in ("--only-binary=:all:", "win_amd64", "--python-version", "3.13", "--implementation", "cp"):
        assert flag in cmd
    assert cmd[cmd.index("--dest") + 1] == "/x" and cmd[-2:] == ["a", "b"]


def test_install_scripts(tmp_path):
    bat, ps1, readme = offline.write_scripts(tmp_path)
    assert [p.name for p in (bat, ps1, readme)] == ["install.bat", "install.ps1", "说明.txt"]
    for script in (bat, ps1):
        raw = script.read_bytes()
        raw.decode("ascii")  # cmd.exe / Windows PowerShell read them in the ANSI code page
        assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    text = bat.read_text(encoding="ascii")
    assert f'-m pip install --no-index --find-links "%HERE%." --disable-pip-version-check aftercare=={__version__}' in text
    assert "py -%PYVER% -m pyfuncs.cli setup %*" in text
    assert "for %%V in (3.13 3.12 3.11) do (" in text
    assert text.count("(") == text.count(")")
    assert "exit /b" in text and "errorlevel 1" in text
    assert "pause" not in text.replace('if not "%AFTERCARE_NO_PAUSE%"=="1" pause', "").replace("NO_PAUSE", "")
    text = ps1.read_text(encoding="ascii")
    assert f'--find-links "$here" --disable-pip-version-check aftercare=={__version__}' in text
    assert '-m pyfuncs.cli setup @args' in text and '@("3.13","3.12","3.11")' in text
    assert text.count("{") == text.count("}")
    assert readme.read_bytes().startswith(b"\xef\xbb\xbf") and "install.bat" in readme.read_text(encoding="utf-8-sig")


def test_folder_layout_without_downloads(tmp_path):
    ours = fake_wheel(tmp_path, f"aftercare-{__version__}-py3-none-any.whl", ["xlwings==0.37.8"])
    folder = tmp_path / "aftercare-offline"
    report = offline.make_bundle(folder, wheel=ours, download=False)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [ours.name, "install.bat", "install.ps1", "说明.txt"])
    assert report["wheel"] == folder / ours.name and report["missing"] == {}
    # what the folder still lacks for Windows is known without a network
    assert offline.missing_for_windows(folder, "3.12") == ["xlwings"]


def _network_or_skip(proc: subprocess.CompletedProcess) -> None:
    if proc.returncode != 0:
        pytest.skip(f"the package index is not reachable from here: {proc.stderr[-300:]}")


def test_real_download_fetches_windows_wheels_and_what_only_windows_needs(tmp_path):
    """A stand-in for our wheel that needs xlwings: pip fetches xlwings' win_amd64 wheel, and the
    closure adds pywin32, which pip on Linux skips (its marker is platform_system == "Windows")."""
    folder = tmp_path / "bundle"
    folder.mkdir()
    ours = fake_wheel(tmp_path, f"aftercare-{__version__}-py3-none-any.whl", ["xlwings==0.37.8"])
    probe = subprocess.run(offline.download_command("3.12", tmp_path / "probe", ["six"]), capture_output=True, text=True)
    _network_or_skip(probe)
    report = offline.make_bundle(folder, pythons=("3.12",), wheel=ours)
    names = sorted(p.name for p in folder.glob("*.whl"))
    assert any(n.startswith("xlwings-0.37.8-cp312-cp312-win_amd64") for n in names), names
    assert any(n.startswith("pywin32-") and n.endswith("-cp312-cp312-win_amd64.whl") for n in names), names
    assert report["missing"] == {"3.12": []}
    assert (folder / "install.bat").exists() and (folder / "install.ps1").exists()


@pytest.mark.skipif(os.environ.get("AFTERCARE_FULL_OFFLINE") != "1",
                    reason="downloads ~125 MB: set AFTERCARE_FULL_OFFLINE=1 to build the whole folder")
def test_full_bundle_resolves_for_every_python(tmp_path):
    folder = tmp_path / "bundle"
    report = offline.make_bundle(folder)
    assert all(not m for m in report["missing"].values()), report["missing"]
    for python in offline.PYTHONS:
        rep = tmp_path / f"report-{python}.json"
        proc = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-requires-python",
                               "--report", str(rep), "--no-index", "--find-links", str(folder), "--only-binary=:all:",
                               "--platform", "win_amd64", "--python-version", python, "--implementation", "cp",
                               "--target", str(tmp_path / f"t{python}"), f"aftercare=={__version__}",
                               *sorted(offline.windows_closure(folder, python)[0])],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        installed = {i["metadata"]["name"].lower() for i in json.loads(rep.read_text())["install"]}
        assert {"aftercare", "xlwings", "pywin32", "pandas", "numpy", "openpyxl"} <= installed
