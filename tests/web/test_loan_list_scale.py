"""The loan list of a large fund: the union filter becomes a code box beyond a few hundred
unions, and the pager counts only up to a cap."""

import pytest
from django.urls import reverse

from loans.web.forms import GrassrootsUnionFilterField
from loans.web.views import CappedPaginator

pytestmark = pytest.mark.django_db


def test_union_filter_is_a_select_for_a_few_unions(as_user, officers, loan):
    body = as_user(officers.fund).get(reverse("loans:loan_list")).content.decode()
    assert '<select name="grassroots_union"' in body
    assert "LB-001" in body or "Bồ Đề" in body


def test_union_filter_is_a_code_box_beyond_the_limit(
    monkeypatch, as_user, officers, loan, other_loan
):
    monkeypatch.setattr(GrassrootsUnionFilterField, "SELECT_LIMIT", 2)
    c = as_user(officers.fund)
    body = c.get(reverse("loans:loan_list")).content.decode()
    assert '<select name="grassroots_union"' not in body
    assert 'name="grassroots_union"' in body and 'type="text"' in body
    body = c.get(reverse("loans:loan_list"), {"grassroots_union": "HBT-001"}).content.decode()
    assert other_loan.borrower.full_name in body
    assert loan.borrower.full_name not in body
    # An id still works (links and bookmarks made before).
    body = c.get(
        reverse("loans:loan_list"), {"grassroots_union": loan.grassroots_union_id}
    ).content.decode()
    assert loan.borrower.full_name in body and other_loan.borrower.full_name not in body


def test_pager_counts_up_to_the_cap(monkeypatch, as_user, officers, loan, other_loan):
    c = as_user(officers.fund)
    body = c.get(reverse("loans:loan_list")).content.decode()
    assert "2 dòng" in body and "Hơn" not in body
    monkeypatch.setattr(CappedPaginator, "CAP", 1)
    body = c.get(reverse("loans:loan_list")).content.decode()
    assert "Hơn 1 dòng" in body
