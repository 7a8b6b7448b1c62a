"""The workbook's VBA project (``xl/vbaProject.bin``) written the way [MS-OVBA] says a writer writes it.

Two things a writer other than Office must get right (the evidence is in ``docs/vba-project.md``):

1. **No performance caches.** [MS-OVBA] 2.3.4.1: the ``_VBA_PROJECT`` stream is 7 bytes on write,
   ``CC 61 FF FF 00 01 00`` (Reserved1 0x61CC, Version 0xFFFF, Reserved2 0, Reserved3), with no
   PerformanceCache; 1.6: a version of 0xFFFF makes every Office version ignore the caches and
   compile from the source text. So every module stream holds only its compressed source
   (MODULEOFFSET 0), no ``__SRP_n`` stream is left, and the cookies the spec says a writer writes
   as 0xFFFF (PROJECTCOOKIE, MODULECOOKIE) are 0xFFFF. :func:`without_performance_cache`.
2. **A document module for every sheet.** Excel binds a sheet to the document module whose name is
   the sheet's ``codeName``; a sheet with none gets a fresh module when Excel loads the project,
   and a module whose sheet is gone stays behind as an orphan. A sheet a job adds is written as
   Excel writes one: a ``codeName`` in its ``sheetPr`` (the file writer's part) and a document
   module of that name in the project (:func:`with_document_modules`); a generated sheet a job
   deletes takes its empty module with it (:func:`without_document_modules`).
   :func:`with_sheet_document_modules` does all of it for a whole package (part name → bytes),
   which is what a file writer calls before it zips the parts.

Both return new bytes and leave the rest of the project as it was: references, the PROJECT
stream's lines and protection, module sources byte for byte. :func:`project_problems` checks a
project against these rules and against itself (``dir`` ↔ PROJECT ↔ PROJECTwm ↔ streams).

Example::

    >>> from pyfuncs.build import build_bytes                                   # doctest: +SKIP
    >>> import io, zipfile                                                      # doctest: +SKIP
    >>> bin_ = zipfile.ZipFile(io.BytesIO(build_bytes())).read("xl/vbaProject.bin")  # doctest: +SKIP
    >>> new_code_names(module_names(bin_), 2)                                   # doctest: +SKIP
    ['Sheet9', 'Sheet10']
    >>> project_problems(with_document_modules(bin_, ["Sheet9", "Sheet10"]))     # doctest: +SKIP
    []
    >>> new_code_names(["ThisWorkbook", "Sheet1", "sheet3", "Module1"], 2)
    ['Sheet4', 'Sheet5']
"""
from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Sequence

#: The whole ``_VBA_PROJECT`` stream a writer writes ([MS-OVBA] 2.3.4.1 and the example in 3.1.1).
VBA_PROJECT_STREAM = b"\xcc\x61\xff\xff\x00\x01\x00"
#: PROJECTCOOKIE and MODULECOOKIE: "MUST be 0xFFFF on write" ([MS-OVBA] 2.3.4.2.3.1, 2.3.4.2.3.2.7).
WRITER_COOKIE = 0xFFFF
#: The VB_Base of a worksheet's document module, as Excel writes it.
WORKSHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"
#: A code name Excel accepts: a VBA identifier of at most 31 characters ([MS-XLSB] 2.5.97.16 CodeName).
CODE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,30}")


class VBAProjectProblem(ValueError):
    """The project cannot be changed as asked (a bad or taken name, a module with code in it)."""


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------

def _open(vba_project_bin: bytes):
    from pyopenvba.cfb import CFB
    from pyopenvba.vba import parse_vba_project

    cfb = CFB.from_bytes(vba_project_bin)
    return cfb, parse_vba_project(cfb)


def module_names(vba_project_bin: bytes) -> list[str]:
    """Every module's name, in the project's (``dir`` stream) order."""
    return [m.name for m in _open(vba_project_bin)[1].modules]


def _source_bytes(cfb, module) -> bytes:
    from pyopenvba.vba import decompress

    stream = cfb.get_stream_in_storage("VBA", module.stream_name)
    return decompress(bytes(stream[module.text_offset:]), stream_name=module.stream_name)


def _encoding(project) -> str:
    from pyopenvba.vba import encoding_for_codepage

    return encoding_for_codepage(project.code_page)


