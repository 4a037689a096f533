"""The set-based arrears pass: overdue, days past due, groups, floors, penalty, provisions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection

from accounting.models import JournalEntry
from accounting.selectors import account_balance
from loans.models import Installment, Loan
from loans.servicing.arrears import loan_book_classify, loan_provisions_post
from loans.servicing.reconciliation import loan_book_reconcile
from loans.servicing.repayments import repayment_post
from loans.tests.factories import (
    LoanProductFactory,
    new_key,
)
from loans.tests.helpers import dec, inst, make_loan

pytestmark = pytest.mark.django_db

BANK_TABLE = [
    {"group": 1, "min_days": 0, "provision_rate": "0"},
    {"group": 2, "min_days": 10, "provision_rate": "5"},
    {"group": 3, "min_days": 90, "provision_rate": "20"},
    {"group": 4, "min_days": 180, "provision_rate": "50"},
    {"group": 5, "min_days": 360, "provision_rate": "100"},
]


def classify(loan, bd):
    summary = loan_book_classify(business_date=bd, fund_id=loan.fund_id)
    loan.refresh_from_db()
    return summary


def test_overdue_marked_days_past_due_and_amounts(loan):
    first, second = inst(loan, 1), inst(loan, 2)
    bd = first.due_date + timedelta(days=15)
    s = classify(loan, bd)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.overdue and not second.overdue
    assert loan.days_past_due == 15 and loan.debt_group == 2 and loan.classified_on == bd
    assert dec(loan.overdue_principal) == 1_000_000
    assert dec(loan.overdue_interest) == dec(first.interest_due) == 66_000
    assert s.loans_processed == 1 and s.newly_overdue_installments == 1
    assert s.overdue_principal == 1_000_000 and s.groups == {2: [1, Decimal(12_000_000)]}
    # Re-running marks nothing new.
    assert classify(loan, bd).newly_overdue_installments == 0


def test_installment_due_on_the_business_date_is_not_overdue(loan):
    first = inst(loan, 1)
    classify(loan, first.due_date)
    assert loan.days_past_due == 0 and dec(loan.overdue_principal) == 0
    assert not Installment.objects.filter(loan=loan, overdue=True).exists()


def test_payment_clears_arrears(loan, chain):
    first = inst(loan, 1)
    repayment_post(
        loan=loan,
        amount=dec(first.principal_due) + dec(first.interest_due),
        paid_on=first.due_date + timedelta(days=3),
        idempotency_key=new_key("pay"),
    )
    classify(loan, first.due_date + timedelta(days=15))
    assert (loan.days_past_due, loan.debt_group, dec(loan.overdue_principal)) == (0, 1, 0)


# (days late, group under the default table, group under the bank-like table)
GROUP_CASES = [
    (9, 1, 1), (10, 2, 2), (29, 2, 2), (30, 3, 2), (89, 3, 2), (90, 4, 3), (179, 4, 3),
    (180, 5, 4), (359, 5, 4), (360, 5, 5),
]  # fmt: skip


def test_groups_by_days_default_and_bank_table(chain, capital):
    a, b = make_loan(chain), make_loan(chain)
    Loan.objects.filter(pk=b.pk).update(debt_groups=BANK_TABLE)
    seen = []
    for late, _, _ in GROUP_CASES:
        bd = inst(a, 1).due_date + timedelta(days=late)
        loan_book_classify(business_date=bd, fund_id=a.fund_id)
        a.refresh_from_db()
        b.refresh_from_db()
        assert a.days_past_due == b.days_past_due == late
        seen.append((late, a.debt_group, b.debt_group))
    assert seen == GROUP_CASES


# (reschedulings, interest waived, group) for a loan not past due
FLOOR_CASES = [
    (0, False, 1), (1, False, 2), (2, False, 4), (3, False, 5), (4, False, 5), (0, True, 3),
    (1, True, 3), (2, True, 4),
]  # fmt: skip


def test_floors_by_rescheduling_and_waiver(loan):
    bd = inst(loan, 1).due_date - timedelta(days=1)
    seen = []
    for reschedulings, waived, _ in FLOOR_CASES:
        Loan.objects.filter(pk=loan.pk).update(
            reschedulings=reschedulings, interest_waived_on=bd if waived else None
        )
        classify(loan, bd)
        assert loan.days_past_due == 0
        seen.append((reschedulings, waived, loan.debt_group))
    assert seen == FLOOR_CASES


def test_waiver_after_the_business_date_and_table_without_floors(chain, capital):
    a, b = make_loan(chain), make_loan(chain)
    bd = inst(a, 1).due_date - timedelta(days=1)
    Loan.objects.filter(pk=a.pk).update(interest_waived_on=bd + timedelta(days=1))
    Loan.objects.filter(pk=b.pk).update(debt_groups=BANK_TABLE, reschedulings=2)
    loan_book_classify(business_date=bd, fund_id=a.fund_id)
    assert list(Loan.objects.order_by("pk").values_list("debt_group", flat=True)) == [1, 1]


def test_group_comes_down_when_arrears_are_paid(loan):
    first = inst(loan, 1)
    classify(loan, first.due_date + timedelta(days=12))
    assert loan.debt_group == 2
    repayment_post(
        loan=loan,
        amount=2_000_000,
        paid_on=first.due_date + timedelta(days=12),
        idempotency_key=new_key("pay"),
    )
    classify(loan, first.due_date + timedelta(days=13))
    assert (loan.days_past_due, loan.debt_group) == (0, 1)


def test_penalty_exact_dong_and_idempotent(loan):
    # 0.275 %/month on 1,000,000 unpaid principal; a month is 30 days.
    first = inst(loan, 1)
    bd = first.due_date + timedelta(days=15)
    s = classify(loan, bd)
    first.refresh_from_db()
    # 1,000,000 × 0.275 % × 15 / 30 = 1,375 exactly.
    assert s.penalty_accrued == 1375 and dec(first.penalty_due) == 1375
    assert first.penalty_accrued_through == bd and dec(loan.penalty_outstanding) == 1375
    assert classify(loan, bd).penalty_accrued == 0  # same date again: nothing
    first.refresh_from_db()
    assert dec(first.penalty_due) == 1375
    # One more day: 91.67 → 92 (half up, per installment and run).
    assert classify(loan, bd + timedelta(days=1)).penalty_accrued == 92
    first.refresh_from_db()
    assert dec(first.penalty_due) == 1467 and dec(loan.penalty_outstanding) == 1467


def test_penalty_per_year_rate_and_two_installments(chain, capital):
    product = LoanProductFactory(
        fund=chain.product.fund, penalty_rate=Decimal("7.3"), penalty_rate_period="year"
    )
    loan = make_loan(chain, product=product)
    first, second = inst(loan, 1), inst(loan, 2)
    bd = second.due_date + timedelta(days=1)
    days_first = (bd - first.due_date).days
    s = classify(loan, bd)
    # 7.3 %/year = 0.02 %/day: 200 đ a day per 1,000,000.
    assert s.penalty_accrued == 200 * days_first + 200
    assert dec(loan.penalty_outstanding) == 200 * days_first + 200


def test_no_penalty_when_rate_is_zero(chain, capital):
    product = LoanProductFactory(fund=chain.product.fund, penalty_rate=0)
    loan = make_loan(chain, product=product)
    s = classify(loan, inst(loan, 1).due_date + timedelta(days=40))
    assert s.penalty_accrued == 0 and dec(loan.penalty_outstanding) == 0


def test_penalty_then_paid_by_repayment(loan):
    first = inst(loan, 1)
    bd = first.due_date + timedelta(days=15)
    classify(loan, bd)
    repayment_post(loan=loan, amount=1375, paid_on=bd, idempotency_key=new_key("pay"))
    classify(loan, bd)
    assert dec(loan.penalty_outstanding) == 0


def test_recalled_loan_everything_due_from_recall(loan):
    recall = inst(loan, 1).due_date - timedelta(days=5)
    Loan.objects.filter(pk=loan.pk).update(recalled_on=recall)
    s = classify(loan, recall + timedelta(days=10))
    assert s.newly_overdue_installments == 12
    assert dec(loan.overdue_principal) == 12_000_000
    assert loan.days_past_due == 10 and loan.debt_group == 2
    # Penalty from the recall date on each installment's 1,000,000: × 0.275 % × 10 / 30 =
    # 916.67 → 917 đ (rounded per installment), 12 installments.
    assert s.penalty_accrued == 12 * 917


def test_recall_after_the_business_date_is_ignored(loan):
    first = inst(loan, 1)
    Loan.objects.filter(pk=loan.pk).update(recalled_on=first.due_date + timedelta(days=20))
    classify(loan, first.due_date + timedelta(days=10))
    assert dec(loan.overdue_principal) == 1_000_000 and loan.days_past_due == 10


def test_other_funds_loans_untouched(loan, org):
    classify(loan, inst(loan, 1).due_date + timedelta(days=15))
    s = loan_book_classify(
        business_date=inst(loan, 1).due_date + timedelta(days=20), fund_id=org.other_fund.pk
    )
    loan.refresh_from_db()
    assert s.loans_processed == 0 and loan.days_past_due == 15


def _row_versions(*loans):
    """PostgreSQL's row version (xmin) of each loan: it changes whenever the row is written."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT id, xmin::text FROM loans_loan WHERE id = ANY(%s)", [[x.pk for x in loans]]
        )
        return dict(cur.fetchall())


