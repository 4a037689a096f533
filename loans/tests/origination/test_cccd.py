"""The CCCD structure: province code, century/sex digit, year digits."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loans.origination.cccd import (
    PROVINCE_CODES,
    CCCDInvalid,
    cccd_build,
    cccd_normalise,
    cccd_validate,
    gender_century_digit,
)


def test_the_circular_lists_63_province_codes_from_001_to_096():
    assert len(PROVINCE_CODES) == 63
    assert min(PROVINCE_CODES) == "001" and max(PROVINCE_CODES) == "096"
    assert PROVINCE_CODES["001"] == "Hà Nội" and PROVINCE_CODES["079"] == "TP Hồ Chí Minh"
    assert "003" not in PROVINCE_CODES and "097" not in PROVINCE_CODES


@pytest.mark.parametrize(
    "sex, year, digit",
    [
        ("male", 1985, "0"),
        ("female", 1985, "1"),
        ("male", 1900, "0"),
        ("female", 1999, "1"),
        ("male", 2000, "2"),
        ("female", 2007, "3"),
        ("male", 2100, "4"),
        ("female", 2399, "9"),
    ],
)
def test_the_fourth_digit_codes_century_and_sex(sex, year, digit):
    assert gender_century_digit(sex=sex, year=year) == digit


def test_a_well_formed_number_passes_and_is_normalised():
    assert cccd_validate("001 185-012.345", date_of_birth=date(1985, 3, 2), sex="female") == (
        "001185012345"
    )
    assert cccd_normalise(" 079 2 05 000001 ") == "079205000001"


@pytest.mark.parametrize(
    "number, dob, sex, says",
    [
        ("00118501234", None, None, "12 chữ số"),
        ("0011850123456", None, None, "12 chữ số"),
        ("00118501234a", None, None, "12 chữ số"),
        ("００１１８５０１２３４５", None, None, "12 chữ số"),  # full-width digits
        ("003185012345", None, None, "mã tỉnh"),
        ("097185012345", None, None, "mã tỉnh"),
        ("000185012345", None, None, "mã tỉnh"),
        ("001085012345", date(1985, 1, 1), "female", "chữ số thứ 4"),
        ("001285012345", date(1985, 1, 1), "male", "chữ số thứ 4"),
        ("001186012345", date(1985, 1, 1), "female", "chữ số thứ 5–6"),
    ],
)
def test_broken_numbers_are_refused_saying_which_part(number, dob, sex, says):
    with pytest.raises(CCCDInvalid) as e:
        cccd_validate(number, date_of_birth=dob, sex=sex)
    assert says in str(e.value)


def test_a_birth_year_outside_the_coded_centuries_is_refused():
    with pytest.raises(CCCDInvalid):
        gender_century_digit(sex="male", year=1899)


@given(
    province=st.sampled_from(sorted(PROVINCE_CODES)),
    sex=st.sampled_from(["male", "female"]),
    dob=st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    serial=st.integers(min_value=0, max_value=999_999),
)
def test_every_built_number_validates_and_the_other_sex_does_not(province, sex, dob, serial):
    number = cccd_build(province=province, sex=sex, date_of_birth=dob, serial=serial)
    assert cccd_validate(number, date_of_birth=dob, sex=sex) == number
    other = "female" if sex == "male" else "male"
    with pytest.raises(CCCDInvalid):
        cccd_validate(number, date_of_birth=dob, sex=other)
