"""Separation of duties on capital: moves above the fund's threshold wait for a second fund
officer (``fund.services.capital_move_enter`` / ``capital_move_confirm`` / ``capital_move_reject``)
and the fund's policy itself (``fund_duties_set``)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounting.errors import IdempotencyConflict, ValueDateRefused
from accounting.models import JournalEntry
from fund.duties import CAPITAL_CONFIRMS
from fund.errors import DutiesSeparated, FundError, PermissionRefused
from fund.models import AuditLog, CapitalMovement, CapitalMoveRequest, CapitalSource, Role
from fund.services import (
    capital_contribution_post,
    capital_move_confirm,
    capital_move_enter,
    capital_move_reject,
    capital_source_create,
    fund_duties_set,
)
from fund.tests.factories import OfficerFactory

D = timezone.localdate() - timedelta(days=1)
CONTRIBUTION = CapitalMovement.Kind.CONTRIBUTION


@pytest.fixture
def setup(org, officers):
    source = capital_source_create(
        fund=org.fund, code="NS", name="Ngân sách", kind=CapitalSource.Kind.CITY_BUDGET
    )
    second = OfficerFactory(user__username="quy2", fund=org.fund, role=Role.FUND_OFFICER).user
    return org, officers.fund, second, source


def enter(org, actor, source, amount, key="k1", **kw):
    return capital_move_enter(
        kind=kw.pop("kind", CONTRIBUTION),
        fund=org.fund,
        source=source,
        amount=amount,
        effective_date=D,
        idempotency_key=key,
        actor=actor,
        **kw,
    )


@pytest.mark.django_db
def test_below_threshold_posts_at_once(setup):
    org, first, _, source = setup
    moved = enter(org, first, source, 100_000_000)  # the default threshold itself: at once
    assert isinstance(moved, CapitalMovement)
    assert CapitalMoveRequest.objects.count() == 0


@pytest.mark.django_db
def test_above_threshold_waits_then_another_officer_confirms(setup):
    org, first, second, source = setup
    req = enter(org, first, source, 100_000_001)
    assert isinstance(req, CapitalMoveRequest) and req.status == "pending"
    assert CapitalMovement.objects.count() == 0 and JournalEntry.objects.count() == 0
    assert enter(org, first, source, 100_000_001) == req  # the same key: the same request
    with pytest.raises(IdempotencyConflict):
        enter(org, first, source, 200_000_000)

    with pytest.raises(DutiesSeparated) as refused:
        capital_move_confirm(request=req, actor=first)
    assert refused.value.rule == CAPITAL_CONFIRMS and "Tách bạch nhiệm vụ" in str(refused.value)
    assert CapitalMovement.objects.count() == 0

    done = capital_move_confirm(request=req, actor=second)
    assert done.status == "confirmed" and done.decided_by == second
    movement = done.movement
    assert movement.created_by == first and movement.confirmed_by == second
    assert JournalEntry.objects.count() == 1
    assert capital_move_confirm(request=req, actor=second) == done  # a retry changes nothing
    assert JournalEntry.objects.count() == 1
    with pytest.raises(FundError) as decided:
        capital_move_reject(request=req, reason="nhầm", actor=second)
    assert decided.value.code == "request_decided"
    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {"capital_request", "capital_confirm"} <= actions


@pytest.mark.django_db
def test_the_direct_posting_refuses_above_threshold_for_a_person(setup):
    org, first, _, source = setup
    with pytest.raises(DutiesSeparated) as refused:
        capital_contribution_post(
            fund=org.fund,
            source=source,
            amount=500_000_000,
            effective_date=D,
            idempotency_key="direct",
            actor=first,
        )
    assert refused.value.field == "amount" and "100.000.000" in str(refused.value)
    assert JournalEntry.objects.count() == 0
    # The system (imports, the demo) is no person: not refused.
    capital_contribution_post(
        fund=org.fund, source=source, amount=500_000_000, effective_date=D, idempotency_key="sys"
    )


@pytest.mark.django_db
def test_reject_with_reason_posts_nothing(setup):
    org, first, second, source = setup
    req = enter(org, first, source, 300_000_000)
    with pytest.raises(FundError) as no_reason:
        capital_move_reject(request=req, reason="  ", actor=second)
    assert no_reason.value.field == "reason"
    done = capital_move_reject(request=req, reason="Sai số tiền", actor=second)
    assert done.status == "rejected" and done.reason == "Sai số tiền"
    with pytest.raises(FundError):
        capital_move_confirm(request=req, actor=second)
    assert JournalEntry.objects.count() == 0


@pytest.mark.django_db
def test_only_fund_officers_of_the_fund_decide(setup, officers):
    org, first, _, source = setup
    req = enter(org, first, source, 300_000_000)
    for who in (officers.auditor, officers.superior, officers.other_fund):
        with pytest.raises(PermissionRefused):
            capital_move_confirm(request=req, actor=who)
    assert CapitalMoveRequest.objects.get().status == "pending"


@pytest.mark.django_db
def test_a_request_dated_after_today_is_refused_when_entered(setup):
    org, first, _, source = setup
    with pytest.raises(ValueDateRefused) as refused:
        capital_move_enter(
            kind=CONTRIBUTION,
            fund=org.fund,
            source=source,
            amount=300_000_000,
            effective_date=timezone.localdate() + timedelta(days=1),
            idempotency_key="future",
            actor=first,
        )
    assert refused.value.field == "effective_date"
    assert CapitalMoveRequest.objects.count() == 0


@pytest.mark.django_db
def test_withdrawal_request_checks_the_source_balance(setup):
    org, first, _, source = setup
    with pytest.raises(FundError) as refused:
        enter(org, first, source, 300_000_000, kind=CapitalMovement.Kind.WITHDRAWAL)
    assert refused.value.field == "amount"
    assert CapitalMoveRequest.objects.count() == 0


@pytest.mark.django_db
def test_policy_change_is_audited_and_switches_the_rule(setup):
    org, first, _, source = setup
    fund_duties_set(fund=org.fund, capital_confirmation_threshold=None, actor=first)
    assert isinstance(enter(org, first, source, 900_000_000), CapitalMovement)
    log = AuditLog.objects.filter(action="duties_set").get()
    assert log.changes["capital_confirmation_threshold"][0] == "100000000"
    with pytest.raises(FundError) as refused:
        fund_duties_set(fund=org.fund, capital_confirmation_threshold=-1, actor=first)
    assert refused.value.field == "capital_confirmation_threshold"
    with pytest.raises(FundError):
        fund_duties_set(fund=org.fund, threshold=1, actor=first)


@pytest.mark.postgres
def test_two_concurrent_confirmations_post_once(purge_ledger_after, org, officers):
    source = capital_source_create(
        fund=org.fund, code="NS", name="Ngân sách", kind=CapitalSource.Kind.CITY_BUDGET
    )
    confirmers = [
        OfficerFactory(user__username=f"quy{i}", fund=org.fund, role=Role.FUND_OFFICER).user
        for i in range(2, 4)
    ]
    req = enter(org, officers.fund, source, 400_000_000, key="race")
    barrier = threading.Barrier(2)
    outcomes = [None, None]

    def worker(i):
        try:
            barrier.wait()
            outcomes[i] = capital_move_confirm(request=req, actor=confirmers[i])
        except Exception as e:  # the test inspects both outcomes
            outcomes[i] = e
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    won = [o for o in outcomes if isinstance(o, CapitalMoveRequest)]
    lost = [o for o in outcomes if isinstance(o, FundError)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert lost[0].code == "request_decided"
    assert CapitalMovement.objects.count() == 1
    assert JournalEntry.objects.filter(document_type="capital_contribution").count() == 1