def test_only_changed_rows_are_written(loan, chain):
    """A second pass on the same date writes nothing; the next day only the loan in arrears
    (its days past due grow) and its late installment (penalty) are written."""
    on_time = make_loan(chain)
    first = inst(loan, 1)
    repayment_post(
        loan=on_time,
        amount=2_000_000,
        paid_on=first.due_date,
        idempotency_key=new_key("pay"),
    )
    bd = first.due_date + timedelta(days=15)
    s = classify(loan, bd)
    assert (s.loans_written, s.installments_written) == (1, 1)
    assert (s.newly_overdue_installments, s.loans_processed) == (1, 2)
    pg = connection.vendor == "postgresql"
    before = _row_versions(loan, on_time) if pg else None
    figures = Loan.objects.values_list(
        "pk", "days_past_due", "debt_group", "classified_on", "overdue_principal",
        "overdue_interest", "penalty_outstanding",
    )  # fmt: skip
    book = set(figures)
    again = classify(loan, bd)
    assert (again.loans_written, again.installments_written) == (0, 0)
    assert (again.newly_overdue_installments, again.penalty_accrued) == (0, 0)
    assert again.groups == s.groups and set(figures) == book
    if pg:
        assert _row_versions(loan, on_time) == before
    nxt = classify(loan, bd + timedelta(days=1))
    assert (nxt.loans_written, nxt.installments_written) == (1, 1)
    assert loan.days_past_due == 16 and loan.classified_on == bd + timedelta(days=1)
    on_time.refresh_from_db()
    assert on_time.classified_on is None and on_time.days_past_due == 0
    if pg:
        after = _row_versions(loan, on_time)
        assert after[on_time.pk] == before[on_time.pk] and after[loan.pk] != before[loan.pk]


