"""The workbook file as a zip package: read members, write a copy that changes only some of them.

:class:`Package` opens the zip once; :meth:`Package.read` gives a member's bytes (cached), and the
package is a ``Mapping[str, bytes]`` (what :mod:`pyfuncs.io.graft` works on).
:func:`write_package` writes a new zip in which every member not in ``changes`` is copied as its
*compressed* bytes (same data, same CRC, same order), changed members are deflated anew, members
mapped to ``None`` are dropped and new ones are appended. A changed member may also come already
deflated (:class:`Deflated`): a :class:`Deflater` compresses a member in a second thread while its
bytes are still being made (zlib and crc32 let go of the GIL while they work).

Example::

    >>> import io, zipfile, tempfile, os
    >>> d = tempfile.mkdtemp(); src = os.path.join(d, "a.zip"); dst = os.path.join(d, "b.zip")
    >>> with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as z:
    ...     z.writestr("[Content_Types].xml", "<Types/>"); z.writestr("a.xml", "<a/>" * 100)
    ...     z.writestr("b.xml", "<b/>")
    >>> write_package(src, {"b.xml": None, "c.xml": b"<c/>"}, dst)
    >>> with zipfile.ZipFile(dst) as z:
    ...     z.namelist(), z.read("a.xml") == b"<a/>" * 100, z.testzip()
    (['[Content_Types].xml', 'a.xml', 'c.xml'], True, None)
    >>> raw_member(src, "a.xml") == raw_member(dst, "a.xml")      # copied, not re-deflated
    True
"""
from __future__ import annotations

import os
import queue
import struct
import threading
import time
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

_LOCAL = struct.Struct("<IHHHHHIIIHH")      # local file header, signature 0x04034b50
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")  # central directory header, 0x02014b50
_END = struct.Struct("<IHHHHIIH")            # end of central directory, 0x06054b50
_Z64_END = struct.Struct("<IQHHIIQQQQ")      # zip64 end of central directory, 0x06064b50
_Z64_LOC = struct.Struct("<IIQI")            # zip64 end locator, 0x07064b50
_FLAG_UTF8 = 0x800


def raw_member(path: str | os.PathLike, name: str) -> tuple[zipfile.ZipInfo, bytes]:
    """(ZipInfo, compressed bytes) of one member, as stored."""
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(name)
        return _info_key(info), _raw(z, info)


def _info_key(info: zipfile.ZipInfo) -> tuple:
    return (info.filename, info.compress_type, info.CRC, info.compress_size, info.file_size)


