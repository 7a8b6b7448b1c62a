"""The backups a save keeps, listed and put back: ``aftercare restore`` and the ribbon's 恢复上一版.

Every save (:func:`pyfuncs.io.safe.safe_save`) first copies the workbook it replaces to
``.aftercare-backup/<name>.<YYYYmmdd-HHMMSS-ffffff><suffix>`` beside it and keeps the newest ten.
:func:`list_backups` lists them, newest first; :func:`restore` puts one back the way a job saves:
through a temporary file, under the workbook's lock, refused while Excel has the workbook open,
and with the current file backed up first, so a restore is itself undone by restoring again.

Example::

    >>> import tempfile, zipfile
    >>> d = Path(tempfile.mkdtemp())
    >>> def version(text):
    ...     def write(tmp):
    ...         with zipfile.ZipFile(tmp, "w") as z:
    ...             z.writestr("xl/workbook.xml", f"<workbook>{text}</workbook>")
    ...     return write
    >>> for text in ("一", "二", "三"):
    ...     _ = safe_save(d / "台账.xlsm", version(text))
    >>> [b.number for b in list_backups(d / "台账.xlsm")]      # 一 and 二, newest first
    [1, 2]
    >>> done = restore(d / "台账.xlsm")                          # puts 二 back; 三 is backed up
    >>> zipfile.ZipFile(d / "台账.xlsm").read("xl/workbook.xml").decode()
    '<workbook>二</workbook>'
    >>> _ = restore(d / "台账.xlsm")                              # restoring again undoes it
    >>> zipfile.ZipFile(d / "台账.xlsm").read("xl/workbook.xml").decode()
    '<workbook>三</workbook>'
    >>> shutil.rmtree(d)
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from pyfuncs.io.safe import (BACKUP_DIR, KEEP_BACKUPS, Refused, backup_files, check_file, excel_has_open,
                             job_lock, real_path, safe_save)


@dataclass(frozen=True)
class Backup:
    """One backup of a workbook: ``number`` 1 is the newest."""

    number: int
    path: Path
    time: dt.datetime  # when it was taken, i.e. when a save replaced this version
    size: int

    def line(self) -> str:
        """The listing line: ``   1  2026-11-21 09:30:12     1.2 MB  台账.20261121-093012-123456.xlsm``."""
        return "  ".join(_cells((str(self.number), f"{self.time:%Y-%m-%d %H:%M:%S}", format_size(self.size),
                                 self.path.name)))


_WIDTHS = (4, 19, 9)  # 序号, 备份于, 大小 (display columns); the file name last


def _cells(texts) -> list[str]:
    """Right-aligned numbers and sizes, left-aligned times, by display width (CJK takes two)."""
    from pyfuncs.progress import display_width

    out = []
    for i, t in enumerate(texts):
        if i < len(_WIDTHS):
            pad = " " * max(_WIDTHS[i] - display_width(t), 0)
            t = t + pad if i == 1 else pad + t
        out.append(t)
    return out


def listing(backups: list[Backup]) -> list[str]:
    """The table ``aftercare restore`` prints: a header line, then one line per backup.

    >>> b = Backup(1, Path("台账.20261121-093012-000001.xlsm"), dt.datetime(2026, 11, 21, 9, 30, 12), 1_250_000)
    >>> print("\\n".join(listing([b])))
    序号  备份于                    大小  文件
       1  2026-11-21 09:30:12     1.2 MB  台账.20261121-093012-000001.xlsm
    """
    return ["  ".join(_cells(("序号", "备份于", "大小", "文件"))).rstrip()] + [b.line() for b in backups]


@dataclass(frozen=True)
class Restored:
    """What :func:`restore` did: ``path`` now holds ``source``; ``previous`` is the backup of the
    file it replaced (None when there was no file)."""

    path: Path
    source: Backup
    previous: Path | None


def format_size(n: int) -> str:
    """A file size for staff.

    >>> format_size(512), format_size(20_480), format_size(3_250_000)
    ('512 字节', '20 KB', '3.1 MB')
    """
    if n < 1024:
        return f"{n} 字节"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


def list_backups(path: str | os.PathLike) -> list[Backup]:
    """The backups of the workbook ``path`` (a link: of the file it names), newest first."""
    out = []
    for i, (p, when) in enumerate(backup_files(Path(path)), start=1):
        try:
            size = p.stat().st_size
        except OSError:  # pruned meanwhile
            continue
        out.append(Backup(i, p, when, size))
    return out


def restore(path: str | os.PathLike, pick: int = 1, *, keep: int = KEEP_BACKUPS, lock_wait: float = 5.0) -> Restored:
    """Put backup number ``pick`` (1 = the newest) of ``path`` back in its place.

    The current file (it may be damaged: that is when one restores) is backed up first, the
    backup is copied in through a temporary file, and the workbook's mode, owner and link are kept.
    Refused (:class:`~pyfuncs.io.safe.Refused`) while Excel has the workbook open, while another
    run holds it, when there is no such backup or the backup is not a readable workbook.
    """
    link = Path(path)
    name = link.name
    if link.is_dir():
        raise Refused(f"这是一个文件夹，不是工作簿：{link}")
    if excel_has_open(link):
        raise Refused(f"工作簿「{name}」正在 Excel 中打开（旁边有 ~$ 锁定文件），不能恢复。"
                      "请先在 Excel 中关闭它，再运行恢复。")
    backups = list_backups(link)
    if not backups:
        raise Refused(f"没有找到「{name}」的备份（{real_path(link).parent / BACKUP_DIR} 中没有）。"
                      "备份在每次作业保存工作簿时生成。")
    if not 1 <= pick <= len(backups):
        raise Refused(f"没有第 {pick} 份备份：「{name}」共有 {len(backups)} 份备份，1 是最新的一份。")
    chosen = backups[pick - 1]
    try:
        check_file(chosen.path)
    except Refused as e:
        raise Refused(f"第 {pick} 份备份（{chosen.time:%Y-%m-%d %H:%M:%S}）不能使用：{e}"
                      "请用 --pick 选另一份。") from e
    with job_lock(link, wait=lock_wait):
        previous = safe_save(link, lambda tmp: shutil.copyfile(chosen.path, tmp), keep=keep)
    return Restored(real_path(link), chosen, previous)