# --------------------------------------------------------------------------------------------
# Provisions


def provisions(loan, bd, key=None):
    s = loan_provisions_post(
        business_date=bd, fund_id=loan.fund_id, idempotency_key=key or new_key("prov")
    )
    loan.refresh_from_db()
    return s


def test_provision_posted_released_balanced_and_reconciled(loan, org):
    first = inst(loan, 1)
    bd = first.due_date + timedelta(days=30)
    classify(loan, bd)
    assert loan.debt_group == 3
    s = provisions(loan, bd, key="p1")
    # 25 % × 12,000,000.
    assert (s.loans_changed, s.entries_posted, s.increase, s.release) == (1, 1, 3_000_000, 0)
    assert dec(loan.provision_held) == 3_000_000
    assert account_balance(account="2293", as_of=bd, fund_id=org.fund.pk) == -3_000_000
    assert account_balance(account="6422", as_of=bd, fund_id=org.fund.pk) == 3_000_000
    assert account_balance(account="2293", as_of=bd, subledger=loan.subledger) == -3_000_000
    entry = JournalEntry.objects.get(idempotency_key__startswith="p1:")
    legs = {(p.account.code, p.subledger, dec(p.amount)) for p in entry.postings.all()}
    assert legs == {("2293", loan.subledger, -3_000_000), ("6422", "", 3_000_000)}
    assert {p.grassroots_union_id for p in entry.postings.all()} == {loan.grassroots_union_id}
    report = loan_book_reconcile(fund=org.fund, as_of=bd)
    assert report.ok and report.provision_held_total == report.provision_ledger_total == 3_000_000

    # Same key again: the first result, nothing posted.
    again = provisions(loan, bd, key="p1")
    assert again.replayed and again.increase == 3_000_000
    assert JournalEntry.objects.filter(document_type="loan_provision").count() == 1

    # Arrears paid: group 1, the provision is released.
    arrears = dec(loan.overdue_principal) + dec(loan.overdue_interest)
    arrears += dec(loan.penalty_outstanding)
    repayment_post(loan=loan, amount=arrears, paid_on=bd, idempotency_key=new_key("pay"))
    classify(loan, bd)
    s2 = provisions(loan, bd, key="p2")
    assert s2.release == 3_000_000 and s2.increase == 0 and dec(loan.provision_held) == 0
    assert account_balance(account="2293", as_of=bd, fund_id=org.fund.pk) == 0
    assert account_balance(account="6422", as_of=bd, fund_id=org.fund.pk) == 0
    assert loan_book_reconcile(fund=org.fund, as_of=bd).ok


