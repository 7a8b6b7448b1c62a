"""The used-range guard reads a big, full sheet and refuses a mostly empty one with a far cell
(sizes scaled down by lowering the guard's threshold; the logic is the same)."""
import pytest

from pyfuncs.io import guard
from pyfuncs.io.safe import Refused


def _sheet(rows: int, cols: int, far: str | None = None) -> bytes:
    letters = [chr(65 + i) for i in range(cols)]
    body = b"".join(b'<row r="%d">' % r + b"".join(b'<c r="%s%d"><v>%d</v></c>' % (c.encode(), r, r) for c in letters)
                    + b"</row>" for r in range(1, rows + 1))
    if far:
        body += b'<row r="%s"><c r="%s"><v>1</v></c></row>' % (far.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ").encode(), far.encode())
    return b"<worksheet><sheetData>" + body + b"</sheetData></worksheet>"


@pytest.fixture
def small_limits(monkeypatch):
    monkeypatch.setattr(guard, "MAX_SHEET_CELLS", 1_000)
    monkeypatch.setattr(guard, "HARD_MAX_CELLS", 100_000)


def test_a_full_sheet_beyond_the_threshold_is_read(small_limits):
    guard.check_used_range(_sheet(400, 10), "报修台账")  # 4,000 cells, all filled


def test_a_far_cell_in_a_mostly_empty_sheet_is_refused(small_limits):
    with pytest.raises(Refused) as e:
        guard.check_used_range(_sheet(100, 1, far="T2000"), "报修台账")  # 40,000 cells, 101 filled
    assert "「报修台账」" in str(e.value) and "T2000" in str(e.value)


def test_beyond_the_hard_limit_nothing_is_read(small_limits):
    with pytest.raises(Refused):
        guard.check_used_range(_sheet(6_000, 20), "报修台账")  # 120,000 cells, all filled


def test_a_dimension_that_understates_the_sheet_is_not_trusted(small_limits):
    """The quick way takes the <dimension> only when no cell lies outside it."""
    xml = _sheet(100, 1, far="T2000").replace(b"<sheetData>", b'<dimension ref="A1:A100"/><sheetData>')
    assert guard._claimed(xml) is None
    with pytest.raises(Refused) as e:
        guard.check_used_range(xml, "报修台账")
    assert "T2000" in str(e.value)


def test_a_true_dimension_is_taken_without_reading_every_reference(small_limits):
    xml = _sheet(400, 10).replace(b"<sheetData>", b'<dimension ref="A1:J400"/><sheetData>')
    assert guard._claimed(xml) == (400, 10, 4000)
    guard.check_used_range(xml, "报修台账")
    # one cell a row or a column further is outside it
    assert guard._claimed(xml.replace(b'"J400"', b'"K400"')) is None
    assert guard._claimed(xml.replace(b'"J400"', b'"J401"')) is None
