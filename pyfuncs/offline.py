"""An installation folder for Windows PCs without internet: every wheel, and a script that installs them.

Run on any machine that has internet (Linux, macOS or Windows), in the repository::

    python -m pyfuncs.offline                      # ./dist/aftercare-offline-<version>/
    python -m pyfuncs.offline D:\\U盘\\aftercare --python 3.12

It builds our wheel from the source tree, then downloads with pip the Windows (``win_amd64``) wheels
of every dependency for each supported Python (3.11, 3.12, 3.13 by default), and writes
``install.bat`` and ``install.ps1`` beside them. On the PC, IT runs ``install.bat`` (or
``install.bat D:\\工程部\\aftercare.xlsm``): it picks an installed Python 3.11–3.13 through the ``py``
launcher, runs ``py -m pip install --no-index --find-links <folder> aftercare==<version>``, then
``aftercare setup`` (:mod:`pyfuncs.setup_windows`) on the workbooks given. docs/install-windows.md
is the guide.

pip evaluates environment markers against the machine it runs on, not the ``--platform`` it is
asked for (pypa/pip#10050), so a dependency that only Windows needs (``pywin32`` for xlwings) is not
fetched by ``pip download`` on Linux. :func:`missing_for_windows` reads the METADATA of every wheel
in the folder, evaluates each ``Requires-Dist`` for Windows and the target Python, and the missing
ones are downloaded by name until nothing is missing.

Example::

    >>> windows_environment("3.12")["sys_platform"], windows_environment("3.12")["python_full_version"]
    ('win32', '3.12.0')
    >>> download_command("3.12", "out", ["aftercare-0.1.0-py3-none-any.whl"])[3:12]
    ['download', '--only-binary=:all:', '--platform', 'win_amd64', '--implementation', 'cp', '--python-version', '3.12', '--dest']
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from email.parser import Parser
from pathlib import Path

PYTHONS = ("3.11", "3.12", "3.13")
PLATFORM = "win_amd64"
PROJECT = "aftercare"


def _version() -> str:
    from pyfuncs import __version__

    return __version__


def source_root() -> Path | None:
    """The repository (the folder with pyproject.toml beside pyfuncs/), or None for an installed copy."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() else None


def canonical(name: str) -> str:
    """A distribution name as the index compares it (PEP 503).

    >>> canonical("Python_Dateutil"), canonical("et-xmlfile")
    ('python-dateutil', 'et-xmlfile')
    """
    return re.sub(r"[-_.]+", "-", name).lower()


def windows_environment(python: str) -> dict[str, str]:
    """The PEP 508 marker environment of CPython ``python`` (e.g. "3.12") on 64-bit Windows."""
    return {
        "implementation_name": "cpython", "implementation_version": f"{python}.0", "os_name": "nt",
        "platform_machine": "AMD64", "platform_python_implementation": "CPython", "platform_release": "10",
        "platform_system": "Windows", "platform_version": "10.0.19045", "python_full_version": f"{python}.0",
        "python_version": python, "sys_platform": "win32", "extra": "",
    }


def wheel_metadata(path: Path) -> tuple[str, list[str]]:
    """(canonical name, Requires-Dist lines) of a wheel file."""
    with zipfile.ZipFile(path) as z:
        meta = next(n for n in z.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n))
        msg = Parser().parsestr(z.read(meta).decode("utf-8"))
    return canonical(msg["Name"]), msg.get_all("Requires-Dist") or []


def _fits(tag, python: str) -> bool:
    """Whether a wheel tag installs on CPython ``python`` for 64-bit Windows."""
    if tag.platform not in (PLATFORM, "any"):
        return False
    if tag.interpreter in ("py3", f"py{python.split('.')[0]}"):
        return True
    want = tuple(int(x) for x in python.split("."))
    m = re.fullmatch(r"cp(\d)(\d+)", tag.interpreter)
    if not m:
        return False
    have = (int(m.group(1)), int(m.group(2)))
    return have == want or (tag.abi == "abi3" and have <= want)


def windows_closure(folder: Path, python: str, root: str = PROJECT) -> tuple[set[str], set[str]]:
    """(needed, missing): every distribution Windows with CPython ``python`` needs, starting from
    ``root`` and following each wheel's ``Requires-Dist`` evaluated for Windows, and those of them
    for which the folder has no wheel of that Python."""
    from packaging.requirements import Requirement
    from packaging.utils import parse_wheel_filename

    env = windows_environment(python)
    wheels: dict[str, Path] = {}
    for whl in sorted(folder.glob("*.whl")):
        name, _ver, _build, tags = parse_wheel_filename(whl.name)
        if any(_fits(t, python) for t in tags):
            wheels.setdefault(canonical(name), whl)
    missing, seen, todo = set(), set(), [canonical(root)]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name not in wheels:
            missing.add(name)
            continue
        for line in wheel_metadata(wheels[name])[1]:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate(env):
                todo.append(canonical(req.name))
    return seen, missing


