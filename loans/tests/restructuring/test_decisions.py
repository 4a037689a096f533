"""Servicing events on one loan: rescheduling, recall, waiver, write-off, recovery, closure.

The loan of the hand checks (``loans.tests.helpers.make_loan``): 12 000 000 ₫ over 12 months, equal
principal (1 000 000 a month), 0,55 %/month — interest 66 000, 60 500, 55 000, 49 500…; disbursed
100 days ago, so installments 1–3 are overdue and 4 is the current one.
"""

from datetime import timedelta
from decimal import Decimal

import pytest

from accounting.errors import IdempotencyConflict
from accounting.models import JournalEntry, Posting
from accounting.selectors import account_balance
from accounting.services import credit, debit, journal_entry_post
from fund.errors import PermissionRefused
from fund.models import AuditLog
from loans.errors import LoanError, MakerChecker
from loans.models import (
    FollowUpVisit,
    Installment,
    InterestWaiver,
    Loan,
    LoanClosure,
    LoanTransaction,
    LoanWriteOff,
    ScheduleRevision,
    WriteOffRecovery,
)
from loans.origination.disbursement import loan_disburse
from loans.restructuring.decisions import (
    borrower_savings_balance,
    loan_close,
    loan_interest_waive,
    loan_recall,
    loan_recall_on_visit,
    loan_reschedule,
    loan_write_off,
    write_off_recovery_post,
)
from loans.schedules import add_months
from loans.servicing.reconciliation import loan_book_reconcile
from loans.servicing.repayments import full_payoff_quote, repayment_reverse
from loans.servicing.visits import followup_visit_record
from loans.tests.factories import LoanProductFactory, new_key, today
from loans.tests.helpers import dec, make_loan, pay

pytestmark = pytest.mark.django_db


def rows(loan, version=None):
    loan.refresh_from_db()
    return list(
        Installment.objects.filter(
            loan=loan, schedule_version=version or loan.schedule_version
        ).order_by("number")
    )


def state():
    """Everything a refused command must leave untouched."""
    return (
        Installment.objects.count(),
        ScheduleRevision.objects.count(),
        InterestWaiver.objects.count(),
        LoanWriteOff.objects.count(),
        WriteOffRecovery.objects.count(),
        LoanClosure.objects.count(),
        JournalEntry.objects.count(),
        Posting.objects.count(),
        LoanTransaction.objects.count(),
        AuditLog.objects.count(),
        list(
            Loan.objects.order_by("pk").values_list(
                "status", "outstanding_principal", "schedule_version", "reschedulings"
            )
        ),
        list(Installment.objects.order_by("pk").values_list("interest_due", "penalty_due")),
    )


def legs(entry):
    out = {}
    for p in entry.postings.select_related("account"):
        out[p.account.code] = out.get(p.account.code, 0) + dec(p.amount)
    return out


def clean(loan):
    report = loan_book_reconcile(fund=loan.fund, as_of=today())
    assert report.ok, report.lines()
    return report


def reschedule(loan, officers, **kw):
    args = {
        "loan": loan,
        "effective_date": today(),
        "term": 6,
        "reason": "Thiên tai làm mất mùa, xin giãn nợ",
        "idempotency_key": new_key("cocau"),
        "requested_by": officers.grassroots,
        "actor": officers.checker,
    }
    return loan_reschedule(**{**args, **kw})


def provide(loan, amount):
    """What the daily pass does when it sets aside a provision for the loan."""
    dims = {
        "fund_id": loan.fund_id,
        "superior_union_id": loan.superior_union_id,
        "grassroots_union_id": loan.grassroots_union_id,
        "subledger": loan.subledger,
    }
    journal_entry_post(
        effective_date=today(),
        legs=[debit("6422", amount, **dims), credit("2293", amount, **dims)],
        memo="Trích lập dự phòng",
        idempotency_key=new_key("provision"),
    )
    Loan.objects.filter(pk=loan.pk).update(provision_held=amount)
    loan.refresh_from_db()


