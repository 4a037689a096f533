import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_every_page_opens_for_its_role(as_user, officers, loan, other_loan):
    pages = {
        officers.fund: [
            "loans:dashboard",
            "loans:approvals",
            "loans:disbursements",
            "loans:loan_list",
            "loans:borrower_list",
            "loans:remittance",
            "fundweb:plans",
            "fundweb:capital",
            "loans:overdue",
        ],
        officers.superior: [
            "loans:unions",
            "loans:reviews",
            "loans:application_list",
            "loans:loan_list",
            "loans:overdue",
        ],
        officers.grassroots: [
            "loans:collections",
            "loans:propose",
            "loans:borrower_list",
            "loans:application_list",
            "loans:overdue",
        ],
    }
    for user, names in pages.items():
        c = as_user(user)
        for name in names:
            r = c.get(reverse(name))
            assert r.status_code == 200, (user, name, r.content[:3000])
        r = c.get(reverse("loans:loan_detail", args=[loan.pk]))
        assert r.status_code == 200
