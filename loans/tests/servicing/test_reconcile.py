"""The loan book against the ledger: per loan, over the fund, and the command that prints it."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounting.services import credit, debit, journal_entry_post
from loans.models import Loan
from loans.origination.disbursement import loan_disburse
from loans.servicing.reconciliation import loan_book_reconcile, loan_outstanding_as_of
from loans.tests.factories import BorrowerFactory, application_to, fund_capital, new_key, today
from loans.tests.helpers import lend

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(org, chain, capital):
    """Three loans of the Hanoi fund on three days, and one of another fund."""
    loans = [
        lend(chain, chain.borrower, 20_000_000, today() - timedelta(days=20)),
        lend(chain, BorrowerFactory(grassroots_union=org.lb1), 7_500_000, today() - timedelta(5)),
        lend(
            chain,
            BorrowerFactory(grassroots_union=org.lb2),
            12_345_678,
            today(),
            maker=chain.reviewer,  # the superior union enters it for LB-002
        ),
    ]
    return loans


def test_the_book_and_the_ledger_agree(org, book):
    r = loan_book_reconcile(fund=org.fund, as_of=today())
    assert r.ok and r.lines() == []
    assert r.loans_checked == 3
    assert r.book_total == r.subledger_total == r.control_total == Decimal(39_845_678)


def test_as_of_an_earlier_date_only_the_loans_disbursed_by_then_count(org, book):
    r = loan_book_reconcile(fund=org.fund, as_of=today() - timedelta(days=6))
    assert r.ok and r.loans_checked == 1 and r.control_total == 20_000_000
    assert loan_outstanding_as_of(loan=book[1], as_of=today() - timedelta(days=6)) == 0
    assert loan_outstanding_as_of(loan=book[1], as_of=today()) == Decimal(7_500_000)


def test_a_posting_to_a_loan_behind_the_loan_book_s_back_is_found(org, book):
    loan = book[0]
    journal_entry_post(
        effective_date=today(),
        legs=[
            credit("1283", 1_000_000, fund_id=org.fund.pk, subledger=loan.subledger),
            debit("1121", 1_000_000, fund_id=org.fund.pk),
        ],
        memo="Thu nợ nhập tay, không qua sổ cho vay",
        idempotency_key=new_key(),
    )
    r = loan_book_reconcile(fund=org.fund, as_of=today())
    assert not r.ok
    assert [(d.loan_id, d.book, d.ledger) for d in r.differences] == [
        (loan.pk, Decimal(20_000_000), Decimal(19_000_000))
    ]
    assert r.control_total == r.book_total - 1_000_000
    text = "\n".join(r.lines())
    assert f"Khoản vay #{loan.pk}" in text and "-1.000.000" in text


def test_a_1283_balance_on_no_loan_is_listed(org, book):
    journal_entry_post(
        effective_date=today(),
        legs=[
            debit("1283", 500_000, fund_id=org.fund.pk),
            credit("1121", 500_000, fund_id=org.fund.pk),
        ],
        memo="Cho vay không gắn khoản vay",
        idempotency_key=new_key(),
    )
    r = loan_book_reconcile(fund=org.fund, as_of=today())
    assert r.unknown_subledgers == {"": Decimal(500_000)}
    assert r.differences == []
    assert any("không gắn sổ chi tiết" in line for line in r.lines())
    assert any("khác số dư TK 1283" in line for line in r.lines())


def test_a_stored_outstanding_out_of_step_is_found(org, book):
    Loan.objects.filter(pk=book[2].pk).update(outstanding_principal=Decimal(12_000_000))
    r = loan_book_reconcile(fund=org.fund, as_of=today())
    assert [(d.loan_id, d.stored, d.book_all) for d in r.differences] == [
        (book[2].pk, Decimal(12_000_000), Decimal(12_345_678))
    ]
    assert "dư nợ gốc lưu trên khoản vay" in r.lines()[0]


def test_another_fund_s_loans_are_not_mixed_in(org, book, officers):
    from fund.models import Role
    from loans.tests.factories import LoanProductFactory, OfficerFactory

    fund_capital(org.other_fund)
    product = LoanProductFactory(fund=org.other_fund)
    borrower = BorrowerFactory(grassroots_union=org.other_gu)
    checker = OfficerFactory(
        user__username="quy_hcm_2", fund=org.other_fund, role=Role.FUND_OFFICER
    ).user
    app = application_to(
        "approved", borrower=borrower, product=product, reviewer=None, approver=checker
    )
    payer = OfficerFactory(
        user__username="quy_hcm_3", fund=org.other_fund, role=Role.FUND_OFFICER
    ).user  # another officer than the approver pays out (separation of duties)
    loan_disburse(application=app, disbursed_on=today(), idempotency_key=new_key(), actor=payer)
    hn = loan_book_reconcile(fund=org.fund, as_of=today())
    hcm = loan_book_reconcile(fund=org.other_fund, as_of=today())
    assert hn.ok and hcm.ok
    assert (hn.control_total, hcm.control_total) == (Decimal(39_845_678), Decimal(20_000_000))


def test_the_command_prints_agreement_and_exits_zero(org, book):
    out = StringIO()
    call_command("reconcile_loans", "--fund", "HN", stdout=out)
    assert "HN ngày" in out.getvalue() and "3 khoản vay" in out.getvalue()
    assert "khớp." in out.getvalue() and "39.845.678" in out.getvalue()


def test_the_command_prints_the_difference_and_exits_non_zero(org, book):
    Loan.objects.filter(pk=book[1].pk).update(outstanding_principal=Decimal(1))
    out = StringIO()
    with pytest.raises(CommandError) as e:
        call_command("reconcile_loans", stdout=out)
    assert e.value.returncode == 1 and "HN" in str(e.value)
    assert f"Khoản vay #{book[1].pk}" in out.getvalue()
    assert "CÓ CHÊNH LỆCH" in out.getvalue()


def test_the_command_refuses_an_unknown_fund(org):
    with pytest.raises(CommandError):
        call_command("reconcile_loans", "--fund", "XX", stdout=StringIO())