def write_off(loan, officers, **kw):
    args = {
        "loan": loan,
        "written_off_on": today(),
        "cause": "death",
        "idempotency_key": new_key("xlrr"),
        "requested_by": officers.superior,
        "actor": officers.checker,
    }
    return loan_write_off(**{**args, **kw})


# --------------------------------------------------------------------------------------------
# Rescheduling


def test_reschedule_spreads_the_outstanding_principal_and_carries_the_unpaid_interest(
    loan, officers
):
    revision = reschedule(loan, officers)
    assert loan.schedule_version == 2 and loan.reschedulings == 1
    new = rows(loan)
    assert [dec(i.principal_due) for i in new] == [2_000_000] * 6
    # Interest of the new schedule on 12, 10, 8… million; installment 1 also carries the
    # 66 000 + 60 500 + 55 000 that had fallen due unpaid. The current period's 49 500 is
    # replaced by the new schedule's own first period.
    assert [dec(i.interest_due) for i in new] == [
        66_000 + 181_500,
        55_000,
        44_000,
        33_000,
        22_000,
        11_000,
    ]
    assert [i.due_date for i in new] == [add_months(today(), n) for n in range(1, 7)]
    assert loan.maturity_date == add_months(today(), 6)
    assert dec(revision.interest_carried) == 181_500 and revision.kind == "reschedule"
    assert revision.requested_by == officers.grassroots and revision.approved_by == officers.checker
    # The old schedule is kept as it was.
    assert len(rows(loan, version=1)) == 12
    assert dec(rows(loan, version=1)[0].interest_due) == 66_000
    # No ledger entry: interest is income when collected.
    assert not JournalEntry.objects.filter(document_id=str(loan.pk)).exclude(
        document_type="loan_disbursement"
    )
    # A payment now goes to the new schedule: the current (new) installment 1.
    r = pay(loan, 247_500 + 2_000_000)
    assert dec(r.interest) == 247_500 and dec(r.principal) == 2_000_000
    assert {a.installment.schedule_version for a in r.allocations.all()} == {2}
    loan.refresh_from_db()
    assert dec(loan.outstanding_principal) == 10_000_000
    clean(loan)


def test_reschedule_with_a_first_due_date_and_another_method(loan, officers):
    first = today() + timedelta(days=45)
    reschedule(loan, officers, term=3, first_due_date=first, method="flat")
    new = rows(loan)
    assert [i.due_date for i in new] == [first, add_months(first, 1), add_months(first, 2)]
    assert [dec(i.principal_due) for i in new] == [4_000_000] * 3
    assert [dec(i.interest_due) for i in new] == [66_000 + 181_500, 66_000, 66_000]
    assert loan.method == "flat"


def test_reschedule_is_idempotent_and_a_retry_with_another_request_is_refused(loan, officers):
    first = reschedule(loan, officers, idempotency_key="cocau-1")
    again = reschedule(loan, officers, idempotency_key="cocau-1")
    assert first.pk == again.pk
    loan.refresh_from_db()
    assert loan.schedule_version == 2 and loan.reschedulings == 1
    with pytest.raises(IdempotencyConflict):
        reschedule(loan, officers, idempotency_key="cocau-1", term=9)
    second = reschedule(loan, officers, term=3)
    assert second.from_version == 2 and second.to_version == 3
    loan.refresh_from_db()
    assert loan.reschedulings == 2


def test_reschedule_refusals_write_nothing(loan, officers, chain):
    before = state()
    cases = [
        ({"actor": officers.grassroots}, PermissionRefused, "actor"),
        ({"actor": officers.auditor}, PermissionRefused, "actor"),
        ({"actor": None}, MakerChecker, "actor"),
        ({"requested_by": officers.checker}, MakerChecker, "actor"),
        ({"requested_by": officers.grassroots_lb2}, PermissionRefused, "requested_by"),
        ({"term": 0}, LoanError, "term"),
        ({"term": 6.0}, LoanError, "term"),
        ({"method": "daily"}, LoanError, "method"),
        ({"first_due_date": today()}, LoanError, "first_due_date"),
        ({"effective_date": today() + timedelta(days=1)}, LoanError, "effective_date"),
        ({"reason": " "}, LoanError, "reason"),
    ]
    for kw, error, field in cases:
        with pytest.raises(error) as e:
            reschedule(loan, officers, **kw)
        assert e.value.field == field, kw
    assert state() == before