def test_provision_rounding_half_up_and_unchanged_loans_untouched(chain, capital, org):
    a, b = make_loan(chain, amount=12_345_678), make_loan(chain, amount=10_000_000)
    Loan.objects.filter(pk=a.pk).update(debt_groups=BANK_TABLE)
    bd = inst(a, 1).due_date + timedelta(days=10)
    # b pays its first installment: group 1, no provision.
    repayment_post(loan=b, amount=5_000_000, paid_on=bd, idempotency_key=new_key("pay"))
    loan_book_classify(business_date=bd, fund_id=org.fund.pk)
    s = loan_provisions_post(business_date=bd, fund_id=org.fund.pk, idempotency_key="r1")
    a.refresh_from_db()
    b.refresh_from_db()
    # 5 % × 12,345,678 = 617,283.9 → 617,284.
    assert (a.debt_group, dec(a.provision_held)) == (2, 617_284)
    assert (b.debt_group, dec(b.provision_held)) == (1, 0)
    assert s.loans_changed == 1 and s.increase == 617_284
    # Nothing changed: a new key posts nothing.
    s2 = loan_provisions_post(business_date=bd, fund_id=org.fund.pk, idempotency_key="r2")
    assert (s2.loans_changed, s2.entries_posted) == (0, 0)


def test_group_one_provisioned_when_its_table_says_so(chain, capital, org):
    """A table whose group 1 has a rate provisions loans with nothing overdue too."""
    a = make_loan(chain, amount=12_345_678)
    Loan.objects.filter(pk=a.pk).update(
        debt_groups=[{**BANK_TABLE[0], "provision_rate": "1"}, *BANK_TABLE[1:]]
    )
    bd = inst(a, 1).due_date - timedelta(days=1)
    loan_book_classify(business_date=bd, fund_id=org.fund.pk)
    s = loan_provisions_post(business_date=bd, fund_id=org.fund.pk, idempotency_key="g1")
    a.refresh_from_db()
    # 1 % × 12,345,678 = 123,456.78 → 123,457.
    assert (a.debt_group, dec(a.provision_held)) == (1, 123_457)
    assert (s.loans_changed, s.increase) == (1, 123_457)


def test_reconcile_reports_a_provision_that_does_not_match(loan, org):
    bd = inst(loan, 1).due_date + timedelta(days=30)
    classify(loan, bd)
    provisions(loan, bd)
    Loan.objects.filter(pk=loan.pk).update(provision_held=2_000_000)
    report = loan_book_reconcile(fund=org.fund, as_of=bd)
    assert not report.ok
    assert report.provision_differences == {
        loan.subledger: (Decimal(2_000_000), Decimal(3_000_000))
    }
    assert any("TK 2293" in line for line in report.lines())