def missing_for_windows(folder: Path, python: str, root: str = PROJECT) -> list[str]:
    """Requirements that Windows with CPython ``python`` needs, starting from ``root``, for which the
    folder has no wheel of that Python (``cpXY``, ``abi3`` or ``py3`` tags), sorted."""
    return sorted(windows_closure(folder, python, root)[1])


def download_command(python: str, dest: str | os.PathLike, requirements: list[str]) -> list[str]:
    """The ``pip download`` command line for the Windows wheels of ``requirements`` for ``python``."""
    return [sys.executable, "-m", "pip", "download", "--only-binary=:all:", "--platform", PLATFORM,
            "--implementation", "cp", "--python-version", python, "--dest", str(dest),
            "--disable-pip-version-check", "--quiet", *requirements]


def build_wheel(dest: Path, source: Path | None = None) -> Path:
    """Build our wheel from the source tree (copied first, so no stale build/ is packed)."""
    source = source or source_root()
    if source is None:
        raise SystemExit("找不到源代码（pyproject.toml）：请在仓库中运行，或用 --wheel 指定已构建的 aftercare 轮子。")
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="aftercare-wheel-") as tmp:
        tree = Path(tmp, "src")
        tree.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(source / name, tree / name)
        shutil.copytree(source / "pyfuncs", tree / "pyfuncs", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        before = set(dest.glob("*.whl"))
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "--quiet",
                        "--wheel-dir", str(dest), str(tree)], check=True)
    built = [w for w in dest.glob(f"{PROJECT}-*.whl") if w not in before] or sorted(dest.glob(f"{PROJECT}-{_version()}-*.whl"))
    return built[0]


def build_pure_wheel(name: str, folder: Path, run=subprocess.run) -> Path:
    """A wheel built here from the source distribution of ``name``, for a dependency that publishes
    none (``win-unicode-console``, which pcodedmp needs on Windows): accepted only when it is pure
    Python (``none-any``), so the PC never has to build anything."""
    from packaging.utils import parse_wheel_filename

    before = set(folder.glob("*.whl"))
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-binary=:all:", "--disable-pip-version-check",
         "--quiet", "--wheel-dir", str(folder), name], check=True)
    for whl in sorted(set(folder.glob("*.whl")) - before):
        wname, _v, _b, tags = parse_wheel_filename(whl.name)
        if canonical(wname) == canonical(name):
            if all(t.platform == "any" and t.abi == "none" for t in tags):
                return whl
            whl.unlink()
            raise SystemExit(f"{name} 没有 Windows 的 .whl，在本机构建的 {whl.name} 不是纯 Python，不能用于 Windows。")
    raise SystemExit(f"没能为 {name} 构建 .whl。")


INSTALL_BAT = r"""@echo off
rem Installs aftercare {version} from this folder, without internet, then runs "aftercare setup".
rem Usage: install.bat [workbook.xlsm ...]   (no workbook: Documents\aftercare\aftercare.xlsm)
rem Written by "python -m pyfuncs.offline"; the guide is docs/install-windows.md of the project.
rem Set AFTERCARE_NO_PAUSE=1 to run it unattended (no "press any key" at the end).
setlocal
set "HERE=%~dp0"
set "PYVER="
for %%V in ({pythons}) do (
  if not defined PYVER (
    py -%%V -c "import sys" >nul 2>&1 && set "PYVER=%%V"
  )
)
if not defined PYVER (
  echo Python {versions_text} was not found by the py launcher. Install Python from python.org first.
  if not "%AFTERCARE_NO_PAUSE%"=="1" pause
  exit /b 1
)
echo Installing aftercare {version} for Python %PYVER% from "%HERE%" ...
py -%PYVER% -m pip install --no-index --find-links "%HERE%." --disable-pip-version-check {project}=={version}
if errorlevel 1 (
  echo pip could not install aftercare. See the messages above.
  if not "%AFTERCARE_NO_PAUSE%"=="1" pause
  exit /b 1
)
py -%PYVER% -m pyfuncs.cli setup %*
set "RC=%ERRORLEVEL%"
if not "%AFTERCARE_NO_PAUSE%"=="1" pause
exit /b %RC%
"""