def test_a_repayment_on_the_old_schedule_cannot_be_reversed_after_rescheduling(loan, officers):
    r = pay(loan, 500_000)
    reschedule(loan, officers)
    with pytest.raises(LoanError) as e:
        repayment_reverse(repayment=r, reason="Nhầm", idempotency_key=new_key("rev"))
    assert e.value.field == "repayment"
    clean(loan)


# --------------------------------------------------------------------------------------------
# Recall after misuse


def test_a_visit_finding_misuse_recalls_the_loan(loan, officers):
    visit = loan_recall_on_visit(
        loan=loan,
        visited_on=today(),
        purpose_verified=False,
        jobs_confirmed=0,
        note="Dùng tiền vay để trả nợ cá nhân",
        actor=officers.fund,
        recall_idempotency_key="thuhoi-1",
    )
    loan.refresh_from_db()
    assert loan.recalled_on == today() and loan.schedule_version == 2
    assert loan.reschedulings == 0  # a recall is not a rescheduling
    (only,) = rows(loan)
    assert only.due_date == today()
    assert dec(only.principal_due) == 12_000_000
    # Interest through the current period: installments 1–3 overdue and 4 current.
    assert dec(only.interest_due) == 66_000 + 60_500 + 55_000 + 49_500
    revision = ScheduleRevision.objects.get(loan=loan)
    assert revision.kind == "recall" and revision.visit == visit
    quote = full_payoff_quote(loan=loan, on=today())
    assert quote.total == 12_000_000 + 231_000
    pay(loan, quote.total)
    loan.refresh_from_db()
    assert loan.status == "closed"
    clean(loan)


def test_recall_refusals(loan, officers):
    before = state()
    with pytest.raises(LoanError) as e:
        loan_recall(
            loan=loan,
            recalled_on=today(),
            reason="Sai mục đích",
            idempotency_key=new_key("th"),
            actor=officers.fund,
        )
    assert e.value.field == "visit"
    assert state() == before
    # A grassroots officer records the visit but cannot recall: nothing is written at all.
    with pytest.raises(PermissionRefused) as e:
        loan_recall_on_visit(
            loan=loan,
            visited_on=today(),
            purpose_verified=False,
            jobs_confirmed=0,
            actor=officers.grassroots,
            recall_idempotency_key="thuhoi-2",
        )
    assert e.value.field == "actor"
    assert not FollowUpVisit.objects.exists() and state() == before
    followup_visit_record(
        loan=loan,
        visited_on=today(),
        purpose_verified=False,
        jobs_confirmed=0,
        actor=officers.grassroots,
    )
    kw = {"loan": loan, "recalled_on": today(), "reason": "Sai mục đích", "actor": officers.fund}
    loan_recall(idempotency_key="th-1", **kw)
    with pytest.raises(LoanError) as e:
        loan_recall(idempotency_key="th-2", **kw)
    assert e.value.field == "loan"


# --------------------------------------------------------------------------------------------
# Interest waiver


def test_waiver_forgives_the_interest_fallen_due_and_posts_nothing(loan, officers):
    entries = JournalEntry.objects.count()
    waiver = loan_interest_waive(
        loan=loan,
        waived_on=today(),
        reason="Hộ gặp khó khăn do ốm đau",
        idempotency_key="mien-1",
        actor=officers.checker,
    )
    assert dec(waiver.interest) == 181_500 and dec(waiver.penalty) == 0
    assert len(waiver.lines) == 3
    i = rows(loan)
    assert [dec(x.interest_due) for x in i[:4]] == [0, 0, 0, 49_500]
    loan.refresh_from_db()
    assert loan.interest_waived_on == today()
    assert JournalEntry.objects.count() == entries
    # Retry: the same waiver, nothing more.
    again = loan_interest_waive(
        loan=loan,
        waived_on=today(),
        reason="Hộ gặp khó khăn do ốm đau",
        idempotency_key="mien-1",
        actor=officers.checker,
    )
    assert again.pk == waiver.pk and InterestWaiver.objects.count() == 1
    # What the borrower pays now goes straight to the overdue principal.
    r = pay(loan, 3_000_000)
    assert dec(r.interest) == 0 and dec(r.principal) == 3_000_000
    assert [x.status for x in rows(loan)[:4]] == ["paid", "paid", "paid", "pending"]
    clean(loan)