def sheet_document_modules(vba_project_bin: bytes) -> dict[str, str]:
    """Name → source of every worksheet document module (``VB_Base`` of a worksheet)."""
    cfb, project = _open(vba_project_bin)
    out = {}
    for m in project.modules:
        text = _source_bytes(cfb, m).decode(_encoding(project), errors="replace")
        if f'Attribute VB_Base = "{WORKSHEET_BASE}"' in text:
            out[m.name] = text
    return out


def new_code_names(taken: Iterable[str], count: int) -> list[str]:
    """``count`` code names for new sheets: ``Sheet<n>`` numbered on from the highest ``Sheet<n>``
    taken, never equal (in any case) to a name in ``taken`` (pass every module name of the project).

    >>> new_code_names([], 1), new_code_names(["Sheet8", "SHEET9x"], 1)
    (['Sheet1'], ['Sheet9'])
    """
    names = {t.casefold() for t in taken}
    numbers = [int(m.group(1)) for t in names if (m := re.fullmatch(r"sheet(\d+)", t))]
    n = max(numbers, default=0)
    out: list[str] = []
    while len(out) < count:
        n += 1
        if f"sheet{n}" not in names:
            out.append(f"Sheet{n}")
    return out


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------

def _finish(cfb, project, *, rewrite_project: bytes | None = None) -> bytes:
    """Write ``project`` back into ``cfb`` in the writer's form and return the CFB's bytes."""
    from pyopenvba.vba import compress, serialize_dir_stream, serialize_projectwm

    for m in project.modules:
        raw = _source_bytes(cfb, m)
        cfb.write_stream_in_storage("VBA", m.stream_name, compress(raw))
        m.text_offset = 0
        m.prefix_bytes = b""
        m.cookie = WRITER_COOKIE
    project.project_cookie = WRITER_COOKIE
    cfb.write_stream_in_storage("VBA", "dir", compress(serialize_dir_stream(project)))
    if rewrite_project is not None:
        cfb.write_stream("PROJECT", rewrite_project)
        try:
            cfb.get_stream("PROJECTwm")
        except KeyError:
            pass
        else:
            cfb.write_stream("PROJECTwm", serialize_projectwm(
                [(m.name, m.name_unicode or m.name) for m in project.modules], code_page=project.code_page))
    cfb.write_stream_in_storage("VBA", "_VBA_PROJECT", VBA_PROJECT_STREAM)
    try:
        cfb.drop_streams_in_storage("VBA", lambda n: n.startswith("__SRP_"))
    except KeyError:
        pass
    return cfb.to_bytes()


def without_performance_cache(vba_project_bin: bytes) -> bytes:
    """The project with no performance cache anywhere: ``_VBA_PROJECT`` = :data:`VBA_PROJECT_STREAM`,
    every module stream its compressed source alone (MODULEOFFSET 0), no ``__SRP_`` streams, the
    writer's cookies. Sources, names, references and the PROJECT stream are kept as they are."""
    cfb, project = _open(vba_project_bin)
    return _finish(cfb, project)


def _check_new_name(name: str, taken: set[str]) -> None:
    if not CODE_NAME.fullmatch(name):
        raise VBAProjectProblem(f"code name {name!r} is not a VBA identifier of at most 31 characters")
    if name.casefold() in taken:
        raise VBAProjectProblem(f"code name {name!r} is already the name of a module")


