"""The ledger in the admin: every page reads, nothing can be added, changed or deleted."""

from datetime import date

import pytest
from django.contrib import admin
from django.urls import reverse

from accounting.models import (
    Account,
    AccountCheckpoint,
    ChainLink,
    CommandRecord,
    JournalEntry,
    PeriodClose,
    Posting,
)
from accounting.services import ledger_seal, period_close
from accounting.tests.factories import UserFactory, entry_post

pytestmark = pytest.mark.django_db

MODELS = [Account, JournalEntry, Posting, ChainLink, PeriodClose, AccountCheckpoint, CommandRecord]


@pytest.fixture
def auditor_client(client):
    user = UserFactory(username="kiemtoan", is_staff=True, is_superuser=True)
    client.force_login(user)
    entry = entry_post(on=date(2025, 1, 5))
    period_close(through=date(2025, 1, 31))
    ledger_seal()
    return client, entry


@pytest.mark.parametrize("model", MODELS, ids=[m.__name__ for m in MODELS])
def test_admin_is_read_only(rf, model):
    request = rf.get("/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    model_admin = admin.site._registry[model]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.has_view_permission(request)


@pytest.mark.parametrize("model", MODELS, ids=[m.__name__ for m in MODELS])
def test_admin_lists_load_in_vietnamese(auditor_client, model):
    client, _ = auditor_client
    opts = model._meta
    page = client.get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    assert page.status_code == 200
    assert str(opts.verbose_name_plural).capitalize() in page.content.decode()
    assert "delete_selected" not in page.content.decode()


def test_entry_page_shows_its_postings_read_only(auditor_client):
    client, entry = auditor_client
    page = client.get(reverse("admin:accounting_journalentry_change", args=[entry.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Góp vốn" in html and "1.000.000" in html
    assert "Sổ cái kế toán" in html
    assert 'name="_save"' not in html  # no save button: nothing to change
