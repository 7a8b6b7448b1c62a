"""Every imageMso of the ribbon is a control name from Microsoft's published Excel lists
(tests/data/excel_imagemso.txt says where the list comes from). An unknown imageMso shows no
icon in Excel, or, with "show add-in user interface errors" on, an error when the file opens.
"""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from defusedxml import ElementTree as ET

from pyfuncs import build
from pyfuncs.resources import read_bytes

LIST = Path(__file__).with_name("data") / "excel_imagemso.txt"


def excel_image_names() -> dict[str, str]:
    out = {}
    for line in LIST.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, kind = line.split("\t")
            assert name not in out, f"{name} listed twice"
            out[name] = kind
    return out


def image_msos(custom_ui: bytes) -> list[tuple[str, str]]:
    """(element id or tag, imageMso) of every element of a customUI part that names one."""
    root = ET.fromstring(custom_ui)
    return [(el.get("id") or el.tag, el.get("imageMso")) for el in root.iter() if el.get("imageMso") is not None]


def test_the_list_is_microsofts_and_usable():
    head = LIST.read_text(encoding="utf-8").split("\n", 12)[:12]
    assert any("github.com/OfficeDev/office-fluent-ui-command-identifiers" in h for h in head)
    names = excel_image_names()
    assert len(names) > 1000
    assert set(names.values()) <= {"button", "toggleButton", "splitButton", "gallery", "menu"}
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n) for n in names)  # e.g. _3DRotationGallery
    # names that are not Excel's own are not in it
    for foreign in ("RecurrenceEdit", "HappyFace", "CalendarInsert"):
        assert foreign not in names


def test_every_ribbon_image_is_an_excel_control_name():
    names = excel_image_names()
    used = image_msos(read_bytes("macros", "customUI.xml"))
    assert used, "customUI.xml names no imageMso"
    bad = [(who, image) for who, image in used if image not in names]
    assert not bad, f"imageMso not in Microsoft's Excel lists (tests/data/excel_imagemso.txt): {bad}"


def test_the_built_workbook_carries_that_ribbon():
    with zipfile.ZipFile(io.BytesIO(build.build_bytes())) as z:
        part = z.read(build.CUSTOM_UI_PART)
    assert part == read_bytes("macros", "customUI.xml")
    assert image_msos(part) == image_msos(read_bytes("macros", "customUI.xml"))
