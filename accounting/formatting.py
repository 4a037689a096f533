"""Vietnamese presentation of amounts, percentages, dates and amounts in words.

`15.220.000.000 ₫`, `25,16%`, `+3,33%`, `31/03/2026`, `Quý I/2024`, and on vouchers
"Mười lăm tỷ hai trăm hai mươi triệu đồng".

Amounts in words follow the formal northern style used on Vietnamese accounting vouchers:

- digits: không, một, hai, ba, bốn, năm, sáu, bảy, tám, chín; "mười" for a tens digit of 1,
  "<digit> mươi" for 2–9;
- after "mươi" (tens 2–9) a unit 1 is "mốt" and a unit 4 is "tư" (hai mươi mốt, hai mươi tư);
  after "mười" they stay "một"/"bốn" (mười một, mười bốn); a unit 5 after "mười"/"mươi" is
  "lăm" (mười lăm, hai mươi lăm);
- a zero tens digit before a non-zero unit is "linh" (never the southern "lẻ"): một trăm linh một;
- groups of three digits: nghìn (10^3), triệu (10^6), tỷ (10^9); above that the words repeat on
  "tỷ": nghìn tỷ (10^12), triệu tỷ (10^15), tỷ tỷ (10^18), nghìn tỷ tỷ (10^21)…; a group that is
  all zeros is not read;
- every group after the leading one is read in full with its hundreds, so a zero hundreds digit
  is "không trăm": 1.001 → "một nghìn không trăm linh một", 1.000.000.001 → "một tỷ không trăm
  linh một";
- negative amounts start with "Âm"; the first letter is capitalised; the unit ("đồng") ends it.

Only integers are read: a float or a Decimal with a fraction of a đồng is refused (ValueError),
because a voucher amount is always whole đồng.
"""