def test_waiving_only_the_penalty_leaves_interest_and_the_waiver_date(loan, officers):
    Installment.objects.filter(loan=loan, number=1).update(penalty_due=12_345)
    waiver = loan_interest_waive(
        loan=loan,
        waived_on=today(),
        reason="Miễn phạt",
        idempotency_key=new_key("mien"),
        interest=False,
        actor=officers.fund,
    )
    assert dec(waiver.penalty) == 12_345 and dec(waiver.interest) == 0
    first = rows(loan)[0]
    assert dec(first.penalty_due) == 0 and dec(first.interest_due) == 66_000
    loan.refresh_from_db()
    assert loan.interest_waived_on is None


def test_waiver_refusals_write_nothing(loan, officers):
    before = state()
    kw = {"loan": loan, "waived_on": today(), "reason": "Khó khăn"}
    with pytest.raises(PermissionRefused) as e:
        loan_interest_waive(idempotency_key=new_key("m"), actor=officers.superior, **kw)
    assert e.value.field == "actor"
    with pytest.raises(LoanError) as e:
        loan_interest_waive(idempotency_key=new_key("m"), actor=officers.fund, interest=False, **kw)
    assert e.value.field == "penalty"  # no penalty to waive
    with pytest.raises(LoanError) as e:
        loan_interest_waive(
            idempotency_key=new_key("m"),
            actor=officers.fund,
            interest=False,
            penalty=False,
            **kw,
        )
    assert e.value.field == "interest"
    assert state() == before


# --------------------------------------------------------------------------------------------
# Write-off and recovery


def test_write_off_uses_the_provision_then_the_expense(loan, officers):
    provide(loan, 3_000_000)
    w = write_off(loan, officers, cause="death", note="Giấy chứng tử số 12/2026")
    assert legs(w.journal_entry) == {"2293": 3_000_000, "8111": 9_000_000, "1283": -12_000_000}
    assert (dec(w.provision_used), dec(w.expense), dec(w.principal)) == (
        3_000_000,
        9_000_000,
        12_000_000,
    )
    assert dec(w.interest_unpaid) == 181_500
    loan.refresh_from_db()
    assert loan.status == "written_off" and loan.written_off_on == today()
    assert dec(loan.outstanding_principal) == 0 and dec(loan.provision_held) == 0
    assert loan.write_off_reason == "Người vay chết: Giấy chứng tử số 12/2026"
    assert account_balance(account="2293", as_of=today(), subledger=loan.subledger) == 0
    assert account_balance(account="1283", as_of=today(), subledger=loan.subledger) == 0
    txn = LoanTransaction.objects.get(loan=loan, kind="write_off")
    assert dec(txn.principal_change) == -12_000_000
    clean(loan)
    # A written-off loan takes no repayment; recoveries go through their own service.
    with pytest.raises(LoanError) as e:
        pay(loan, 1_000)
    assert e.value.field == "loan"


def test_a_provision_beyond_the_principal_is_released(loan, officers):
    provide(loan, 12_000_000)
    pay(loan, 181_500 + 3_000_000)
    w = write_off(loan, officers, cause="disability")
    assert legs(w.journal_entry) == {"2293": 12_000_000, "1283": -9_000_000, "6422": -3_000_000}
    assert dec(w.provision_released) == 3_000_000 and dec(w.expense) == 0
    assert account_balance(account="2293", as_of=today(), subledger=loan.subledger) == 0
    clean(loan)


