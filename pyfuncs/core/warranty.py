"""Warranty terms per part: parsing the contract's term, the statutory floor, the end date, status.

Years and months count like Excel's ``EDATE`` (民法典 arts. 201-202: the start day is not counted,
the period ends on the same-numbered day of the final month or that month's last day). Seasons
end on the last day of the Nth complete season that starts after the start date. A contract term
that ends before the statutory floor is replaced by the floor, with a note on the row.

Example::

    >>> d = lambda s: np.array([s], dtype="datetime64[D]")
    >>> r = warranty_ends(d("2024-06-30"), ["电气管线"])
    >>> str(r.ends[0]), r.notes[0]
    ('2026-06-30', '')
    >>> r = warranty_ends(d("2024-06-30"), ["供热系统"], cities=["北京"])
    >>> str(r.ends[0])
    '2026-03-15'
    >>> r = warranty_ends(d("2024-02-29"), ["屋面防水"], terms=["3年"])
    >>> str(r.ends[0]), r.notes[0]
    ('2029-02-28', '约定保修期3年短于法定最低5年，按法定最低期限计')
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from pyfuncs.core.dates import NAT, add_months, edate, is_blank
from pyfuncs.core.parts import DEFAULT_TERM, PART_LABELS, STATUTORY, STRUCTURE, Term
from pyfuncs.core.settings import DEFAULT_CITY, Season, Settings

IN_WARRANTY, EXPIRING, EXPIRED = "保修中", "即将到期", "已过保"


class TermError(ValueError):
    """A contract term that cannot be read; ``str(e)`` is the Chinese reason."""


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = (
    ("个采暖期", "heating"), ("采暖期", "heating"), ("个供暖期", "heating"), ("供暖期", "heating"),
    ("个采暖季", "heating"), ("采暖季", "heating"),
    ("个供冷期", "cooling"), ("供冷期", "cooling"), ("个供冷季", "cooling"), ("供冷季", "cooling"),
    ("个月", "month"), ("月", "month"), ("年", "year"),
)
_TERM_RE = re.compile(r"([0-9.]+|[零〇一二两三四五六七八九十]+)\s*(" + "|".join(u for u, _ in _UNITS) + r")")


def _cn_number(s: str) -> int:
    """'十二' → 12, '二十' → 20, '五' → 5."""
    if "十" in s:
        tens, _, ones = s.partition("十")
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)
    n = 0
    for ch in s:
        n = n * 10 + _CN_DIGITS[ch]
    return n


def parse_term(value: Any) -> Term | None:
    """A contract term as staff write it → :class:`Term`; blank → None (use the default).

    A bare number means years.

    >>> parse_term("5年"), parse_term("18个月"), parse_term("两个采暖期"), parse_term(3)
    (Term(amount=5, unit='year'), Term(amount=18, unit='month'), Term(amount=2, unit='heating'), Term(amount=3, unit='year'))
    >>> parse_term("1.5年")
    Term(amount=18, unit='month')
    """
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise TermError(f"保修期无效: {value}")
    if isinstance(value, (int, float, np.integer, np.floating)):
        return _term_from_number(float(value), "year", str(value))
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
        return _term_from_number(float(text), "year", text)
    m = _TERM_RE.fullmatch(text.replace(" ", ""))
    if not m:
        raise TermError(f"保修期无效: {text}（应写作 5年、18个月、2个采暖期 等）")
    num, unit_text = m.groups()
    unit = dict(_UNITS)[unit_text]
    try:
        amount = float(num) if num[0].isdigit() or num[0] == "." else float(_cn_number(num))
    except (ValueError, KeyError):
        raise TermError(f"保修期无效: {text}") from None
    return _term_from_number(amount, unit, text)


def _term_from_number(amount: float, unit: str, text: str) -> Term:
    if not math.isfinite(amount) or amount <= 0:
        raise TermError(f"保修期无效: {text}（应大于0）")
    if unit == "year" and not amount.is_integer():
        months = amount * 12
        if not months.is_integer():
            raise TermError(f"保修期无效: {text}（年数折合月数应为整数）")
        return Term(int(months), "month")
    if not amount.is_integer():
        raise TermError(f"保修期无效: {text}（应为整数）")
    if amount > 200 * (12 if unit == "month" else 1):
        raise TermError(f"保修期无效: {text}（超过200年）")
    return Term(int(amount), unit)


#: GB 50352《民用建筑设计统一标准》's classes of design service life (设计使用年限), in years
DESIGN_LIFE_CLASSES = (5, 25, 50, 100)


def means_design_life(value: Any) -> bool:
    """Is ``value`` a contract's way of saying "the design service life" (the wording of many
    保修书 for 地基基础和主体结构), with no number of its own?

    >>> means_design_life("设计文件规定的合理使用年限"), means_design_life("设计文件规定的该工程的合理使用年限")
    (True, True)
    >>> means_design_life("50年"), means_design_life(None)
    (False, False)
    """
    if is_blank(value) or not isinstance(value, str):
        return False
    text = "".join(unicodedata.normalize("NFKC", value).split())
    return (any(w in text for w in ("合理使用年限", "设计使用年限", "设计年限", "设计使用寿命"))
            and not re.search(r"[0-9零〇一二两三四五六七八九十百]", text.replace("一致", "")))


def design_life_hint(years: Any) -> str:
    """'' for a design life of one of GB 50352's classes, else a hint (the value is still used).

    >>> design_life_hint(50)
    ''
    >>> design_life_hint(70)
    '合理使用年限70年不是GB 50352规定的设计使用年限（5、25、50、100年）；70年是住宅用地的土地使用权出让年限，不是设计使用年限，请按设计文件核对（已按70年计算）'
    """
    try:
        y = int(years)
    except (TypeError, ValueError):
        return ""
    if y in DESIGN_LIFE_CLASSES:
        return ""
    classes = "、".join(map(str, DESIGN_LIFE_CLASSES))
    why = "；70年是住宅用地的土地使用权出让年限，不是设计使用年限" if y == 70 else ""
    return f"合理使用年限{y}年不是GB 50352规定的设计使用年限（{classes}年）{why}，请按设计文件核对（已按{y}年计算）"


@dataclass
class WarrantyResult:
    """Per row: the end date (NaT where unknown), a note ('' if none) and errors by position."""

    ends: np.ndarray
    notes: np.ndarray  # object array of str
    errors: dict[int, str] = field(default_factory=dict)
    terms: np.ndarray | None = None  # the Term applied per row (object array)
    #: with ``fallback=True``: rows whose 约定保修期 could not be read and got the default term
    #: (position → the note, which is also in ``notes``)
    term_errors: dict[int, str] = field(default_factory=dict)
    #: per row, the part of the note that says what a missing, unknown or unreadable input was
    #: replaced by (a term, the design life, the city's season); '' where nothing was
    data_notes: np.ndarray | None = None


def season_ends(starts: np.ndarray, count: int | np.ndarray, season: tuple[tuple[int, int], tuple[int, int]]):
    """End of the ``count``-th complete season that starts after each start date.

    Returns (ends, started_inside): the second flags starts that fall inside a season, whose
    partial season does not count.

    >>> e, inside = season_ends(np.array(["2024-12-01"], "datetime64[D]"), 2, ((11, 15), (3, 15)))
    >>> str(e[0]), bool(inside[0])
    ('2027-03-15', True)
    """
    (sm, sd), (em, ed) = season
    s = np.asarray(starts, dtype="datetime64[D]")
    year = s.astype("datetime64[Y]").astype(np.int64) + 1970
    wraps = (em, ed) < (sm, sd)

    def on(y, m, d):
        return (np.asarray(y - 1970).astype("datetime64[Y]").astype("datetime64[M]")
                + np.timedelta64(m - 1, "M")).astype("datetime64[D]") + np.timedelta64(d - 1, "D")

    this_start = on(year, sm, sd)
    first_year = np.where(this_start > s, year, year + 1)
    end_year = first_year + np.asarray(count, dtype=np.int64) - 1 + (1 if wraps else 0)
    ends = on(end_year, em, ed)
    # inside a season: the season that started last (this year's or last year's) has not ended
    last_start_year = np.where(this_start <= s, year, year - 1)
    last_end = on(last_start_year + (1 if wraps else 0), em, ed)
    inside = (on(last_start_year, sm, sd) <= s) & (s <= last_end)
    nat = np.isnat(s)
    return np.where(nat, NAT, ends), inside & ~nat


def season_end(start: dt.date, count: int, season: tuple[tuple[int, int], tuple[int, int]]) -> dt.date | None:
    """:func:`season_ends` on one date, in plain Python; None beyond the year 9999.

    >>> season_end(dt.date(2024, 6, 30), 2, ((11, 15), (3, 15))), season_end(dt.date(2024, 12, 1), 2, ((11, 15), (3, 15)))
    (datetime.date(2026, 3, 15), datetime.date(2027, 3, 15))
    """
    (sm, sd), (em, ed) = season
    first_year = start.year if _day_of(start.year, sm, sd) > start else start.year + 1
    end_year = first_year + count - 1 + (1 if (em, ed) < (sm, sd) else 0)
    return _day_of(end_year, em, ed) if 1 <= end_year <= 9999 else None


def _day_of(year: int, month: int, day: int) -> dt.date:
    # as season_ends counts: the month's first day + (day - 1) days
    return dt.date(year, month, 1) + dt.timedelta(days=day - 1)


def _objects(items: list) -> np.ndarray:
    """A 1-d object array (np.array would unpack tuples into a second dimension)."""
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def _norm_key(values: Sequence[Any] | None, n: int) -> np.ndarray | None:
    """A column as a 1-d object array, or None when not given."""
    if values is None:
        return None
    arr = values.to_numpy() if isinstance(values, (pd.Series, pd.Index)) else values
    return np.asarray(arr, dtype=object).reshape(-1)


def _combo_codes(columns: list[np.ndarray | None], n: int) -> tuple[np.ndarray, list[tuple]]:
    """Rows → (code per row, distinct value tuples), so rules run once per distinct combination.

    Blank cells (None, NaN) come back as None. Hash-based throughout: 1,000,000 rows with one
    part column cost one factorize of that column and one of an integer array.
    """
    code = np.zeros(n, dtype=np.int64)
    coded: list[tuple[int, int, np.ndarray]] = []  # (column position, radix, uniques)
    space = 1
    for j, col in enumerate(columns):
        if col is None:
            continue
        c, u = pd.factorize(col, use_na_sentinel=True)
        if len(u) == 0:
            continue  # all blank: same as not given
        radix = len(u) + 1
        space *= radix
        if space >= 2**62:  # hostile input with millions of distinct values: group by rows instead
            return _combo_codes_by_rows(columns, n)
        code = code * radix + (c + 1)
        coded.append((j, radix, u))
    inverse, distinct = pd.factorize(code)
    combos = []
    for value in distinct:
        row: list[Any] = [None] * len(columns)
        v = int(value)
        for j, radix, u in reversed(coded):
            v, c = divmod(v, radix)
            row[j] = None if c == 0 else u[c - 1]
        combos.append(tuple(row))
    return np.asarray(inverse, dtype=np.int64), combos


def _combo_codes_by_rows(columns: list[np.ndarray | None], n: int) -> tuple[np.ndarray, list[tuple]]:
    frame = pd.DataFrame({j: (col if col is not None else np.full(n, None, dtype=object))
                          for j, col in enumerate(columns)})
    keys = frame.map(repr)  # a text key per cell, None included, so nothing is dropped as missing
    inverse = keys.groupby(list(keys.columns), sort=False, dropna=False).ngroup().to_numpy()
    first = pd.Series(np.arange(n)).groupby(inverse).first().to_numpy()
    combos = [tuple(None if pd.isna(frame.iat[i, j]) else frame.iat[i, j] for j in range(len(columns)))
              for i in first]
    return inverse.astype(np.int64), combos


def _groups(codes: np.ndarray, k: int) -> dict[int, np.ndarray]:
    """Row positions (or a boolean mask, for few codes) per code."""
    if k <= 32:
        return {c: codes == c for c in range(k)}
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    return {int(codes[g[0]]): g for g in np.split(order, bounds) if len(g)}


def _resolve(part: Any, raw_term: Any, life: Any, settings: Settings, fallback: bool = False):
    """One distinct (part, term, design life) → (contract or default term, floor term, error,
    note, term error).

    With ``fallback``, an unreadable term or design life does not leave the row without an end:
    the default is used and said in the note (``term error`` repeats it for an unreadable term).
    """
    part = part.strip() if isinstance(part, str) else part
    if part not in STATUTORY:
        return None, None, f"保修部位无效: {'（空白）' if is_blank(part) else part}", "", ""
    notes: list[str] = []
    term_error = ""
    if part == STRUCTURE and means_design_life(raw_term):
        raw_term = None  # "设计文件规定的合理使用年限": the project's design life
    try:
        contract = parse_term(raw_term)
    except TermError as e:
        if not fallback:
            return None, None, str(e), "", ""
        contract = None
        term_error = f"约定保修期「{str(raw_term).strip()}」无法识别（{e}），按{{default}}计算，请改正"
    if part == STRUCTURE:
        try:
            life_term = parse_term(life) if not is_blank(life) else Term(settings.design_life, "year")
            if life_term is not None and life_term.unit != "year":
                raise TermError(f"合理使用年限无效: {life}")
        except TermError:
            if not fallback:
                return None, None, f"合理使用年限无效: {life}", "", ""
            life_term = Term(settings.design_life, "year")
            notes.append(f"项目的合理使用年限「{life}」无法识别，按默认{settings.design_life}年计算")
        hint = design_life_hint(life_term.amount)
        if hint:
            notes.append(hint)
        floor = default = life_term
    else:
        floor, default = STATUTORY[part], DEFAULT_TERM[part]
    if term_error:
        what = (f"合理使用年限{default.label()}" if part == STRUCTURE else
                f"法定最低期限{default.label()}" if STATUTORY[part] is not None else f"默认期限{default.label()}")
        term_error = term_error.format(default=what)
        notes.insert(0, term_error)
    return (contract if contract is not None else default), floor, None, "；".join(notes), term_error


def _season_terms(chosen: Term | None, floor: Term | None, city: Any, settings: Settings):
    """Season terms for a city without that season (no district heating) become years; rows
    whose city is not in the season table say which row they used. Returns (chosen, floor, note)."""
    notes: list[str] = []
    season = settings.season(city)
    for unit, what, has in (("heating", "采暖期", season.has_heating), ("cooling", "供冷期", season.has_cooling)):
        uses = [t for t in (chosen, floor) if t is not None and t.unit == unit]
        if not uses:
            continue
        note = settings.city_note(city, what)
        if note:
            notes.append(note)
        if not has:
            name = settings.match_city(city) or DEFAULT_CITY
            n = (chosen if chosen is not None and chosen.unit == unit else floor).amount
            notes.append(f"「{name}」在城市季节表中无{what}（无集中{'供暖' if unit == 'heating' else '供冷'}），"
                         f"{n}个{what}按{n}年计算；合同另有约定的请填写约定保修期")
            chosen = Term(chosen.amount, "year") if chosen is not None and chosen.unit == unit else chosen
            floor = Term(floor.amount, "year") if floor is not None and floor.unit == unit else floor
    return chosen, floor, "；".join(notes)


def _ends_by_term(starts: np.ndarray, groups: dict[int, np.ndarray], term_of: dict[int, Term | None],
                  season_of: dict[int, Season]) -> tuple[np.ndarray, np.ndarray]:
    """End dates, one vectorised call per distinct term. Returns (ends, started_inside_season)."""
    n = len(starts)
    ends = np.full(n, NAT)
    inside = np.zeros(n, dtype=bool)
    months = np.full(n, -1, dtype=np.int64)
    for k, rows in groups.items():
        t = term_of.get(k)
        if t is None:
            continue
        rows = rows if rows.dtype != bool else np.flatnonzero(rows) if rows.sum() < n // 2 else rows
        if t.months is not None:
            months[rows] = t.months
        else:
            s = season_of[k]
            edges = (s.heat_start, s.heat_end) if t.unit == "heating" else (s.cool_start, s.cool_end)
            ends[rows], inside[rows] = season_ends(starts[rows], t.amount, edges)
    m = months >= 0
    if not m.any():
        return ends, inside
    if m.all():
        ends = add_months(starts, months)
    elif m.any():
        ends[m] = add_months(starts[m], months[m])
    return ends, inside


def warranty_ends(
    starts: Any,
    parts: Sequence[Any],
    terms: Sequence[Any] | None = None,
    cities: Sequence[Any] | None = None,
    design_lives: Sequence[Any] | None = None,
    settings: Settings | None = None,
    fallback: bool = False,
) -> WarrantyResult:
    """Warranty end per row (a column at a time).

    ``starts``: datetime64[D] (NaT = unknown); ``parts``: the ten labels; ``terms``: the contract
    term per row (blank = the statutory default; for the structure, wording such as
    设计文件规定的合理使用年限 = the design life); ``cities``: for season terms (a city not in the
    season table uses its 默认 row, a city without that season counts N seasons as N years; the
    row's note says so); ``design_lives``: the project's 合理使用年限 in years (blank = the
    setting, default 50; outside GB 50352's classes: used, with a note).
    ``fallback``: an unreadable term or design life gets the default, with a note, instead of
    an error (the jobs plan and refresh with it; a worksheet function shows the error).
    The rules run once per distinct (part, term, city, design life); the dates in numpy.

    >>> d = np.array(["2024-06-30"], "datetime64[D]")
    >>> r = warranty_ends(d, ["屋面防水"], ["十年整"], fallback=True)
    >>> str(r.ends[0]), r.notes[0]
    ('2029-06-30', '约定保修期「十年整」无法识别（保修期无效: 十年整（应写作 5年、18个月、2个采暖期 等）），按法定最低期限5年计算，请改正')
    >>> str(warranty_ends(d, ["供热系统"], cities=["广州"]).ends[0])
    '2026-06-30'
    """
    s = settings or Settings()
    starts = np.asarray(starts, dtype="datetime64[D]").reshape(-1)
    n = len(starts)
    codes, combos = _combo_codes(
        [_norm_key(parts, n), _norm_key(terms, n), _norm_key(cities, n), _norm_key(design_lives, n)], n
    )
    groups = _groups(codes, len(combos))
    chosen: dict[int, Term | None] = {}
    floor: dict[int, Term | None] = {}
    season_of: dict[int, Season] = {}
    error_of: dict[int, str] = {}
    combo_note = np.array([""] * len(combos), dtype=object)
    term_error_of: dict[int, str] = {}
    for k, (part, term, city, life) in enumerate(combos):
        chosen[k], floor[k], err, note, term_err = _resolve(part, term, life, s, fallback)
        chosen[k], floor[k], season_note = _season_terms(chosen[k], floor[k], city, s)
        season_of[k] = s.season(city)
        combo_note[k] = "；".join(x for x in (note, season_note) if x)
        if err:
            error_of[k] = err
        if term_err:
            term_error_of[k] = term_err
    ends, inside = _ends_by_term(starts, groups, chosen, season_of)
    # the floor only matters where the applied term differs from it
    differs = {k: f for k, f in floor.items() if f is not None and f != chosen[k]}
    floor_ends, _ = _ends_by_term(starts, groups, differs, season_of)
    short = ~np.isnat(floor_ends) & (ends < floor_ends)
    ends = np.where(short, floor_ends, ends)

    short_note = np.array([""] * len(combos), dtype=object)
    inside_note = short_note.copy()
    for k in range(len(combos)):
        t, f = chosen[k], floor[k]
        if t is not None and f is not None:
            short_note[k] = f"约定保修期{t.label()}短于法定最低{f.label()}，按法定最低期限计"
        if t is not None and t.unit in ("heating", "cooling"):
            kind = "采暖期" if t.unit == "heating" else "供冷期"
            inside_note[k] = f"起算日处于{kind}内，该不完整{kind}不计入（合同另有约定的从其约定）"
    # object columns filled only where a note applies (few rows): three full np.where passes over
    # object arrays cost more than the date arithmetic
    notes = np.full(n, "", dtype=object)
    only_inside = inside & ~short
    notes[only_inside] = inside_note[codes[only_inside]]
    notes[short] = short_note[codes[short]]
    noted = np.flatnonzero(combo_note[codes] != "") if len(combos) else np.zeros(0, np.int64)
    for i in noted:
        notes[i] = "；".join(x for x in (combo_note[codes[i]], notes[i]) if x)
    errors: dict[int, str] = {}
    if error_of:
        bad = np.isin(codes, np.fromiter(error_of, dtype=np.int64))
        ends[bad] = NAT
        notes[bad] = ""
        errors = {int(i): error_of[int(codes[i])] for i in np.flatnonzero(bad)}
    term_errors: dict[int, str] = {}
    if term_error_of:
        fell = np.isin(codes, np.fromiter(term_error_of, dtype=np.int64)) & ~np.isnat(starts)
        term_errors = {int(i): term_error_of[int(codes[i])] for i in np.flatnonzero(fell)}
    notes[np.isnat(starts)] = ""
    data_notes = combo_note[codes] if len(combos) else np.zeros(0, dtype=object)
    data_notes[np.isnat(starts) | np.isnat(ends)] = ""
    term_col = _objects([chosen[k] for k in range(len(combos))])[codes]
    term_col[short] = _objects([floor[k] for k in range(len(combos))])[codes[short]]
    return WarrantyResult(ends=ends, notes=notes, errors=errors, terms=term_col, term_errors=term_errors,
                          data_notes=data_notes)


def warranty_status(ends: Any, as_of: Any, warn_days: int = 90) -> np.ndarray:
    """保修中 / 即将到期 (end within ``warn_days`` of ``as_of``) / 已过保; '' where the end is unknown.

    The end day itself is still covered.

    >>> import datetime as dt
    >>> warranty_status(np.array(["2026-12-31", "2026-11-21", "2026-11-20", "NaT"], "datetime64[D]"),
    ...                 dt.date(2026, 11, 21)).tolist()
    ['即将到期', '即将到期', '已过保', '']
    """
    e = np.asarray(ends, dtype="datetime64[D]")
    a = np.asarray(as_of, dtype="datetime64[D]")
    left = (e - a).astype("timedelta64[D]").astype(np.int64)
    out = np.where(left < 0, EXPIRED, np.where(left <= warn_days, EXPIRING, IN_WARRANTY)).astype(object)
    out[np.isnat(e) | np.isnat(np.broadcast_to(a, e.shape))] = ""
    return out


def days_left(ends: Any, as_of: Any) -> np.ndarray:
    """Days from ``as_of`` to the end (negative once expired); float with NaN where unknown."""
    e = np.asarray(ends, dtype="datetime64[D]")
    a = np.asarray(as_of, dtype="datetime64[D]")
    out = (e - a).astype("timedelta64[D]").astype(float)
    out[np.isnat(e) | np.isnat(np.broadcast_to(a, e.shape))] = np.nan
    return out


# --- one project's default terms, in plain Python ---------------------------------------------------
#: (id of the settings, city) → (the settings, {part: (term, season edges or None, data note)});
#: the settings are held, so an id is never reused while its entry lives
_DEFAULT_TERMS: dict[tuple[int, Any], tuple[Settings, dict[str, tuple[Term, Any, str]]]] = {}
_DEFAULT_SETTINGS = Settings()


def _default_terms(city: Any, settings: Settings) -> dict[str, tuple[Term, Any, str]]:
    """Per part: the term :func:`warranty_ends` applies when the contract says nothing, the
    season it counts (None for years and months) and its data note, for ``city``. Worked out by
    :func:`warranty_ends` itself (ten rows, once per settings and city), so the rules stay there."""
    key = (id(settings), city)
    hit = _DEFAULT_TERMS.get(key)
    if hit is not None and hit[0] is settings:
        return hit[1]
    n = len(PART_LABELS)
    r = warranty_ends(np.full(n, np.datetime64("2000-07-01", "D")), list(PART_LABELS), cities=[city] * n,
                      settings=settings, fallback=True)
    season = settings.season(city)
    out: dict[str, tuple[Term, Any, str]] = {}
    for part, term, note in zip(PART_LABELS, r.terms, r.data_notes):
        edges = ((season.heat_start, season.heat_end) if term.unit == "heating" else
                 (season.cool_start, season.cool_end) if term.unit == "cooling" else None)
        out[part] = (term, edges, str(note))
    if len(_DEFAULT_TERMS) >= 1024:
        _DEFAULT_TERMS.clear()
    _DEFAULT_TERMS[key] = (settings, out)
    return out


def default_ends(start: dt.date, parts: Iterable[str], city: Any = None,
                 settings: Settings | None = None) -> list[tuple[dt.date | None, str]]:
    """Each part's ``(end, data note)`` under its default term from one start date (no contract
    term; the structure: the settings' design life; seasons: ``city``'s row), for one project in
    plain Python: what :func:`warranty_ends` gives for the same rows (``ends``, ``data_notes``),
    at a few microseconds a part. tests/test_udf_callbacks.py holds the two equal.

    >>> default_ends(dt.date(2024, 6, 30), ["供热系统", "电气管线"], "北京")
    [(datetime.date(2026, 3, 15), ''), (datetime.date(2026, 6, 30), '')]
    >>> default_ends(dt.date(2024, 6, 30), ["供热系统"], "广州")[0][0]
    datetime.date(2026, 6, 30)
    """
    s = settings if settings is not None else _DEFAULT_SETTINGS
    terms = _default_terms(None if is_blank(city) else str(city), s)
    out: list[tuple[dt.date | None, str]] = []
    for part in parts:
        term, edges, note = terms[part]
        end = edate(start, term.months) if edges is None else season_end(start, term.amount, edges)
        out.append((end, note if end is not None else ""))
    return out
