"""The verification that runs by itself: every check of the books, stored, a failure e-mailed."""

from datetime import date

import pytest
from django.core.management import call_command

from accounting.tests.factories import entry_post
from accounting.tests.helpers import tamper
from fund.audit import audit_record
from fund.integrity import chain_heads_email, chain_heads_text, integrity_check_run
from fund.models import IntegrityCheck

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(org, officers):
    for user, address in ((officers.fund, "quy@example.vn"), (officers.auditor, "kt@example.vn")):
        user.email = address
        user.save()
    entries = [entry_post(1_000_000 + i, on=date(2025, 3, 10)) for i in range(3)]
    audit_record(actor=officers.fund, action="update", obj=org.lb1, changes={"x": [1, 2]})
    return entries


def test_a_clean_run_seals_checks_all_four_and_mails_nobody(books, mailoutbox):
    check = integrity_check_run()
    assert check.ok
    assert [r["check"] for r in check.results] == ["ledger", "turnover", "checkpoints", "audit"]
    assert check.results[0]["checked"] == 3 and check.results[3]["checked"] == 1
    assert IntegrityCheck.objects.get() == check
    assert mailoutbox == []


@pytest.mark.postgres
def test_a_failure_is_stored_and_mailed_to_fund_officers_and_auditors(books, mailoutbox):
    integrity_check_run()
    tamper("UPDATE accounting_accountturnover SET debit = debit + 5")
    check = integrity_check_run()
    assert not check.ok
    failed = [r["check"] for r in check.results if not r["ok"]]
    assert failed == ["turnover"]
    (mail,) = mailoutbox
    assert sorted(mail.to) == ["kt@example.vn", "quy@example.vn"] == check.emailed_to
    assert "CẢNH BÁO" in mail.subject and "KHÔNG KHỚP" in mail.body


@pytest.mark.postgres
def test_an_entry_the_sealer_refuses_fails_the_ledger_check(books, mailoutbox):
    fresh = entry_post(9_000, on=date(2025, 3, 11))
    tamper("UPDATE accounting_journalentry SET memo = 'khác' WHERE id = %s", [fresh.pk])
    check = integrity_check_run()
    ledger = check.results[0]
    assert not ledger["ok"] and f"#{fresh.pk}" in ledger["problem"]


def test_the_command_exits_non_zero_on_failure(books, capsys):
    call_command("integrity_check")
    assert "Sổ sách toàn vẹn" in capsys.readouterr().out


def test_signed_heads_are_mailed_to_keep(books, mailoutbox):
    integrity_check_run()
    to = chain_heads_email()
    assert to == ["kt@example.vn", "quy@example.vn"]
    text = chain_heads_text()
    assert text.count("trovon-head") == 2
    assert "trovon-head ledger 3 " in text and "trovon-head audit 1 " in text
    (mail,) = mailoutbox
    assert text in mail.body and mail.attachments[0][1].strip() == text


def test_without_a_signing_key_the_seal_fails_and_the_check_says_so(books, settings):
    settings.LEDGER_SIGNING_KEY = ""
    settings.LEDGER_SIGNING_KEY_FILE = ""
    settings.DEBUG = settings.LEDGER_DEV_KEY = False
    check = integrity_check_run()
    assert not check.ok
    assert "LEDGER_SIGNING_KEY" in check.results[0]["problem"]
