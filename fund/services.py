"""Fund services: the writes of fund data (unions, officers, capital, plans); the union file
import (``fund.union_io``) and the outbox (``fund.outbox``) write their own rows.

Every service takes keyword-only arguments, validates before it writes, runs in one transaction
and records what it changed in the audit log (``fund.audit``). Money moves through
``accounting.services.journal_entry_post`` under an idempotency key, with ``fund_id`` on every leg.
Services that take an ``actor`` check the actor's role through ``fund.scoping`` when one is given;
``actor=None`` is the system itself (migrations, the demo, scheduled jobs).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounting.dates import business_today, value_date_check
from accounting.errors import IdempotencyConflict
from accounting.formatting import format_vnd
from accounting.money import amount_of, to_dong
from accounting.services import credit, debit, journal_entry_post
from fund.accounts import BANK, CASH_ACCOUNTS
from fund.audit import audit_changes, audit_record, audit_snapshot
from fund.duties import CAPITAL_CONFIRMS, capital_needs_confirmation, duty_require_other
from fund.errors import DutiesSeparated, FundError, InsufficientCapital, PermissionRefused
from fund.models import (
    AnnualPlan,
    CalendarDay,
    CapitalCommitment,
    CapitalMovement,
    CapitalMoveRequest,
    CapitalSource,
    Fund,
    GrassrootsUnion,
    GrassrootsUnionAffiliation,
    LendingAllocation,
    OfficerProfile,
    PlanSplit,
    Role,
    SuperiorUnion,
)
from fund.scoping import (
    actor_require_fund_officer,
    actor_scope,
    actor_user,
    actor_user_id,
    scope_require_write,
)
from fund.selectors import (
    capital_available,
    capital_committed_filter,
    capital_position,
    capital_source_balance,
    lending_allocation_in_force,
    loans_outstanding,
)
from fund.validation import (
    backdate_reason_clean,
    clean_date,
    clean_phone,
    clean_text,
    full_clean,
    refuse_unknown_fields,
)

__all__ = [
    "annual_plan_set",
    "capital_available",
    "CapitalLedger",
    "capital_check",
    "capital_commitment_create",
    "capital_commitment_release",
    "capital_contribution_post",
    "capital_lock",
    "capital_move_confirm",
    "capital_move_enter",
    "capital_move_reject",
    "capital_transfer_post",
    "capital_withdrawal_post",
    "fund_duties_set",
    "grassroots_union_create",
    "grassroots_union_move",
    "grassroots_union_update",
    "lending_allocation_set",
    "officer_profile_set",
    "officer_profile_write",
    "plan_split_delete",
    "plan_split_set",
    "superior_union_create",
    "superior_union_update",
]


# --------------------------------------------------------------------------------------------
# Capital: commitments and the check disbursement makes


def capital_lock(*, fund: Fund | None = None, fund_id: int | None = None) -> Fund:
    """Lock the fund row until the caller's transaction ends (serialises capital checks).

    Call it inside ``transaction.atomic()`` before ``capital_check`` and the posting it guards,
    so that two disbursements cannot both pass the check on the same available capital.
    `fund_id` instead of `fund`: a caller that holds only the id (read with the lock).
    """
    return Fund.objects.select_for_update().get(pk=fund.pk if fund is not None else fund_id)


def capital_commitment_create(
    *,
    fund: Fund,
    reference: str,
    amount,
    superior_union: SuperiorUnion | None = None,
    actor=None,
) -> CapitalCommitment:
    """Hold `amount` of capital under `reference` (e.g. "application:42") until released.

    Idempotent by reference: an open commitment under the reference is returned (its amount
    updated when it differs, e.g. an application re-approved for another amount); a released one
    is held again. It does not check availability: approval may exceed what is available today,
    and disbursement (``capital_check``) is where lending is refused.
    """
    value = to_dong(amount)
    if value <= 0:
        raise FundError(_("Số tiền cam kết phải lớn hơn 0."), field="amount")
    if not reference or len(reference) > 100:
        raise FundError(_("Tham chiếu cam kết vốn không hợp lệ."), field="reference")
    if superior_union is not None and superior_union.fund_id != fund.pk:
        raise FundError(_("Công đoàn cấp trên không thuộc quỹ này."), field="superior_union")
    with transaction.atomic():
        existing = CapitalCommitment.objects.select_for_update().filter(reference=reference).first()
        if existing is None:
            try:
                with transaction.atomic():
                    commitment = CapitalCommitment.objects.create(
                        fund=fund,
                        superior_union=superior_union,
                        reference=reference,
                        amount=value,
                        created_by=actor_user(actor),
                    )
            except IntegrityError:
                # A concurrent call created it first: theirs stands.
                return CapitalCommitment.objects.get(reference=reference)
            audit_record(
                actor=actor,
                action="commit",
                obj=commitment,
                changes={"amount": [None, str(value)]},
            )
            return commitment
        if existing.fund_id != fund.pk:
            raise IdempotencyConflict(
                _("Tham chiếu '%(reference)s' đã dùng cho quỹ khác."),
                field="reference",
                params={"reference": reference},
            )
        before = audit_snapshot(existing, ["amount", "status", "superior_union_id"])
        existing.amount = value
        existing.superior_union = superior_union
        if existing.status == CapitalCommitment.Status.RELEASED:
            existing.status = CapitalCommitment.Status.OPEN
            existing.released_at = None
            existing.created_at = timezone.now()
        changes = audit_changes(before, existing)
        if changes:
            existing.save()
            audit_record(actor=actor, action="commit", obj=existing, changes=changes)
        return existing


def capital_commitment_release(*, reference: str, actor=None) -> None:
    """Release the capital held under `reference`. Idempotent; unknown references are a no-op."""
    with transaction.atomic():
        commitment = (
            CapitalCommitment.objects.select_for_update()
            .filter(reference=reference, status=CapitalCommitment.Status.OPEN)
            .first()
        )
        if commitment is None:
            return
        commitment.status = CapitalCommitment.Status.RELEASED
        commitment.released_at = timezone.now()
        commitment.save(update_fields=["status", "released_at"])
        audit_record(
            actor=actor,
            action="release",
            obj=commitment,
            changes={"status": ["open", "released"]},
        )


@dataclasses.dataclass
class CapitalLedger:
    """The ledger figures ``capital_check`` compares against: the fund's capital (411) and loans
    outstanding (1283), and per superior union its lending capacity in force and its loans
    outstanding, read when first needed.

    A caller that disburses several loans under one capital lock reads them once and tells the
    ledger of each loan it lends (``lent``), so that every check sees what the ledger holds by
    then, as a fresh read would."""

    fund: Fund
    as_of: date | None = None
    capital: Decimal | None = None
    outstanding: Decimal | None = None
    unions: dict = dataclasses.field(
        default_factory=dict
    )  # superior union id -> [capacity, outstanding]

    def available(self, *, committed: Decimal) -> Decimal:
        if self.capital is None:
            position = capital_position(fund=self.fund, as_of=self.as_of, committed=committed)
            self.capital, self.outstanding = position.capital, position.outstanding
        return self.capital - self.outstanding - committed

    def union(self, superior_union: SuperiorUnion) -> list:
        """[capacity in force or None, loans outstanding] of the union."""
        if superior_union.pk not in self.unions:
            capacity = lending_allocation_in_force(superior_union=superior_union, as_of=self.as_of)
            outstanding = (
                loans_outstanding(fund=self.fund, superior_union=superior_union, as_of=self.as_of)
                if capacity is not None
                else None
            )
            self.unions[superior_union.pk] = [capacity, outstanding]
        return self.unions[superior_union.pk]

    def lent(self, *, amount: Decimal, superior_union_id: int | None) -> None:
        """A loan of `amount` was posted to 1283 (for that superior union), dated by `as_of`."""
        if self.outstanding is not None:
            self.outstanding += amount
        union = self.unions.get(superior_union_id)
        if union is not None and union[1] is not None:
            union[1] += amount


def capital_check(
    *,
    fund: Fund,
    amount,
    superior_union: SuperiorUnion | None = None,
    releasing_reference: str | None = None,
    as_of: date | None = None,
    ledger: CapitalLedger | None = None,
) -> None:
    """Refuse (InsufficientCapital) lending `amount` beyond the capital available.

    The commitment held under `releasing_reference` counts as available: the disbursement
    converts it into a loan. With a superior union that has a lending capacity in force, both the
    fund-wide capital and the union's capacity must cover the amount. `ledger`: the ledger
    figures as the caller keeps them (``CapitalLedger``; its fund and date then apply), else
    read now; the commitments are read at every check.
    """
    value = to_dong(amount)
    if ledger is None:
        ledger = CapitalLedger(fund=fund, as_of=as_of)
    fund, as_of = ledger.fund, ledger.as_of
    su_id = superior_union.pk if superior_union is not None else None
    # Every figure of the commitments in one read: those that count as committed (fund-wide and
    # the union's) and the one held under the reference (with the union it was held for).
    committed = capital_committed_filter(as_of=as_of)
    holding = Q(reference=releasing_reference or "", status=CapitalCommitment.Status.OPEN)
    sums = CapitalCommitment.objects.filter(fund=fund).aggregate(
        committed=Sum("amount", filter=committed),
        committed_here=Sum("amount", filter=committed & Q(superior_union_id=su_id)),
        held=Sum("amount", filter=holding),
        held_here=Sum("amount", filter=holding & Q(superior_union_id=su_id)),
    )
    held = (sums["held"] or Decimal(0)) if releasing_reference else Decimal(0)
    # Capital and loans outstanding from one grouped read of the ledger (not one read each).
    available = ledger.available(committed=sums["committed"] or Decimal(0)) + held
    if value > available:
        raise InsufficientCapital(
            _("Vốn khả dụng của quỹ chỉ còn %(available)s, không đủ cho khoản %(amount)s."),
            params={"available": format_vnd(max(available, 0)), "amount": format_vnd(value)},
        )
    if superior_union is not None:
        allocation, outstanding_here = ledger.union(superior_union)
        if allocation is None:
            return
        held_here = (sums["held_here"] or Decimal(0)) if releasing_reference else Decimal(0)
        available_here = (
            allocation - outstanding_here - (sums["committed_here"] or Decimal(0)) + held_here
        )
        if value > available_here:
            raise InsufficientCapital(
                _(
                    "Hạn mức cho vay còn lại của %(union)s chỉ còn %(available)s, không đủ cho "
                    "khoản %(amount)s."
                ),
                params={
                    "union": superior_union.name,
                    "available": format_vnd(max(available_here, 0)),
                    "amount": format_vnd(value),
                },
            )


# --------------------------------------------------------------------------------------------
# Capital: sources, contributions, withdrawals, transfers


def capital_source_create(
    *, fund: Fund, code: str, name: str, kind: str, note: str = "", actor=None
) -> CapitalSource:
    """Create a capital source, or return the one with the same code (same kind) unchanged."""
    actor_require_fund_officer(actor, fund_id=fund.pk)
    with transaction.atomic():
        existing = CapitalSource.objects.filter(fund=fund, code=code).first()
        if existing is not None:
            if existing.kind != kind:
                raise FundError(
                    _("Nguồn vốn mã %(code)s đã có với loại khác (%(kind)s)."),
                    field="kind",
                    params={"code": code, "kind": existing.get_kind_display()},
                )
            return existing
        source = CapitalSource(fund=fund, code=code, name=name, kind=kind, note=note)
        full_clean(source, error=FundError)
        source.save()
        audit_record(
            actor=actor,
            action="create",
            obj=source,
            changes={"code": [None, code], "name": [None, name], "kind": [None, kind]},
        )
        return source


def _movement(
    *,
    kind: str,
    fund: Fund,
    source: CapitalSource,
    target: CapitalSource | None,
    amount: Decimal,
    effective_date: date,
    memo: str,
    idempotency_key: str,
    legs,
    actor,
    confirmation: CapitalMoveRequest | None = None,
    backdate: str = "",
) -> CapitalMovement:
    value_date_check(effective_date, field="effective_date", label=_("Ngày hạch toán"))
    backdate = backdate_reason_clean(
        fund, effective_date, backdate, field="effective_date", label=_("Ngày hạch toán")
    )
    request = {
        "kind": kind,
        "fund_id": fund.pk,
        "source_id": source.pk,
        "target_source_id": target.pk if target else None,
        "amount": amount,
        "effective_date": effective_date,
    }
    existing = CapitalMovement.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        stored = {k: getattr(existing, k) for k in request}
        stored["amount"] = amount_of(stored["amount"])
        if stored != request:
            raise IdempotencyConflict(
                _("Khóa chống trùng '%(key)s' đã dùng cho một nghiệp vụ vốn khác."),
                field="idempotency_key",
                params={"key": idempotency_key},
            )
        return existing
    if confirmation is None and capital_needs_confirmation(fund=fund, amount=amount, actor=actor):
        raise DutiesSeparated(
            _(
                "Tách bạch nhiệm vụ: nghiệp vụ vốn trên ngưỡng %(threshold)s phải do một cán bộ "
                "quỹ khác xác nhận trước khi hạch toán; hãy lập nghiệp vụ chờ xác nhận."
            ),
            rule=CAPITAL_CONFIRMS,
            field="amount",
            params={"threshold": format_vnd(fund.capital_confirmation_threshold)},
        )
    entered_by = confirmation.requested_by if confirmation is not None else actor_user(actor)
    with transaction.atomic():
        entry = journal_entry_post(
            effective_date=effective_date,
            legs=legs,
            memo=memo,
            idempotency_key=f"capital:{idempotency_key}",
            posted_by=actor_user(actor),
            document_type=f"capital_{kind}",
            document_id=idempotency_key[:64],
            backdated_reason=backdate,
        )
        try:
            with transaction.atomic():
                movement = CapitalMovement.objects.create(
                    **request,
                    memo=memo,
                    idempotency_key=idempotency_key,
                    journal_entry=entry,
                    created_by=entered_by,
                    confirmed_by=actor_user(actor) if confirmation is not None else None,
                )
        except IntegrityError:
            # The same command ran concurrently; the ledger replayed its entry, return its row.
            return CapitalMovement.objects.get(idempotency_key=idempotency_key)
        audit_record(
            actor=actor,
            action=kind,
            obj=movement,
            changes={
                "amount": [None, str(amount)],
                "source": [None, source.code],
                **({"target_source": [None, target.code]} if target else {}),
                "journal_entry": [None, entry.pk],
                **({"backdated_reason": [None, backdate]} if backdate else {}),
            },
        )
    return movement


def _check_source(fund: Fund, source: CapitalSource, field: str = "source") -> None:
    if source.fund_id != fund.pk:
        raise FundError(_("Nguồn vốn không thuộc quỹ này."), field=field)


def _source_covers(source: CapitalSource, value: Decimal, as_of: date, kind: str) -> None:
    """Refuse taking `value` out of a source (a withdrawal or a transfer) beyond its capital."""
    balance = capital_source_balance(source=source, as_of=as_of)
    if value <= balance:
        return
    params = {"source": source.name, "balance": format_vnd(balance), "amount": format_vnd(value)}
    if kind == CapitalMovement.Kind.WITHDRAWAL:
        message = _("Nguồn %(source)s chỉ còn %(balance)s, không rút được %(amount)s.")
    else:
        message = _("Nguồn %(source)s chỉ còn %(balance)s, không chuyển được %(amount)s.")
    raise InsufficientCapital(message, params=params)


def _positive(amount) -> Decimal:
    value = to_dong(amount)
    if value <= 0:
        raise FundError(_("Số tiền phải lớn hơn 0."), field="amount")
    return value


def capital_contribution_post(
    *,
    fund: Fund,
    source: CapitalSource,
    amount,
    effective_date: date,
    idempotency_key: str,
    memo: str = "",
    cash_account: str = BANK,
    actor=None,
    confirmation: CapitalMoveRequest | None = None,
    backdate_reason: str = "",
) -> CapitalMovement:
    """Capital received from a source: Dr 1121 (or 1111) / Cr the source's 411x account.

    Posted once per idempotency key; the same key with the same request returns the first
    movement, with a different request it is refused.
    """
    actor_require_fund_officer(actor, fund_id=fund.pk)
    _check_source(fund, source)
    value = _positive(amount)
    if cash_account not in CASH_ACCOUNTS:
        raise FundError(
            _("Tài khoản nhận vốn phải là tiền mặt hoặc tiền gửi."), field="cash_account"
        )
    memo = memo or f"Tiếp nhận vốn từ {source.name}"
    return _movement(
        kind=CapitalMovement.Kind.CONTRIBUTION,
        fund=fund,
        source=source,
        target=None,
        amount=value,
        effective_date=effective_date,
        memo=memo,
        idempotency_key=idempotency_key,
        legs=[
            debit(cash_account, value, fund_id=fund.pk),
            credit(source.account_code, value, fund_id=fund.pk, subledger=source.subledger),
        ],
        actor=actor,
        confirmation=confirmation,
        backdate=backdate_reason,
    )


def capital_withdrawal_post(
    *,
    fund: Fund,
    source: CapitalSource,
    amount,
    effective_date: date,
    idempotency_key: str,
    memo: str = "",
    cash_account: str = BANK,
    actor=None,
    confirmation: CapitalMoveRequest | None = None,
    backdate_reason: str = "",
) -> CapitalMovement:
    """Capital returned to a source: Dr 411x / Cr 1121.

    Refused beyond the source's own capital, and beyond the capital available (money lent out
    or committed to approved loans cannot be handed back).
    """
    actor_require_fund_officer(actor, fund_id=fund.pk)
    _check_source(fund, source)
    value = _positive(amount)
    if cash_account not in CASH_ACCOUNTS:
        raise FundError(
            _("Tài khoản chi trả vốn phải là tiền mặt hoặc tiền gửi."), field="cash_account"
        )
    with transaction.atomic():
        existing = CapitalMovement.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            capital_lock(fund=fund)
            _source_covers(source, value, effective_date, CapitalMovement.Kind.WITHDRAWAL)
            capital_check(fund=fund, amount=value)
        return _movement(
            kind=CapitalMovement.Kind.WITHDRAWAL,
            fund=fund,
            source=source,
            target=None,
            amount=value,
            effective_date=effective_date,
            memo=memo or f"Hoàn trả vốn cho {source.name}",
            idempotency_key=idempotency_key,
            legs=[
                debit(source.account_code, value, fund_id=fund.pk, subledger=source.subledger),
                credit(cash_account, value, fund_id=fund.pk),
            ],
            actor=actor,
            confirmation=confirmation,
            backdate=backdate_reason,
        )


def capital_transfer_post(
    *,
    fund: Fund,
    source: CapitalSource,
    target_source: CapitalSource,
    amount,
    effective_date: date,
    idempotency_key: str,
    memo: str = "",
    actor=None,
    confirmation: CapitalMoveRequest | None = None,
    backdate_reason: str = "",
) -> CapitalMovement:
    """Move capital from one source to another: Dr 411x (from) / Cr 411y (to).

    The fund's total capital does not change; refused beyond the giving source's capital.
    """
    actor_require_fund_officer(actor, fund_id=fund.pk)
    _check_source(fund, source)
    _check_source(fund, target_source, "target_source")
    if source.pk == target_source.pk:
        raise FundError(_("Nguồn chuyển và nguồn nhận phải khác nhau."), field="target_source")
    value = _positive(amount)
    with transaction.atomic():
        existing = CapitalMovement.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            capital_lock(fund=fund)
            _source_covers(source, value, effective_date, CapitalMovement.Kind.TRANSFER)
        return _movement(
            kind=CapitalMovement.Kind.TRANSFER,
            fund=fund,
            source=source,
            target=target_source,
            amount=value,
            effective_date=effective_date,
            memo=memo or f"Điều chuyển vốn từ {source.name} sang {target_source.name}",
            idempotency_key=idempotency_key,
            legs=[
                debit(source.account_code, value, fund_id=fund.pk, subledger=source.subledger),
                credit(
                    target_source.account_code,
                    value,
                    fund_id=fund.pk,
                    subledger=target_source.subledger,
                ),
            ],
            actor=actor,
            confirmation=confirmation,
            backdate=backdate_reason,
        )


# --------------------------------------------------------------------------------------------
# Capital: four eyes on moves above the fund's threshold (``fund.duties``)

CAPITAL_POSTERS = {
    CapitalMovement.Kind.CONTRIBUTION: capital_contribution_post,
    CapitalMovement.Kind.WITHDRAWAL: capital_withdrawal_post,
    CapitalMovement.Kind.TRANSFER: capital_transfer_post,
}


def _move_args(req: CapitalMoveRequest) -> dict:
    """The poster's arguments of a request (or of the same move entered at once)."""
    args = {
        "fund": req.fund,
        "source": req.source,
        "amount": amount_of(req.amount),
        "effective_date": req.effective_date,
        "memo": req.memo,
        "backdate_reason": req.backdated_reason,
    }
    if req.kind == CapitalMovement.Kind.TRANSFER:
        args["target_source"] = req.target_source
    else:
        args["cash_account"] = req.cash_account or BANK
    return args


