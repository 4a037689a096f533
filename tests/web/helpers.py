"""Helpers of the page tests: forms' data and what a page says."""

import re
from html import unescape

from django.urls import reverse

from fund.services import capital_move_enter
from loans.restructuring.change_requests import change_request_file
from loans.servicing.remittances import bank_statement_import
from loans.tests.factories import new_key, today


def loan_url(name, loan):
    return reverse(f"loans:{name}", args=[loan.pk])


def field_error(response, field: str) -> str:
    body = response.content.decode()
    assert response.status_code == 400, body[:2000]
    marker = f'data-field="{field}">'
    assert marker in body, body[body.find('class="error') :][:600]
    return body.split(marker, 1)[1].split("</p>", 1)[0]


def write_off_data(key, officers, **extra):
    return {
        "idempotency_key": key,
        "written_off_on": today().isoformat(),
        "cause": "natural_disaster",
        "note": "Lũ cuốn trôi cửa hàng",
        **extra,
    }


def error_fields(response) -> set[str]:
    html = response.content.decode()
    return {part.split('"', 1)[0] for part in html.split('data-field="')[1:]}


def plan_data(year, **over):
    data = {
        "year": year,
        "disbursed_amount": "60.500.000.000",
        "borrowers": "2000",
        "loans": "2000",
        "grassroots_unions": "300",
        "jobs": "2300",
        "note": "",
        "reason": "",
    }
    data.update(over)
    return data


def idempotency_key(response_or_html) -> str:
    """The idempotency key a form page hands out (from a response, or its HTML)."""
    html = getattr(response_or_html, "content", response_or_html)
    html = html.decode() if isinstance(html, bytes) else html
    marker = 'name="idempotency_key" value="'
    return html.split(marker, 1)[1].split('"', 1)[0]


def proposal_data(key, product, **changes):
    data = {
        "idempotency_key": key,
        "full_name": "Lê Thị Mai",
        "date_of_birth": "17/05/1985",
        "sex": "female",
        "national_id": "001185100999",
        "household_status": "poor",
        "phone": "0912000111",
        "address": "Bồ Đề, Long Biên",
        "certificate_number": "GCN-777/2026",
        "certificate_date": (today().replace(day=1)).isoformat(),
        "product": product.pk,
        "amount": "20.000.000",
        "term": "12",
        "purpose_kind": "crafts",
        "purpose": "Mua máy may",
        "planned_jobs": "2",
        "security_kind": "group",
        "group_name": "Tổ vay vốn số 1",
    }
    data.update(changes)
    return data


def in_english(client, next_url="/"):
    """Switch the client's language to English as the language menu does; return the client."""
    r = client.post(reverse("set_language"), {"language": "en", "next": next_url})
    assert r.status_code == 302 and r["Location"] == next_url
    return client


def pdf_text(data: bytes) -> str:
    """The text of a PDF answer, page after page, as pdfplumber extracts it."""
    import io

    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def reschedule_requested(loan, actor):
    """A request to reschedule `loan` over 18 months from today, filed by `actor`: pending."""
    return change_request_file(
        loan=loan,
        kind="reschedule",
        actor=actor,
        idempotency_key=new_key("cr"),
        effective_date=today(),
        term=18,
        reason="Người vay ốm dài ngày",
    )


def capital_move_waiting(fund, source, actor):
    """A contribution just above the fund's threshold of four eyes: waiting for a second
    officer's confirmation."""
    return capital_move_enter(
        kind="contribution",
        fund=fund,
        source=source,
        amount=fund.capital_confirmation_threshold.amount + 1,
        effective_date=today(),
        idempotency_key=new_key("cap"),
        actor=actor,
    )


def bank_statement_line(fund, amount: int, note: str):
    """A bank statement of one receipt today of `amount` with `note`, imported."""
    body = "Ngày giao dịch,Số tiền,Số tham chiếu,Nội dung\n"
    body += f"{today():%d/%m/%Y},{amount},FT001,{note}\n"
    return bank_statement_import(fund=fund, data=body.encode(), format="csv", file_name="s.csv")


def visible_text(html: str) -> str:
    """A page's text as a reader sees it: no scripts, styles or the options of a list."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<option\b[^>]*>.*?</option>", " ", html, flags=re.S)  # data lists
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def data_names() -> list[str]:
    """Every name and text people wrote, longest first: data, kept in the language written."""
    from accounting.models import JournalEntry
    from fund.models import Fund, GrassrootsUnion, SuperiorUnion
    from loans.models import ApplicationEvent, Borrower, LoanApplication, LoanProduct

    names = [
        *Fund.objects.values_list("name", flat=True),
        *Fund.objects.values_list("federation_name", flat=True),
        *SuperiorUnion.objects.values_list("name", flat=True),
        *GrassrootsUnion.objects.values_list("name", flat=True),
        *Borrower.objects.values_list("full_name", flat=True),
        *LoanProduct.objects.values_list("name", flat=True),
        # What people wrote (a purpose, a group's name, a note) and the ledger's descriptions
        # are data, kept as written.
        *LoanApplication.objects.values_list("purpose", flat=True),
        *LoanApplication.objects.values_list("group_name", flat=True),
        *ApplicationEvent.objects.values_list("note", flat=True),
        *JournalEntry.objects.values_list("memo", flat=True),
    ]
    from django.contrib.auth import get_user_model

    from fund.people import person_name

    names += [person_name(u) for u in get_user_model().objects.all()]
    return sorted({n for n in names if n}, key=len, reverse=True)


def vietnamese_left(text: str) -> list[str]:
    """The words of `text` with a Vietnamese letter once the data names are taken out."""
    from tests.web.test_audit_english import VIETNAMESE

    for name in data_names():
        text = text.replace(name, " ")
    return sorted({w for w in text.split() if VIETNAMESE.search(w)})
