"""factory_boy factories and service-driven helpers for the loan tests.

Rows that no service guards (a borrower, a product) can be built directly by the factories;
anything that moves along the approval chain or touches money goes through the services, as in
production, so the tests see the same rows, events, audit entries and ledger postings.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import factory

from accounting.tests.factories import new_key
from fund.models import CapitalSource, Fund
from fund.services import capital_contribution_post, capital_source_create
from fund.tests.factories import (  # noqa: F401  (re-exported for the loan tests)
    FundFactory,
    GrassrootsUnionFactory,
    OfficerFactory,
    SuperiorUnionFactory,
    UserFactory,
    today,
)
from loans.models import Borrower, BorrowerMembership, LoanApplication, LoanProduct
from loans.origination.applications import (
    application_approve,
    application_create,
    application_review,
    application_submit,
)
from loans.origination.cccd import cccd_build


class DaysFromToday:
    """A date given as days from the day a test runs, for parametrize lists: those are built
    when the tests are collected, which can be the day before (midnight in Hà Nội is 17:00 UTC,
    and a run that crosses it would see a "future" date become today)."""

    def __init__(self, days: int):
        self.days = days

    def __repr__(self) -> str:
        return f"today{self.days:+d}"


def on_run_day(values: dict) -> dict:
    """`values` with each ``DaysFromToday`` turned into the date of the day the test runs."""
    return {
        k: today() + timedelta(days=v.days) if isinstance(v, DaysFromToday) else v
        for k, v in values.items()
    }


class BorrowerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Borrower
        skip_postgeneration_save = True

    grassroots_union = factory.SubFactory(GrassrootsUnionFactory)
    fund = factory.SelfAttribute("grassroots_union.fund")
    full_name = factory.Sequence(lambda n: f"Nguyễn Thị Thành Viên {n}")
    date_of_birth = date(1985, 5, 17)
    sex = "female"
    national_id = factory.LazyAttributeSequence(
        lambda o, n: cccd_build(
            province="001", sex=o.sex, date_of_birth=o.date_of_birth, serial=100_000 + n
        )
    )
    phone = "0912345678"
    address = "Phường Bồ Đề, quận Long Biên, Hà Nội"
    household_status = "poor"
    certificate_number = factory.Sequence(lambda n: f"GCN-{n:05d}/2025")
    certificate_date = factory.LazyFunction(lambda: today() - timedelta(days=60))

    @factory.post_generation
    def membership(obj, create, extracted, **kwargs):
        if create:
            BorrowerMembership.objects.create(
                borrower=obj,
                grassroots_union=obj.grassroots_union,
                valid_from=extracted or date(2020, 1, 1),
            )


class LoanProductFactory(factory.django.DjangoModelFactory):
    """A typical product of a union fund: 2–50 million, 6–36 months, 0.55 %/month."""

    class Meta:
        model = LoanProduct

    fund = factory.SubFactory(FundFactory)
    code = factory.Sequence(lambda n: f"SP{n:02d}")
    name = "Cho vay tạo việc làm"
    min_amount = Decimal(2_000_000)
    max_amount = Decimal(50_000_000)
    min_term = 6
    max_term = 36
    rate = Decimal("0.55")
    rate_period = "month"
    method = "equal_principal"
    frequency = "monthly"
    penalty_rate = Decimal("0.275")
    penalty_rate_period = "month"


def fund_capital(fund: Fund, amount=1_000_000_000, *, on: date | None = None):
    """Capital from the city budget, so that loans can be disbursed."""
    source = capital_source_create(
        fund=fund, code="NS", name="Ngân sách thành phố", kind=CapitalSource.Kind.CITY_BUDGET
    )
    return capital_contribution_post(
        fund=fund,
        source=source,
        amount=amount,
        effective_date=on or today() - timedelta(days=30),
        idempotency_key=new_key("capital"),
    )


APPLICATION_DEFAULTS = {
    "amount": 20_000_000,
    "term": 12,
    "purpose_kind": "crafts",
    "purpose": "Mua máy may công nghiệp để nhận hàng gia công tại nhà",
    "planned_jobs": 2,
    "security_kind": "group",
    "group_name": "Tổ vay vốn số 1",
}


def application_draft(*, borrower, product, actor=None, **fields) -> LoanApplication:
    return application_create(
        borrower=borrower, product=product, actor=actor, **{**APPLICATION_DEFAULTS, **fields}
    )


def application_to(
    status: str,
    *,
    borrower,
    product,
    maker=None,
    reviewer=None,
    approver,
    decided_on=None,
    **fields,
) -> LoanApplication:
    """An application moved through the services to `status` (submitted … approved).

    Reviewed and approved on `decided_on`: three years ago unless given, so that a test's loan
    may be disbursed on any earlier day it needs (never before its approval)."""
    decided_on = decided_on or today() - timedelta(days=3 * 366)
    app = application_draft(borrower=borrower, product=product, actor=maker, **fields)
    steps = ["submitted", "reviewed", "approved"]
    for step in steps[: steps.index(status) + 1]:
        if step == "submitted":
            app = application_submit(
                application=app, idempotency_key=new_key("submit"), actor=maker
            )
        elif step == "reviewed":
            app = application_review(
                application=app,
                decision="approve",
                idempotency_key=new_key("review"),
                actor=reviewer,
                decided_on=decided_on,
            )
        else:
            app = application_approve(
                application=app,
                idempotency_key=new_key("approve"),
                actor=approver,
                decided_on=decided_on,
            )
    return app