def with_document_modules(vba_project_bin: bytes, code_names: Sequence[str]) -> bytes:
    """The project with a worksheet document module for each of ``code_names`` that has none.

    The module is the one Excel makes for a new sheet: its attribute header (``VB_Base`` of a
    worksheet, predeclared, exposed) and no code; it is declared ``Document=<name>/&H00000000``
    in the PROJECT stream, listed in PROJECTwm and in ``dir`` as a document module (MODULETYPE
    0x0022). A name that already has a worksheet document module is left alone (it is what that
    sheet needs); a name that is not a VBA identifier, or is taken by another module (``ThisWorkbook``,
    a standard or class module), raises :class:`VBAProjectProblem`.
    The result is in the writer's form (:func:`without_performance_cache`).
    """
    from pyopenvba._new_project import document_header
    from pyopenvba.vba import VBAModuleKind, compress, encode_mbcs, serialize_project_stream

    cfb, project = _open(vba_project_bin)
    existing = {m.name.casefold() for m in project.modules} | {m.stream_name.casefold() for m in project.modules}
    sheets = {n.casefold() for n in sheet_document_modules(vba_project_bin)}
    adds: list[str] = []
    for name in code_names:
        if name.casefold() in sheets:
            continue
        _check_new_name(name, existing)
        existing.add(name.casefold())
        adds.append(name)
    if not adds:
        return _finish(cfb, project)
    for name in adds:
        source = document_header(name, WORKSHEET_BASE)
        module = project.add_module(name, source, kind=VBAModuleKind.other)
        module.name_unicode = module.stream_name_unicode = name
        cfb.add_stream_to_storage("VBA", module.stream_name, compress(encode_mbcs(source, _encoding(project))))
    project.pending_adds.clear()
    text = serialize_project_stream(cfb.get_stream("PROJECT"), {}, add_modules=[(n, "Document") for n in adds],
                                    code_page=project.code_page)
    return _finish(cfb, project, rewrite_project=text)


def _is_empty_module(source: str) -> bool:
    body = [ln for ln in source.splitlines() if ln.strip() and not ln.startswith("Attribute VB_")]
    return all(ln.strip().casefold() in ("option explicit", "option compare text", "option compare binary",
                                         "option base 0", "option base 1", "option private module")
               for ln in body)


def without_document_modules(vba_project_bin: bytes, code_names: Sequence[str]) -> bytes:
    """The project without the worksheet document modules named in ``code_names`` (the sheets a job
    removed), as Excel removes a sheet's module with the sheet. Only modules that hold no code are
    removed: one with code raises :class:`VBAProjectProblem` (a user's macro is never dropped).
    Names with no module are ignored. The result is in the writer's form."""
    from pyopenvba.vba import serialize_project_stream

    cfb, project = _open(vba_project_bin)
    wanted = {n.casefold() for n in code_names}
    gone = []
    for m in list(project.modules):
        if m.name.casefold() not in wanted:
            continue
        text = _source_bytes(cfb, m).decode(_encoding(project), errors="replace")
        if f'Attribute VB_Base = "{WORKSHEET_BASE}"' not in text:
            raise VBAProjectProblem(f"module {m.name!r} is not a worksheet's document module")
        if not _is_empty_module(text):
            raise VBAProjectProblem(f"the document module {m.name!r} holds code; it is not removed")
        gone.append(m)
    if not gone:
        return _finish(cfb, project)
    for m in gone:
        project.modules.remove(m)
        cfb.remove_stream_in_storage("VBA", m.stream_name)
    text = serialize_project_stream(cfb.get_stream("PROJECT"), {}, delete_names={m.name for m in gone},
                                    code_page=project.code_page)
    return _finish(cfb, project, rewrite_project=text)


# --------------------------------------------------------------------------------------------------
# The whole package: every worksheet with a code name and its document module
# --------------------------------------------------------------------------------------------------

VBA_PART = "xl/vbaProject.bin"
WORKSHEET_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
_SHEET_PR = re.compile(rb"<((?:\w+:)?)sheetPr\b([^>]*?)(/?)>")
_ROOT = re.compile(rb"<((?:\w+:)?)worksheet\b[^>]*>")
_CODE_NAME = re.compile(rb'\bcodeName="([^"]*)"')


def worksheet_code_names(parts: dict[str, bytes]) -> list[tuple[str, str, str]]:
    """(sheet name, part, code name or "") of every worksheet, in the workbook's order."""
    from pyopenvba._new_project import excel_sheets

    names = re.findall(r'<sheet\b[^>]*\bname="([^"]*)"', parts["xl/workbook.xml"].decode("utf-8"))
    found = excel_sheets(list(parts), parts.__getitem__)
    return [(name, part, code) for name, (part, kind, code) in zip(names, found) if kind == WORKSHEET_REL]


def _with_code_name(xml: bytes, code: str) -> bytes:
    attr = f' codeName="{code}"'.encode()
    m = _SHEET_PR.search(xml)
    if m:
        return xml[:m.start()] + b"<" + m.group(1) + b"sheetPr" + attr + m.group(2) + m.group(3) + b">" + xml[m.end():]
    root = _ROOT.search(xml)
    if root is None:
        raise VBAProjectProblem("a worksheet part without a <worksheet> element")
    return xml[:root.end()] + b"<" + root.group(1) + b"sheetPr" + attr + b"/>" + xml[root.end():]


