"""Vietnamese formatting: amounts, percentages, dates, quarters, and amounts in words.

Amounts in words are checked three ways: a table of known readings, grammar rules over random
amounts (hypothesis), and a round trip through a strict parser written here from the rules.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accounting.formatting import (
    amount_in_words,
    format_date_vi,
    format_percent,
    format_signed_percent,
    format_vnd,
    quarter_label,
)

# --- numbers, percentages, dates -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (15_220_000_000, "15.220.000.000 ₫"),
        (Decimal("301000000000"), "301.000.000.000 ₫"),
        (0, "0 ₫"),
        (999, "999 ₫"),
        (1_000, "1.000 ₫"),
        (-1_500_000, "-1.500.000 ₫"),
    ],
)
def test_format_vnd(amount, expected):
    assert format_vnd(amount) == expected


def test_format_vnd_without_symbol():
    assert format_vnd(12_429_000, symbol=False) == "12.429.000"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("25.16"), "25,16%"),
        (Decimal("-3.33"), "-3,33%"),
        (Decimal("100"), "100,00%"),
        (Decimal("0.005"), "0,01%"),  # half up
        (Decimal("-0.001"), "0,00%"),  # no "-0,00%"
    ],
)
def test_format_percent(value, expected):
    assert format_percent(value) == expected


def test_format_percent_places():
    assert format_percent(Decimal("7.8"), places=1) == "7,8%"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("3.33"), "+3,33%"),
        (Decimal("-3.33"), "-3,33%"),
        (Decimal("0"), "0,00%"),
        (Decimal("0.004"), "0,00%"),
        (Decimal("-0.004"), "0,00%"),
        (Decimal("0.005"), "+0,01%"),
        (Decimal("125.5"), "+125,50%"),
    ],
)
def test_format_signed_percent(value, expected):
    assert format_signed_percent(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2026, 3, 31), "31/03/2026"),
        (date(2024, 2, 29), "29/02/2024"),
        (date(2026, 1, 5), "05/01/2026"),
        (datetime(2026, 3, 31, 23, 0), "31/03/2026"),  # naive: as is
        # 31 March 18:00 UTC is already 1 April in Hanoi (UTC+7).
        (datetime(2026, 3, 31, 18, 0, tzinfo=UTC), "01/04/2026"),
    ],
)
def test_format_date_vi(value, expected):
    assert format_date_vi(value) == expected


def test_format_date_vi_refuses_strings():
    with pytest.raises(TypeError):
        format_date_vi("2026-03-31")


@pytest.mark.parametrize(
    ("quarter", "year", "expected"),
    [(1, 2024, "Quý I/2024"), (2, 2025, "Quý II/2025"), (3, 2026, "Quý III/2026")]
    + [(4, 2026, "Quý IV/2026")],
)
def test_quarter_label(quarter, year, expected):
    assert quarter_label(quarter, year) == expected


@pytest.mark.parametrize("quarter", [0, 5, -1, True])
def test_quarter_label_refuses_other_quarters(quarter):
    with pytest.raises(ValueError):
        quarter_label(quarter, 2024)


# --- amounts in words: known readings ------------------------------------------------------------

KNOWN = [
    (0, "Không đồng"),
    (1, "Một đồng"),
    (4, "Bốn đồng"),
    (5, "Năm đồng"),
    (10, "Mười đồng"),
    (11, "Mười một đồng"),
    (14, "Mười bốn đồng"),
    (15, "Mười lăm đồng"),
    (20, "Hai mươi đồng"),
    (21, "Hai mươi mốt đồng"),
    (24, "Hai mươi tư đồng"),
    (25, "Hai mươi lăm đồng"),
    (55, "Năm mươi lăm đồng"),
    (91, "Chín mươi mốt đồng"),
    (100, "Một trăm đồng"),
    (101, "Một trăm linh một đồng"),
    (104, "Một trăm linh bốn đồng"),
    (105, "Một trăm linh năm đồng"),
    (110, "Một trăm mười đồng"),
    (115, "Một trăm mười lăm đồng"),
    (121, "Một trăm hai mươi mốt đồng"),
    (999, "Chín trăm chín mươi chín đồng"),
    (1_000, "Một nghìn đồng"),
    (1_001, "Một nghìn không trăm linh một đồng"),
    (1_010, "Một nghìn không trăm mười đồng"),
    (1_024, "Một nghìn không trăm hai mươi tư đồng"),
    (1_100, "Một nghìn một trăm đồng"),
    (10_000, "Mười nghìn đồng"),
    (15_000, "Mười lăm nghìn đồng"),
    (21_000, "Hai mươi mốt nghìn đồng"),
    (100_005, "Một trăm nghìn không trăm linh năm đồng"),
    (1_000_000, "Một triệu đồng"),
    (1_000_001, "Một triệu không trăm linh một đồng"),
    (1_005_000, "Một triệu không trăm linh năm nghìn đồng"),
    (5_500_000, "Năm triệu năm trăm nghìn đồng"),
    (50_000_000, "Năm mươi triệu đồng"),
    (12_429_000, "Mười hai triệu bốn trăm hai mươi chín nghìn đồng"),
    (1_701_842, "Một triệu bảy trăm linh một nghìn tám trăm bốn mươi hai đồng"),
    (1_000_000_001, "Một tỷ không trăm linh một đồng"),
    (1_000_001_000, "Một tỷ không trăm linh một nghìn đồng"),
    (15_220_000_000, "Mười lăm tỷ hai trăm hai mươi triệu đồng"),
    (301_000_000_000, "Ba trăm linh một tỷ đồng"),
    (10**12, "Một nghìn tỷ đồng"),
    (10**12 + 5, "Một nghìn tỷ không trăm linh năm đồng"),
    (
        1_234_567_891_234,
        "Một nghìn hai trăm ba mươi tư tỷ năm trăm sáu mươi bảy triệu"
        " tám trăm chín mươi mốt nghìn hai trăm ba mươi tư đồng",
    ),
    (10**15, "Một triệu tỷ đồng"),
    (2_000_001 * 10**9, "Hai triệu không trăm linh một tỷ đồng"),
    (10**18, "Một tỷ tỷ đồng"),
    (10**21 + 1, "Một nghìn tỷ tỷ không trăm linh một đồng"),
    (-1_001, "Âm một nghìn không trăm linh một đồng"),
    (-15, "Âm mười lăm đồng"),
]


@pytest.mark.parametrize(("amount", "expected"), KNOWN)
def test_amount_in_words_known_readings(amount, expected):
    assert amount_in_words(amount) == expected


def test_amount_in_words_reads_whole_decimals():
    assert amount_in_words(Decimal("1001")) == "Một nghìn không trăm linh một đồng"
    assert amount_in_words(Decimal("1E+3")) == "Một nghìn đồng"
    assert amount_in_words(Decimal("21.000")) == "Hai mươi mốt đồng"


def test_amount_in_words_other_unit():
    assert amount_in_words(21, unit="người") == "Hai mươi mốt người"
    assert amount_in_words(21, unit="") == "Hai mươi mốt"


@pytest.mark.parametrize(
    "bad", [1.0, 1001.5, Decimal("1.5"), Decimal("NaN"), Decimal("Infinity"), True, "1001", None]
)
def test_amount_in_words_refuses_anything_but_integers(bad):
    with pytest.raises(ValueError):
        amount_in_words(bad)


# --- amounts in words: a strict parser of the rules, for the round trip -------------------------

DIGITS = {w: d for d, w in enumerate("không một hai ba bốn năm sáu bảy tám chín".split())}
# What may follow "mười" and "<d> mươi" (never "năm", "mốt" after mười, "một"/"bốn" after mươi).
AFTER_MUOI = {"một": 1, "hai": 2, "ba": 3, "bốn": 4, "lăm": 5, "sáu": 6, "bảy": 7, "tám": 8}
AFTER_MUOI |= {"chín": 9}
AFTER_MUOI_2 = dict(AFTER_MUOI, mốt=1, tư=4)
del AFTER_MUOI_2["một"], AFTER_MUOI_2["bốn"]
SCALES = {"nghìn": 10**3, "triệu": 10**6}


class Unparsable(Exception):
    pass


def parse_group(words: list[str], *, full: bool) -> int:
    """0 < n < 1000; ``full`` groups must read their hundreds, zero or not."""
    value, rest = 0, list(words)
    if len(rest) >= 2 and rest[1] == "trăm":
        value, rest = DIGITS[rest[0]] * 100, rest[2:]
        if value == 0 and not full:
            raise Unparsable(f"'không trăm' in a leading group: {words}")
    elif full:
        raise Unparsable(f"group without its hundreds: {words}")
    if not rest:
        pass
    elif rest[0] == "linh":
        if value == 0 and not (len(words) > 2 and words[1] == "trăm"):
            raise Unparsable(f"'linh' without hundreds: {words}")
        if len(rest) != 2 or rest[1] not in DIGITS or rest[1] == "không":
            raise Unparsable(f"bad 'linh': {words}")
        value += DIGITS[rest[1]]
    elif rest[0] == "mười":
        if len(rest) > 2 or (len(rest) == 2 and rest[1] not in AFTER_MUOI):
            raise Unparsable(f"bad 'mười': {words}")
        value += 10 + (AFTER_MUOI[rest[1]] if len(rest) == 2 else 0)
    elif len(rest) >= 2 and rest[1] == "mươi":
        if rest[0] not in DIGITS or DIGITS[rest[0]] < 2 or len(rest) > 3:
            raise Unparsable(f"bad 'mươi': {words}")
        if len(rest) == 3 and rest[2] not in AFTER_MUOI_2:
            raise Unparsable(f"bad unit after 'mươi': {words}")
        value += DIGITS[rest[0]] * 10 + (AFTER_MUOI_2[rest[2]] if len(rest) == 3 else 0)
    elif len(rest) == 1 and value == 0 and rest[0] in DIGITS and rest[0] != "không":
        value = DIGITS[rest[0]]
    else:
        raise Unparsable(f"unreadable group: {words}")
    if value == 0:
        raise Unparsable(f"a zero group is never read: {words}")
    return value


def parse_below_billion(words: list[str], *, leading: bool) -> int:
    for scale in ("triệu", "nghìn"):
        if scale in words:
            at = words.index(scale)
            high = parse_group(words[:at], full=not leading)
            rest = words[at + 1 :]
            return high * SCALES[scale] + (parse_below_billion(rest, leading=False) if rest else 0)
    return parse_group(words, full=not leading)


def parse_words(words: list[str], *, leading: bool = True) -> int:
    if "tỷ" in words:
        at = len(words) - 1 - words[::-1].index("tỷ")
        high = parse_words(words[:at], leading=leading)
        rest = words[at + 1 :]
        return high * 10**9 + (parse_below_billion(rest, leading=False) if rest else 0)
    return parse_below_billion(words, leading=leading)


def parse_amount(text: str) -> int:
    if not text.endswith(" đồng") or text[0] != text[0].upper():
        raise Unparsable(text)
    words = text[0].lower() + text[1:]
    words = words.split()[:-1]
    if words == ["không"]:
        return 0
    sign = 1
    if words[0] == "âm":
        sign, words = -1, words[1:]
    return sign * parse_words(words)


def test_parser_rejects_wrong_readings():
    # The parser is the rules' second statement: it must refuse what the converter must not say.
    for wrong in [
        "Một nghìn linh một đồng",  # missing "không trăm"
        "Hai mươi một đồng",  # "mốt" after mươi
        "Hai mươi bốn đồng",  # "tư" after mươi
        "Mười năm đồng",  # "lăm" after mười
        "Mười mốt đồng",  # "mốt" only after mươi
        "Một trăm lẻ một đồng",  # southern "lẻ"
        "Một tỷ không triệu không trăm linh một đồng",  # zero groups are not read
        "Không trăm linh một đồng",  # leading group with "không trăm"
    ]:
        with pytest.raises(Unparsable):
            parse_amount(wrong)


@pytest.mark.parametrize(("amount", "expected"), KNOWN)
def test_parser_reads_the_known_table(amount, expected):
    assert parse_amount(expected) == amount


# --- amounts in words: properties ----------------------------------------------------------------


@st.composite
def amounts(draw) -> int:
    """Integers up to 10^21 with plenty of zero digits and of the special units 1, 4, 5."""
    if draw(st.booleans()):
        return draw(st.integers(-(10**21), 10**21))
    digits = draw(st.lists(st.sampled_from("0000014589"), min_size=1, max_size=22))
    value = int("".join(digits))
    return -value if draw(st.booleans()) else value


VOCABULARY = set(DIGITS) | {"mười", "mươi", "mốt", "tư", "lăm", "trăm", "linh", "âm", "đồng"}
VOCABULARY |= {"nghìn", "triệu", "tỷ"}


@settings(max_examples=2_000, deadline=None)
@given(amounts())
def test_amount_in_words_round_trips_and_follows_the_rules(amount):
    text = amount_in_words(amount)
    assert text and text[0].isupper() and text == text.strip() and "  " not in text
    assert text.endswith(" đồng")
    words = text.lower().split()
    assert set(words) <= VOCABULARY
    assert "lẻ" not in words and "ngàn" not in words
    assert (words[0] == "âm") == (amount < 0)
    for before, word in zip(words, words[1:], strict=False):
        if word == "mốt" or word == "tư":
            assert before == "mươi"
        if word == "lăm":
            assert before in {"mười", "mươi"}
        if word == "linh":
            assert before == "trăm"
        if word == "không":
            assert before in {"nghìn", "triệu", "tỷ"}  # only as "không trăm" after a scale
    if amount:
        assert "không" not in words or "không trăm" in text.lower()
    assert parse_amount(text) == amount


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 999))
def test_every_amount_below_a_thousand_round_trips(amount):
    assert parse_amount(amount_in_words(amount)) == amount


def test_without_diacritics_reads_as_vietnamese_sms_are_sent():
    from accounting.formatting import sms_parts, without_diacritics

    text = without_diacritics(
        "Kính gửi Nguyễn Đức Ưng, số tiền 1.500.000 ₫, đến hạn ngày 07/12/2026."
    )
    assert text == "Kinh gui Nguyen Duc Ung, so tien 1.500.000 VND, den han ngay 07/12/2026."
    assert sms_parts(text) == 1
    assert sms_parts("Kính gửi") == 1 and sms_parts("ư" * 71) == 2 and sms_parts("a" * 161) == 2
