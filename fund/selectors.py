"""Fund reads: capital available, affiliations on a date, plans and their split."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounting.dates import business_today
from accounting.money import amount_of
from accounting.selectors import account_balance, balances_by_account
from fund.accounts import CAPITAL, LOANS_RECEIVABLE
from fund.models import (
    AnnualPlan,
    AuditLog,
    CapitalCommitment,
    CapitalSource,
    Fund,
    GrassrootsUnion,
    GrassrootsUnionAffiliation,
    LendingAllocation,
    OfficerProfile,
    PlanSplit,
    SuperiorUnion,
)
from fund.scoping import officer_scope_filter

ZERO = Decimal(0)
# --------------------------------------------------------------------------------------------
# Capital


def capital_total(*, fund: Fund, as_of: date | None = None) -> Decimal:
    """The fund's capital: the credit balance of the 411 subtree with the fund's dimension."""
    as_of = as_of or business_today()
    return -account_balance(account=CAPITAL, as_of=as_of, fund_id=fund.pk)


def capital_by_source(*, fund: Fund, as_of: date | None = None) -> dict[CapitalSource, Decimal]:
    """Capital of each source (its sub-ledger on its 411x account)."""
    as_of = as_of or business_today()
    return {
        s: -account_balance(
            account=s.account_code, as_of=as_of, fund_id=fund.pk, subledger=s.subledger
        )
        for s in CapitalSource.objects.filter(fund=fund).order_by("code")
    }


def capital_source_balance(*, source: CapitalSource, as_of: date | None = None) -> Decimal:
    as_of = as_of or business_today()
    return -account_balance(
        account=source.account_code,
        as_of=as_of,
        fund_id=source.fund_id,
        subledger=source.subledger,
    )


def loans_outstanding(
    *, fund: Fund, superior_union: SuperiorUnion | None = None, as_of: date | None = None
) -> Decimal:
    """Principal outstanding (the debit balance of 1283) of the fund or of one superior union."""
    as_of = as_of or business_today()
    return account_balance(
        account=LOANS_RECEIVABLE,
        as_of=as_of,
        fund_id=fund.pk,
        superior_union_id=superior_union.pk if superior_union else None,
    )


def capital_committed_filter(*, as_of: date | None = None) -> Q:
    """The commitments that count as committed: open now, or open then for a past date."""
    if as_of is None or as_of >= business_today():
        return Q(status=CapitalCommitment.Status.OPEN)
    end = datetime.combine(as_of, time.max, tzinfo=timezone.get_current_timezone())
    return Q(created_at__lte=end) & (
        Q(status=CapitalCommitment.Status.OPEN) | Q(released_at__gt=end)
    )


def capital_committed(
    *, fund: Fund, superior_union: SuperiorUnion | None = None, as_of: date | None = None
) -> Decimal:
    """Capital held for approved loans not yet disbursed: open now, or open then for a past date."""
    qs = CapitalCommitment.objects.filter(fund=fund)
    if superior_union is not None:
        qs = qs.filter(superior_union=superior_union)
    qs = qs.filter(capital_committed_filter(as_of=as_of))
    return qs.aggregate(s=Sum("amount"))["s"] or ZERO


def lending_allocation_in_force(
    *, superior_union: SuperiorUnion, as_of: date | None = None
) -> Decimal | None:
    """The superior union's lending capacity on a date, or None when it has none."""
    as_of = as_of or business_today()
    row = (
        LendingAllocation.objects.filter(superior_union=superior_union, valid_from__lte=as_of)
        .order_by("-valid_from")
        .values_list("amount", flat=True)
        .first()
    )
    return row


def capital_available(
    *, fund: Fund, superior_union: SuperiorUnion | None = None, as_of: date | None = None
) -> Decimal:
    """Capital available to lend.

    Fund-wide: capital (411) − loans outstanding (1283) − committed. For a superior union with a
    lending capacity (hạn mức) in force: that capacity − its outstanding − its commitments; for
    one without, the fund-wide figure. (``capital_check`` enforces both limits.)
    """
    if superior_union is not None:
        allocation = lending_allocation_in_force(superior_union=superior_union, as_of=as_of)
        if allocation is not None:
            return (
                allocation
                - loans_outstanding(fund=fund, superior_union=superior_union, as_of=as_of)
                - capital_committed(fund=fund, superior_union=superior_union, as_of=as_of)
            )
    return (
        capital_total(fund=fund, as_of=as_of)
        - loans_outstanding(fund=fund, as_of=as_of)
        - capital_committed(fund=fund, as_of=as_of)
    )


@dataclass(frozen=True)
class CapitalPosition:
    capital: Decimal  # 411, credit balance
    outstanding: Decimal  # 1283, debit balance
    committed: Decimal

    @property
    def available(self) -> Decimal:
        return self.capital - self.outstanding - self.committed


