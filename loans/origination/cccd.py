"""The citizen identity card number (căn cước công dân, CCCD): 12 digits with a structure.

Decree 137/2015/NĐ-CP and Circular 07/2016/TT-BCA (carried on by Circular 59/2021/TT-BCA) fix
the structure: ``PPP G YY NNNNNN``

* ``PPP`` — the code of the province or city where the birth was registered, one of the 63 codes
  of the circular's appendix (001 Hà Nội … 096 Cà Mau; codes such as 003 or 005 are not used);
* ``G`` — century of birth and sex: 0/1 born 1900–1999 male/female, 2/3 2000–2099, 4/5
  2100–2199, 6/7 2200–2299, 8/9 2300–2399;
* ``YY`` — the last two digits of the year of birth;
* ``NNNNNN`` — a random number.

A number is refused when it is not 12 digits, its province code is not one of the 63, or its
century/sex digit and year digits contradict the date of birth and sex given with it. Pure
functions (no database), so the import and the tests call them directly; the refusal's message
is translatable and put together in the language active where it is shown.
"""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext_lazy as _

from accounting.errors import translatable

# The province codes of Circular 07/2016/TT-BCA's appendix (place of birth registration).
PROVINCE_CODES = {
    "001": "Hà Nội",
    "002": "Hà Giang",
    "004": "Cao Bằng",
    "006": "Bắc Kạn",
    "008": "Tuyên Quang",
    "010": "Lào Cai",
    "011": "Điện Biên",
    "012": "Lai Châu",
    "014": "Sơn La",
    "015": "Yên Bái",
    "017": "Hòa Bình",
    "019": "Thái Nguyên",
    "020": "Lạng Sơn",
    "022": "Quảng Ninh",
    "024": "Bắc Giang",
    "025": "Phú Thọ",
    "026": "Vĩnh Phúc",
    "027": "Bắc Ninh",
    "030": "Hải Dương",
    "031": "Hải Phòng",
    "033": "Hưng Yên",
    "034": "Thái Bình",
    "035": "Hà Nam",
    "036": "Nam Định",
    "037": "Ninh Bình",
    "038": "Thanh Hóa",
    "040": "Nghệ An",
    "042": "Hà Tĩnh",
    "044": "Quảng Bình",
    "045": "Quảng Trị",
    "046": "Thừa Thiên Huế",
    "048": "Đà Nẵng",
    "049": "Quảng Nam",
    "051": "Quảng Ngãi",
    "052": "Bình Định",
    "054": "Phú Yên",
    "056": "Khánh Hòa",
    "058": "Ninh Thuận",
    "060": "Bình Thuận",
    "062": "Kon Tum",
    "064": "Gia Lai",
    "066": "Đắk Lắk",
    "067": "Đắk Nông",
    "068": "Lâm Đồng",
    "070": "Bình Phước",
    "072": "Tây Ninh",
    "074": "Bình Dương",
    "075": "Đồng Nai",
    "077": "Bà Rịa - Vũng Tàu",
    "079": "TP Hồ Chí Minh",
    "080": "Long An",
    "082": "Tiền Giang",
    "083": "Bến Tre",
    "084": "Trà Vinh",
    "086": "Vĩnh Long",
    "087": "Đồng Tháp",
    "089": "An Giang",
    "091": "Kiên Giang",
    "092": "Cần Thơ",
    "093": "Hậu Giang",
    "094": "Sóc Trăng",
    "095": "Bạc Liêu",
    "096": "Cà Mau",
}

MALE = "male"
FEMALE = "female"
FIRST_CENTURY = 1900  # digit 0/1
LAST_CENTURY = 2300  # digit 8/9


class CCCDInvalid(ValueError):
    """A CCCD number that breaks the structure; the message says which part, in Vietnamese."""


def cccd_normalise(value) -> str:
    """The number as typed, without spaces, dots or dashes people put in it."""
    text = "" if value is None else str(value)
    return "".join(c for c in text if c not in " .-\u00a0\t")


def gender_century_digit(*, sex: str, year: int) -> str:
    """The 4th digit for a person of `sex` born in `year`."""
    century = year // 100 * 100
    if not FIRST_CENTURY <= century <= LAST_CENTURY:
        raise CCCDInvalid(
            translatable(
                _("Năm sinh %(year)s nằm ngoài các thế kỷ mà số CCCD mã hóa (1900–2399)."),
                {"year": year},
            )
        )
    return str((century - FIRST_CENTURY) // 100 * 2 + (1 if sex == FEMALE else 0))


def cccd_validate(value, *, date_of_birth: date | None = None, sex: str | None = None) -> str:
    """The normalised 12-digit number, or `CCCDInvalid` saying what is wrong.

    With `date_of_birth` and `sex` given, the century/sex digit and the two year digits must
    match them.
    """
    number = cccd_normalise(value)
    if len(number) != 12 or not number.isascii() or not number.isdigit():
        raise CCCDInvalid(
            translatable(
                _("Số CCCD phải gồm đúng 12 chữ số, nhận được '%(value)s'."), {"value": value}
            )
        )
    province = number[:3]
    if province not in PROVINCE_CODES:
        raise CCCDInvalid(
            translatable(
                _(
                    "Số CCCD %(number)s: mã tỉnh nơi đăng ký khai sinh '%(province)s' không tồn "
                    "tại (chỉ có 63 mã từ 001 đến 096)."
                ),
                {"number": number, "province": province},
            )
        )
    if date_of_birth is not None and sex is not None:
        expected = gender_century_digit(sex=sex, year=date_of_birth.year)
        if number[3] != expected:
            raise CCCDInvalid(
                translatable(
                    _(
                        "Số CCCD %(number)s: chữ số thứ 4 là '%(digit)s' nhưng người %(sex)s sinh "
                        "năm %(year)s phải có '%(expected)s'."
                    ),
                    {
                        "number": number,
                        "digit": number[3],
                        "sex": _("nữ") if sex == FEMALE else _("nam"),
                        "year": date_of_birth.year,
                        "expected": expected,
                    },
                )
            )
        if number[4:6] != f"{date_of_birth.year % 100:02d}":
            raise CCCDInvalid(
                translatable(
                    _(
                        "Số CCCD %(number)s: chữ số thứ 5–6 là '%(digits)s' nhưng năm sinh là "
                        "%(year)s."
                    ),
                    {"number": number, "digits": number[4:6], "year": date_of_birth.year},
                )
            )
    return number


def cccd_build(*, province: str, sex: str, date_of_birth: date, serial: int) -> str:
    """A well-formed number (test data, demos): province code, sex, year and a 6-digit serial."""
    if province not in PROVINCE_CODES:
        raise CCCDInvalid(
            translatable(_("Mã tỉnh '%(province)s' không tồn tại."), {"province": province})
        )
    digit = gender_century_digit(sex=sex, year=date_of_birth.year)
    return f"{province}{digit}{date_of_birth.year % 100:02d}{serial % 1_000_000:06d}"
