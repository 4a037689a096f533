"""Two funds with books: capital, a disbursed loan and a repayment in each, the chain sealed.

Built through the services (as production does), so the auditor's pages read real entries with
their dimensions, documents, audit log and hash chain. Used by the auditor page tests and by the
whole-site permission walk (tests/test_url_permissions.py).
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from accounting.models import Account
from accounting.services import chart_cache_clear, chart_load, ledger_seal
from fund.models import Role
from loans.origination.disbursement import loan_disburse
from loans.servicing.repayments import repayment_post
from loans.tests.factories import (
    BorrowerFactory,
    FundFactory,
    GrassrootsUnionFactory,
    LoanProductFactory,
    OfficerFactory,
    SuperiorUnionFactory,
    application_to,
    fund_capital,
    new_key,
    today,
)


def _officers(fund, su, gu, prefix: str) -> SimpleNamespace:
    def officer(name, role, **unit):
        return OfficerFactory(user__username=f"{prefix}{name}", fund=fund, role=role, **unit).user

    return SimpleNamespace(
        fund=officer("quy", Role.FUND_OFFICER),
        checker=officer("quy_duyet", Role.FUND_OFFICER),
        superior=officer("capten", Role.SUPERIOR_OFFICER, superior_union=su),
        grassroots=officer("cdcs", Role.GRASSROOTS_OFFICER, grassroots_union=gu),
        auditor=officer("kiemtoan", Role.AUDITOR),
    )


def _unit_books(
    *, fund, su, gu, product, maker, reviewer, approver, disburser, amount, disbursed_on, paid_on
) -> SimpleNamespace:
    """A member of `gu` with an approved application, its loan disbursed and one repayment."""
    borrower = BorrowerFactory(
        grassroots_union=gu, certificate_date=disbursed_on - timedelta(days=30)
    )
    app = application_to(
        "approved",
        borrower=borrower,
        product=product,
        maker=maker,
        reviewer=reviewer,
        approver=approver,
        amount=amount,
        term=12,
    )
    loan = loan_disburse(
        application=app,
        disbursed_on=disbursed_on,
        idempotency_key=new_key("disburse"),
        actor=disburser,  # another fund officer than the approver (separation of duties)
    )
    repayment = repayment_post(
        loan=loan, amount=1_500_000, paid_on=paid_on, idempotency_key=new_key("pay")
    )
    return SimpleNamespace(
        entry=loan.disbursement_entry,
        superior_union=su,
        grassroots_union=gu,
        borrower=borrower,
        application=app,
        loan=loan,
        repayment=repayment,
    )


def _books(code: str, name: str, prefix: str, *, disbursed_on, paid_on) -> SimpleNamespace:
    fund = FundFactory(code=code, name=name)
    su = SuperiorUnionFactory(fund=fund, code=f"{code}-SU", name=f"LĐLĐ quận {code}")
    gu = GrassrootsUnionFactory(superior_union=su, code=f"{code}-001", name=f"CĐCS May {code}")
    people = _officers(fund, su, gu, prefix)
    capital = fund_capital(fund, on=disbursed_on - timedelta(days=10))
    product = LoanProductFactory(fund=fund, code=f"{code}-TVL")
    own = _unit_books(
        fund=fund,
        su=su,
        gu=gu,
        product=product,
        maker=people.grassroots,
        reviewer=people.superior,
        approver=people.checker,
        disburser=people.fund,
        amount=12_000_000,
        disbursed_on=disbursed_on,
        paid_on=paid_on,
    )
    return SimpleNamespace(
        **vars(own), fund=fund, officers=people, capital=capital, product=product
    )


def _neighbour(books: SimpleNamespace, *, disbursed_on, paid_on) -> SimpleNamespace:
    """Another superior union and grassroots union of the same fund, with a loan of its own:
    rows a union officer of `books` must not reach."""
    fund = books.fund
    su = SuperiorUnionFactory(fund=fund, code=f"{fund.code}-SU2", name="LĐLĐ quận Cầu Giấy")
    gu = GrassrootsUnionFactory(superior_union=su, code=f"{fund.code}-201", name="CĐCS Cầu Giấy")
    people = _officers(fund, su, gu, f"{fund.code.lower()}2_")
    return _unit_books(
        fund=fund,
        su=su,
        gu=gu,
        product=books.product,
        maker=people.grassroots,
        reviewer=people.superior,
        approver=books.officers.checker,
        disburser=books.officers.fund,
        amount=6_000_000,
        disbursed_on=disbursed_on,
        paid_on=paid_on - timedelta(days=1),
    )


def two_funds() -> SimpleNamespace:
    """Fund "HN" (``main``) and fund "HCM" (``other``), each with its books; the chain sealed.

    ``main.neighbour`` is a second superior and grassroots union of fund HN with a loan of its
    own (6,000,000 đồng, repaid the day before ``paid_on``).
    """
    chart_cache_clear()
    if not Account.objects.exists():
        chart_load()  # a transactional test run before flushed the migration's chart
    disbursed_on = today() - timedelta(days=40)
    paid_on = today() - timedelta(days=5)
    main = _books(
        "HN", "Quỹ Trợ vốn CNVCLĐ nghèo Hà Nội", "hn_", disbursed_on=disbursed_on, paid_on=paid_on
    )
    main.neighbour = _neighbour(main, disbursed_on=disbursed_on, paid_on=paid_on)
    other = _books("HCM", "Quỹ CEP", "hcm_", disbursed_on=disbursed_on, paid_on=paid_on)
    ledger_seal()
    return SimpleNamespace(main=main, other=other, disbursed_on=disbursed_on, paid_on=paid_on)
