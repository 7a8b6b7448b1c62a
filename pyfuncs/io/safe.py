"""Safe handling of workbook files: refuse what we must not touch, lock, and save atomically.

- :func:`check_file` refuses a missing file, a workbook Excel has open (its ``~$name`` owner file
  beside it), something that is not a workbook, a password-protected (encrypted) workbook and a
  corrupt zip, each with a Chinese message (:class:`Refused`).
- :func:`job_lock` is an inter-process lock (a lock file beside the workbook, locked with the OS
  lock so a crashed run never leaves it stuck): a second run waits briefly, then is refused.
- :func:`safe_save` writes to a temporary file in the same folder, fsyncs it, checks it is a
  readable workbook, keeps a backup of the previous version in ``.aftercare-backup/`` (the last
  ``keep`` of them) and only then replaces the original with ``os.replace``. If anything fails
  before the replace, the original is untouched and the temporary file is removed.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
import zipfile
from pathlib import Path
from typing import Callable, Iterator

from pyfuncs.io.book import BookError

BACKUP_DIR = ".aftercare-backup"
KEEP_BACKUPS = 10
MAX_UNPACKED = 1 << 30  # 1 GiB unpacked: a 20,000-ticket register is a few tens of MB
MAX_RATIO = 200          # deflated XML is ~10:1; a zip bomb is ~1000:1
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # compound file: encrypted .xlsx/.xlsm, or old .xls


class Refused(BookError):
    """The file is refused; exit status 2 on the command line."""


def excel_owner_file(path: Path) -> Path:
    """Excel's owner file for an open workbook: ``~$`` + the name (long names lose 2 chars)."""
    name = path.name
    return path.with_name("~$" + (name[2:] if len(name) > 2 + 162 else name))


def excel_has_open(path: Path) -> bool:
    path = Path(path)
    candidates = {path.with_name("~$" + path.name), path.with_name("~$" + path.name[2:])}
    return any(c.exists() for c in candidates if c.name != "~$")


def check_file(path: str | os.PathLike, *, must_exist: bool = True) -> Path:
    """Refuse a workbook we must not open; returns the resolved path."""
    p = Path(path)
    if not p.exists():
        if must_exist:
            raise Refused(f"找不到文件：{p}")
        return p
    if p.is_dir():
        raise Refused(f"这是一个文件夹，不是工作簿：{p}")
    if excel_has_open(p):
        raise Refused(f"工作簿「{p.name}」正在 Excel 中打开（旁边有 ~$ 锁定文件）。"
                      "请先在 Excel 中保存并关闭它，或直接在 Excel 里用功能区按钮运行。")
    try:
        with open(p, "rb") as f:
            head = f.read(8)
    except OSError as e:
        raise Refused(f"无法读取文件「{p.name}」：{e.strerror or e}") from e
    if head.startswith(OLE_MAGIC):
        raise Refused(f"工作簿「{p.name}」设置了打开密码（已加密）或是旧版 .xls 格式，无法处理。"
                      "请在 Excel 中取消密码并另存为 .xlsm 后再试。")
    if not head.startswith(b"PK"):
        raise Refused(f"文件「{p.name}」不是 Excel 工作簿（.xlsm/.xlsx）。")
    try:
        with zipfile.ZipFile(p) as z:
            infos = z.infolist()
            names = {i.filename for i in infos}
            total = sum(i.file_size for i in infos)
            packed = max(1, sum(i.compress_size for i in infos))
            if total > MAX_UNPACKED or (total > 50 * 2**20 and total / packed > MAX_RATIO):
                raise Refused(f"工作簿「{p.name}」解压后过大（{total / 2**20:,.0f} MB，压缩比 {total / packed:,.0f}:1），"
                              "可能已损坏或是恶意构造的文件，已拒绝处理。")
            bad = _scan_parts(p, z, infos)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise Refused(f"工作簿「{p.name}」已损坏（无法作为 zip 读取：{e}）。可从 {BACKUP_DIR} 文件夹中的备份恢复。") from e
    if bad is not None:
        raise Refused(f"工作簿「{p.name}」已损坏（内部文件 {bad} 校验失败）。可从 {BACKUP_DIR} 文件夹中的备份恢复。")
    if "xl/workbook.xml" not in names:
        raise Refused(f"文件「{p.name}」不是 Excel 工作簿（缺少 xl/workbook.xml）。")
    return p


_DTD_MARKS = (b"<!DOCTYPE", b"<!ENTITY")