def capital_move_enter(
    *,
    kind: str,
    fund: Fund,
    source: CapitalSource,
    amount,
    effective_date: date,
    idempotency_key: str,
    memo: str = "",
    cash_account: str = BANK,
    target_source: CapitalSource | None = None,
    actor=None,
    backdate_reason: str = "",
) -> CapitalMovement | CapitalMoveRequest:
    """Enter a capital contribution, withdrawal or transfer: posted at once (the movement) when
    the fund's policy lets one officer do it, else a pending ``CapitalMoveRequest`` that another
    fund officer confirms (``capital_move_confirm``) before anything posts.

    The request is checked as the posting would be (sources, accounts, the giving source's
    balance today) and checked again under lock when confirmed. Once per idempotency key: the
    same key with the same request returns the first one, with another request it is refused.
    """
    actor_require_fund_officer(actor, fund_id=fund.pk)
    if kind not in CAPITAL_POSTERS:
        raise FundError(_("Loại nghiệp vụ vốn không hợp lệ."), field="kind")
    value = _positive(amount)
    # The posting's value-date rule, checked when entered too (not only when confirmed).
    value_date_check(effective_date, field="effective_date", label=_("Ngày hạch toán"))
    backdate = backdate_reason_clean(
        fund, effective_date, backdate_reason, field="effective_date", label=_("Ngày hạch toán")
    )
    req = CapitalMoveRequest(
        fund=fund,
        kind=kind,
        source=source,
        target_source=target_source if kind == CapitalMovement.Kind.TRANSFER else None,
        amount=value,
        effective_date=effective_date,
        memo=memo or "",
        cash_account="" if kind == CapitalMovement.Kind.TRANSFER else cash_account,
        idempotency_key=idempotency_key,
        requested_by=actor_user(actor),
        backdated_reason=backdate,
    )
    if not capital_needs_confirmation(fund=fund, amount=value, actor=actor):
        return CAPITAL_POSTERS[kind](
            **_move_args(req), idempotency_key=idempotency_key, actor=actor
        )
    fields = ("kind", "source_id", "target_source_id", "amount", "effective_date", "cash_account")
    with transaction.atomic():
        existing = CapitalMoveRequest.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            same = all(
                amount_of(getattr(existing, f)) == amount_of(getattr(req, f)) for f in fields
            ) and (existing.fund_id == fund.pk)
            if not same:
                raise IdempotencyConflict(
                    _("Khóa chống trùng '%(key)s' đã dùng cho một nghiệp vụ vốn khác."),
                    field="idempotency_key",
                    params={"key": idempotency_key},
                )
            return existing
        _check_source(fund, source)
        if kind == CapitalMovement.Kind.TRANSFER:
            if target_source is None:
                raise FundError(_("Chọn nguồn vốn nhận."), field="target_source")
            _check_source(fund, target_source, "target_source")
            if source.pk == target_source.pk:
                raise FundError(
                    _("Nguồn chuyển và nguồn nhận phải khác nhau."), field="target_source"
                )
        elif cash_account not in CASH_ACCOUNTS:
            raise FundError(
                _("Tài khoản tiền phải là tiền mặt hoặc tiền gửi."), field="cash_account"
            )
        if kind != CapitalMovement.Kind.CONTRIBUTION:
            _source_covers(source, value, effective_date, kind)
        full_clean(req, error=FundError)
        req.save()
        audit_record(
            actor=actor,
            action="capital_request",
            obj=req,
            changes={
                "kind": [None, kind],
                "amount": [None, str(value)],
                "source": [None, source.code],
                **({"target_source": [None, req.target_source.code]} if req.target_source else {}),
                "status": [None, req.status],
                **({"backdated_reason": [None, backdate]} if backdate else {}),
            },
        )
    return req