def capital_position(
    *, fund: Fund, as_of: date | None = None, committed: Decimal | None = None
) -> CapitalPosition:
    """The fund-wide figures of ``capital_available`` read together: both ledger balances
    from one grouped read of the day's turnover (``balances_by_account``), not one each.
    `committed`: the caller has already summed the commitments (``capital_check``)."""
    from accounting.models import Account

    as_of = as_of or business_today()
    balances = balances_by_account(as_of=as_of, fund_id=fund.pk)
    accounts = list(Account.objects.values_list("id", "code", "path"))
    path_of = {code: path for _, code, path in accounts}

    def subtree(code: str) -> Decimal:
        root = path_of[code]
        return sum((balances.get(i, ZERO) for i, _, p in accounts if p.startswith(root)), ZERO)

    return CapitalPosition(
        capital=-subtree(CAPITAL),
        outstanding=subtree(LOANS_RECEIVABLE),
        committed=capital_committed(fund=fund, as_of=as_of) if committed is None else committed,
    )


# --------------------------------------------------------------------------------------------
# Organisation


def superior_union_on(*, grassroots_union: GrassrootsUnion, on: date) -> SuperiorUnion | None:
    """The superior union `grassroots_union` belonged to on date `on` (None before it joined)."""
    aff = (
        GrassrootsUnionAffiliation.objects.filter(
            grassroots_union=grassroots_union, valid_from__lte=on
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=on))
        .select_related("superior_union")
        .first()
    )
    return aff.superior_union if aff else None


def grassroots_unions_of_on(*, superior_union: SuperiorUnion, on: date):
    """The grassroots unions that belonged to `superior_union` on date `on`."""
    # One filter() call, so that all conditions apply to the same affiliation row.
    return GrassrootsUnion.objects.filter(
        Q(affiliations__superior_union=superior_union, affiliations__valid_from__lte=on)
        & (Q(affiliations__valid_to__isnull=True) | Q(affiliations__valid_to__gt=on))
    ).distinct()


# --------------------------------------------------------------------------------------------
# Plans

FIGURES = PlanSplit.FIGURES


def _zero() -> dict:
    return {f: Decimal(0) for f in FIGURES}


def _figs(obj) -> dict:
    return {f: Decimal(amount_of(getattr(obj, f))) for f in FIGURES}


def _add(a: dict, b: dict) -> dict:
    return {f: a[f] + b[f] for f in FIGURES}


def _year_of(by_quarter: dict[int, dict]) -> dict | None:
    if 0 in by_quarter:
        return by_quarter[0]
    quarters = [v for q, v in by_quarter.items() if q]
    if not quarters:
        return None
    total = _zero()
    for v in quarters:
        total = _add(total, v)
    return total


@dataclass(frozen=True)
class SplitGap:
    """One split of a plan: what is split, how much of it is allocated, and the rest."""

    label: str
    kind: str  # "quarters", "superior_unions" or "grassroots_unions"
    superior_union: SuperiorUnion | None
    grassroots_union: GrassrootsUnion | None
    total: dict
    allocated: dict

    @property
    def unallocated(self) -> dict:
        return {f: self.total[f] - self.allocated[f] for f in FIGURES}

    @property
    def adds_up(self) -> bool:
        return all(v == 0 for v in self.unallocated.values())