def _scan_parts(p: Path, z: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> str | None:
    """Read every part once, in chunks: the CRC check of ``testzip`` and a search of each XML part
    for a DTD (Excel never writes one; in a part it is an entity-expansion attack, wherever it
    hides). Returns the name of a part whose CRC fails, else None; raises Refused for a DTD."""
    for i in infos:
        xml = i.filename.endswith((".xml", ".rels", ".vml"))
        tail = b""
        try:
            with z.open(i) as part:
                while True:
                    chunk = part.read(1 << 20)
                    if not chunk:
                        break
                    if xml:
                        window = tail + chunk
                        if any(m in window for m in _DTD_MARKS):
                            raise Refused(f"工作簿「{p.name}」的 {i.filename} 含有 XML 实体声明（DOCTYPE/ENTITY），"
                                          "这不是 Excel 保存的文件，可能不安全，已拒绝处理。")
                        tail = window[-16:]
        except zipfile.BadZipFile:
            return i.filename
    return None


# ---- inter-process lock ----------------------------------------------------------------------
def lock_file(path: Path) -> Path:
    return Path(path).with_name(f".~aftercare-{Path(path).name}.lock")


def _try_lock(fd: int) -> bool:
    try:
        if os.name == "nt":  # pragma: no cover - Windows
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _unlock(fd: int) -> None:
    try:
        if os.name == "nt":  # pragma: no cover - Windows
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_UN)
    except OSError:
        pass


@contextlib.contextmanager
def job_lock(path: str | os.PathLike, wait: float = 5.0, poll: float = 0.1) -> Iterator[Path]:
    """Hold the workbook's aftercare lock for the duration of the ``with`` block.

    A second process (or a second lock in this process) waits up to ``wait`` seconds and is then
    refused with a Chinese message. The OS releases the lock if the holder dies.
    """
    lp = lock_file(Path(path))
    deadline = time.monotonic() + wait
    fd = os.open(lp, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            if _try_lock(fd):
                # the holder before us may have removed the file after we opened it: then our
                # lock is on a dead inode, so open the path again
                if os.name == "nt" or _same_file(fd, lp):
                    break
                _unlock(fd)
                os.close(fd)
                fd = os.open(lp, os.O_RDWR | os.O_CREAT, 0o644)
                continue
            if time.monotonic() >= deadline:
                holder = ""
                try:
                    holder = Path(lp).read_text(encoding="utf-8").strip()
                except OSError:
                    pass
                raise Refused(f"工作簿「{Path(path).name}」正被另一个 aftercare 任务处理"
                              f"{'（' + holder + '）' if holder else ''}，请稍后再试。")
            time.sleep(poll)
        try:
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, f"进程 {os.getpid()}，开始于 {dt.datetime.now():%Y-%m-%d %H:%M:%S}".encode("utf-8"))
        except OSError:
            pass
        try:
            yield lp
        finally:
            if os.name != "nt":  # remove it while still locked; waiters re-check the inode
                with contextlib.suppress(OSError):
                    os.unlink(lp)
            _unlock(fd)
    finally:
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        a, b = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (a.st_ino, a.st_dev) == (b.st_ino, b.st_dev)


# ---- saving --------------------------------------------------------------------------------
def _fsync_dir(d: Path) -> None:
    if os.name == "nt":  # pragma: no cover - directories cannot be fsynced on Windows
        return
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def backup(path: Path, keep: int = KEEP_BACKUPS, now: dt.datetime | None = None) -> Path | None:
    """Copy ``path`` to ``.aftercare-backup/<stem>.<timestamp><suffix>``; keep the newest ``keep``."""
    import shutil

    path = Path(path)
    if not path.exists():
        return None
    bdir = path.parent / BACKUP_DIR
    bdir.mkdir(exist_ok=True)
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S-%f")
    target = bdir / f"{path.stem}.{stamp}{path.suffix}"
    shutil.copy2(path, target)
    olds = sorted(bdir.glob(f"{path.stem}.*{path.suffix}"), key=lambda p: p.name)
    olds = [p for p in olds if p.name[len(path.stem) + 1:len(path.stem) + 2].isdigit()]
    for old in olds[:-keep] if keep > 0 else olds:
        with contextlib.suppress(OSError):
            old.unlink()
    return target


def safe_save(path: str | os.PathLike, write: Callable[[Path], None], *, keep: int = KEEP_BACKUPS,
              verify: Callable[[Path], None] | None = None) -> Path | None:
    """Save through ``write(tmp_path)`` and atomically replace ``path``; returns the backup path.

    ``verify(tmp_path)`` may raise to abort (the original is then untouched).
    """
    path = Path(path)
    tmp = path.with_name(f".~aftercare-tmp-{os.getpid()}-{path.name}")
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        try:
            with zipfile.ZipFile(tmp) as z:
                if z.testzip() is not None or "xl/workbook.xml" not in z.namelist():
                    raise BookError("保存的临时文件不完整")
        except zipfile.BadZipFile as e:
            raise BookError(f"保存的临时文件不完整：{e}") from e
        if verify is not None:
            verify(tmp)
        bak = backup(path, keep=keep) if path.exists() else None
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        return bak
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