def _decided(req: CapitalMoveRequest) -> FundError:
    return FundError(
        _("Nghiệp vụ vốn chờ xác nhận #%(id)s đã được quyết định (%(status)s)."),
        field="request",
        code="request_decided",
        params={"id": req.pk, "status": req.get_status_display()},
    )


def _request_lock(request: CapitalMoveRequest) -> CapitalMoveRequest:
    return (
        CapitalMoveRequest.objects.select_for_update(of=("self",))
        .select_related("fund", "source", "target_source", "requested_by")
        .get(pk=request.pk)
    )


def _decide(req: CapitalMoveRequest, status: str, actor, action: str, **fields) -> None:
    """Record the decision on a locked pending request (`fields`: the movement or the reason)
    and audit it."""
    req.status = status
    req.decided_by = actor_user(actor)
    req.decided_at = timezone.now()
    for name, value in fields.items():
        setattr(req, name, value)
    req.save(update_fields=["status", "decided_by", "decided_at", *fields])
    changes = {name: [None, getattr(value, "pk", value)] for name, value in fields.items()}
    audit_record(
        actor=actor, action=action, obj=req, changes={"status": ["pending", status], **changes}
    )


def capital_move_confirm(
    *, request: CapitalMoveRequest, actor=None, backdate_reason: str = ""
) -> CapitalMoveRequest:
    """A second fund officer confirms a pending capital move: it posts now (the movement records
    who entered and who confirmed it). Refused to the officer who entered it (naming the rule),
    and once decided; two concurrent confirmations post once (the row is locked), the same
    officer's retry returns the confirmed request.

    A move entered inside the fund's open window whose date the window has since left needs a
    reason: the request's own when it has one, else the confirmer's `backdate_reason` (without
    either it is refused naming ``effective_date``); the confirmer's is then kept on the request
    too, and on the entry as any back-dating reason."""
    actor_require_fund_officer(actor, fund_id=request.fund_id, field="request")
    with transaction.atomic():
        req = _request_lock(request)
        if req.status != CapitalMoveRequest.Status.PENDING:
            if req.status == CapitalMoveRequest.Status.CONFIRMED and (
                req.decided_by_id == actor_user_id(actor)
            ):
                return req
            raise _decided(req)
        duty_require_other(
            fund=req.fund, rule=CAPITAL_CONFIRMS, actor=actor, first_user_id=req.requested_by_id
        )
        args = _move_args(req)
        args["backdate_reason"] = args["backdate_reason"] or backdate_reason
        movement = CAPITAL_POSTERS[req.kind](
            **args,
            idempotency_key=f"confirmed:{req.pk}",
            actor=actor,
            confirmation=req,
        )
        given = {}
        if movement.journal_entry.backdated_reason and not req.backdated_reason:
            given["backdated_reason"] = movement.journal_entry.backdated_reason
        _decide(
            req,
            CapitalMoveRequest.Status.CONFIRMED,
            actor,
            "capital_confirm",
            movement=movement,
            **given,
        )
    return req