def with_sheet_document_modules(parts: dict[str, bytes]) -> dict[str, bytes]:
    """A workbook package (part name → bytes) made as Excel writes one: every worksheet has a code
    name (``sheetPr/@codeName``; a sheet without one gets the next :func:`new_code_names` name) and
    a document module of that name in ``xl/vbaProject.bin``; an empty worksheet module whose sheet
    is gone (a job replaced or deleted the sheet) is removed, as Excel removes it with its sheet; a
    module with code in it stays. Returns a new dict (unchanged parts are the same objects); a
    package with no VBA project is returned as it is.
    """
    if VBA_PART not in parts:
        return parts
    out = dict(parts)
    sheets = worksheet_code_names(parts)
    bin_ = parts[VBA_PART]
    taken = set(module_names(bin_)) | {code for _, _, code in sheets if code}
    fresh = iter(new_code_names(taken, sum(1 for _, _, code in sheets if not code)))
    codes = []
    for _name, part, code in sheets:
        if not code:
            code = next(fresh)
            out[part] = _with_code_name(parts[part], code)
        codes.append(code)
    used = {c.casefold() for c in codes}
    orphans = [name for name, source in sheet_document_modules(bin_).items()
               if name.casefold() not in used and _is_empty_module(source)]
    if orphans:
        bin_ = without_document_modules(bin_, orphans)
    out[VBA_PART] = with_document_modules(bin_, codes)
    return out


# --------------------------------------------------------------------------------------------------
# Checking
# --------------------------------------------------------------------------------------------------

def dir_records(dir_stream: bytes) -> list[tuple[int, bytes]]:
    """The (id, data) records of a decompressed ``dir`` stream ([MS-OVBA] 2.3.4.2), in order.

    PROJECTVERSION (0x0009) is the one record whose Size field does not count its data (Reserved
    is 4, then 6 bytes of versions follow); the dir terminator (0x0010) ends the list.

    >>> dir_records(bytes.fromhex("0100 04000000 03000000" "1000 00000000"))
    [(1, b'\\x03\\x00\\x00\\x00'), (16, b'')]
    """
    out, pos = [], 0
    while pos + 6 <= len(dir_stream):
        rid, size = struct.unpack_from("<HI", dir_stream, pos)
        pos += 6
        if rid == 0x0009:
            size = 6
        out.append((rid, dir_stream[pos:pos + size]))
        pos += size
        if rid == 0x0010:
            break
    return out


def projectwm_names(raw: bytes, encoding: str = "cp1252") -> list[tuple[str, str]]:
    """The (MBCS, UTF-16) module name pairs of a PROJECTwm stream ([MS-OVBA] 2.3.4.4).

    >>> projectwm_names(b"Sheet1\\x00S\\x00h\\x001\\x00\\x00\\x00\\x00\\x00")
    [('Sheet1', 'Sh1')]
    """
    out, pos = [], 0
    while pos < len(raw):
        end = raw.index(b"\x00", pos)
        if end == pos:
            break
        mbcs = raw[pos:end].decode(encoding, errors="replace")
        pos = end + 1
        wide = pos
        while raw[wide:wide + 2] != b"\x00\x00":
            wide += 2
        out.append((mbcs, raw[pos:wide].decode("utf-16-le", errors="replace")))
        pos = wide + 2
    return out