def _raw(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    fp = z.fp
    fp.seek(info.header_offset)
    head = fp.read(30)
    if len(head) != 30 or head[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    n, m = struct.unpack("<HH", head[26:30])
    fp.seek(info.header_offset + 30 + n + m)
    data = fp.read(info.compress_size)
    if len(data) != info.compress_size:
        raise zipfile.BadZipFile(f"truncated member {info.filename}")
    return data


class Package(Mapping):
    """An open workbook package: member names in order, members' bytes on demand (cached)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._zip = zipfile.ZipFile(self.path)
        self._infos = self._zip.infolist()
        self._by_name = {i.filename: i for i in self._infos}
        self._cache: dict[str, bytes] = {}

    def names(self) -> list[str]:
        return [i.filename for i in self._infos]

    def read(self, name: str) -> bytes:
        b = self._cache.get(name)
        if b is None:
            b = self._cache[name] = self._zip.read(name)
        return b

    def __getitem__(self, name: str) -> bytes:
        if name not in self._by_name:
            raise KeyError(name)
        return self.read(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._infos)

    def __contains__(self, name) -> bool:
        return name in self._by_name

    def close(self) -> None:
        self._zip.close()


class Changed(Mapping):
    """A package seen with pending changes applied (``None`` = deleted)."""

    def __init__(self, base: Mapping[str, bytes], changes: Mapping[str, bytes | None]):
        self.base, self.changes = base, changes

    def __getitem__(self, name: str) -> bytes:
        if name in self.changes:
            v = self.changes[name]
            if v is None:
                raise KeyError(name)
            return v
        return self.base[name]

    def __iter__(self) -> Iterator[str]:
        for n in self.base:
            if self.changes.get(n, b"") is not None:
                yield n
        for n, v in self.changes.items():
            if v is not None and n not in self.base:
                yield n

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, name) -> bool:
        if name in self.changes:
            return self.changes[name] is not None
        return name in self.base


class Deflated(NamedTuple):
    """A member's raw deflate stream with the CRC-32 and size of its uncompressed bytes."""

    packed: bytes
    crc: int
    size: int


class Deflater:
    """Deflate a member in a background thread while it is written in pieces.

    >>> d = Deflater()
    >>> d.write([b"<a>", memoryview(b"xyz" * 1000)]); d.write([b"</a>"])
    >>> got = d.close()
    >>> zlib.decompress(got.packed, -15) == b"<a>" + b"xyz" * 1000 + b"</a>", got.size
    (True, 3007)
    """

    def __init__(self, level: int = 6):
        self._queue: queue.Queue = queue.Queue(maxsize=4)  # at most a few MB waiting
        self._zip = zlib.compressobj(level, zlib.DEFLATED, -15)
        self._packed: list[bytes] = []
        self._crc = 0
        self._size = 0
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="aftercare-deflate", daemon=True)
        self._thread.start()

    def write(self, pieces: list) -> None:
        """Queue the next pieces (bytes or memoryviews; they must stay unchanged until closed)."""
        self._queue.put(pieces)

    def _run(self) -> None:
        while True:
            pieces = self._queue.get()
            if pieces is None:
                break
            if self._error is not None:
                continue
            try:
                data = b"".join(pieces)
                self._crc = zlib.crc32(data, self._crc)
                self._size += len(data)
                self._packed.append(self._zip.compress(data))
            except BaseException as e:  # noqa: BLE001 - raised again in close()
                self._error = e
        if self._error is None:
            self._packed.append(self._zip.flush())

    def close(self) -> Deflated:
        """Wait for the thread; the member, deflated."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return Deflated(b"".join(self._packed), self._crc, self._size)


def _dos_time(t: tuple) -> tuple[int, int]:
    y, mo, d, h, mi, s = t[:6]
    return (h << 11) | (mi << 5) | (s // 2), ((max(y, 1980) - 1980) << 9) | (mo << 5) | d


def write_package(src: str | os.PathLike, changes: Mapping[str, bytes | Deflated | None], dst, *,
                  level: int = 6) -> None:
    """Write ``dst`` (a path or a binary file): ``src``'s members in order, untouched ones copied
    as compressed bytes, ``changes`` applied (bytes: deflated anew at ``level``; :class:`Deflated`:
    as they are; None: dropped; names not in ``src``: appended)."""
    import contextlib

    now = _dos_time(time.localtime()[:6])
    entries = []  # (name bytes, flags, method, dostime, dosdate, crc, csize, usize, offset)
    with zipfile.ZipFile(src) as z, \
            (open(dst, "wb") if isinstance(dst, (str, os.PathLike)) else contextlib.nullcontext(dst)) as out:
        def put(name: str, method: int, dtime: int, ddate: int, crc: int, data: bytes, usize: int) -> None:
            nb = name.encode("utf-8")
            flags = 0 if nb.isascii() else _FLAG_UTF8
            offset = out.tell()
            if len(data) >= 0xFFFFFFFF or usize >= 0xFFFFFFFF or offset >= 0xFFFFFFFF:
                raise ValueError("zip64 members are not supported")
            out.write(_LOCAL.pack(0x04034B50, 20, flags, method, dtime, ddate, crc, len(data), usize, len(nb), 0))
            out.write(nb)
            out.write(data)
            entries.append((nb, flags, method, dtime, ddate, crc, len(data), usize, offset))

        def deflated(name: str, data: bytes | Deflated, dtime: int, ddate: int) -> None:
            if isinstance(data, Deflated):
                put(name, zipfile.ZIP_DEFLATED, dtime, ddate, data.crc, data.packed, data.size)
                return
            c = zlib.compressobj(level, zlib.DEFLATED, -15)
            packed = c.compress(data) + c.flush()
            put(name, zipfile.ZIP_DEFLATED, dtime, ddate, zlib.crc32(data), packed, len(data))

        seen = set()
        for info in z.infolist():
            seen.add(info.filename)
            dtime, ddate = _dos_time(info.date_time)
            if info.filename in changes:
                data = changes[info.filename]
                if data is not None:
                    deflated(info.filename, data, dtime, ddate)
                continue
            if info.flag_bits & 0x1:
                raise zipfile.BadZipFile(f"encrypted member {info.filename}")
            put(info.filename, info.compress_type, dtime, ddate, info.CRC, _raw(z, info), info.file_size)
        for name, data in changes.items():
            if name not in seen and data is not None:
                deflated(name, data, *now)
        cd_start = out.tell()
        for nb, flags, method, dtime, ddate, crc, csize, usize, offset in entries:
            out.write(_CENTRAL.pack(0x02014B50, 20, 20, flags, method, dtime, ddate, crc, csize, usize,
                                    len(nb), 0, 0, 0, 0, 0, offset))
            out.write(nb)
        cd_size = out.tell() - cd_start
        if len(entries) >= 0xFFFF:
            raise ValueError("too many zip members")
        out.write(_END.pack(0x06054B50, 0, 0, len(entries), len(entries), cd_size, cd_start, 0))


def sheet_parts(parts: Mapping[str, bytes]) -> dict[str, str]:
    """{sheet name: its part} of a package (worksheets and chartsheets, in tab order)."""
    from html import unescape
    import re

    from pyfuncs.io.filebook import _MapReader, _part_rels, _workbook_part

    wb = _workbook_part(parts)
    if not wb:
        return {}
    rels = _part_rels(_MapReader(parts), wb)
    out = {}
    for m in re.finditer(rb"<(?:\w+:)?sheet\s[^>]*>", parts[wb]):
        tag = m.group(0).decode("utf-8")
        name = re.search(r'\sname="([^"]*)"', tag)
        rid = re.search(r'\s[\w]+:id="([^"]*)"', tag)
        if name and rid and rid.group(1) in rels:
            out[unescape(name.group(1))] = rels[rid.group(1)][1]
    return out


def sheet_table_parts(parts: Mapping[str, bytes], sheet_part: str) -> list[str]:
    """The table parts of one sheet part."""
    from pyfuncs.io.filebook import _MapReader, _part_rels

    if not sheet_part:
        return []
    return [t for typ, t in _part_rels(_MapReader(parts), sheet_part).values() if typ.endswith("/table")]
