"""Members are listed by given name in the Vietnamese alphabet (fund.people.name_sort_key)."""

from loans.models import Borrower
from loans.tests.factories import BorrowerFactory


def test_borrowers_are_listed_by_given_name_and_the_key_follows_renames(org):
    for name in ("Nguyễn Văn Quý", "Trần Thị An", "Bùi Văn Đức"):
        BorrowerFactory(grassroots_union=org.lb1, full_name=name)
    names = list(Borrower.objects.values_list("full_name", flat=True))
    assert names == ["Trần Thị An", "Bùi Văn Đức", "Nguyễn Văn Quý"]
    an = Borrower.objects.get(full_name="Trần Thị An")
    an.full_name = "Trần Thị Yến"
    an.save(update_fields=["full_name"])
    assert list(Borrower.objects.values_list("full_name", flat=True))[-1] == "Trần Thị Yến"
