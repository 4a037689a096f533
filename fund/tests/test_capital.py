from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from accounting.errors import IdempotencyConflict
from accounting.models import JournalEntry, Posting
from accounting.selectors import account_balance
from accounting.services import credit, debit, journal_entry_post
from fund.errors import FundError, InsufficientCapital, PermissionRefused
from fund.models import AuditLog, CapitalCommitment, CapitalSource
from fund.selectors import capital_by_source, capital_committed, capital_total
from fund.services import (
    capital_available,
    capital_check,
    capital_commitment_create,
    capital_commitment_release,
    capital_contribution_post,
    capital_lock,
    capital_source_create,
    capital_transfer_post,
    capital_withdrawal_post,
    lending_allocation_set,
)
from fund.tests.factories import capital_move_entered_last_month, last_month

pytestmark = pytest.mark.django_db
D = timezone.localdate() - timedelta(days=3)  # recent, so commitments made now count


@pytest.fixture
def sources(org):
    return {
        kind: capital_source_create(fund=org.fund, code=code, name=name, kind=kind)
        for kind, code, name in [
            (CapitalSource.Kind.CITY_BUDGET, "NS", "Ngân sách thành phố"),
            (CapitalSource.Kind.UNION_FUNDS, "CD", "Quỹ LĐLĐ thành phố"),
            (CapitalSource.Kind.DONORS, "TT", "Nhà tài trợ"),
            (CapitalSource.Kind.REFLOWS, "BS", "Bổ sung từ kết quả hoạt động"),
        ]
    }


@pytest.fixture
def funded(org, sources):
    capital_contribution_post(
        fund=org.fund,
        source=sources["city_budget"],
        amount=1_000_000_000,
        effective_date=D,
        idempotency_key="c1",
    )
    return org


def lend(org, amount, su=None, key="loan-1", on=D):
    """What the loans layer posts on disbursement: Dr 1283 / Cr 1121."""
    return journal_entry_post(
        effective_date=on,
        legs=[
            debit("1283", amount, fund_id=org.fund.pk, superior_union_id=su.pk if su else None),
            credit("1121", amount, fund_id=org.fund.pk),
        ],
        memo="Giải ngân",
        idempotency_key=key,
    )


def test_contribution_posts_dr_1121_cr_411x_with_the_fund_on_every_leg(org, sources):
    for kind, account in [
        ("city_budget", "4111"),
        ("union_funds", "4112"),
        ("donors", "4113"),
        ("reflows", "4118"),
    ]:
        m = capital_contribution_post(
            fund=org.fund,
            source=sources[kind],
            amount=100,
            effective_date=D,
            idempotency_key=f"k-{kind}",
        )
        legs = {p.account.code: p for p in m.journal_entry.postings.select_related("account")}
        assert legs["1121"].amount.amount == 100
        assert legs[account].amount.amount == -100
        assert legs[account].subledger == f"capital_source:{sources[kind].pk}"
        assert {p.fund_id for p in legs.values()} == {org.fund.pk}
    assert capital_total(fund=org.fund, as_of=D) == 400


def test_contribution_is_idempotent_by_key(org, sources):
    kwargs = dict(
        fund=org.fund,
        source=sources["donors"],
        amount=500,
        effective_date=D,
        idempotency_key="same",
    )
    first = capital_contribution_post(**kwargs)
    again = capital_contribution_post(**kwargs)
    assert again.pk == first.pk
    assert JournalEntry.objects.count() == 1
    with pytest.raises(IdempotencyConflict):
        capital_contribution_post(**{**kwargs, "amount": 501})


def test_contribution_refuses_bad_amounts(org, sources):
    for amount in (0, -5, "1.5"):
        with pytest.raises(Exception) as e:
            capital_contribution_post(
                fund=org.fund,
                source=sources["donors"],
                amount=amount,
                effective_date=D,
                idempotency_key=f"bad{amount}",
            )
        assert e.value.field == "amount"
    assert not Posting.objects.exists()


def test_source_of_another_fund_is_refused(org, sources):
    with pytest.raises(FundError):
        capital_contribution_post(
            fund=org.other_fund,
            source=sources["donors"],
            amount=1,
            effective_date=D,
            idempotency_key="x",
        )


