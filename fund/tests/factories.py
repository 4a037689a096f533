"""factory_boy factories for the fund's organisation and officers."""

from datetime import date, timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounting.dates import backdate_window_start
from fund.models import (
    Fund,
    GrassrootsUnion,
    GrassrootsUnionAffiliation,
    OfficerProfile,
    Role,
    SuperiorUnion,
)


def today() -> date:
    """The day the test runs (not the day the module was imported: midnight in Hà Nội is 17:00
    UTC, and a run can cross it)."""
    return timezone.localdate()


def last_month() -> date:
    """The last day before a fund's default open window (the current month in Hà Nội): a date
    that needs a back-dating reason once the window is narrowed to it (``narrow_window``)."""
    return backdate_window_start(0) - timedelta(days=1)


def narrow_window(fund) -> None:
    """`fund`'s open window back to its default, the current month (the tests' funds open a
    wide one, ``FundFactory.backdate_open_months``)."""
    fund.backdate_open_months = 0
    fund.save(update_fields=["backdate_open_months"])


def capital_move_entered_last_month(fund, *, source, actor, amount=5_000_000, key="q"):
    """A contribution dated last month waiting for a second fund officer's confirmation, entered
    while `fund`'s window (one month) still held last month."""
    from fund.services import capital_move_enter

    fund.capital_confirmation_threshold = 0
    fund.backdate_open_months = 1
    fund.save()
    return capital_move_enter(
        kind="contribution",
        fund=fund,
        source=source,
        amount=amount,
        effective_date=last_month(),
        idempotency_key=key,
        actor=actor,
    )


class FundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Fund
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"Q{n:02d}")
    name = factory.Sequence(lambda n: f"Quỹ Trợ vốn CNVCLĐ nghèo số {n}")
    federation_name = "LĐLĐ thành phố"
    # The tests sign in with force_login; tests/security/test_two_factor.py turns it on.
    two_factor_required = False
    # The tests date their history freely (loans disbursed months ago); the tests of the
    # back-dating rule set the fund's window back to the current month (0).
    backdate_open_months = 120


class SuperiorUnionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SuperiorUnion

    fund = factory.SubFactory(FundFactory)
    code = factory.Sequence(lambda n: f"CT{n:03d}")
    name = factory.Sequence(lambda n: f"LĐLĐ quận số {n}")
    kind = SuperiorUnion.Kind.DISTRICT


class GrassrootsUnionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GrassrootsUnion
        skip_postgeneration_save = True

    superior_union = factory.SubFactory(SuperiorUnionFactory)
    fund = factory.SelfAttribute("superior_union.fund")
    code = factory.Sequence(lambda n: f"CS{n:05d}")
    name = factory.Sequence(lambda n: f"CĐCS Trường Tiểu học số {n}")
    kind = GrassrootsUnion.Kind.SCHOOL

    @factory.post_generation
    def affiliation(obj, create, extracted, **kwargs):
        if create:
            GrassrootsUnionAffiliation.objects.create(
                grassroots_union=obj,
                superior_union=obj.superior_union,
                valid_from=extracted or date(2000, 1, 1),
            )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"canbo{n}")


class OfficerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OfficerProfile

    user = factory.SubFactory(UserFactory)
    fund = factory.SubFactory(FundFactory)
    role = Role.FUND_OFFICER
