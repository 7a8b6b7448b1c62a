"""The package installs like any other: a wheel built from the source tree, installed from the
offline folder (``pip install --no-index --find-links``) into a fresh virtual environment that
cannot see the repository, runs ``aftercare demo`` and every job command there.

The venv uses ``--system-site-packages`` so the dependencies need not be downloaded again; the
commands run from a temporary folder with no PYTHONPATH, and ``pyfuncs`` must be imported from the
venv, not from the repository. Building the wheel needs setuptools from the package index (build
isolation): without it the test is skipped with the reason.
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

ROOT = Path(__file__).resolve().parents[1]
TODAY = "2026-11-21"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    try:
        return offline.build_wheel(tmp_path_factory.mktemp("wheel"), ROOT)
    except subprocess.CalledProcessError as e:
        pytest.skip(f"the wheel could not be built (setuptools from the package index): {e}")


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> dict:
    """A fresh venv with our wheel installed from an offline folder; its python and a clean env."""
    base = tmp_path_factory.mktemp("installed")
    folder = base / "offline"
    offline.make_bundle(folder, wheel=wheel, download=False)
    env_dir = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(env_dir)], check=True, timeout=300)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = str(bindir) + os.pathsep + env.get("PATH", "")
    # The machine may have aftercare installed (editable, from another checkout): install ours
    # into the venv regardless; its dependencies come from the system site-packages.
    proc = subprocess.run([str(bindir / "python"), "-m", "pip", "install", "--no-index", "--find-links", str(folder),
                           "--force-reinstall", "--no-deps", "--disable-pip-version-check", f"aftercare=={__version__}"],
                          capture_output=True, text=True, env=env, cwd=base, timeout=600)
    assert proc.returncode == 0, proc.stderr
    work = base / "work"
    work.mkdir()
    return {"python": bindir / "python", "aftercare": bindir / "aftercare", "env": env, "cwd": work, "venv": env_dir}


def run(venv, *args, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv["aftercare"]), *args], capture_output=True, text=True, env=venv["env"],
                          cwd=venv["cwd"], timeout=timeout)


def test_wheel_carries_what_the_program_reads(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for res in ("macros/Ribbon.bas", "macros/ThisWorkbook.cls", "macros/customUI.xml",
                "templates/forms.toml", "templates/plan.toml"):
        assert f"pyfuncs/resources/{res}" in names, res
    assert not any("__pycache__" in n for n in names)
    # the files in the wheel are the repository's sources
    with zipfile.ZipFile(wheel) as z:
        assert z.read("pyfuncs/resources/macros/customUI.xml") == (ROOT / "pyfuncs/resources/macros/customUI.xml").read_bytes()


def test_installed_package_is_the_venvs_not_the_repositorys(venv):
    proc = subprocess.run([str(venv["python"]), "-c", "import pyfuncs, pyfuncs.resources as r; "
                           "print(pyfuncs.__file__); print(r.resource('macros', 'customUI.xml'))"],
                          capture_output=True, text=True, env=venv["env"], cwd=venv["cwd"])
    assert proc.returncode == 0, proc.stderr
    where, resource = proc.stdout.splitlines()
    assert Path(where).resolve().is_relative_to(venv["venv"].resolve()), where
    assert not Path(where).resolve().is_relative_to(ROOT), where
    assert Path(resource).resolve().is_relative_to(venv["venv"].resolve())


def test_demo_and_every_job_run_from_the_installed_package(venv):
    demo = run(venv, "demo", "demo.xlsm", "--today", TODAY)
    assert demo.returncode == 0, demo.stderr
    book = venv["cwd"] / "demo.xlsm"
    assert book.exists()
    new = run(venv, "new", "blank.xlsm")
    assert new.returncode == 0, new.stderr
    with zipfile.ZipFile(venv["cwd"] / "blank.xlsm") as z, zipfile.ZipFile(ROOT / "aftercare.xlsm") as c:
        assert z.read("customUI/customUI.xml") == c.read("customUI/customUI.xml")
        assert z.read("xl/vbaProject.bin") == c.read("xl/vbaProject.bin")
    jobs = [("plan", "--year", "2027"), ("refresh",), ("visits",), ("report",), ("forms",), ("check",), ("selftest",)]
    for job in jobs:
        proc = run(venv, *job, "demo.xlsm", "--today", TODAY, "--json")
        # check exits 1 on the demo's deliberate data errors; selftest 1 on a failed check
        assert proc.returncode in ((0, 1) if job[0] in ("check", "selftest") else (0,)), (job, proc.stderr)
        assert "Traceback" not in proc.stderr and "FileNotFoundError" not in proc.stderr, (job, proc.stderr)
        out = json.loads(proc.stdout)
        assert out["job"] == job[0], out
        if job[0] == "selftest":
            failed = [p["message"] for p in out["problems"]]
            assert out["ok"], failed
    import openpyxl

    names = openpyxl.load_workbook(book, read_only=True).sheetnames
    assert "回访计划2027" in names and "自检结果" in names
