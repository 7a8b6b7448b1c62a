"""LibreOffice headless as an independent spreadsheet engine for tests.

Each call runs with its own throw-away profile so parallel runs do not collide.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def require_soffice() -> str:
    exe = soffice()
    if exe is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui (.ci/run does)")
    return exe


def convert(src: Path, fmt: str, outdir: Path, timeout: int = 240) -> Path:
    """``soffice --headless --convert-to fmt``; returns the output file, raising if none was written."""
    exe = require_soffice()
    profile = Path(tempfile.gettempdir()) / f"lo-profile-{uuid.uuid4().hex}"
    outdir.mkdir(parents=True, exist_ok=True)
    try:
        proc = subprocess.run(
            [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--convert-to", fmt, "--outdir", str(outdir), str(src)],
            capture_output=True, text=True, timeout=timeout, env={**os.environ, "HOME": str(profile)},
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    out = outdir / (Path(src).stem + "." + fmt.split(":")[0])
    if not out.exists():
        raise AssertionError(f"LibreOffice wrote no {fmt}: rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return out