def test_withdrawal_and_transfer(funded, sources):
    fund = funded.fund
    capital_transfer_post(
        fund=fund,
        source=sources["city_budget"],
        target_source=sources["donors"],
        amount=300_000_000,
        effective_date=D,
        idempotency_key="t1",
    )
    by = {s.code: v for s, v in capital_by_source(fund=fund, as_of=D).items()}
    assert by["NS"] == 700_000_000 and by["TT"] == 300_000_000
    assert capital_total(fund=fund, as_of=D) == 1_000_000_000
    capital_withdrawal_post(
        fund=fund,
        source=sources["donors"],
        amount=100_000_000,
        effective_date=D,
        idempotency_key="w1",
    )
    assert capital_total(fund=fund, as_of=D) == 900_000_000
    assert account_balance(account="1121", as_of=D, fund_id=fund.pk) == 900_000_000
    with pytest.raises(InsufficientCapital, match="chỉ còn 200.000.000 ₫"):
        capital_withdrawal_post(
            fund=fund,
            source=sources["donors"],
            amount=200_000_001,
            effective_date=D,
            idempotency_key="w2",
        )
    with pytest.raises(InsufficientCapital):
        capital_transfer_post(
            fund=fund,
            source=sources["donors"],
            target_source=sources["city_budget"],
            amount=300_000_000,
            effective_date=D,
            idempotency_key="t2",
        )


def test_withdrawal_cannot_take_back_money_lent_out(funded, sources):
    lend(funded, 950_000_000)
    with pytest.raises(InsufficientCapital, match="50.000.000 ₫"):
        capital_withdrawal_post(
            fund=funded.fund,
            source=sources["city_budget"],
            amount=60_000_000,
            effective_date=D,
            idempotency_key="w",
        )


def test_available_is_capital_minus_outstanding_minus_committed(funded):
    fund = funded.fund
    assert capital_available(fund=fund, as_of=D) == 1_000_000_000
    lend(funded, 200_000_000, su=funded.lb)
    capital_commitment_create(fund=fund, reference="application:1", amount=50_000_000)
    assert capital_committed(fund=fund) == 50_000_000
    assert capital_available(fund=fund) == 750_000_000
    # On D the commitment (made today) did not exist yet.
    assert capital_available(fund=fund, as_of=D) == 800_000_000


def test_commitments_are_idempotent_by_reference(funded):
    fund = funded.fund
    c1 = capital_commitment_create(fund=fund, reference="application:1", amount=10)
    c2 = capital_commitment_create(fund=fund, reference="application:1", amount=10)
    assert c1.pk == c2.pk
    assert capital_committed(fund=fund) == 10
    capital_commitment_release(reference="application:1")
    capital_commitment_release(reference="application:1")
    capital_commitment_release(reference="application:unknown")
    assert capital_committed(fund=fund) == 0
    assert CapitalCommitment.objects.get().status == "released"
    again = capital_commitment_create(fund=fund, reference="application:1", amount=12)
    assert again.pk == c1.pk and again.status == "open" and capital_committed(fund=fund) == 12
    with pytest.raises(IdempotencyConflict):
        capital_commitment_create(fund=funded.other_fund, reference="application:1", amount=12)
    with pytest.raises(FundError):
        capital_commitment_create(
            fund=fund, reference="application:2", amount=1, superior_union=funded.other_su
        )


def test_commitments_as_of_a_past_date(funded):
    fund = funded.fund
    capital_commitment_create(fund=fund, reference="a", amount=10)
    yesterday = timezone.localdate() - timedelta(days=1)
    assert capital_committed(fund=fund, as_of=yesterday) == 0
    capital_commitment_release(reference="a")
    assert capital_committed(fund=fund, as_of=timezone.localdate()) == 0


def test_capital_check_refuses_beyond_available_and_names_it(funded):
    fund = funded.fund
    lend(funded, 900_000_000)
    capital_check(fund=fund, amount=100_000_000, as_of=D)
    with pytest.raises(InsufficientCapital) as e:
        capital_check(fund=fund, amount=100_000_001, as_of=D)
    assert e.value.field == "amount"
    assert "100.000.000 ₫" in e.value.message


def test_capital_check_counts_the_commitment_being_converted(funded):
    fund = funded.fund
    capital_commitment_create(fund=fund, reference="application:7", amount=1_000_000_000)
    with pytest.raises(InsufficientCapital):
        capital_check(fund=fund, amount=1)
    capital_check(fund=fund, amount=1_000_000_000, releasing_reference="application:7")
    with pytest.raises(InsufficientCapital):
        capital_check(fund=fund, amount=1_000_000_001, releasing_reference="application:7")