def capital_move_reject(
    *, request: CapitalMoveRequest, reason: str, actor=None
) -> CapitalMoveRequest:
    """A fund officer rejects a pending capital move with a reason; nothing posts. The officer
    who entered it may withdraw it this way too."""
    actor_require_fund_officer(actor, fund_id=request.fund_id, field="request")
    reason = clean_text(
        reason, error=FundError, field="reason", label=_("Lý do"), required=True, max_length=500
    )
    with transaction.atomic():
        req = _request_lock(request)
        if req.status != CapitalMoveRequest.Status.PENDING:
            if req.status == CapitalMoveRequest.Status.REJECTED and req.reason == reason:
                return req
            raise _decided(req)
        _decide(req, CapitalMoveRequest.Status.REJECTED, actor, "capital_reject", reason=reason)
    return req


# --------------------------------------------------------------------------------------------
# The fund's policy of separation of duties

DUTY_POLICY_FIELDS = (
    "duty_approver_not_disburser",
    "duty_recorder_not_reverser",
    "capital_confirmation_threshold",
    # The fund's other controls set on the same page: the back-dating window (months before the
    # current one, ``accounting.dates.backdate_window_start``) and the days a remittance may
    # take to reach the bank before it is listed as not received.
    "backdate_open_months",
    "remittance_receipt_days",
)
FUND_CONTROL_COUNTS = ("backdate_open_months", "remittance_receipt_days")


