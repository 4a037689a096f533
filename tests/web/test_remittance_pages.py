"""The bank statement pages: import, confirming a receipt as a remittance, the pending list."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounting.models import JournalEntry
from loans.models import BankStatement, BankStatementLine
from loans.servicing.repayments import repayment_batch_post
from loans.tests.factories import new_key, today
from tests.web.helpers import field_error, idempotency_key, in_english

pytestmark = pytest.mark.django_db

URL = reverse("loans:bank_statements")
UPLOAD = reverse("loans:bank_statement_upload")


def statement(*rows, name="saoke.csv"):
    body = "Ngày giao dịch,Số tiền,Số tham chiếu,Nội dung\n" + "".join(
        ",".join(r) + "\n" for r in rows
    )
    return SimpleUploadedFile(name, body.encode(), content_type="text/csv")


def counts():
    return (
        BankStatement.objects.count(),
        BankStatementLine.objects.count(),
        JournalEntry.objects.count(),
    )


@pytest.fixture
def remitted(org, loan):
    return repayment_batch_post(
        grassroots_union=org.lb1,
        receipt_number="UNC-15",
        paid_on=today(),
        lines=[(loan, 300_000)],
        idempotency_key=new_key("remit"),
    )


def test_import_then_confirm_the_exact_match(as_user, officers, remitted):
    c = as_user(officers.fund)
    day = f"{today():%d/%m/%Y}"
    r = c.post(UPLOAD, {"file": statement([day, "300.000", "FT15", "LB-001 nop UNC-15"])})
    assert r.status_code == 302, r.content.decode()[-2000:]
    page = c.get(URL)
    assert page.status_code == 200 and "FT15" in page.content.decode()
    line = BankStatementLine.objects.get()
    form = c.get(reverse("loans:bank_line", args=[line.pk]))
    assert "UNC-15" in form.content.decode()
    data = {"idempotency_key": idempotency_key(form), "batch": remitted.pk}
    ask = c.post(reverse("loans:bank_line", args=[line.pk]), data)
    assert ask.status_code == 200 and "1131" in ask.content.decode()
    before = counts()
    done = c.post(reverse("loans:bank_line", args=[line.pk]), {**data, "confirmed": "1"})
    assert done.status_code == 302
    line.refresh_from_db()
    assert line.batch_id == remitted.pk
    assert counts() == (before[0], before[1], before[2] + 1)
    # The union's month on the collection page: remitted and confirmed by the bank.
    sheet = c.get(reverse("loans:remittance") + f"?union={remitted.grassroots_union_id}")
    months = sheet.content.decode().split('data-testid="union-months"', 1)[1]
    assert months.count("300.000") >= 2
    pdf = c.get(
        reverse("collection_sheet_pdf")
        + f"?month={today():%Y-%m}&union={remitted.grassroots_union_id}"
    )
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # Sent again: nothing more.
    c.post(reverse("loans:bank_line", args=[line.pk]), {**data, "confirmed": "1"})
    assert counts() == (before[0], before[1], before[2] + 1)


def test_a_wrong_statement_names_the_row_and_writes_nothing(as_user, officers):
    c = as_user(officers.fund)
    before = counts()
    r = c.post(UPLOAD, {"file": statement([f"{today():%d/%m/%Y}", "1.5", "FT1", ""])})
    error = field_error(r, "file")
    assert "Dòng 2" in error and "Số tiền" in error
    r = c.post(UPLOAD, {})
    field_error(r, "file")
    assert counts() == before


def test_a_receipt_of_another_amount_cannot_be_confirmed(as_user, officers, remitted):
    c = as_user(officers.fund)
    c.post(UPLOAD, {"file": statement([f"{today():%d/%m/%Y}", "299.999", "FT1", "UNC-15"])})
    line = BankStatementLine.objects.get()
    form = c.get(reverse("loans:bank_line", args=[line.pk]))
    assert "match-form" not in form.content.decode()  # nothing offered: the amounts differ
    before = counts()
    data = {"idempotency_key": "k-1", "batch": remitted.pk, "confirmed": "1"}
    r = c.post(reverse("loans:bank_line", args=[line.pk]), data)
    field_error(r, "batch")
    assert counts() == before


def test_only_fund_officers_upload_and_the_role_is_checked_first(as_user, officers):
    for user in (officers.auditor, officers.superior, officers.grassroots):
        r = as_user(user).post(UPLOAD, {"file": statement(["01/01/2026", "1.000", "F", ""])})
        assert r.status_code == 403
    assert as_user(officers.auditor).get(URL).status_code == 200
    assert as_user(officers.superior).get(URL).status_code == 403
    assert BankStatementLine.objects.count() == 0
    # Without a CSRF token the upload is refused too (the view checks it itself).
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(officers.fund)
    r = strict.post(UPLOAD, {"file": statement([f"{today():%d/%m/%Y}", "1.000", "F", ""])})
    assert r.status_code == 403 and BankStatementLine.objects.count() == 0


def test_an_oversized_upload_is_refused_before_it_is_read(as_user, officers):
    c = as_user(officers.fund)
    r = c.generic(
        "POST",
        UPLOAD,
        data=b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )
    assert r.status_code == 413 and BankStatementLine.objects.count() == 0


def test_remittances_not_received_for_the_fund_and_the_superior_union(as_user, officers, org, loan):
    repayment_batch_post(
        grassroots_union=org.lb1,
        receipt_number="UNC-OLD",
        paid_on=today() - timedelta(days=6),
        lines=[(loan, 100_000)],
        idempotency_key=new_key("remit"),
    )
    url = reverse("loans:remittances_pending")
    for user in (officers.fund, officers.superior, officers.auditor):
        assert "UNC-OLD" in as_user(user).get(url).content.decode()
    assert "UNC-OLD" not in as_user(officers.superior_hbt).get(url).content.decode()
    assert as_user(officers.grassroots).get(url).status_code == 403


def test_the_bank_pages_in_english(as_user, officers, remitted):
    c = in_english(as_user(officers.fund), URL)
    html = c.get(URL).content.decode()
    for text in ("Bank statements and the unions", "Import a statement"):
        assert text in html
    assert "Transactions not matched" in html and "Giao dịch chưa đối chiếu" not in html
    r = c.post(UPLOAD, {"file": statement([f"{today():%d/%m/%Y}", "1.5", "FT1", ""])})
    assert "Row 2" in field_error(r, "file") or "row 2" in field_error(r, "file").lower()
    pending = c.get(reverse("loans:remittances_pending")).content.decode()
    assert "Remittances not in the bank account" in pending


def test_the_remittance_receipt_in_english_has_no_vietnamese_of_its_own(
    as_user, officers, remitted
):
    from tests.web.helpers import vietnamese_left, visible_text

    for who in ("fund", "grassroots"):
        c = in_english(as_user(getattr(officers, who)))
        r = c.get(reverse("loans:remittance_receipt", args=[remitted.pk]))
        assert r.status_code == 200
        html = r.content.decode()
        assert "UNC-15" in html and "300.000" in html
        assert not vietnamese_left(visible_text(html)), vietnamese_left(visible_text(html))


def test_every_page_that_shows_a_remittance_links_to_its_receipt(
    as_user, officers, org, loan, remitted
):
    """The receipt is reached from wherever a remittance is shown, not only by the redirect
    after posting it: the list not received, the bank pages, the loan's repayments."""
    receipt = reverse("loans:remittance_receipt", args=[remitted.pk])
    link = f'<a href="{receipt}">UNC-15</a>'

    def follow(c, html):
        assert link in html or f'href="{receipt}"' in html
        r = c.get(receipt)
        assert r.status_code == 200 and "UNC-15" in r.content.decode()

    old = repayment_batch_post(
        grassroots_union=org.lb1,
        receipt_number="UNC-OLD",
        paid_on=today() - timedelta(days=6),
        lines=[(loan, 100_000)],
        idempotency_key=new_key("remit"),
    )
    old_link = f'<a href="{reverse("loans:remittance_receipt", args=[old.pk])}">UNC-OLD</a>'
    for user in (officers.fund, officers.superior, officers.auditor):
        c = as_user(user)
        assert old_link in c.get(reverse("loans:remittances_pending")).content.decode()
        assert c.get(reverse("loans:remittance_receipt", args=[old.pk])).status_code == 200
    # The bank pages: the remittances a receipt may be, then the one it was confirmed as.
    c = as_user(officers.fund)
    c.post(UPLOAD, {"file": statement([f"{today():%d/%m/%Y}", "300.000", "FT15", "UNC-15"])})
    follow(c, c.get(URL).content.decode())
    line = BankStatementLine.objects.get()
    page = c.get(reverse("loans:bank_line", args=[line.pk]))
    follow(c, page.content.decode())
    data = {"idempotency_key": idempotency_key(page), "batch": remitted.pk, "confirmed": "1"}
    assert c.post(reverse("loans:bank_line", args=[line.pk]), data).status_code == 302
    confirmed = c.get(reverse("loans:bank_line", args=[line.pk])).content.decode()
    assert f'href="{receipt}" data-testid="receipt-link"' in confirmed
    follow(c, confirmed)
    # The loan's repayments name the remittance each came in: its union's officer follows it.
    c = as_user(officers.grassroots)
    follow(c, c.get(reverse("loans:loan_detail", args=[loan.pk])).content.decode())