def test_write_off_refusals_write_nothing(loan, officers):
    before = state()
    cases = [
        ({"cause": "bankrupt"}, LoanError, "cause"),
        ({"cause": "other"}, LoanError, "note"),
        ({"requested_by": officers.checker}, MakerChecker, "actor"),
        ({"actor": officers.superior}, PermissionRefused, "actor"),
        ({"actor": officers.auditor}, PermissionRefused, "actor"),
        ({"written_off_on": loan.disbursed_on - timedelta(days=1)}, LoanError, "written_off_on"),
    ]
    for kw, error, field in cases:
        with pytest.raises(error) as e:
            write_off(loan, officers, **kw)
        assert e.value.field == field, kw
    assert state() == before
    write_off(loan, officers, idempotency_key="xl-1")
    write_off(loan, officers, idempotency_key="xl-1")  # a retry
    assert LoanWriteOff.objects.count() == 1
    with pytest.raises(LoanError) as e:
        write_off(loan, officers)
    assert e.value.field == "loan"


def test_recoveries_never_exceed_what_was_written_off(loan, officers):
    write_off(loan, officers, cause="natural_disaster")

    def recover(amount, key=None, **kw):
        return write_off_recovery_post(
            loan=loan,
            amount=amount,
            received_on=today(),
            idempotency_key=key or new_key("thu"),
            actor=kw.pop("actor", officers.fund),
            **kw,
        )

    # The table of a loan's actions gives recoveries to the fund officers (``loans.policy``).
    with pytest.raises(PermissionRefused):
        recover(1_000_000, actor=officers.grassroots)
    r = recover(5_000_000, key="thu-1")
    assert legs(r.journal_entry) == {"1121": 5_000_000, "7111": -5_000_000}
    assert recover(5_000_000, key="thu-1").pk == r.pk  # a retry
    before = state()
    for amount in (7_000_001, "1.5", 0, -5):
        with pytest.raises(LoanError) as e:
            recover(amount)
        assert e.value.field == "amount"
    with pytest.raises(PermissionRefused):
        write_off_recovery_post(
            loan=loan,
            amount=1,
            received_on=today(),
            idempotency_key=new_key("thu"),
            actor=officers.grassroots_lb2,
        )
    assert state() == before
    recover(7_000_000)
    with pytest.raises(LoanError) as e:
        recover(1)
    assert e.value.field == "amount"
    assert account_balance(account="7111", as_of=today(), subledger=loan.subledger) == -12_000_000
    clean(loan)


def test_recovery_on_a_loan_not_written_off_is_refused(loan, officers):
    with pytest.raises(LoanError) as e:
        write_off_recovery_post(
            loan=loan, amount=1_000, received_on=today(), idempotency_key=new_key("thu")
        )
    assert e.value.field == "loan"


def test_reconciliation_finds_a_recovery_the_book_does_not_know(loan, officers):
    write_off(loan, officers)
    clean(loan)
    dims = {"fund_id": loan.fund_id, "subledger": loan.subledger}
    journal_entry_post(
        effective_date=today(),
        legs=[debit("1121", 1_000, **dims), credit("7111", 1_000, **dims)],
        memo="Ghi tay",
        idempotency_key=new_key("tay"),
    )
    report = loan_book_reconcile(fund=loan.fund, as_of=today())
    assert not report.ok
    assert any("7111" in line and f"loan:{loan.pk}" in line for line in report.lines())


# --------------------------------------------------------------------------------------------
# Closure with savings


@pytest.fixture
def saver(chain, capital, org):
    """A loan of a product that withholds 10 % as compulsory savings (1 200 000 ₫), two days
    old (installment 1 is the current one)."""
    product = LoanProductFactory(
        fund=org.fund, code="TK10", savings_kind="percent_of_loan", savings_percent=Decimal(10)
    )
    return make_loan(chain, product=product, on=today() - timedelta(days=2))


