"""A grassroots union's remittance for many borrowers: one receipt, one entry, all or nothing."""

from datetime import timedelta

import pytest

from accounting.models import JournalEntry
from accounting.selectors import account_balance
from loans.errors import LoanError
from loans.models import Installment, Loan, Repayment, RepaymentBatch
from loans.servicing.repayments import repayment_batch_post, repayment_reverse
from loans.tests.factories import new_key, today
from loans.tests.helpers import dec, make_loan, reconciled, repayment_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def loans(chain, capital):
    return [make_loan(chain) for _ in range(3)]


def remit(org, lines, *, receipt="UNC-001", key=None, on=None, **kw):
    return repayment_batch_post(
        grassroots_union=org.lb1,
        receipt_number=receipt,
        paid_on=on or today(),
        lines=lines,
        idempotency_key=key or new_key("remit"),
        **kw,
    )


def test_one_receipt_posts_one_balanced_entry_for_every_loan(org, loans):
    amounts = [1_000_000, 2_500_000, 333_333]
    batch = remit(org, list(zip(loans, amounts, strict=True)))
    assert dec(batch.amount) == sum(amounts)
    reps = list(Repayment.objects.filter(batch=batch).order_by("loan_id"))
    assert [dec(r.amount) for r in reps] == amounts
    assert len({r.journal_entry_id for r in reps}) == 1
    entry = reps[0].journal_entry
    postings = list(entry.postings.select_related("account"))
    assert sum(dec(p.amount) for p in postings) == 0
    # On the union's word the money is in transit (1131), on the remittance's own sub-ledger.
    transit = [p for p in postings if p.account.code == "1131"]
    assert sum(dec(p.amount) for p in transit) == sum(amounts)
    assert {p.subledger for p in transit} == {f"remittance:{batch.pk}"}
    assert not [p for p in postings if p.account.code == "1121"]
    assert all(r.collected_by_grassroots_union_id == org.lb1.pk for r in reps)
    for loan, r in zip(loans, reps, strict=True):
        loan.refresh_from_db()
        assert dec(loan.outstanding_principal) == 12_000_000 - dec(r.principal)
        assert account_balance(account="1283", as_of=today(), subledger=loan.subledger) == (
            12_000_000 - dec(r.principal)
        )
    assert reconciled(loans[0])


def test_one_bad_line_writes_nothing_and_names_the_line(org, loans):
    before = repayment_counts()
    with pytest.raises(LoanError) as e:
        remit(org, [(loans[0], 1_000_000), (loans[1], 10**11), (loans[2], 5_000)])
    assert e.value.field == "lines[1].amount"
    assert repayment_counts() == before and not RepaymentBatch.objects.exists()
    with pytest.raises(LoanError) as e:
        remit(org, [(loans[0], 1_000_000), (loans[2], "12.5")])
    assert e.value.field == "lines[1].amount"
    with pytest.raises(LoanError) as e:
        remit(org, [(loans[0], 1_000_000), (loans[0], 5_000)])
    assert e.value.field == "lines[1].loan"
    with pytest.raises(LoanError) as e:
        remit(org, [(loans[0], 1_000)], on=loans[0].disbursed_on - timedelta(days=1))
    assert e.value.field == "lines[0].paid_on"
    with pytest.raises(LoanError) as e:
        remit(org, [])
    assert e.value.field == "lines"
    with pytest.raises(LoanError) as e:
        remit(org, [(loans[0], 1_000)], receipt=" ")
    assert e.value.field == "receipt_number"
    assert repayment_counts() == before
    assert all(dec(x.outstanding_principal) == 12_000_000 for x in Loan.objects.all())


def test_same_key_returns_the_same_batch(org, loans):
    lines = [(loans[0], 1_000_000), (loans[1], 2_000_000)]
    first = remit(org, lines, key="remit-lb1-11")
    before = repayment_counts()
    again = remit(org, lines, key="remit-lb1-11")
    assert again.pk == first.pk and repayment_counts() == before
    assert JournalEntry.objects.filter(document_type="loan_repayment_batch").count() == 1


def installments_of(loan):
    return list(
        Installment.objects.filter(loan=loan)
        .order_by("number")
        .values_list("principal_paid", "interest_paid", "savings_paid", "status", "paid_on")
    )


def test_one_line_of_a_batch_is_reversed_alone(org, loans):
    before = [installments_of(x) for x in loans]
    batch = remit(org, [(loans[0], 1_000_000), (loans[1], 2_000_000), (loans[2], 3_000_000)])
    reps = {r.loan_id: r for r in batch.repayments.all()}
    after = [installments_of(x) for x in loans]
    line = reps[loans[1].pk]
    entries = JournalEntry.objects.count()
    repayment_reverse(repayment=line, reason="Ghi nhầm người vay", idempotency_key="huy-dong-2")
    line.refresh_from_db()
    assert line.reversal_entry is not None and line.reversal_entry.reversal_of_id is None
    assert JournalEntry.objects.count() == entries + 1
    # The line's own mirror: Dr 1283 (its principal) + Dr 5151 (its interest) = Cr 1131 2 000 000
    # (the remittance is not confirmed by the bank yet: its money is still in transit).
    postings = line.reversal_entry.postings.select_related("account")
    legs = {p.account.code: dec(p.amount) for p in postings}
    assert legs == {"1283": dec(line.principal), "5151": dec(line.interest), "1131": -2_000_000}
    # Only loan 2 is re-opened, exactly; the other lines stay paid.
    assert installments_of(loans[1]) == before[1]
    assert installments_of(loans[0]) == after[0] and installments_of(loans[2]) == after[2]
    for x, r in zip(loans, (reps[loans[0].pk], None, reps[loans[2].pk]), strict=True):
        x.refresh_from_db()
        expected = 12_000_000 - (dec(r.principal) if r else 0)
        assert dec(x.outstanding_principal) == expected
    assert reconciled(loans[0])
    # Retry under the same key: same result, nothing more; another key: refused.
    repayment_reverse(repayment=line, reason="Ghi nhầm người vay", idempotency_key="huy-dong-2")
    assert JournalEntry.objects.count() == entries + 1
    with pytest.raises(LoanError) as e:
        repayment_reverse(repayment=line, reason="Lần nữa", idempotency_key=new_key("rev"))
    assert e.value.field == "repayment"


def test_a_receipt_is_posted_once_per_union(org, loans):
    remit(org, [(loans[0], 1_000_000)], receipt="UNC-9")
    before = repayment_counts()
    with pytest.raises(LoanError) as e:
        remit(org, [(loans[1], 1_000_000)], receipt="UNC-9")
    assert e.value.field == "receipt_number"
    assert repayment_counts() == before


def test_another_unions_loan_is_refused_naming_the_row(org, loans):
    """A union remits for its own members' loans only, even within the same fund."""
    before = repayment_counts()
    with pytest.raises(LoanError) as e:
        repayment_batch_post(
            grassroots_union=org.lb2,
            receipt_number="UNC-LB2",
            paid_on=today(),
            lines=[(loans[0], 1_000_000)],
            idempotency_key=new_key("remit"),
        )
    assert e.value.field == "lines[0].loan"
    assert "Dòng 1" in str(e.value.message) and f"#{loans[0].pk}" in str(e.value.message)
    assert repayment_counts() == before and not RepaymentBatch.objects.exists()