def plan_split_summary(*, plan: AnnualPlan) -> list[SplitGap]:
    """Every split the plan has, with the unallocated difference of each.

    A superior union's year figure is its own year row, else the sum of its quarters, else the
    sum of its grassroots unions' figures. Only splits that were started are listed.
    """
    rows = list(plan.splits.select_related("superior_union", "grassroots_union"))
    fund_q: list[PlanSplit] = []
    su_rows: dict[SuperiorUnion, dict[int, dict]] = defaultdict(dict)
    gu_rows: dict[GrassrootsUnion, dict[int, dict]] = defaultdict(dict)
    gu_of: dict[SuperiorUnion, list[GrassrootsUnion]] = defaultdict(list)
    for r in rows:
        if r.grassroots_union is not None:
            gu_rows[r.grassroots_union][r.quarter] = _figs(r)
            if r.grassroots_union not in gu_of[r.superior_union]:
                gu_of[r.superior_union].append(r.grassroots_union)
        elif r.superior_union is not None:
            su_rows[r.superior_union][r.quarter] = _figs(r)
        else:
            fund_q.append(r)
    plan_total = _figs(plan)
    gaps: list[SplitGap] = []

    def total_of(items) -> dict:
        t = _zero()
        for v in items:
            t = _add(t, v)
        return t

    if fund_q:
        gaps.append(
            SplitGap(
                "Phân bổ kế hoạch của quỹ theo quý",
                "quarters",
                None,
                None,
                plan_total,
                total_of(_figs(r) for r in fund_q),
            )
        )
    su_year: dict[SuperiorUnion, dict] = {}
    for su in set(su_rows) | set(gu_of):
        own = _year_of(su_rows.get(su, {}))
        su_year[su] = own if own is not None else total_of(_year_of(gu_rows[g]) for g in gu_of[su])
    if su_year:
        gaps.append(
            SplitGap(
                "Phân bổ kế hoạch cho các công đoàn cấp trên",
                "superior_unions",
                None,
                None,
                plan_total,
                total_of(su_year.values()),
            )
        )
    for su in sorted(su_year, key=lambda u: u.code):
        by_q = su_rows.get(su, {})
        if 0 in by_q and any(q for q in by_q):
            gaps.append(
                SplitGap(
                    f"Phân bổ theo quý của {su.name}",
                    "quarters",
                    su,
                    None,
                    by_q[0],
                    total_of(v for q, v in by_q.items() if q),
                )
            )
        if by_q and gu_of.get(su):
            gaps.append(
                SplitGap(
                    f"Phân bổ của {su.name} cho các công đoàn cơ sở",
                    "grassroots_unions",
                    su,
                    None,
                    su_year[su],
                    total_of(_year_of(gu_rows[g]) for g in gu_of[su]),
                )
            )
        for gu in sorted(gu_of.get(su, []), key=lambda u: u.code):
            by_q = gu_rows[gu]
            if 0 in by_q and any(q for q in by_q):
                gaps.append(
                    SplitGap(
                        f"Phân bổ theo quý của {gu.name}",
                        "quarters",
                        su,
                        gu,
                        by_q[0],
                        total_of(v for q, v in by_q.items() if q),
                    )
                )
    return gaps


def plan_history(*, plan: AnnualPlan, limit: int = 100):
    """The audit log of a plan and of its current splits, newest first: the plan's history
    (each change's old and new figures, and the reason given under ``changes["reason"]``)."""
    types = ContentType.objects.get_for_models(AnnualPlan, PlanSplit)
    split_ids = [str(pk) for pk in plan.splits.values_list("pk", flat=True)]
    return AuditLog.objects.filter(
        Q(content_type=types[AnnualPlan], object_id=str(plan.pk))
        | Q(content_type=types[PlanSplit], object_id__in=split_ids)
    ).order_by("-at", "-id")[:limit]


def capital_requests_to_confirm(*, fund: Fund, user) -> QuerySet:
    """The capital moves waiting for `user`, a fund officer of `fund`, to confirm: every pending
    request of the fund, but their own while the four-eyes rule holds (``fund.duties``)."""
    from fund.duties import CAPITAL_CONFIRMS, duty_applies
    from fund.models import CapitalMoveRequest

    qs = CapitalMoveRequest.objects.filter(fund=fund, status=CapitalMoveRequest.Status.PENDING)
    if duty_applies(fund, CAPITAL_CONFIRMS):
        qs = qs.exclude(requested_by_id=getattr(user, "pk", None))
    return qs


# --------------------------------------------------------------------------------------------
# Officer accounts


def officers_list(*, scope, q: str = ""):
    """The officer accounts a scope may see (``fund.scoping.officer_scope_filter``), by name,
    each with its user, unit and ``two_factor`` (a confirmed authenticator). `q` matches the
    user name, the name, the e-mail or the phone."""
    qs = officer_scope_filter(OfficerProfile.objects.all(), scope)
    q = (q or "").strip()
    if q:
        match = Q()
        for word in q.split():
            match &= (
                Q(user__username__icontains=word)
                | Q(user__first_name__icontains=word)
                | Q(user__last_name__icontains=word)
                | Q(user__email__icontains=word)
                | Q(phone__icontains=word)
            )
        qs = qs.filter(match)
    devices = TOTPDevice.objects.filter(user_id=OuterRef("user_id"), confirmed=True)
    return (
        qs.select_related("user", "superior_union", "grassroots_union")
        .annotate(two_factor=Exists(devices))
        .order_by("user__first_name", "user__last_name", "user__username", "pk")
    )


def officer_get(*, scope, pk):
    """One officer account inside the scope, or Http404 (another fund's or union's officer)."""
    try:
        return (
            officer_scope_filter(OfficerProfile.objects.all(), scope)
            .select_related("user", "fund", "superior_union", "grassroots_union")
            .get(pk=pk)
        )
    except (OfficerProfile.DoesNotExist, ValueError, TypeError):
        raise Http404(_("Không tìm thấy.")) from None