def test_closing_applies_savings_to_the_debt_and_returns_the_rest(saver, officers):
    assert borrower_savings_balance(loan=saver) == 1_200_000
    # 66 000 interest + 1 000 000 principal of installment 1, then 9 934 000 early principal.
    pay(saver, 11_000_000)
    saver.refresh_from_db()
    assert dec(saver.outstanding_principal) == 1_066_000
    closure = loan_close(
        loan=saver,
        closed_on=today(),
        apply_savings=True,
        idempotency_key="tattoan-1",
        actor=officers.fund,
    )
    assert dec(closure.savings_applied) == 1_066_000 and dec(closure.savings_returned) == 134_000
    assert legs(closure.repayment.journal_entry) == {"33881": 1_066_000, "1283": -1_066_000}
    assert legs(closure.refund_entry) == {"33881": 134_000, "1121": -134_000}
    saver.refresh_from_db()
    assert saver.status == "closed" and saver.closed_on == today()
    assert borrower_savings_balance(loan=saver) == 0
    assert (
        loan_close(
            loan=saver,
            closed_on=today(),
            apply_savings=True,
            idempotency_key="tattoan-1",
            actor=officers.fund,
        ).pk
        == closure.pk
    )
    with pytest.raises(LoanError) as e:
        repayment_reverse(
            repayment=closure.repayment, reason="Nhầm", idempotency_key=new_key("rev")
        )
    assert e.value.field == "repayment"
    clean(saver)


def test_a_repaid_loan_gets_its_savings_back(saver, officers):
    pay(saver, full_payoff_quote(loan=saver, on=today()).total)
    saver.refresh_from_db()
    assert saver.status == "closed"
    closure = loan_close(
        loan=saver, closed_on=today(), idempotency_key=new_key("tt"), actor=officers.fund
    )
    assert dec(closure.savings_returned) == 1_200_000 and closure.repayment is None
    assert borrower_savings_balance(loan=saver) == 0
    with pytest.raises(LoanError) as e:
        loan_close(loan=saver, closed_on=today(), idempotency_key=new_key("tt"), actor=None)
    assert e.value.field == "loan"
    clean(saver)


def test_closure_refusals_write_nothing(saver, officers):
    before = state()
    kw = {"loan": saver, "closed_on": today()}
    with pytest.raises(LoanError) as e:  # not repaid, savings not applied
        loan_close(idempotency_key=new_key("tt"), actor=officers.fund, **kw)
    assert e.value.field == "apply_savings"
    with pytest.raises(LoanError) as e:  # 1 200 000 of savings do not cover 12 066 000
        loan_close(idempotency_key=new_key("tt"), actor=officers.fund, apply_savings=True, **kw)
    assert e.value.field == "apply_savings" and "10.866.000" in e.value.message
    with pytest.raises(PermissionRefused) as e:
        loan_close(
            idempotency_key=new_key("tt"), actor=officers.grassroots, apply_savings=True, **kw
        )
    assert e.value.field == "actor"
    assert state() == before


# --------------------------------------------------------------------------------------------
# Who may collect


def test_repayment_roles(loan, officers, org):
    from loans.servicing.repayments import repayment_batch_post

    before = state()
    for who in (officers.grassroots_lb2, officers.superior_hbt, officers.auditor):
        with pytest.raises(PermissionRefused) as e:
            pay(loan, 100_000, actor=who)
        assert e.value.field in ("loan", "actor")
    with pytest.raises(PermissionRefused) as e:
        repayment_batch_post(
            grassroots_union=org.lb1,
            receipt_number="UNC-1",
            paid_on=today(),
            lines=[(loan, 100_000)],
            idempotency_key=new_key("nop"),
            actor=officers.grassroots_lb2,
        )
    assert e.value.field == "grassroots_union"
    # A loan of another union in a remittance: refused on the line (the union's own loans only).
    with pytest.raises((PermissionRefused, LoanError)) as e:
        repayment_batch_post(
            grassroots_union=org.lb2,
            receipt_number="UNC-1",
            paid_on=today(),
            lines=[(loan, 100_000)],
            idempotency_key=new_key("nop"),
            actor=officers.grassroots_lb2,
        )
    assert e.value.field == "lines[0].loan"
    assert state() == before
    for who in (officers.grassroots, officers.superior, officers.fund):
        pay(loan, 100_000, actor=who)
    r = pay(loan, 100_000)
    with pytest.raises(PermissionRefused):
        repayment_reverse(
            repayment=r, reason="Nhầm", idempotency_key=new_key("rev"), actor=officers.auditor
        )
    # Reversals are the fund officers' (the table of a loan's actions, ``loans.policy``).
    with pytest.raises(PermissionRefused):
        repayment_reverse(
            repayment=r, reason="Nhầm", idempotency_key=new_key("rev"), actor=officers.grassroots
        )
    repayment_reverse(
        repayment=r, reason="Nhầm", idempotency_key=new_key("rev"), actor=officers.fund
    )
    clean(loan)