def test_lending_capacity_of_a_superior_union(funded):
    fund, lb, hbt = funded.fund, funded.lb, funded.hbt
    lending_allocation_set(superior_union=lb, amount=300_000_000, valid_from=D)
    assert capital_available(fund=fund, superior_union=lb, as_of=D) == 300_000_000
    # Without an allocation, the union lends within the fund-wide capital.
    assert capital_available(fund=fund, superior_union=hbt, as_of=D) == 1_000_000_000
    lend(funded, 250_000_000, su=lb)
    capital_commitment_create(
        fund=fund, reference="application:2", amount=30_000_000, superior_union=lb
    )
    assert capital_available(fund=fund, superior_union=lb) == 20_000_000
    with pytest.raises(InsufficientCapital, match="LĐLĐ quận Long Biên chỉ còn 20.000.000 ₫"):
        capital_check(fund=fund, amount=25_000_000, superior_union=lb)
    capital_check(
        fund=fund, amount=50_000_000, superior_union=lb, releasing_reference="application:2"
    )
    # Before the allocation started there was none: the fund-wide figure applies.
    lend(funded, 1_000, key="early", on=D - timedelta(2))
    assert capital_available(fund=fund, superior_union=lb, as_of=D - timedelta(1)) == -1_000
    # An allocation with no amount ends the limit.
    lending_allocation_set(superior_union=lb, amount=None, valid_from=D + timedelta(1))
    capital_check(fund=fund, amount=600_000_000, superior_union=lb, as_of=D + timedelta(1))


def test_fund_wide_capital_binds_even_within_a_large_allocation(funded):
    lending_allocation_set(superior_union=funded.lb, amount=5_000_000_000, valid_from=D)
    with pytest.raises(InsufficientCapital, match="Vốn khả dụng của quỹ"):
        capital_check(fund=funded.fund, amount=1_000_000_001, superior_union=funded.lb, as_of=D)


def test_capital_lock_returns_the_fund_row(funded):
    with transaction.atomic():
        assert capital_lock(fund=funded.fund) == funded.fund


def test_only_fund_officers_move_capital(org, officers, sources):
    for who in (officers.auditor, officers.superior, officers.grassroots, officers.other_fund):
        with pytest.raises(PermissionRefused):
            capital_contribution_post(
                fund=org.fund,
                source=sources["donors"],
                amount=1,
                effective_date=D,
                idempotency_key=f"p-{who.pk}",
                actor=who,
            )
    m = capital_contribution_post(
        fund=org.fund,
        source=sources["donors"],
        amount=1,
        effective_date=D,
        idempotency_key="ok",
        actor=officers.fund,
    )
    assert m.journal_entry.posted_by == officers.fund


def test_capital_changes_are_audited(org, officers, sources):
    m = capital_contribution_post(
        fund=org.fund,
        source=sources["donors"],
        amount=7,
        effective_date=D,
        idempotency_key="a",
        actor=officers.fund,
    )
    log = AuditLog.objects.get(object_id=str(m.pk), action="contribution")
    assert log.actor == officers.fund and log.fund_id == org.fund.pk
    assert log.changes["amount"] == [None, "7"]
    assert Decimal(log.changes["amount"][1]) == m.amount.amount