def project_problems(vba_project_bin: bytes) -> list[str]:
    """What in this project is not as a writer writes it, or does not agree with itself (empty: fine).

    Checks: ``_VBA_PROJECT`` is :data:`VBA_PROJECT_STREAM`; no ``__SRP_`` stream; PROJECTCOOKIE and
    every MODULECOOKIE 0xFFFF; every MODULEOFFSET 0 and its stream a source that decompresses; the
    ``dir`` modules, the PROJECT stream's ``Module=``/``Class=``/``Document=`` lines and PROJECTwm name
    the same modules, each with the matching kind (``Module=`` ↔ MODULETYPE 0x0021, the others
    0x0022; ``Document=`` for workbook and sheet modules); no stream in ``VBA/`` without a module.
    """
    import olefile
    from oletools.olevba import decompress_stream

    problems: list[str] = []
    ole = olefile.OleFileIO(vba_project_bin)
    try:
        streams = {"/".join(e) for e in ole.listdir()}
        head = ole.openstream("VBA/_VBA_PROJECT").read()
        if head != VBA_PROJECT_STREAM:
            problems.append(f"_VBA_PROJECT is {len(head)} bytes starting {head[:7].hex()}, "
                            f"not {VBA_PROJECT_STREAM.hex()}")
        problems += [f"performance cache stream {s} present" for s in sorted(streams) if s.startswith("VBA/__SRP_")]
        records = dir_records(decompress_stream(bytearray(ole.openstream("VBA/dir").read())))
        code_page = next((struct.unpack("<H", d)[0] for r, d in records if r == 0x0003), 1252)
        from pyopenvba.vba import encoding_for_codepage

        enc = encoding_for_codepage(code_page)
        modules: list[dict] = []
        for rid, data in records:
            if rid == 0x0013 and struct.unpack("<H", data)[0] != WRITER_COOKIE:
                problems.append(f"PROJECTCOOKIE is {struct.unpack('<H', data)[0]:#06x}, not 0xffff")
            elif rid == 0x0019:
                modules.append({"name": data.decode(enc)})
            elif rid == 0x001A and modules:
                modules[-1]["stream"] = data.decode(enc)
            elif rid == 0x0031 and modules:
                modules[-1]["offset"] = struct.unpack("<I", data)[0]
            elif rid == 0x002C and modules:
                modules[-1]["cookie"] = struct.unpack("<H", data)[0]
            elif rid in (0x0021, 0x0022) and modules:
                modules[-1]["type"] = rid
        named = set()
        for m in modules:
            name = m["name"]
            named.add(m.get("stream", name).casefold())
            if m.get("cookie") != WRITER_COOKIE:
                problems.append(f"module {name}: MODULECOOKIE {m.get('cookie')}, not 0xffff")
            if m.get("offset") != 0:
                problems.append(f"module {name}: MODULEOFFSET {m.get('offset')} (a performance cache precedes the source)")
            path = f"VBA/{m.get('stream', name)}"
            if path not in streams:
                problems.append(f"module {name}: no stream {path}")
                continue
            data = ole.openstream(path).read()
            try:
                decompress_stream(bytearray(data[m.get("offset") or 0:]))
            except Exception as e:  # noqa: BLE001 (any failure to read the source is the finding)
                problems.append(f"module {name}: its source does not decompress ({e})")
        extra = sorted(s for s in streams if s.startswith("VBA/") and s[4:].casefold() not in named
                       and s[4:] not in ("dir", "_VBA_PROJECT") and not s.startswith("VBA/__SRP_"))
        problems += [f"stream {s} belongs to no module" for s in extra]

        declared: dict[str, str] = {}
        for line in ole.openstream("PROJECT").read().decode(enc, errors="replace").split("\r\n"):
            if line.startswith("["):
                break
            key, sep, value = line.partition("=")
            if sep and key in ("Module", "Class", "BaseClass", "Document"):
                declared[value.split("/")[0].casefold()] = key
        by_name = {m["name"].casefold(): m for m in modules}
        for name in sorted(set(by_name) - set(declared)):
            problems.append(f"module {by_name[name]['name']} is not declared in the PROJECT stream")
        for name in sorted(set(declared) - set(by_name)):
            problems.append(f"PROJECT declares {declared[name]}={name}, which dir does not list")
        for name, key in declared.items():
            if name in by_name and (key == "Module") != (by_name[name].get("type") == 0x0021):
                problems.append(f"module {by_name[name]['name']}: PROJECT says {key}, "
                                f"dir says MODULETYPE {by_name[name].get('type', 0):#06x}")
        if "PROJECTwm" in streams:
            listed = {n.casefold() for n, _ in projectwm_names(ole.openstream("PROJECTwm").read(), enc)}
            for name in sorted(set(by_name) - listed):
                problems.append(f"module {by_name[name]['name']} is missing from PROJECTwm")
    finally:
        ole.close()
    return problems
