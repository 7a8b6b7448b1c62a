"""Safe handling of workbook files: refuse what we must not touch, lock, and save atomically.

- :func:`check_file` refuses a missing file, a workbook Excel has open (its ``~$name`` owner file
  beside it), something that is not a workbook, a password-protected (encrypted) workbook, a
  corrupt zip and a part carrying an XML entity declaration (in whatever encoding), each with a
  Chinese message (:class:`Refused`).
- :func:`check_writable` refuses a read-only file (no write permission, or no write bit at all, so
  even an administrator does not replace a file staff marked read-only) and a folder we cannot
  write our temporary file into.
- :func:`job_lock` is an inter-process lock (a lock file beside the workbook, locked with the OS
  lock so a crashed run never leaves it stuck): a second run waits briefly, then is refused. Once it
  holds the lock, a run removes the temporary files that killed runs left behind
  (:func:`remove_stale_temps`: only those whose process is gone).
- :func:`safe_save` writes to a temporary file beside the real file (a symbolic link is followed
  and kept), fsyncs it, checks it is a readable workbook, gives it the original's mode and owner,
  keeps a backup of the previous version in ``.aftercare-backup/`` (the last ``keep`` of them,
  each written under a temporary name first) and only then replaces the original with
  ``os.replace``. If anything fails before the replace, the original is untouched and the
  temporary files are removed; a full disk is reported in Chinese.

Example::

    >>> import tempfile, zipfile
    >>> d = Path(tempfile.mkdtemp())
    >>> def write(tmp):
    ...     with zipfile.ZipFile(tmp, "w") as z:
    ...         z.writestr("xl/workbook.xml", "<workbook/>")
    >>> safe_save(d / "a.xlsm", write) is None            # a new file: nothing to back up
    True
    >>> safe_save(d / "a.xlsm", write).parent.name        # the old version is kept
    '.aftercare-backup'
    >>> shutil.rmtree(d)
"""
from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import re
import shutil
import stat
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
#: temporary files: ``.~aftercare-tmp-<pid>-<name>`` beside the workbook (and in the backup folder)
TMP_PREFIX = ".~aftercare-tmp-"
#: the demo's work file (pyfuncs.demo): ``.~aftercare-demo-<pid><suffix>``
DEMO_PREFIX = ".~aftercare-demo-"
#: a dead run's demo work file is removed only once it has not changed for this long (it is not
#: tied to one workbook's lock, and a process id means nothing on another computer of a share)
DEMO_STALE_SECONDS = 600
_STAMP = "%Y%m%d-%H%M%S-%f"


class Refused(BookError):
    """The file is refused; exit status 2 on the command line."""


class SaveFailed(BookError):
    """Saving failed (e.g. the disk is full); the original is untouched. Exit status 2."""


def real_path(path: str | os.PathLike) -> Path:
    """The file ``path`` names, symbolic links followed (a job writes there and keeps the link)."""
    return Path(os.path.realpath(path))


def excel_owner_file(path: Path) -> Path:
    """Excel's owner file for an open workbook: ``~$`` + the name (long names lose 2 chars)."""
    name = path.name
    return path.with_name("~$" + (name[2:] if len(name) > 2 + 162 else name))


def excel_has_open(path: Path) -> bool:
    """Excel's ``~$`` owner file is beside ``path`` or, for a link, beside the file it names."""
    path = Path(path)
    for p in {path, real_path(path)}:
        candidates = {p.with_name("~$" + p.name), p.with_name("~$" + p.name[2:])}
        if any(c.exists() for c in candidates if c.name != "~$"):
            return True
    return False


def check_file(path: str | os.PathLike, *, must_exist: bool = True) -> Path:
    """Refuse a workbook we must not open; returns the path as given (a link stays a link)."""
    p = Path(path)
    if not p.exists():
        if p.is_symlink():
            raise Refused(f"找不到文件：{p}（这是一个链接，它指向的 {os.readlink(p)} 不存在）")
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
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as e:
        raise Refused(f"工作簿「{p.name}」已损坏（无法作为 zip 读取：{e}）。可从 {BACKUP_DIR} 文件夹中的备份恢复。") from e
    if bad is not None:
        raise Refused(f"工作簿「{p.name}」已损坏（内部文件 {bad} 校验失败）。可从 {BACKUP_DIR} 文件夹中的备份恢复。")
    if "xl/workbook.xml" not in names:
        raise Refused(f"文件「{p.name}」不是 Excel 工作簿（缺少 xl/workbook.xml）。")
    return p


