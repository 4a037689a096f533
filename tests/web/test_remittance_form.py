"""The fund's entry of a union's remittance (loans:remittance) and what the loan page shows of
it: the lines of a batch on each loan's page are that loan's only."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from accounting.models import JournalEntry
from loans.models import RepaymentBatch
from loans.servicing.repayments import repayment_batch_post
from loans.tests.factories import BorrowerFactory, new_key, today
from loans.tests.helpers import disbursed_loan
from tests.web.helpers import idempotency_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_loans(org, loan, product, officers):
    """`loan` (Nguyễn Thị Hoa, 45 days old) and a loan of another member of LB-001 (Trần Thị
    Út, 40 days old): the sheet lists Hoa on row 1, Út on row 2."""
    member = BorrowerFactory(grassroots_union=org.lb1, full_name="Trần Thị Út")
    return loan, disbursed_loan(borrower=member, product=product, officers=officers, days_ago=40)


def test_the_loan_page_lists_only_its_own_lines_of_a_batch(as_user, officers, org, two_loans):
    first, second = two_loans
    repayment_batch_post(
        grassroots_union=org.lb1,
        receipt_number="UNC-77",
        paid_on=today(),
        lines=[(first, Decimal(1_000_000)), (second, Decimal(700_000))],
        idempotency_key=new_key("batch"),
        actor=officers.fund,
    )
    from loans.servicing.selectors import loan_ledger_lines

    batch_lines = [x for x in loan_ledger_lines(loan_id=first.pk) if x.kind == "repayment"]
    assert batch_lines, "the batch's lines of the first loan"
    assert sum(x.amount for x in batch_lines) == Decimal(-1_000_000)  # its credits only
    assert batch_lines[0].memo and all(x.memo is None for x in batch_lines[1:])
    body = as_user(officers.fund).get(reverse("loans:loan_detail", args=[first.pk])).content
    ledger = body.decode().split('data-testid="ledger"', 1)[1].split("</table>", 1)[0]
    assert "700.000" not in ledger and "1.700.000" not in ledger


def remittance_form(c, org):
    url = reverse("loans:remittance") + f"?union={org.lb1.pk}"
    return url, c.get(url)


def test_the_total_is_shown_before_posting_then_a_receipt(as_user, officers, org, two_loans):
    first, second = two_loans
    c = as_user(officers.fund)
    url, page = remittance_form(c, org)
    data = {
        "idempotency_key": idempotency_key(page),
        "receipt_number": "UNC-0901",
        "paid_on": today().isoformat(),
        f"amount_{first.pk}": "1.250.000",
        f"amount_{second.pk}": "750000",
    }
    r = c.post(url, data)
    assert r.status_code == 200 and not RepaymentBatch.objects.exists()
    body = r.content.decode()
    total = body.split('id="remittance-total">', 1)[1].split("<", 1)[0]
    assert total == "2.000.000 ₫"  # added up by the server from the lines as typed
    assert 'name="confirmed" value="1"' in body and "UNC-0901" in body
    # Back: the form again with what was typed, nothing posted.
    back = c.post(url, {**data, "back": "1"})
    assert back.status_code == 200 and 'value="1.250.000"' in back.content.decode()
    # Confirmed (twice: one remittance), then the receipt.
    r = c.post(url, {**data, "confirmed": "1"})
    batch = RepaymentBatch.objects.get()
    receipt_url = reverse("loans:remittance_receipt", args=[batch.pk])
    assert r.status_code == 302 and r["Location"] == receipt_url
    assert c.post(url, {**data, "confirmed": "1"})["Location"] == receipt_url
    assert RepaymentBatch.objects.count() == 1
    receipt = c.get(receipt_url).content.decode()
    entry = JournalEntry.objects.get(document_type="loan_repayment_batch")
    assert "LB-001" in receipt and "UNC-0901" in receipt and "Đã ghi đợt nộp UNC-0901" in receipt
    assert receipt.split('id="receipt-total">', 1)[1].startswith("2.000.000 ₫")
    assert f"#{entry.pk}" in receipt and "1131" in receipt
    assert "Nguyễn Thị Hoa" in receipt and "Trần Thị Út" in receipt
    assert today().strftime("%d/%m/%Y") in receipt
    # The union sees its receipt; another union and another fund do not.
    assert as_user(officers.grassroots).get(receipt_url).status_code == 200
    assert as_user(officers.grassroots_lb2).get(receipt_url).status_code == 404
    assert as_user(officers.superior_hbt).get(receipt_url).status_code == 404
    assert as_user(officers.other_fund).get(receipt_url).status_code == 404


def test_a_line_refusal_is_on_its_own_row_with_the_row_number(as_user, officers, org, two_loans):
    """Only row 2 (Út) is paid, dated before her loan was disbursed: the service refuses its
    first paid line; the page puts it on row 2 and says "Dòng 2", not "Dòng 1"."""
    first, second = two_loans
    c = as_user(officers.fund)
    url, page = remittance_form(c, org)
    data = {
        "idempotency_key": idempotency_key(page),
        "receipt_number": "UNC-0902",
        "paid_on": (today() - timedelta(days=42)).isoformat(),
        f"amount_{first.pk}": "",
        f"amount_{second.pk}": "500.000",
        "confirmed": "1",
    }
    r = c.post(url, data)
    assert r.status_code == 400 and not RepaymentBatch.objects.exists()
    body = r.content.decode()
    error_row = body.split('data-row-error="2"', 1)[1].split("</tr>", 1)[0]
    assert f'data-field="amount_{second.pk}"' in error_row
    assert "Dòng 2: Ngày trả nợ không được trước ngày giải ngân" in error_row
    assert 'data-row-error="1"' not in body and "Dòng 1" not in body
    # The refusal sits in a row of its own below row 2: the amount inputs stay in their cells.
    row2 = body.split('data-row="2"', 1)[1].split("</tr>", 1)[0]
    assert f'name="amount_{second.pk}"' in row2 and 'class="error' not in row2
    assert f'id="id_amount_{second.pk}_error"' in error_row  # the input's aria-describedby
