"""Test data for the ledger: users, ad-hoc accounts and entries posted through the services."""

import itertools
from datetime import date

import factory
from django.contrib.auth import get_user_model

from accounting.models import JournalEntry
from accounting.services import chart_load, credit, debit, journal_entry_post

DAY = date(2025, 3, 10)
_keys = itertools.count(1)


def new_key(prefix: str = "test") -> str:
    return f"{prefix}-{next(_keys)}"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"ketoan{n}")


def account_add(
    code: str, *, parent: str = "", type: str = "asset", currency: str = "VND", name: str = ""
):
    """Add one account to the chart through the service (as a chart change would)."""
    from accounting.models import Account

    chart_load(
        rows=[
            {
                "code": code,
                "parent": parent,
                "type": type,
                "contra": "0",
                "name": name or f"Tài khoản thử {code}",
                "name_en": "",
                "currency": currency,
            }
        ]
    )
    return Account.objects.get(code=code)


def entry_post(
    amount=1_000_000,
    *,
    dr: str = "1121",
    cr: str = "4111",
    on: date = DAY,
    key: str | None = None,
    memo: str = "Góp vốn",
    **dims,
) -> JournalEntry:
    """A two-legged entry: debit `dr`, credit `cr`, both legs carrying the same dimensions."""
    return journal_entry_post(
        effective_date=on,
        legs=[debit(dr, amount, **dims), credit(cr, amount, **dims)],
        memo=memo,
        idempotency_key=key or new_key(),
    )