# ---- XML entity declarations, in any encoding an XML parser accepts -----------------------------
_DTD_MARKS = ("<!DOCTYPE", "<!ENTITY")
#: byte order marks → encoding (the four-byte ones first: FF FE 00 00 is UTF-32, not UTF-16)
_BOMS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
         (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"), (b"\xef\xbb\xbf", "utf-8"))
#: encodings an XML document may start in without a byte order mark (XML 1.0, appendix F):
#: the ASCII-compatible ones (UTF-8, Latin-1, GBK …) share UTF-8's bytes for "<!DOCTYPE"
_SNIFF = ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "cp037")
_UNIT = {"utf-8": 1, "cp037": 1, "utf-16-le": 2, "utf-16-be": 2, "utf-32-le": 4, "utf-32-be": 4}
_MARKS = {enc: tuple(m.encode(enc) for m in _DTD_MARKS) for enc in _SNIFF}
_TAIL = max(len(m) for ms in _MARKS.values() for m in ms)


def xml_encodings(head: bytes) -> list[str]:
    """The encodings in which the part starting with ``head`` reads as XML (its first character,
    after a byte order mark and white space, is ``<``); [] for a part that is not XML.

    >>> xml_encodings(b'<?xml version="1.0"?><a/>')
    ['utf-8']
    >>> xml_encodings("\\ufeff<!DOCTYPE a>".encode("utf-16-le"))
    ['utf-16-le']
    >>> xml_encodings(" <a/>".encode("utf-32-be")), xml_encodings(b"\\x89PNG\\r\\n")
    (['utf-32-be'], [])
    """
    for bom, enc in _BOMS:
        if head.startswith(bom):
            return [enc]
    found = []
    for enc in _SNIFF:
        n = _UNIT[enc]
        text = head[: len(head) // n * n].decode(enc, errors="replace")
        if text.lstrip(" \t\r\n").startswith("<"):
            found.append(enc)
    return found


def _scan_parts(p: Path, z: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> str | None:
    """Read every part once, in chunks: the CRC check of ``testzip`` and, in every part that reads
    as XML (whatever its name, in UTF-8, UTF-16, UTF-32 or EBCDIC, with or without a byte order
    mark), a search for a DTD (Excel never writes one; in a part it is an entity-expansion attack,
    wherever it hides). Returns the name of a part whose CRC fails, else None; raises Refused for
    a DTD."""
    for i in infos:
        marks: tuple[bytes, ...] | None = None
        tail = b""
        try:
            with z.open(i) as part:
                while True:
                    chunk = part.read(1 << 20)
                    if not chunk:
                        break
                    if marks is None:  # the first chunk decides whether the part is XML
                        marks = tuple(m for enc in xml_encodings(chunk[:256]) for m in _MARKS[enc])
                    if marks:
                        window = tail + chunk
                        if any(m in window for m in marks):
                            raise Refused(f"工作簿「{p.name}」的 {i.filename} 含有 XML 实体声明（DOCTYPE/ENTITY），"
                                          "这不是 Excel 保存的文件，可能不安全，已拒绝处理。")
                        tail = window[-_TAIL:]
        except zipfile.BadZipFile:
            return i.filename
    return None


# ---- permissions ---------------------------------------------------------------------------------
def check_writable(path: str | os.PathLike) -> None:
    """Refuse to replace a file without write permission, or one whose every write bit is off
    (marked read-only: an administrator's run does not overwrite it either), and a folder where
    the temporary file cannot be written."""
    real = real_path(path)
    name = Path(path).name
    if real.exists() and not real.is_dir():
        mode = real.stat().st_mode
        if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(real, os.W_OK):
            raise Refused(f"工作簿「{name}」是只读文件（没有写入权限），aftercare 不会替换它，文件未改动。"
                          "如确需修改，请在文件属性中取消“只读”，或请管理员授予写入权限后再试。")
    folder = real.parent
    if folder.exists() and not os.access(folder, os.W_OK | (os.X_OK if os.name != "nt" else 0)):
        raise Refused(f"文件夹「{folder}」没有写入权限：aftercare 要在工作簿旁写临时文件和备份，文件未改动。"
                      "请把工作簿复制到可写的文件夹，或请管理员授予写入权限后再试。")


def _keep_mode_and_owner(st: os.stat_result, tmp: Path) -> None:
    """Give the new file the original's owner (where permitted: root may, a user may change the
    group to one of their own) and permission bits."""
    if hasattr(os, "chown"):
        now = tmp.stat()
        if (now.st_uid, now.st_gid) != (st.st_uid, st.st_gid):
            try:
                os.chown(tmp, st.st_uid, st.st_gid)
            except OSError:
                with contextlib.suppress(OSError):
                    os.chown(tmp, -1, st.st_gid)
    os.chmod(tmp, stat.S_IMODE(st.st_mode))


# ---- temporary files of dead runs ----------------------------------------------------------------
def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` is running on this computer (a zombie counts as gone). When in
    doubt, True: a live run's file is never removed."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if os.name == "nt":  # pragma: no cover - Windows
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return ctypes.get_last_error() == 5  # access denied: it exists
        try:
            code = ctypes.c_ulong()
            if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
                return True
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # e.g. another user's process: it exists
    try:  # Linux: a killed process its parent has not reaped yet
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def _dead_temp(entry: Path, prefix: str, rest: Callable[[str], bool]) -> bool:
    name = entry.name
    if not name.startswith(prefix):
        return False
    m = re.match(r"(\d+)(.*)", name[len(prefix):], re.S)
    return bool(m) and rest(m.group(2)) and not pid_alive(int(m.group(1)))


def remove_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Remove what killed runs left behind for the workbook ``path``: its temporary files
    (``.~aftercare-tmp-<pid>-<name>``) and temporary backups in ``.aftercare-backup`` whose process
    is gone, and demo work files of dead runs untouched for ``DEMO_STALE_SECONDS``. A file of a
    running process is never touched. Call it holding the workbook's lock. Returns what it removed.
    """
    real = real_path(path)
    folder = real.parent
    removed: list[Path] = []
    backup_name = backup_pattern(real)
    now = time.time()

    def drop(p: Path) -> None:
        try:
            if p.is_file() and not p.is_symlink():
                p.unlink()
                removed.append(p)
        except OSError:
            pass

    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            if _dead_temp(entry, TMP_PREFIX, lambda rest: rest == "-" + real.name):
                drop(entry)
            elif _dead_temp(entry, DEMO_PREFIX, lambda rest: re.fullmatch(r"\.\w+", rest) is not None):
                with contextlib.suppress(OSError):
                    if now - entry.stat().st_mtime > DEMO_STALE_SECONDS:
                        drop(entry)
    bdir = folder / BACKUP_DIR
    if bdir.is_dir():
        with contextlib.suppress(OSError):
            for entry in bdir.iterdir():
                if _dead_temp(entry, TMP_PREFIX, lambda rest: rest.startswith("-")
                              and backup_name.fullmatch(rest[1:]) is not None):
                    drop(entry)
    return removed


# ---- inter-process lock ----------------------------------------------------------------------
def lock_file(path: Path) -> Path:
    """The lock file beside the real workbook (runs through different links share one lock)."""
    real = real_path(path)
    return real.with_name(f".~aftercare-{real.name}.lock")


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
    refused with a Chinese message. The OS releases the lock if the holder dies. Once locked, the
    temporary files of killed runs are removed (:func:`remove_stale_temps`).
    """
    lp = lock_file(Path(path))
    deadline = time.monotonic() + wait
    try:
        fd = os.open(lp, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise Refused(f"无法在文件夹「{lp.parent}」中创建锁定文件（{e.strerror or e}），文件未改动。"
                      "请确认有写入权限后再试。") from e
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
        remove_stale_temps(path)
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


def _fsync(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _disk_full(e: BaseException) -> bool:
    return isinstance(e, OSError) and e.errno in {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def backup_pattern(path: Path) -> re.Pattern:
    """The names of ``path``'s backups: ``<stem>.<YYYYmmdd-HHMMSS-ffffff>[-n]<suffix>`` (groups:
    the time stamp and the tie-breaking number)."""
    path = Path(path)
    return re.compile(re.escape(path.stem) + r"\.(\d{8}-\d{6}-\d{6})(?:-(\d+))?" + re.escape(path.suffix))


def backup_files(path: Path) -> list[tuple[Path, dt.datetime]]:
    """``path``'s backups in ``.aftercare-backup`` with their time, newest first."""
    real = real_path(path)
    bdir = real.parent / BACKUP_DIR
    pat = backup_pattern(real)
    found = []
    with contextlib.suppress(OSError):
        for entry in bdir.iterdir():
            m = pat.fullmatch(entry.name)
            if m and entry.is_file():
                found.append((dt.datetime.strptime(m.group(1), _STAMP), int(m.group(2) or 0), entry))
    found.sort(key=lambda t: (t[0], t[1]), reverse=True)
    return [(p, when) for when, _, p in found]


def backup(path: Path, keep: int = KEEP_BACKUPS, now: dt.datetime | None = None) -> Path | None:
    """Copy ``path`` to ``.aftercare-backup/<stem>.<timestamp><suffix>`` through a temporary name
    (a full disk never leaves a truncated backup under a backup's name); keep the newest ``keep``."""
    path = real_path(path)
    if not path.exists():
        return None

    def copy(tmp: Path) -> None:
        shutil.copyfile(path, tmp)
        shutil.copystat(path, tmp)

    return backup_with(path, copy, keep=keep, now=now)


def backup_with(path: Path, write: Callable[[Path], None], *, keep: int = KEEP_BACKUPS,
                now: dt.datetime | None = None) -> Path:
    """A backup of ``path`` that ``write(tmp)`` produces (a copy of the file, or Excel's
    ``Workbook.SaveCopyAs`` of the open workbook), put under the backup's name only once it is
    complete and on disk; the newest ``keep`` backups are kept.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> bak = backup_with(d / "台账.xlsm", lambda tmp: tmp.write_bytes(b"v1"), now=dt.datetime(2026, 12, 6, 9, 30))
    >>> bak.relative_to(d).as_posix(), bak.read_bytes()
    ('.aftercare-backup/台账.20261206-093000-000000.xlsm', b'v1')
    """
    path = real_path(path)
    bdir = path.parent / BACKUP_DIR
    bdir.mkdir(exist_ok=True)
    stamp = (now or dt.datetime.now()).strftime(_STAMP)
    target = bdir / f"{path.stem}.{stamp}{path.suffix}"
    n = 0
    while target.exists():
        n += 1
        target = bdir / f"{path.stem}.{stamp}-{n}{path.suffix}"
    tmp = bdir / f"{TMP_PREFIX}{os.getpid()}-{target.name}"
    try:
        write(tmp)
        if not tmp.is_file():
            raise OSError(f"备份没有写出：{tmp}")
        _fsync(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(bdir)
    for old, _ in backup_files(path)[max(keep, 0):]:
        if old != target:
            with contextlib.suppress(OSError):
                old.unlink()
    return target


def safe_save(path: str | os.PathLike, write: Callable[[Path], None], *, keep: int = KEEP_BACKUPS,
              verify: Callable[[Path], None] | None = None) -> Path | None:
    """Save through ``write(tmp_path)`` and atomically replace ``path``; returns the backup path.

    ``verify(tmp_path)`` may raise to abort (the original is then untouched). A symbolic link is
    followed: the file it names is replaced and the link stays. The new file keeps the original's
    permission bits and owner. A read-only file is refused before anything is written.
    """
    link = Path(path)
    path = real_path(link)
    check_writable(link)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    tmp = path.with_name(f"{TMP_PREFIX}{os.getpid()}-{path.name}")
    stage = "临时文件"
    try:
        write(tmp)
        _fsync(tmp)
        try:
            with zipfile.ZipFile(tmp) as z:
                if z.testzip() is not None or "xl/workbook.xml" not in z.namelist():
                    raise BookError("保存的临时文件不完整")
        except zipfile.BadZipFile as e:
            raise BookError(f"保存的临时文件不完整：{e}") from e
        if verify is not None:
            verify(tmp)
        if st is not None:
            _keep_mode_and_owner(st, tmp)
        stage = "备份"
        bak = backup(path, keep=keep) if path.exists() else None
        stage = "替换"
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        return bak
    except BaseException as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if _disk_full(e):
            where = {"临时文件": "写临时文件时", "备份": f"写备份（{BACKUP_DIR}）时"}.get(stage, "保存时")
            raise SaveFailed(f"磁盘空间不足，{where}失败：工作簿「{link.name}」未改动，也没有留下不完整的备份。"
                             "请清理磁盘空间后重试。") from e
        raise