INSTALL_PS1 = r"""# Installs aftercare {version} from this folder, without internet, then runs "aftercare setup".
# Usage: powershell -ExecutionPolicy Bypass -File install.ps1 [workbook.xlsm ...]
# Written by "python -m pyfuncs.offline"; the guide is docs/install-windows.md of the project.
$here = Split-Path -Parent $MyInvocation.MyCommand.Path
if (-not (Get-Command py -ErrorAction SilentlyContinue)) {{
    Write-Host "The py launcher was not found. Install Python {versions_text} from python.org first."
    exit 1
}}
$ver = $null
foreach ($v in @({pythons_ps})) {{
    & py "-$v" -c "import sys" *> $null
    if ($LASTEXITCODE -eq 0) {{ $ver = $v; break }}
}}
if (-not $ver) {{
    Write-Host "Python {versions_text} was not found by the py launcher. Install Python from python.org first."
    exit 1
}}
Write-Host "Installing aftercare {version} for Python $ver from $here ..."
& py "-$ver" -m pip install --no-index --find-links "$here" --disable-pip-version-check {project}=={version}
if ($LASTEXITCODE -ne 0) {{
    Write-Host "pip could not install aftercare. See the messages above."
    exit 1
}}
& py "-$ver" -m pyfuncs.cli setup @args
exit $LASTEXITCODE
"""

README = """回访保修（aftercare）{version} 离线安装包

本文件夹里有 aftercare 及其全部依赖的 Windows 64 位安装文件（.whl），适用于 Python {versions_text}。
安装不需要联网。

1. 先在这台电脑上安装 Python（python.org 的 Windows 安装包，64 位，{versions_text} 之一）。
2. 关闭 Excel。
3. 双击 install.bat；或在命令提示符中运行：
       install.bat D:\\工程部\\aftercare.xlsm
   （可以给一个或几个工作簿；不给时使用并新建 文档\\aftercare\\aftercare.xlsm。）
4. 看最后列出的“还需要做”。

详细说明见项目中的 docs/install-windows.md。
"""


def write_scripts(folder: Path, pythons: tuple[str, ...] = PYTHONS, version: str | None = None) -> list[Path]:
    """Write install.bat, install.ps1 and 说明.txt into ``folder``; returns their paths."""
    version = version or _version()
    order = sorted(pythons, key=lambda v: tuple(int(x) for x in v.split(".")), reverse=True)
    fields = {"version": version, "project": PROJECT, "pythons": " ".join(order),
              "pythons_ps": ",".join(f'"{v}"' for v in order), "versions_text": "/".join(sorted(pythons))}
    out = []
    for name, text, encoding in (("install.bat", INSTALL_BAT, "ascii"), ("install.ps1", INSTALL_PS1, "ascii"),
                                 ("说明.txt", README, "utf-8-sig")):
        path = folder / name
        # cmd.exe and Windows PowerShell read scripts in the OEM/ANSI code page: ASCII and CRLF only.
        path.write_bytes(text.format(**fields).replace("\r\n", "\n").replace("\n", "\r\n").encode(encoding))
        out.append(path)
    return out


def make_bundle(folder: Path, *, pythons: tuple[str, ...] = PYTHONS, wheel: Path | None = None,
                download: bool = True, run=subprocess.run) -> dict:
    """Fill ``folder``: our wheel, the Windows wheels of every dependency, the install scripts."""
    folder.mkdir(parents=True, exist_ok=True)
    ours = Path(shutil.copy2(wheel, folder)) if wheel else build_wheel(folder)
    report = {"folder": folder, "wheel": ours, "downloaded": {}, "missing": {}, "built": []}
    if download:
        for python in pythons:
            run(download_command(python, folder, [str(ours)]), check=True)
            for _round in range(10):
                missing = missing_for_windows(folder, python)
                if not missing:
                    break
                for name in missing:
                    if run(download_command(python, folder, [name]), check=False, capture_output=True).returncode:
                        report["built"].append(build_pure_wheel(name, folder, run))
            report["missing"][python] = missing_for_windows(folder, python)
            report["downloaded"][python] = sorted(p.name for p in folder.glob("*.whl"))
    report["scripts"] = write_scripts(folder, pythons)
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pyfuncs.offline",
                                 description="生成 Windows 离线安装文件夹（全部依赖的 win_amd64 轮子 + install.bat）")
    ap.add_argument("folder", nargs="?", default=None, help="输出文件夹（默认 dist/aftercare-offline-版本）")
    ap.add_argument("--python", nargs="+", default=list(PYTHONS), metavar="3.X",
                    help="目标 Python 版本（默认 " + " ".join(PYTHONS) + "）")
    ap.add_argument("--wheel", default=None, help="已构建的 aftercare 轮子（默认：从仓库构建）")
    ap.add_argument("--no-download", action="store_true", help="只放入 aftercare 轮子和安装脚本，不下载依赖")
    args = ap.parse_args(argv)
    folder = Path(args.folder or (Path("dist") / f"aftercare-offline-{_version()}"))
    report = make_bundle(folder, pythons=tuple(args.python), wheel=Path(args.wheel) if args.wheel else None,
                         download=not args.no_download)
    n = len(list(folder.glob("*.whl")))
    print(f"已生成离线安装文件夹：{folder}（{n} 个 .whl）")
    bad = {p: m for p, m in report["missing"].items() if m}
    for python, missing in bad.items():
        print(f"Python {python} 仍缺少：{', '.join(missing)}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