@pytest.mark.postgres
def test_capital_lock_serialises_concurrent_disbursements(purge_ledger_after, funded):
    """Two disbursements of 600 million on 1 billion of capital: exactly one goes through."""
    import threading
    import time as _time

    from django.db import connection as _conn

    outcomes = []
    barrier = threading.Barrier(2)

    def disburse(i):
        try:
            barrier.wait()
            with transaction.atomic():
                capital_lock(fund=funded.fund)
                capital_check(fund=funded.fund, amount=600_000_000)
                _time.sleep(0.2)  # widen the window a missing lock would leave open
                lend(funded, 600_000_000, key=f"race-{i}")
            outcomes.append("ok")
        except InsufficientCapital:
            outcomes.append("refused")
        finally:
            _conn.close()

    threads = [threading.Thread(target=disburse, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert capital_available(fund=funded.fund) == 400_000_000


# --------------------------------------------------------------------------------------------
# Back-dating: a capital move dated before the fund's open window needs a reason.


def test_a_backdated_contribution_needs_a_reason_and_is_flagged(org, officers, sources):
    org.fund.backdate_open_months = 0
    org.fund.save()
    day = last_month()
    kwargs = dict(
        fund=org.fund,
        source=sources["donors"],
        amount=9_000_000,
        effective_date=day,
        idempotency_key="old",
        actor=officers.fund,
    )
    before = (JournalEntry.objects.count(), Posting.objects.count(), AuditLog.objects.count())
    from accounting.errors import ValueDateRefused

    with pytest.raises(ValueDateRefused) as e:
        capital_contribution_post(**kwargs)
    assert e.value.field == "effective_date" and e.value.code == "backdate_reason"
    assert f"{day:%d/%m/%Y}" in str(e.value)
    after = (JournalEntry.objects.count(), Posting.objects.count(), AuditLog.objects.count())
    assert after == before

    m = capital_contribution_post(**kwargs, backdate_reason="Chuyển sổ giấy tháng trước")
    assert m.journal_entry.backdated_reason == "Chuyển sổ giấy tháng trước"
    log = AuditLog.objects.get(object_id=str(m.pk), action="contribution")
    assert log.changes["backdated_reason"] == [None, "Chuyển sổ giấy tháng trước"]

    # In the window: no reason needed, none kept, nothing flagged.
    today = capital_contribution_post(
        **{**kwargs, "effective_date": day + timedelta(days=1), "idempotency_key": "new"},
        backdate_reason="không cần",
    )
    assert today.journal_entry.backdated_reason == ""
    assert (
        "backdated_reason"
        not in AuditLog.objects.get(object_id=str(today.pk), action="contribution").changes
    )


def test_a_wider_window_lets_last_month_through_without_a_reason(org, sources):
    org.fund.backdate_open_months = 1
    org.fund.save()
    m = capital_contribution_post(
        fund=org.fund,
        source=sources["donors"],
        amount=5,
        effective_date=last_month(),
        idempotency_key="last-month",
    )
    assert m.journal_entry.backdated_reason == ""


def test_a_queued_capital_move_keeps_its_reason_until_confirmed(org, officers, sources):
    from fund.models import Role
    from fund.services import capital_move_confirm, capital_move_enter
    from fund.tests.factories import OfficerFactory

    org.fund.backdate_open_months = 0
    org.fund.capital_confirmation_threshold = 0
    org.fund.save()
    second = OfficerFactory(user__username="quy2", fund=org.fund, role=Role.FUND_OFFICER).user
    kwargs = dict(
        kind="contribution",
        fund=org.fund,
        source=sources["donors"],
        amount=10,
        effective_date=last_month(),
        idempotency_key="q1",
        actor=officers.fund,
    )
    from accounting.errors import ValueDateRefused

    with pytest.raises(ValueDateRefused) as e:
        capital_move_enter(**kwargs)
    assert e.value.field == "effective_date"
    req = capital_move_enter(**kwargs, backdate_reason="Sổ quỹ tháng trước")
    assert req.backdated_reason == "Sổ quỹ tháng trước"
    done = capital_move_confirm(request=req, actor=second)
    assert done.movement.journal_entry.backdated_reason == "Sổ quỹ tháng trước"


def test_a_move_confirmed_after_the_window_moved_on_takes_the_confirmers_reason(
    org, officers, sources
):
    from accounting.errors import ValueDateRefused
    from fund.models import CapitalMovement, CapitalMoveRequest, Role
    from fund.services import capital_move_confirm
    from fund.tests.factories import OfficerFactory

    req = capital_move_entered_last_month(
        org.fund, source=sources["donors"], actor=officers.fund, amount=10, key="q2"
    )
    second = OfficerFactory(user__username="quy3", fund=org.fund, role=Role.FUND_OFFICER).user
    assert req.backdated_reason == ""
    org.fund.backdate_open_months = 0  # the window moved on before the confirmation
    org.fund.save()
    req = CapitalMoveRequest.objects.get(pk=req.pk)
    before = (
        JournalEntry.objects.count(),
        CapitalMovement.objects.count(),
        AuditLog.objects.count(),
    )
    with pytest.raises(ValueDateRefused) as e:
        capital_move_confirm(request=req, actor=second)
    assert e.value.field == "effective_date" and e.value.code == "backdate_reason"
    after = (
        JournalEntry.objects.count(),
        CapitalMovement.objects.count(),
        AuditLog.objects.count(),
    )
    assert after == before
    assert CapitalMoveRequest.objects.get(pk=req.pk).status == "pending"

    done = capital_move_confirm(request=req, actor=second, backdate_reason="Xác nhận muộn")
    assert done.status == "confirmed" and done.backdated_reason == "Xác nhận muộn"
    assert done.movement.journal_entry.backdated_reason == "Xác nhận muộn"
    log = AuditLog.objects.get(object_id=str(req.pk), action="capital_confirm")
    assert log.changes["backdated_reason"] == [None, "Xác nhận muộn"]
