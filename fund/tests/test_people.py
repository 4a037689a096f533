"""Names in the Vietnamese order and lists sorted by given name in the Vietnamese alphabet."""

from types import SimpleNamespace

import pytest

from fund.people import name_sort_key, person_name


def _user(first, last, username="u"):
    return SimpleNamespace(first_name=first, last_name=last, get_username=lambda: username)


def test_person_name_is_family_middle_given():
    assert person_name(_user("Quý", "Nguyễn Văn")) == "Nguyễn Văn Quý"
    assert person_name(_user("Thu", "Trần Thị")) == "Trần Thị Thu"
    assert person_name(_user("", "", "ketoan")) == "ketoan"
    assert person_name(None) == ""


def test_names_sort_by_given_name_in_the_vietnamese_alphabet():
    expected = [
        "Trần Thị An",  # given names first: An < Anh < Ánh < Ân < Ấn (a, ă, â; tones last)
        "Lê Anh",
        "Lê Văn Anh",  # same given name: then the family and middle names
        "Nguyễn Anh",
        "Phạm Thị Ánh",
        "Đỗ Văn Ân",
        "Hoàng Thị Ấn",
        "Trần Văn Bình",
        "Vũ Văn Dũng",
        "Bùi Văn Đức",  # đ after d
        "Nguyễn Thị Hoa",
        "Nguyễn Văn Quý",
        "Lý Thị Uyên",
        "Ngô Thị Ư",  # ư after u
    ]
    shuffled = sorted(expected, key=lambda n: n[::-1])
    assert sorted(shuffled, key=name_sort_key) == expected


@pytest.mark.parametrize("name", ["Nguyễn Văn Quý", "Trần Thị Ánh", "Đặng Ngọc Ữ", "O'Neil John 2"])
def test_the_key_is_digits_only_so_any_database_collation_keeps_the_order(name):
    key = name_sort_key(name)
    assert key and key.isdigit()


def test_composed_and_decomposed_spellings_sort_together():
    import unicodedata

    name = "Nguyễn Thị Ánh"
    assert name_sort_key(unicodedata.normalize("NFD", name)) == name_sort_key(name)
