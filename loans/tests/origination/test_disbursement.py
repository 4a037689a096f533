"""Disbursement: the loan, its schedule, its ledger entry, and the refusals that write nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounting.errors import IdempotencyConflict, InvalidAmount
from accounting.models import CommandRecord, JournalEntry, Posting
from accounting.selectors import account_balance
from fund.errors import InsufficientCapital, PermissionRefused
from fund.models import AuditLog, CapitalCommitment
from fund.selectors import capital_available, capital_committed
from fund.services import grassroots_union_move
from loans.errors import BorrowerLimitExceeded, IllegalTransition, IneligibleBorrower
from loans.models import (
    ApplicationEvent,
    Installment,
    Loan,
    LoanApplication,
    LoanStatus,
    LoanTransaction,
)
from loans.origination.applications import application_create
from loans.origination.disbursement import loan_disburse
from loans.origination.products import loan_product_update
from loans.schedules import ScheduleTerms, schedule_generate
from loans.servicing.reconciliation import loan_book_reconcile
from loans.tests.factories import (
    BorrowerFactory,
    DaysFromToday,
    application_to,
    fund_capital,
    new_key,
    on_run_day,
    today,
)
from loans.tests.helpers import approved_application

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(chain, capital):
    return approved_application(chain)


def disburse(app, actor, *, on=None, key=None, **kw):
    return loan_disburse(
        application=app,
        disbursed_on=on or today(),
        idempotency_key=key or new_key("disburse"),
        actor=actor,
        **kw,
    )


def counts():
    return {
        m.__name__: m.objects.count()
        for m in (
            Loan,
            Installment,
            LoanTransaction,
            JournalEntry,
            Posting,
            AuditLog,
            CommandRecord,
            ApplicationEvent,
            CapitalCommitment,
        )
    }


def test_disbursement_creates_the_loan_schedule_and_entry(org, officers, approved):
    loan = disburse(approved, officers.fund)

    assert loan.principal.amount == 20_000_000
    assert loan.outstanding_principal.amount == 20_000_000
    assert loan.grassroots_union == org.lb1 and loan.superior_union == org.lb
    assert loan.status == "active" and loan.debt_group == 1 and loan.days_past_due == 0
    rows = list(loan.installments.order_by("number"))
    assert len(rows) == 12
    assert sum(r.principal_due.amount for r in rows) == 20_000_000
    assert all(r.principal_due.amount == r.principal_due.amount.to_integral() for r in rows)
    assert rows[-1].balance_after.amount == 0
    assert loan.maturity_date == rows[-1].due_date
    approved.refresh_from_db()
    assert approved.status == "disbursed"


def test_the_stored_schedule_is_the_engine_s_schedule_for_the_approved_terms(officers, approved):
    loan = disburse(approved, officers.fund, on=today() - timedelta(days=1))
    expected = schedule_generate(
        ScheduleTerms(
            principal=Decimal(20_000_000),
            installments=12,
            method="equal_principal",
            rate=Decimal("0.55"),
            rate_period="month",
            frequency="monthly",
            disbursed_on=today() - timedelta(days=1),
        )
    )
    stored = [
        (
            i.number,
            i.due_date,
            i.principal_due.amount,
            i.interest_due.amount,
            i.balance_after.amount,
        )
        for i in loan.installments.order_by("number")
    ]
    assert stored == [
        (e.number, e.due_date, e.principal, e.interest, e.balance_after) for e in expected
    ]


def test_the_entry_debits_1283_on_the_loan_subledger_with_the_unions_on_every_leg(
    org, officers, approved
):
    loan = disburse(approved, officers.fund)
    legs = list(loan.disbursement_entry.postings.select_related("account").order_by("id"))

    assert [(p.account.code, p.amount.amount) for p in legs] == [
        ("1283", Decimal(20_000_000)),
        ("1121", Decimal(-20_000_000)),
    ]
    assert legs[0].subledger == f"loan:{loan.pk}"
    for p in legs:
        assert (p.fund_id, p.superior_union_id, p.grassroots_union_id) == (
            org.fund.pk,
            org.lb.pk,
            org.lb1.pk,
        )
    assert account_balance(
        account="1283", as_of=today(), fund_id=org.fund.pk, subledger=loan.subledger
    ) == Decimal(20_000_000)
    txn = loan.transactions.get()
    assert txn.kind == "disbursement" and txn.principal_change.amount == 20_000_000


def test_savings_as_a_percent_of_the_loan_are_withheld_to_33881_on_the_borrower(
    org, officers, chain, capital
):
    loan_product_update(
        product=chain.product, savings_kind="percent_of_loan", savings_percent="2.5"
    )
    app = application_to(
        "approved",
        borrower=chain.borrower,
        product=chain.product,
        maker=chain.maker,
        reviewer=chain.reviewer,
        approver=chain.approver,
        amount=15_000_001,
    )
    loan = disburse(app, officers.fund)
    legs = {p.account.code: p for p in loan.disbursement_entry.postings.select_related("account")}

    # 2.5 % of 15,000,001 = 375,000.025 → 375,000 (half up to the đồng)
    assert loan.savings_withheld.amount == 375_000
    assert legs["1283"].amount.amount == 15_000_001
    assert legs["1121"].amount.amount == -(15_000_001 - 375_000)
    assert legs["33881"].amount.amount == -375_000
    assert legs["33881"].subledger == f"borrower:{chain.borrower.pk}"
    assert legs["33881"].grassroots_union_id == org.lb1.pk
    assert loan.transactions.get().savings.amount == 375_000


def test_fixed_savings_per_installment_are_scheduled_not_withheld(officers, chain, capital):
    loan_product_update(
        product=chain.product, savings_kind="fixed_per_installment", savings_amount=50_000
    )
    app = application_to(
        "approved",
        borrower=chain.borrower,
        product=chain.product,
        maker=chain.maker,
        reviewer=chain.reviewer,
        approver=chain.approver,
    )
    loan = disburse(app, officers.fund)

    assert loan.savings_withheld.amount == 0
    assert {i.savings_due.amount for i in loan.installments.all()} == {Decimal(50_000)}
    assert loan.disbursement_entry.postings.count() == 2


def test_a_product_change_after_approval_does_not_alter_the_loan(officers, chain, approved):
    loan_product_update(product=chain.product, rate="0.9", method="flat", principal_grace=3)
    loan = disburse(approved, officers.fund)

    assert (loan.rate, loan.method, loan.principal_grace) == (Decimal("0.55"), "equal_principal", 0)
    first = loan.installments.get(number=1)
    assert first.principal_due.amount == Decimal(20_000_000) // 12
    # and changing it again later leaves the loan as granted
    loan_product_update(product=chain.product, rate="1.0")
    loan.refresh_from_db()
    assert loan.rate == Decimal("0.55")


def test_the_commitment_made_at_approval_is_released_by_the_disbursement(org, officers, approved):
    assert capital_committed(fund=org.fund) == 20_000_000
    before = capital_available(fund=org.fund)
    disburse(approved, officers.fund)

    assert capital_committed(fund=org.fund) == 0
    assert CapitalCommitment.objects.get(reference=f"application:{approved.pk}").status == (
        "released"
    )
    # the commitment became a loan: what is available does not move
    assert capital_available(fund=org.fund) == before


def test_unions_are_recorded_as_of_disbursement_and_stay_when_the_union_moves(
    org, officers, approved
):
    loan = disburse(approved, officers.fund, on=today() - timedelta(days=2))
    grassroots_union_move(grassroots_union=org.lb1, superior_union=org.hbt, effective_date=today())
    loan.refresh_from_db()

    assert loan.superior_union == org.lb
    assert set(loan.disbursement_entry.postings.values_list("superior_union_id", flat=True)) == {
        org.lb.pk
    }


def test_a_retry_with_the_same_key_returns_the_same_loan(officers, approved):
    first = disburse(approved, officers.fund, key="giai-ngan-1")
    n = counts()
    again = disburse(approved, officers.fund, key="giai-ngan-1")

    assert again.pk == first.pk
    assert counts() == n


def test_a_second_disbursement_under_another_key_is_refused(officers, approved):
    loan = disburse(approved, officers.fund)
    n = counts()
    with pytest.raises(IllegalTransition) as e:
        disburse(approved, officers.fund)

    assert f"khoản vay #{loan.pk}" in e.value.message
    assert e.value.field == "status"
    assert counts() == n


def test_the_same_key_for_another_date_is_refused(officers, approved):
    disburse(approved, officers.fund, key="k-date")
    with pytest.raises(IdempotencyConflict):
        disburse(approved, officers.fund, key="k-date", on=today() - timedelta(days=1))


def test_beyond_available_capital_is_refused_and_nothing_written(org, officers, chain):
    fund_capital(org.fund, 10_000_000)
    app = application_to(
        "approved",
        borrower=chain.borrower,
        product=chain.product,
        maker=chain.maker,
        reviewer=chain.reviewer,
        approver=chain.approver,
    )
    n = counts()
    with pytest.raises(InsufficientCapital) as e:
        disburse(app, officers.fund)

    assert e.value.field == "amount"
    assert counts() == n
    app.refresh_from_db()
    assert app.status == "approved"


def test_beyond_the_borrower_limit_is_refused_at_disbursement(org, officers, chain, capital):
    """Two approvals for one member are impossible (one application at a time); the limit at
    disbursement guards what changed since approval — here the fund lowered its limit."""
    app = application_to(
        "approved",
        borrower=chain.borrower,
        product=chain.product,
        maker=chain.maker,
        reviewer=chain.reviewer,
        approver=chain.approver,
        amount=30_000_000,
    )
    first_loan = disburse(app, officers.fund)
    org.fund.borrower_outstanding_limit = Decimal(60_000_000)
    org.fund.save()
    second = application_to(
        "approved",
        borrower=chain.borrower,
        product=chain.product,
        maker=chain.maker,
        reviewer=chain.reviewer,
        approver=chain.approver,
        amount=25_000_000,
    )
    org.fund.borrower_outstanding_limit = Decimal(50_000_000)
    org.fund.save()
    n = counts()
    with pytest.raises(BorrowerLimitExceeded) as e:
        disburse(second, officers.fund)

    assert e.value.field == "amount"
    assert "30.000.000" in e.value.message and "50.000.000" in e.value.message
    assert counts() == n
    assert first_loan.pk


def test_eligibility_reads_outstanding_and_lateness_of_active_loans_only(officers, chain, capital):
    from loans.origination.eligibility import borrower_eligibility

    app = application_to(
        "approved",
        borrower=chain.borrower,
        product=chain.product,
        maker=chain.maker,
        reviewer=chain.reviewer,
        approver=chain.approver,
        amount=10_000_000,
    )
    loan = disburse(app, officers.fund)

    def check():
        return borrower_eligibility(
            borrower=chain.borrower, product=chain.product, amount=Decimal(5_000_000), term=12
        )

    # Nothing due yet: not late; the new loan's principal is outstanding.
    result = check()
    assert "overdue_loan" not in result.codes and result.outstanding == 10_000_000
    # Classified past due by the close of business: late, though no installment is.
    Loan.objects.filter(pk=loan.pk).update(days_past_due=3)
    assert "overdue_loan" in check().codes
    # A loan no longer active counts for neither.
    Loan.objects.filter(pk=loan.pk).update(status=LoanStatus.CLOSED)
    result = check()
    assert "overdue_loan" not in result.codes and result.outstanding == 0


def test_an_unpaid_installment_past_due_makes_the_member_ineligible_again(officers, chain, capital):
    app = application_to(
        "approved",
        borrower=chain.borrower,
        product=chain.product,
        maker=chain.maker,
        reviewer=chain.reviewer,
        approver=chain.approver,
        amount=10_000_000,
    )
    # disbursed 40 days ago: the first installment fell due about ten days ago, unpaid
    disburse(app, officers.fund, on=today() - timedelta(days=40))
    with pytest.raises(IneligibleBorrower) as e:
        application_to(
            "submitted",
            borrower=chain.borrower,
            product=chain.product,
            maker=chain.maker,
            approver=None,
            amount=5_000_000,
        )
    assert [r.code for r in e.value.reasons] == ["overdue_loan"]
    assert e.value.field == "borrower"


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"on": DaysFromToday(1)}, "disbursed_on"),
        ({"on": "2025-01-01"}, "disbursed_on"),
        ({"cash_account": "1283"}, "cash_account"),
        ({"key": " "}, "idempotency_key"),
    ],
)
def test_bad_disbursement_input_names_the_field_and_writes_nothing(
    officers, approved, kwargs, field
):
    n = counts()
    kwargs = on_run_day(kwargs)
    key = kwargs.pop("key", None)
    on = kwargs.pop("on", None)
    with pytest.raises(Exception) as e:
        loan_disburse(
            application=approved,
            disbursed_on=on or today(),
            idempotency_key=key if key is not None else new_key(),
            actor=officers.fund,
            **kwargs,
        )
    assert getattr(e.value, "field", None) == field
    assert counts() == n


def test_a_disbursement_into_a_closed_period_is_refused(officers, approved):
    from accounting.services import period_close

    period_close(through=today() - timedelta(days=5))
    n = counts()
    with pytest.raises(Exception) as e:
        disburse(approved, officers.fund, on=today() - timedelta(days=6))
    assert e.value.field == "effective_date"
    assert counts() == n


@pytest.mark.parametrize("who", ["auditor", "grassroots", "superior", "other_fund"])
def test_only_fund_officers_of_the_fund_disburse(officers, approved, who):
    n = counts()
    with pytest.raises(PermissionRefused):
        disburse(approved, getattr(officers, who))
    assert counts() == n


def test_an_application_not_approved_cannot_be_disbursed(chain, officers, capital):
    app = application_to(
        "reviewed",
        borrower=chain.borrower,
        product=chain.product,
        maker=chain.maker,
        reviewer=chain.reviewer,
        approver=None,
    )
    with pytest.raises(IllegalTransition) as e:
        disburse(app, officers.fund)
    assert "chờ quỹ phê duyệt" in e.value.message


def test_fractions_of_a_dong_never_reach_a_loan(chain):
    with pytest.raises(InvalidAmount) as e:
        application_create(
            borrower=chain.borrower,
            product=chain.product,
            amount="20000000.5",
            term=12,
            purpose_kind="trade",
            purpose="Bán hàng tạp hóa",
            security_kind="group",
            group_name="Tổ 1",
        )
    assert e.value.field == "amount"
    assert LoanApplication.objects.count() == 0


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    amount=st.integers(min_value=2_000_000, max_value=50_000_000),
    term=st.integers(min_value=6, max_value=36),
    method=st.sampled_from(["equal_principal", "annuity", "flat"]),
    frequency=st.sampled_from(["monthly", "weekly"]),
    savings=st.sampled_from(["none", "percent_of_loan"]),
    days_ago=st.integers(min_value=0, max_value=25),
)
def test_any_disbursement_keeps_the_book_the_schedule_and_the_ledger_in_step(
    org, officers, chain, capital, amount, term, method, frequency, savings, days_ago
):
    product = loan_product_update(
        product=chain.product,
        method=method,
        frequency=frequency,
        savings_kind=savings,
        savings_percent="3" if savings == "percent_of_loan" else "0",
    )
    fund_capital(org.fund, amount)  # examples share the test's database: keep capital ahead
    borrower = BorrowerFactory(grassroots_union=org.lb1)
    app = application_to(
        "approved",
        borrower=borrower,
        product=product,
        maker=chain.maker,
        reviewer=chain.reviewer,
        approver=chain.approver,
        amount=amount,
        term=term,
    )
    loan = disburse(app, officers.fund, on=today() - timedelta(days=days_ago))
    rows = list(loan.installments.order_by("number"))

    assert len(rows) == term
    assert sum(r.principal_due.amount for r in rows) == amount
    assert rows[-1].balance_after.amount == 0
    assert all(a.due_date < b.due_date for a, b in zip(rows, rows[1:], strict=False))
    legs = loan.disbursement_entry.postings.all()
    assert sum(p.amount.amount for p in legs) == 0
    assert (
        account_balance(
            account="1283", as_of=today(), fund_id=org.fund.pk, subledger=loan.subledger
        )
        == loan.outstanding_principal.amount
        == amount
    )
    assert loan_book_reconcile(fund=org.fund, as_of=today()).ok


def test_schedule_rows_are_written_from_values_or_instances_alike(officers, approved):
    """``rows_insert`` takes ``{attname: value}`` rows (the schedule's) or model instances and
    writes the same columns; a name that is no field is refused, not dropped."""
    from loans.db import rows_insert

    loan = disburse(approved, officers.fund)
    first = Installment.objects.get(loan=loan, number=1)
    columns = [f.attname for f in Installment._meta.concrete_fields if not f.primary_key]
    as_values = {name: getattr(first, name) for name in ("loan_id", "number", "due_date")}
    as_values.update(schedule_version=2, principal_due=Decimal(5), interest_due=Decimal(1))
    rows_insert(Installment, [as_values])
    from_values = Installment.objects.get(loan=loan, number=1, schedule_version=2)
    copy = Installment(**{**{n: getattr(from_values, n) for n in columns}, "schedule_version": 3})
    rows_insert(Installment, [copy])
    from_instance = Installment.objects.get(loan=loan, number=1, schedule_version=3)
    for name in columns:
        if name != "schedule_version":
            assert getattr(from_instance, name) == getattr(from_values, name), name
    assert from_values.principal_due.amount == 5 and from_values.status == "pending"
    assert from_values.principal_paid.amount == 0 and from_values.overdue is False
    with pytest.raises(ValueError, match="principle_due"):
        rows_insert(Installment, [{**as_values, "principle_due": Decimal(5)}])