def fund_control_bounds(name: str) -> tuple[int, int]:
    """The least and greatest value of one of the fund's whole-number controls, read from the
    model field's validators (their one home, ``Fund``)."""
    validators = Fund._meta.get_field(name).validators
    low = max(v.limit_value for v in validators if isinstance(v, MinValueValidator))
    high = min(v.limit_value for v in validators if isinstance(v, MaxValueValidator))
    return low, high


def fund_duties_set(*, fund: Fund, actor=None, **fields) -> Fund:
    """Change the fund's separation-of-duties policy (``fund.duties``) and its other controls
    (`DUTY_POLICY_FIELDS`); audited field by field.
    `capital_confirmation_threshold`: a whole-đồng amount (0: every capital move is confirmed)
    or None (none is)."""
    actor_require_fund_officer(actor, fund_id=fund.pk)
    refuse_unknown_fields(fields, DUTY_POLICY_FIELDS, error=FundError)
    if "capital_confirmation_threshold" in fields:
        threshold = fields["capital_confirmation_threshold"]
        if threshold is not None:
            threshold = to_dong(threshold, field="capital_confirmation_threshold")
            if threshold < 0:
                raise FundError(
                    _("Ngưỡng xác nhận không được âm."), field="capital_confirmation_threshold"
                )
        fields["capital_confirmation_threshold"] = threshold
    for name in ("duty_approver_not_disburser", "duty_recorder_not_reverser"):
        if name in fields and not isinstance(fields[name], bool):
            raise FundError(_("Giá trị phải là có hoặc không."), field=name)
    for name in FUND_CONTROL_COUNTS:
        if name not in fields:
            continue
        low, high = fund_control_bounds(name)
        value = fields[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise FundError(
                _("Nhập một số nguyên từ %(low)s đến %(high)s."),
                field=name,
                params={"low": low, "high": high},
            )
    with transaction.atomic():
        locked = Fund.objects.select_for_update().get(pk=fund.pk)
        before = audit_snapshot(locked, DUTY_POLICY_FIELDS)
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.save(update_fields=list(fields) or None)
        changes = audit_changes(before, locked)
        if changes:
            audit_record(actor=actor, action="duties_set", obj=locked, changes=changes)
    for name in fields:
        setattr(fund, name, getattr(locked, name))
    return locked


# --------------------------------------------------------------------------------------------
# Lending capacity (hạn mức) of superior unions


def lending_allocation_set(
    *,
    superior_union: SuperiorUnion,
    amount,
    valid_from: date,
    note: str = "",
    actor=None,
) -> LendingAllocation:
    """Set a superior union's lending capacity from `valid_from` (None: no capacity limit).

    Setting the same date again replaces that day's figure (audited); history is kept by date.
    """
    actor_require_fund_officer(actor, fund_id=superior_union.fund_id)
    value = None if amount is None else to_dong(amount)
    if value is not None and value < 0:
        raise FundError(_("Hạn mức không được âm."), field="amount")
    with transaction.atomic():
        row = LendingAllocation.objects.filter(
            superior_union=superior_union, valid_from=valid_from
        ).first()
        if row is None:
            row = LendingAllocation(
                fund_id=superior_union.fund_id,
                superior_union=superior_union,
                amount=value,
                valid_from=valid_from,
                note=note,
                created_by=actor_user(actor),
            )
            full_clean(row, error=FundError, exclude=["superior_union", "fund"])
            row.save()
            audit_record(
                actor=actor,
                action="create",
                obj=row,
                changes={"amount": [None, None if value is None else str(value)]},
            )
            return row
        before = audit_snapshot(row, ["amount", "note"])
        row.amount, row.note = value, note
        changes = audit_changes(before, row)
        if changes:
            row.save(update_fields=["amount", "note"])
            audit_record(actor=actor, action="update", obj=row, changes=changes)
        return row


# --------------------------------------------------------------------------------------------
# Organisation

UNION_FIELDS = (
    "code",
    "name",
    "kind",
    "address",
    "contact_name",
    "contact_phone",
    "contact_email",
    "active_from",
    "active_to",
)
CONTACT_FIELDS = {"address", "contact_name", "contact_phone", "contact_email"}
# What a superior-union officer may change on their grassroots unions (not the code, not the
# affiliation: those are the fund's register).
SUPERIOR_EDITABLE = CONTACT_FIELDS | {"name", "kind", "active_from", "active_to"}
# Before the fund kept records: the affiliation of a union with no known start date.
AFFILIATION_SINCE_ALWAYS = date(1900, 1, 1)


def _check_union_dates(obj) -> None:
    if obj.active_from and obj.active_to and obj.active_to <= obj.active_from:
        raise FundError(
            _("Ngày ngừng hoạt động phải sau ngày bắt đầu hoạt động."), field="active_to"
        )


def _check_code_free(obj) -> None:
    taken = type(obj).objects.filter(fund_id=obj.fund_id, code=obj.code).exclude(pk=obj.pk).exists()
    if taken:
        raise FundError(
            _("Mã %(code)s đã được dùng cho đơn vị khác."), field="code", params={"code": obj.code}
        )


def _apply(obj, fields: dict, allowed: tuple[str, ...]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise FundError(
            _("Không sửa được trường: %(fields)s."),
            field=None,
            params={"fields": ", ".join(sorted(unknown))},
        )
    for k, v in fields.items():
        if k == "contact_phone":
            v = clean_phone(v, error=FundError, field=k, label=_("Điện thoại"))
        setattr(obj, k, "" if v is None and k not in ("active_from", "active_to") else v)


def superior_union_create(*, fund: Fund, actor=None, **fields) -> SuperiorUnion:
    """Register a superior union of the fund (fund officers only)."""
    actor_require_fund_officer(actor, fund_id=fund.pk)
    su = SuperiorUnion(fund=fund)
    _apply(su, fields, UNION_FIELDS)
    _check_union_dates(su)
    _check_code_free(su)
    full_clean(su, error=FundError)
    with transaction.atomic():
        su.save()
        audit_record(
            actor=actor,
            action="create",
            obj=su,
            changes={f: [None, v] for f, v in audit_snapshot(su, UNION_FIELDS).items() if v},
        )
    return su


def _union_update(union, fields: dict, *, actor):
    """Apply `fields` to the union (superior or grassroots) under its row lock, checked, and
    audit what changed; nothing is written when nothing changes."""
    with transaction.atomic():
        union = type(union).objects.select_for_update().get(pk=union.pk)
        before = audit_snapshot(union, UNION_FIELDS)
        _apply(union, fields, UNION_FIELDS)
        _check_union_dates(union)
        _check_code_free(union)
        full_clean(union, error=FundError)
        changes = audit_changes(before, union)
        if changes:
            union.save()
            audit_record(actor=actor, action="update", obj=union, changes=changes)
    return union


def superior_union_update(*, superior_union: SuperiorUnion, actor=None, **fields) -> SuperiorUnion:
    """Change a superior union. Its own officer may change its address and contact details."""
    scope = actor_scope(actor)
    if scope is not None:
        scope_require_write(scope)
        if not scope.allows_superior_union(superior_union):
            raise PermissionRefused(_("Công đoàn cấp trên này không thuộc phạm vi của bạn."))
        if scope.role != Role.FUND_OFFICER and not set(fields) <= CONTACT_FIELDS:
            raise PermissionRefused(_("Bạn chỉ được sửa địa chỉ và thông tin liên hệ."))
    return _union_update(superior_union, fields, actor=actor)


def grassroots_union_create(
    *,
    superior_union: SuperiorUnion,
    affiliated_from: date | None = None,
    actor=None,
    **fields,
) -> GrassrootsUnion:
    """Register a grassroots union under a superior union, opening its affiliation history.

    The affiliation starts on `affiliated_from`, else on the union's `active_from`, else "since
    always" (a union that existed before the fund kept records). Fund officers may register
    anywhere in their fund; a superior-union officer under their own union.
    """
    scope = actor_scope(actor)
    if scope is not None:
        scope_require_write(scope)
        if scope.role not in (Role.FUND_OFFICER, Role.SUPERIOR_OFFICER) or not (
            scope.allows_superior_union(superior_union)
        ):
            raise PermissionRefused(_("Bạn không được đăng ký công đoàn cơ sở ở đơn vị này."))
    gu = GrassrootsUnion(fund_id=superior_union.fund_id, superior_union=superior_union)
    _apply(gu, fields, UNION_FIELDS)
    _check_union_dates(gu)
    _check_code_free(gu)
    full_clean(gu, error=FundError)
    start = affiliated_from or gu.active_from or AFFILIATION_SINCE_ALWAYS
    with transaction.atomic():
        gu.save()
        GrassrootsUnionAffiliation.objects.create(
            grassroots_union=gu, superior_union=superior_union, valid_from=start
        )
        changes = {f: [None, v] for f, v in audit_snapshot(gu, UNION_FIELDS).items() if v}
        changes["superior_union_id"] = [None, superior_union.pk]
        audit_record(actor=actor, action="create", obj=gu, changes=changes)
    return gu


def grassroots_union_update(
    *, grassroots_union: GrassrootsUnion, actor=None, **fields
) -> GrassrootsUnion:
    """Change a grassroots union's details (not its superior union: see the move).

    Fund officers change anything; the superior union's officer its name, kind, dates and
    contact details; the union's own officer its address and contact details.
    """
    scope = actor_scope(actor)
    if scope is not None:
        scope_require_write(scope)
        if not scope.allows_grassroots_union(grassroots_union):
            raise PermissionRefused(_("Công đoàn cơ sở này không thuộc phạm vi của bạn."))
        allowed = {
            Role.FUND_OFFICER: set(UNION_FIELDS),
            Role.SUPERIOR_OFFICER: SUPERIOR_EDITABLE,
            Role.GRASSROOTS_OFFICER: CONTACT_FIELDS,
        }[Role(scope.role)]
        refused = set(fields) - allowed
        if refused:
            raise PermissionRefused(
                _("Bạn không được sửa: %(fields)s."),
                field=sorted(refused)[0],
                params={"fields": ", ".join(sorted(refused))},
            )
    return _union_update(grassroots_union, fields, actor=actor)


def grassroots_union_move(
    *,
    grassroots_union: GrassrootsUnion,
    superior_union: SuperiorUnion,
    effective_date: date,
    actor=None,
) -> GrassrootsUnion:
    """Move a grassroots union to another superior union from `effective_date` on.

    History is kept: the current affiliation ends the day before (``valid_to`` = the date) and a
    new one starts; reports for earlier dates still find the old superior union, and postings
    already made keep the union ids they were made with. Fund officers only; not into the future,
    not before the current affiliation began.
    """
    actor_require_fund_officer(actor, fund_id=grassroots_union.fund_id)
    if superior_union.fund_id != grassroots_union.fund_id:
        raise FundError(_("Công đoàn cấp trên mới thuộc quỹ khác."), field="superior_union")
    if effective_date > business_today():
        raise FundError(_("Ngày chuyển không được sau ngày hôm nay."), field="effective_date")
    with transaction.atomic():
        gu = GrassrootsUnion.objects.select_for_update().get(pk=grassroots_union.pk)
        if gu.superior_union_id == superior_union.pk:
            raise FundError(
                _("%(union)s đã trực thuộc %(superior)s."),
                field="superior_union",
                params={"union": gu.name, "superior": superior_union.name},
            )
        dated_history_advance(
            history=GrassrootsUnionAffiliation.objects.filter(grassroots_union=gu),
            effective_date=effective_date,
            what=_("trực thuộc"),
            error_class=FundError,
            open_next=lambda: GrassrootsUnionAffiliation.objects.create(
                grassroots_union=gu, superior_union=superior_union, valid_from=effective_date
            ),
        )
        old = gu.superior_union_id
        gu.superior_union = superior_union
        gu.save(update_fields=["superior_union"])
        audit_record(
            actor=actor,
            action="move",
            obj=gu,
            changes={
                "superior_union_id": [old, superior_union.pk],
                "effective_date": [None, effective_date.isoformat()],
            },
        )
    return gu


def officer_profile_set(
    *,
    user,
    fund: Fund,
    role: str,
    superior_union: SuperiorUnion | None = None,
    grassroots_union: GrassrootsUnion | None = None,
    phone: str | None = None,
    actor=None,
) -> OfficerProfile:
    """Give a user their role and unit in a fund (fund officers of that fund only).

    The unit must match the role: a superior-union officer has a superior union, a
    grassroots-union officer a grassroots union, and the unit belongs to the fund.
    """
    actor_require_fund_officer(actor, fund_id=fund.pk)
    return officer_profile_write(
        user=user,
        fund=fund,
        role=role,
        superior_union=superior_union,
        grassroots_union=grassroots_union,
        phone=phone,
        actor=actor,
    )


OFFICER_PROFILE_FIELDS = ("fund_id", "role", "superior_union_id", "grassroots_union_id", "phone")


def officer_profile_write(
    *,
    user,
    fund: Fund,
    role: str,
    superior_union: SuperiorUnion | None = None,
    grassroots_union: GrassrootsUnion | None = None,
    phone: str | None = None,
    actor=None,
    more_changes: dict | None = None,
) -> OfficerProfile:
    """Write a user's role and unit (the unit matching the role, inside the fund) and audit it,
    with `more_changes` (the user's own fields) in the same entry. The caller has checked that
    the actor may (``officer_profile_set``, ``fund.officers``)."""
    try:
        role = Role(role)
    except ValueError:
        raise FundError(_("Vai trò không hợp lệ."), field="role") from None
    if role == Role.SUPERIOR_OFFICER and superior_union is None:
        raise FundError(
            _("Cán bộ công đoàn cấp trên phải gắn với một công đoàn cấp trên."),
            field="superior_union",
        )
    if role == Role.GRASSROOTS_OFFICER and grassroots_union is None:
        raise FundError(
            _("Cán bộ công đoàn cơ sở phải gắn với một công đoàn cơ sở."), field="grassroots_union"
        )
    if role != Role.SUPERIOR_OFFICER:
        superior_union = None
    if role != Role.GRASSROOTS_OFFICER:
        grassroots_union = None
    for unit, name in ((superior_union, "superior_union"), (grassroots_union, "grassroots_union")):
        if unit is not None and unit.fund_id != fund.pk:
            raise FundError(_("Đơn vị không thuộc quỹ này."), field=name)
    fields = OFFICER_PROFILE_FIELDS
    with transaction.atomic():
        profile = OfficerProfile.objects.select_for_update().filter(user=user).first()
        created = profile is None
        if created:
            profile = OfficerProfile(user=user)
        before = dict.fromkeys(fields) if created else audit_snapshot(profile, fields)
        unit_before = None if created else (profile.grassroots_union or profile.superior_union)
        profile.fund, profile.role = fund, role
        profile.superior_union, profile.grassroots_union = superior_union, grassroots_union
        unit = grassroots_union or superior_union
        if unit != unit_before:  # the unit by name too: the log reads in words
            more_changes = {
                **(more_changes or {}),
                "unit": [getattr(unit_before, "name", None), getattr(unit, "name", None)],
            }
        if phone is not None:
            profile.phone = clean_phone(
                phone, error=FundError, field="phone", label=_("Điện thoại")
            )
        changes = {**(more_changes or {}), **audit_changes(before, profile)}
        if changes:
            profile.save()
            audit_record(
                actor=actor,
                action="create" if created else "update",
                obj=profile,
                changes=changes,
            )
    return profile


# --------------------------------------------------------------------------------------------
# Plans


def _figures(values: dict) -> dict:
    out = {}
    for f in PlanSplit.FIGURES:
        if f not in values or values[f] is None:
            continue
        v = to_dong(values[f], field=f) if f == "disbursed_amount" else values[f]
        if not isinstance(v, int | Decimal) or isinstance(v, bool) or v < 0:
            raise FundError(_("Chỉ tiêu kế hoạch phải là số không âm."), field=f)
        out[f] = v
    return out


def _check_split_fits(plan: AnnualPlan) -> None:
    from fund.selectors import plan_split_summary

    for gap in plan_split_summary(plan=plan):
        over = [f for f, v in gap.unallocated.items() if v < 0]
        if over:
            f = over[0]
            raise FundError(
                _(
                    "Phân bổ vượt kế hoạch (%(part)s): chỉ tiêu %(figure)s đã phân bổ "
                    "%(allocated)s, kế hoạch %(planned)s."
                ),
                field=f,
                params={
                    "part": gap.label,
                    "figure": PLAN_FIGURE_LABELS[f],
                    "allocated": f"{gap.allocated[f]:,.0f}".replace(",", "."),
                    "planned": f"{gap.total[f]:,.0f}".replace(",", "."),
                },
            )


PLAN_FIGURE_LABELS = {
    "disbursed_amount": _("doanh số cho vay"),
    "borrowers": _("số lượt thành viên vay"),
    "loans": _("số khoản vay"),
    "grassroots_unions": _("số CĐCS có thành viên vay"),
    "jobs": _("số việc làm tạo mới"),
}


PLAN_REASON_MAX = 500


def _reason(reason: str | None) -> str | None:
    """The reason given for a change of plan, trimmed; None when none was given."""
    if reason is None:
        return None
    reason = " ".join(str(reason).split())
    if not reason:
        raise FundError(_("Nhập lý do điều chỉnh kế hoạch."), field="reason")
    if len(reason) > PLAN_REASON_MAX:
        raise FundError(
            _("Lý do điều chỉnh dài tối đa %(max)s ký tự."),
            field="reason",
            params={"max": PLAN_REASON_MAX},
        )
    return reason


def annual_plan_set(
    *,
    fund: Fund,
    year: int,
    note: str | None = None,
    reason: str | None = None,
    require_reason: bool = False,
    actor=None,
    **figures,
) -> AnnualPlan:
    """Create or change the fund's plan for a year (fund officers only).

    Invariants: no part of the split exceeds what it splits (the rest is shown as unallocated);
    a refused change leaves the plan and the log as they were (one transaction). The `reason`
    of a change is recorded in the audit entry next to the old and new figures, so the log is
    the plan's history; with `require_reason` (the pages and the API) changing an existing
    plan without one is refused. Setting the figures it already has changes and logs nothing,
    so a form submitted twice is recorded once.
    """
    actor_require_fund_officer(actor, fund_id=fund.pk)
    values = _figures(figures)
    reason = _reason(reason)
    with transaction.atomic():
        plan = AnnualPlan.objects.select_for_update().filter(fund=fund, year=year).first()
        created = plan is None
        if created:
            plan = AnnualPlan(fund=fund, year=year)
        before = {} if created else audit_snapshot(plan, (*PlanSplit.FIGURES, "note"))
        for f, v in values.items():
            setattr(plan, f, v)
        if note is not None:
            plan.note = note
        full_clean(plan, error=FundError, exclude=["fund"])
        if created:
            plan.save()
            audit_record(
                actor=actor,
                action="create",
                obj=plan,
                changes={
                    f: [None, v]
                    for f, v in audit_snapshot(plan, (*PlanSplit.FIGURES, "year")).items()
                },
            )
        else:
            changes = audit_changes(before, plan)
            if changes and require_reason and not reason:
                raise FundError(_("Nhập lý do điều chỉnh kế hoạch."), field="reason")
            if changes:
                plan.save()
                if reason:
                    changes["reason"] = [None, reason]
                audit_record(actor=actor, action="update", obj=plan, changes=changes)
        _check_split_fits(plan)
    return plan


def plan_split_set(
    *,
    plan: AnnualPlan,
    quarter: int = 0,
    superior_union: SuperiorUnion | None = None,
    grassroots_union: GrassrootsUnion | None = None,
    reason: str | None = None,
    require_reason: bool = False,
    actor=None,
    **figures,
) -> PlanSplit:
    """Set one part of a plan's split: a quarter of the fund's plan (no union), a superior
    union's year (quarter 0) or quarter, or a grassroots union's.

    A grassroots union's part counts towards its current superior union's. Refused when the
    parts would add up to more than what they split. The `reason` of a change is recorded in
    its audit entry; with `require_reason` changing an existing part without one is refused.
    """
    actor_require_fund_officer(actor, fund_id=plan.fund_id)
    reason = _reason(reason)
    if quarter not in (0, 1, 2, 3, 4):
        raise FundError(_("Quý phải từ 1 đến 4 (0: cả năm)."), field="quarter")
    if grassroots_union is not None:
        if superior_union is not None and superior_union.pk != grassroots_union.superior_union_id:
            raise FundError(
                _("Công đoàn cơ sở không trực thuộc công đoàn cấp trên này."),
                field="superior_union",
            )
        superior_union = grassroots_union.superior_union
    if superior_union is None and quarter == 0:
        raise FundError(
            _("Chỉ tiêu cả năm của quỹ là kế hoạch năm; phân bổ của quỹ là theo quý."),
            field="quarter",
        )
    if superior_union is not None and superior_union.fund_id != plan.fund_id:
        raise FundError(_("Đơn vị không thuộc quỹ của kế hoạch."), field="superior_union")
    values = _figures(figures)
    with transaction.atomic():
        AnnualPlan.objects.select_for_update().filter(pk=plan.pk).first()
        lookup = {"plan": plan, "quarter": quarter}
        if grassroots_union is not None:
            lookup["grassroots_union"] = grassroots_union
        else:
            lookup.update(superior_union=superior_union, grassroots_union=None)
        split = PlanSplit.objects.filter(**lookup).first()
        created = split is None
        if created:
            split = PlanSplit(
                plan=plan,
                quarter=quarter,
                superior_union=superior_union,
                grassroots_union=grassroots_union,
            )
        before = {} if created else audit_snapshot(split, PlanSplit.FIGURES)
        for f, v in values.items():
            setattr(split, f, v)
        changes = (
            {f: [None, v] for f, v in audit_snapshot(split, PlanSplit.FIGURES).items()}
            if created
            else audit_changes(before, split)
        )
        if changes and not created and require_reason and not reason:
            raise FundError(_("Nhập lý do điều chỉnh kế hoạch."), field="reason")
        if changes:
            split.save()
            if reason and not created:
                changes["reason"] = [None, reason]
            audit_record(
                actor=actor, action="create" if created else "update", obj=split, changes=changes
            )
            _check_split_fits(plan)
    return split


def plan_split_delete(*, split: PlanSplit, actor=None) -> None:
    actor_require_fund_officer(actor, fund_id=split.plan.fund_id)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="delete",
            obj=split,
            changes={f: [v, None] for f, v in audit_snapshot(split, PlanSplit.FIGURES).items()},
        )
        split.delete()


def dated_history_advance(*, history, effective_date: date, what: str, error_class, open_next):
    """Close the open row of a dated history (valid_from / valid_to) and open the next one.

    Invariant: rows never overlap and the history has no gap: the open row ends on the day the
    next begins, which must be after it began. Shared by union affiliations and, in the loans
    layer, borrower memberships. `history` is the owner's rows (lock them first if needed).
    """
    current = history.filter(valid_to__isnull=True).order_by("-valid_from").first()
    if current is not None:
        if effective_date <= current.valid_from:
            raise error_class(
                _("Ngày chuyển phải sau ngày bắt đầu %(what)s hiện tại (%(since)s)."),
                field="effective_date",
                params={"what": what, "since": f"{current.valid_from:%d/%m/%Y}"},
            )
        current.valid_to = effective_date
        current.save(update_fields=["valid_to"])
    return open_next()


# --------------------------------------------------------------------------------------------
# Working days


def calendar_day_set(*, fund: Fund, day: date, working: bool, note: str = "", actor=None):
    """Make `day` a day off (`working` False) or a working day of the fund, whatever the rule
    (weekend, public holiday) says (fund officers only; audited). Loans already disbursed keep
    their due dates; schedules made from now on follow the calendar."""
    actor_require_fund_officer(actor, fund_id=fund.pk)
    day = clean_date(day, error=FundError, field="day", label=_("Ngày"))
    note = clean_text(note, error=FundError, field="note", label=_("Ghi chú"))
    if not isinstance(working, bool):
        raise FundError(_("Phải chọn ngày nghỉ hay ngày làm việc."), field="working")
    with transaction.atomic():
        entry = CalendarDay.objects.select_for_update().filter(fund=fund, day=day).first()
        before = None if entry is None else audit_snapshot(entry, ("working", "note"))
        entry = entry or CalendarDay(fund=fund, day=day, working=working)
        entry.working, entry.note = working, note
        changes = audit_changes(before or dict.fromkeys(("working", "note")), entry)
        if changes:
            entry.save()
            action = "create" if before is None else "update"
            audit_record(actor=actor, action=action, obj=entry, changes=changes)
    return entry


def calendar_day_clear(*, fund: Fund, day: date, actor=None) -> None:
    """Give `day` back to the rule (fund officers only; audited)."""
    actor_require_fund_officer(actor, fund_id=fund.pk)
    with transaction.atomic():
        entry = CalendarDay.objects.select_for_update().filter(fund=fund, day=day).first()
        if entry is None:
            return
        audit_record(
            actor=actor,
            action="delete",
            obj=entry,
            changes={f: [v, None] for f, v in audit_snapshot(entry, ("working", "note")).items()},
        )
        entry.delete()
