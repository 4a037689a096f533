"""The demo's scenario at reduced size: `make demo`'s command runs the two first quarters
through the services and the figures come out as declared (demo.loans.TARGETS["small"])."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounting.models import CLOSING_DOCUMENT_TYPE, AccountCheckpoint, PeriodClose
from accounting.selectors import balance_sheet, ledger_verify, trial_balance
from demo.fund import DEMO_PASSWORD
from demo.loans import TARGETS, demo_overdue_loans, split_total
from demo.quarter import demo_year
from fund.attainment import attainment
from fund.models import CapitalMoveRequest, Fund, YearClose
from loans.models import FollowUpVisit, Loan, LoanApplication, Repayment, RepaymentBatch
from loans.servicing.reconciliation import loan_book_reconcile

# Declared figures of the small scenario.
CURRENT = TARGETS["small"]["current"]  # 30 loans of 6 unions, 900.000.000 ₫, 33 jobs
PRIOR = TARGETS["small"]["prior"]  # 16 loans of 4 unions, 470.000.000 ₫, 18 jobs
PLAN = Decimal(60_500_000_000)


def test_the_small_targets_are_what_the_test_declares():
    assert (CURRENT.loans, CURRENT.grassroots_unions, CURRENT.amount, CURRENT.jobs) == (
        30,
        6,
        900_000_000,
        33,
    )
    assert (PRIOR.loans, PRIOR.amount) == (16, 470_000_000)
    full = TARGETS["full"]
    assert (full["current"].loans, full["current"].grassroots_unions) == (503, 35)
    assert (full["current"].amount, full["current"].jobs) == (15_220_000_000, 557)
    assert full["prior"].amount == 14_730_000_000


def test_split_total_hits_the_total_within_bounds():
    import random

    values = split_total(random.Random(1), 503, 15_220, 10, 50, [30] * 503)
    assert sum(values) == 15_220
    assert min(values) >= 10 and max(values) <= 50


def test_the_demo_year_is_one_whose_first_quarter_is_over():
    assert demo_year(date(2026, 11, 23)) == 2026
    assert demo_year(date(2026, 4, 1)) == 2026
    assert demo_year(date(2026, 3, 31)) == 2025


@pytest.mark.django_db(transaction=False)
def test_demo_small_runs_both_quarters_and_states_the_declared_figures():
    out, err = io.StringIO(), io.StringIO()
    call_command("demo", keep=True, size="small", stdout=out, stderr=err)
    text = out.getvalue()
    year = demo_year(timezone.localdate())
    fund = Fund.objects.get(code="HN")

    def a(indicator):
        return attainment(fund=fund, indicator=indicator, year=year, quarter=1)

    amount = a("disbursed_amount")
    assert amount.achieved == CURRENT.amount
    assert amount.previous == PRIOR.amount
    assert amount.year_planned == PLAN
    assert amount.percent_of_year == Decimal("1.49")  # 900 / 60.500 million
    assert amount.growth_percent == Decimal("91.49")  # 900 / 470 − 1
    assert a("borrowers").achieved == CURRENT.loans
    assert a("loans").achieved == CURRENT.loans
    assert a("grassroots_unions").achieved == CURRENT.grassroots_unions
    assert a("jobs_created").achieved == CURRENT.jobs
    assert a("jobs_confirmed").achieved == CURRENT.jobs
    assert a("borrowers").previous == PRIOR.loans
    assert a("jobs_confirmed").previous == PRIOR.jobs

    # The headline as the federation states it, then the ledger and the loan book.
    assert (
        f"Quý I/{year}: giải ngân cho 30 đoàn viên của 6 CĐCS, số tiền 900.000.000 ₫ "
        "(đạt 1,49% kế hoạch, tăng 91,49% so với cùng kỳ), tạo việc làm mới cho 33 lao động."
        in text
    )
    assert "Cân đối: CÓ" in text
    assert "Chuỗi niêm phong toàn vẹn" in text
    assert "Sổ cho vay khớp sổ cái" in text
    assert "make run" in text and "kiemtoan" in text
    assert "100%" in err.getvalue()  # the progress bar reached the end

    # The accountant closed each month on the next month's first business day, January of
    # last year through February of this year, each close with its balance checkpoints.
    months = [(year - 1, m) for m in range(1, 13)] + [(year, 1), (year, 2)]
    last_days = [date(y + m // 12, m % 12 + 1, 1) - timedelta(days=1) for y, m in months]
    closes = PeriodClose.objects.order_by("closed_through")
    assert [c.closed_through for c in closes] == last_days
    assert AccountCheckpoint.objects.filter(as_of=last_days[-1]).exists()

    # Last year was closed before December was locked: 911 → 4212, carried to 4211 on
    # 1 January; the balance sheet at 31 December has no unclosed difference.
    closed = YearClose.objects.get(fund=fund, year=year - 1)
    assert closed.closing_entry.document_type == CLOSING_DOCUMENT_TYPE
    assert closed.closed_by.username == "ketoan" and closed.surplus.amount != 0
    sheet = balance_sheet(as_of=date(year - 1, 12, 31), fund_id=fund.pk)
    assert all(line.code for line in sheet["equity"])
    # Four eyes on capital: the donors' money entered by quy, confirmed by ketoan.
    confirmed = CapitalMoveRequest.objects.get(fund=fund, status="confirmed")
    assert (confirmed.requested_by.username, confirmed.decided_by.username) == ("quy", "ketoan")
    assert "ketoan" in text

    # The report was drawn from a sealed ledger and says which head of the chain.
    from accounting.selectors import ledger_chain_head
    from reports.models import QuarterlyReport

    report = QuarterlyReport.objects.get(year=year, quarter=1, superior_union=None)
    assert (report.chain_seq, report.chain_hash) == ledger_chain_head()
    assert report.chain_seq > 0

    end = date(year, 3, 31)
    tb = trial_balance(as_of=end)
    assert tb.total_debit == tb.total_credit
    assert ledger_verify().ok
    book = loan_book_reconcile(fund=fund, as_of=end)
    assert book.ok, book.lines()
    assert book.loans_checked == CURRENT.loans + PRIOR.loans

    # Every loan went through the whole chain, approved by someone else than its maker.
    assert LoanApplication.objects.filter(status="disbursed").count() == 46
    for app in LoanApplication.objects.all():
        assert app.approved_by_id not in (app.created_by_id, app.reviewed_by_id)
        assert app.created_by.officer.grassroots_union_id == app.grassroots_union_id
    assert FollowUpVisit.objects.count() == 46
    # Repayments: mostly remittances of the unions, some paid alone, some late, some unpaid.
    assert RepaymentBatch.objects.count() > 10
    assert Repayment.objects.filter(batch=None).exists()
    assert (
        Repayment.objects.exclude(batch=None).count() > Repayment.objects.filter(batch=None).count()
    )
    assert demo_overdue_loans(fund=fund, on=end) >= 1
    # The book is consistent: the close of business reached the demo's last day, the business
    # date every page shows, and the loans the overdue list and the API count are those the
    # dashboard counts.
    from accounting.formatting import format_date_vi
    from loans.servicing.selectors import business_date, in_arrears, loan_book_arrears

    assert business_date(fund_id=fund.pk) == end
    assert f"Số liệu đến ngày {format_date_vi(end)}" in text
    late = in_arrears(Loan.objects.filter(fund=fund)).count()
    assert late == loan_book_arrears(fund_id=fund.pk).loans >= 1
    # The bank's statements: most remittances confirmed (moved from 1131 to 1121), the last
    # days' still in transit, the bank's interest left unmatched.
    from loans.models import BankStatementLine

    confirmed = RepaymentBatch.objects.filter(bank_line__isnull=False).count()
    assert confirmed > RepaymentBatch.objects.count() // 2
    assert "lần đã đối chiếu sao kê ngân hàng" in text
    assert BankStatementLine.objects.filter(batch=None, description__startswith="Lai").exists()
    assert Loan.objects.filter(status="active").count() > 0
    # A few members' documents, of every kind but "other", stored and readable.
    from loans.models import Document

    kinds = set(Document.objects.values_list("kind", flat=True))
    assert kinds == {"cccd", "household_certificate", "loan_contract", "visit_photo"}
    assert all(d.file.size == d.size for d in Document.objects.all())
    assert "Tài liệu mẫu:" in text

    # Every demo user signs in with the published password, the union officers the demo
    # acts for included.
    users = get_user_model().objects.filter(officer__fund=fund)
    assert users.count() > 5 and all(u.is_active and not u.is_staff for u in users)
    assert len({u.password for u in users}) == 1 and users[0].check_password(DEMO_PASSWORD)
    others = [users.filter(username__startswith=p).first().username for p in ("cdcs_", "capten_")]
    for username in ("quy", "capten", "cdcs", "kiemtoan", *others):
        r = Client().post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD})
        assert r.status_code == 302, username

    # Run again on the same database: nothing is done twice.
    again = io.StringIO()
    call_command("demo", keep=True, size="small", stdout=again, stderr=io.StringIO())
    assert Loan.objects.count() == 46
    assert "900.000.000 ₫" in again.getvalue()