def test_the_loan_admin_page_shows_the_servicing_events(client, loan, officers):
    from django.urls import reverse as url

    from loans.tests.factories import UserFactory

    client.force_login(UserFactory(username="quantri", is_staff=True, is_superuser=True))
    loan_interest_waive(
        loan=loan,
        waived_on=today(),
        reason="Miễn lãi do ốm đau",
        idempotency_key=new_key("m"),
        actor=officers.fund,
    )
    reschedule(loan, officers, reason="Giãn nợ do mất mùa")
    write_off(loan, officers, cause="natural_disaster", note="Lũ cuốn trôi chuồng trại")
    write_off_recovery_post(
        loan=loan, amount=1_234_567, received_on=today(), idempotency_key=new_key("thu")
    )
    response = client.get(url("admin:loans_loan_change", args=[loan.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("Giãn nợ do mất mùa", "Miễn lãi do ốm đau", "Lũ cuốn trôi chuồng trại"):
        assert text in html
    assert "1.234.567" in html


def test_closed_loans_are_neither_rescheduled_nor_written_off(loan, officers):
    pay(loan, full_payoff_quote(loan=loan, on=today()).total)
    before = state()
    with pytest.raises(LoanError) as e:
        reschedule(loan, officers)
    assert e.value.field == "loan"
    with pytest.raises(LoanError) as e:
        write_off(loan, officers)
    assert e.value.field == "loan"
    with pytest.raises(LoanError) as e:
        loan_interest_waive(
            loan=loan,
            waived_on=today(),
            reason="Khó khăn",
            idempotency_key=new_key("m"),
            actor=officers.fund,
        )
    assert e.value.field == "loan"
    assert state() == before


def test_savings_stay_while_another_loan_of_the_borrower_is_active(saver, chain, officers):
    from loans.tests.factories import application_to

    app = application_to(
        "approved",
        borrower=saver.borrower,
        product=saver.product,
        maker=chain.maker,
        reviewer=chain.reviewer,
        approver=chain.approver,
        amount=5_000_000,
        term=6,
    )
    other = loan_disburse(
        application=app,
        disbursed_on=today() - timedelta(days=1),
        idempotency_key=new_key("gn"),
        actor=chain.disburser,
    )
    assert borrower_savings_balance(loan=saver) == 1_200_000 + 500_000
    pay(saver, full_payoff_quote(loan=saver, on=today()).total)
    first = loan_close(
        loan=saver, closed_on=today(), idempotency_key=new_key("tt"), actor=officers.fund
    )
    assert dec(first.savings_returned) == 0 and first.refund_entry is None
    assert borrower_savings_balance(loan=other) == 1_700_000
    # The last loan is paid down, then off from the savings; the rest goes back to the borrower.
    pay(other, 4_000_000)
    owed = full_payoff_quote(loan=other, on=today()).total
    last = loan_close(
        loan=other,
        closed_on=today(),
        apply_savings=True,
        idempotency_key=new_key("tt"),
        actor=officers.fund,
    )
    assert dec(last.savings_applied) == owed < 1_700_000
    assert dec(last.savings_returned) == 1_700_000 - owed
    assert borrower_savings_balance(loan=other) == 0
    clean(other)