import unicodedata
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def format_vnd(amount, *, symbol: bool = True) -> str:
    """Whole đồng with dots between thousands: 15220000000 -> '15.220.000.000 ₫'."""
    value = Decimal(getattr(amount, "amount", amount)).quantize(Decimal(1), ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    text = f"{abs(value):,.0f}".replace(",", ".")
    return f"{sign}{text} ₫" if symbol else f"{sign}{text}"


def format_percent(value, *, places: int = 2) -> str:
    """A percentage with a decimal comma: Decimal('25.16') -> '25,16%'.

    A value that rounds to zero is shown without a sign ('0,00%', never '-0,00%').
    """
    q = Decimal(value).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    if q.is_zero():
        q = abs(q)
    return f"{q:.{places}f}".replace(".", ",") + "%"


def format_signed_percent(value, *, places: int = 2) -> str:
    """A change in percent, signed when not zero: Decimal('3.33') -> '+3,33%', '-3,33%'.

    Used for "so cùng kỳ" comparisons; a change that rounds to zero is '0,00%'.
    """
    q = Decimal(value).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    text = format_percent(q, places=places)
    return f"+{text}" if q > 0 else text


def megabytes(size: int) -> str:
    """A size in bytes as megabytes for a limit's message: ``5`` for 5 MiB, ``0.5`` for 512 KiB."""
    return f"{size / (1024 * 1024):g}"


def format_date_vi(value: date) -> str:
    """Day/month/year with leading zeros: date(2026, 3, 31) -> '31/03/2026'.

    An aware datetime is shown on the fund's calendar (Asia/Ho_Chi_Minh); a naive one as is.
    """
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(LOCAL_TZ)
    if not isinstance(value, date):
        raise TypeError(f"format_date_vi expects a date, got {type(value).__name__}")
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


_ROMAN_QUARTERS = {1: "I", 2: "II", 3: "III", 4: "IV"}


def quarter_label(quarter: int, year: int) -> str:
    """The federation's quarter label: (1, 2024) -> 'Quý I/2024'."""
    if isinstance(quarter, bool) or quarter not in _ROMAN_QUARTERS:
        raise ValueError(f"quarter must be 1–4, got {quarter!r}")
    return f"Quý {_ROMAN_QUARTERS[quarter]}/{year}"


# --- amounts in words ------------------------------------------------------------------------

_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_GROUP_SCALES = ("", "nghìn", "triệu")  # then the same again on "tỷ"
_BILLION = 10**9


def _read_group(value: int, *, full: bool) -> list[str]:
    """Words for 0 < ``value`` < 1000; ``full`` reads a zero hundreds digit ("không trăm")."""
    hundreds, tens, units = value // 100, value // 10 % 10, value % 10
    words: list[str] = []
    if hundreds or full:
        words += [_DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if words:
                words.append("linh")
            words.append(_DIGITS[units])
        return words
    if tens == 1:
        words.append("mười")
    else:
        words += [_DIGITS[tens], "mươi"]
    if units == 1:
        words.append("mốt" if tens > 1 else "một")
    elif units == 4:
        words.append("tư" if tens > 1 else "bốn")
    elif units == 5:
        words.append("lăm")
    elif units:
        words.append(_DIGITS[units])
    return words


def _read_below_billion(value: int, *, leading: bool) -> list[str]:
    """Words for 0 < ``value`` < 10^9; only the leading group may omit "không trăm"."""
    words: list[str] = []
    for index in (2, 1, 0):
        group = value // 1000**index % 1000
        if not group:
            continue
        words += _read_group(group, full=not leading)
        if _GROUP_SCALES[index]:
            words.append(_GROUP_SCALES[index])
        leading = False
    return words


def _read(value: int, *, leading: bool = True) -> list[str]:
    """Words for ``value`` > 0: what is above 10^9 is read (recursively) and followed by "tỷ"."""
    high, low = divmod(value, _BILLION)
    words: list[str] = []
    if high:
        words += _read(high, leading=leading) + ["tỷ"]
        leading = False
    if low:
        words += _read_below_billion(low, leading=leading)
    return words


def _as_integer(n) -> int:
    if isinstance(n, bool) or isinstance(n, float):
        raise ValueError(f"amount_in_words reads whole đồng only, not {n!r}")
    if isinstance(n, int):
        return n
    if isinstance(n, Decimal):
        if not n.is_finite() or n != n.to_integral_value():
            raise ValueError(f"amount_in_words reads whole đồng only, not {n}")
        return int(n)
    raise ValueError(f"amount_in_words reads an int or a whole Decimal, not {type(n).__name__}")


def amount_in_words(n: int, *, unit: str = "đồng") -> str:
    """The amount in formal northern Vietnamese words, capitalised, ending with ``unit``.

    1001 -> 'Một nghìn không trăm linh một đồng'; 0 -> 'Không đồng'; -5 -> 'Âm năm đồng'.
    Accepts an int or a Decimal with no fraction; refuses floats, bools and fractions with
    ValueError. The conventions are in the module docstring.
    """
    value = _as_integer(n)
    words = ["không"] if value == 0 else _read(abs(value))
    if value < 0:
        words.insert(0, "âm")
    if unit:
        words.append(unit)
    text = " ".join(words)
    return text[0].upper() + text[1:]


# Letters that decomposition does not reduce to ASCII.
_PLAIN_LETTERS = str.maketrans({"đ": "d", "Đ": "D", "₫": "VND"})
# An SMS part: 160 characters of the GSM alphabet, or 70 of Unicode (concatenated: 153 and 67).
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


def without_diacritics(text: str) -> str:
    """Vietnamese text without its marks, as SMS are often sent: 'Nguyễn Đức' -> 'Nguyen Duc'."""
    decomposed = unicodedata.normalize("NFD", text.translate(_PLAIN_LETTERS))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def sms_parts(text: str) -> int:
    """How many SMS parts `text` takes: GSM-7 (160, then 153 a part) or Unicode (70, then 67)."""
    gsm = all(ch in _GSM_BASIC for ch in text)
    single, multi = (160, 153) if gsm else (70, 67)
    n = len(text)
    return 1 if n <= single else -(-n // multi)


# Text that a spreadsheet would read as a formula (OWASP "CSV injection"): a cell starting with
# one of these, or their full-width forms that some spreadsheet locales also accept.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def spreadsheet_text(value):
    """A value for an exported spreadsheet cell, XLSX and CSV alike: text starting with a formula
    trigger gets a leading apostrophe, so it stays text (``=HYPERLINK(…)`` shows as written and
    never runs); numbers, dates and other text are returned unchanged. Every export uses it
    (``reports.exports``, ``fund.union_io``, the quarterly report's XLSX)."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def spreadsheet_text_read(text: str) -> str:
    """The text of an imported cell as it was before :func:`spreadsheet_text` (a file exported
    by trovon re-imports the same names)."""
    if text.startswith("'") and text[1:].startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text
