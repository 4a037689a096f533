"""Who may borrow: a borrower's standing (outstanding debt, arrears) and eligibility for a
product on a date, with every reason stated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connections, router
from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _

from accounting.dates import business_today
from accounting.errors import lazy_lower, translatable
from accounting.formatting import format_vnd
from accounting.money import ZERO, amount_of
from fund.models import Fund, GrassrootsUnion
from loans.errors import Reason
from loans.models import (
    Borrower,
    HouseholdStatus,
    Installment,
    InstallmentStatus,
    Loan,
    LoanApplication,
    LoanProduct,
    LoanStatus,
)
from loans.schedules import add_months


def age_on(date_of_birth: date, on: date) -> int:
    """Age in whole years on date `on` (a birthday on 29/02 comes on 01/03 in common years)."""
    years = on.year - date_of_birth.year
    if (on.month, on.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


# --------------------------------------------------------------------------------------------
# Borrowers and eligibility


def borrower_outstanding(*, borrower: Borrower) -> Decimal:
    """Principal the borrower owes now on their active loans (the stored loan-book figure)."""
    total = Loan.objects.filter(borrower=borrower, status=LoanStatus.ACTIVE).aggregate(
        s=Sum("outstanding_principal")
    )["s"]
    return total or ZERO


def borrower_has_overdue(*, borrower: Borrower, on: date) -> bool:
    """Whether an active loan of the borrower is late: classified past due, or an installment
    fell due before `on` and is not fully paid."""
    # One query: every active loan has installments, so "an active loan past due" is "an
    # installment of an active loan whose loan is past due, or which is itself late".
    return Installment.objects.filter(
        Q(loan__days_past_due__gt=0) | (Q(due_date__lt=on) & ~Q(status=InstallmentStatus.PAID)),
        loan__borrower=borrower,
        loan__status=LoanStatus.ACTIVE,
    ).exists()


@dataclass(frozen=True)
class Standing:
    """What the eligibility rules read of a member's loans and applications."""

    outstanding: Decimal  # principal owed on the active loans
    late: bool  # an active loan classified past due, or with an installment late
    other_open: int | None  # the oldest application in progress (not the one checked), if any


def borrower_standing(
    *, borrower: Borrower, on: date, open_except: int | None = None, with_open: bool = True
) -> Standing:
    """``borrower_outstanding``, ``borrower_has_overdue`` and the oldest application of the
    member in progress other than `open_except` (not read when not `with_open`), in one query.

    The eligibility check runs it at every step of the approval chain (five times a loan), so it
    is written once as SQL: the ORM spent more building these queries than the database running
    them. Tested equal to the ORM selectors."""
    loan, inst, app = Loan._meta, Installment._meta, LoanApplication._meta
    conn = connections[router.db_for_read(Loan)]
    qn = conn.ops.quote_name

    def col(meta, name):
        return qn(meta.get_field(name).column)

    params: list = [conn.ops.adapt_datefield_value(on), str(InstallmentStatus.PAID)]
    open_sql = ", NULL"
    if with_open:
        statuses = [str(st) for st in LoanApplication.OPEN_STATUSES]
        open_sql = (
            f", (SELECT MIN(a.{col(app, 'id')}) FROM {qn(app.db_table)} a "
            f"WHERE a.{col(app, 'borrower')} = %s AND a.{col(app, 'status')} IN "
            f"({', '.join(['%s'] * len(statuses))})"
            + (f" AND a.{col(app, 'id')} <> %s" if open_except is not None else "")
            + ")"
        )
        params += [borrower.pk, *statuses] + ([open_except] if open_except is not None else [])
    sql = (
        f"SELECT SUM(l.{col(loan, 'outstanding_principal')}), COUNT(CASE WHEN "
        f"l.{col(loan, 'days_past_due')} > 0 OR EXISTS (SELECT 1 FROM {qn(inst.db_table)} i "
        f"WHERE i.{col(inst, 'loan')} = l.{col(loan, 'id')} AND i.{col(inst, 'due_date')} < %s "
        f"AND i.{col(inst, 'status')} <> %s) THEN 1 END){open_sql} "
        f"FROM {qn(loan.db_table)} l WHERE l.{col(loan, 'borrower')} = %s "
        f"AND l.{col(loan, 'status')} = %s"
    )
    params += [borrower.pk, str(LoanStatus.ACTIVE)]
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        total, late, other = cursor.fetchone()
    if total is None:
        total = ZERO
    elif not isinstance(total, Decimal):
        total = Decimal(str(total))
    return Standing(total, bool(late), other)


def certificate_expiry(*, borrower: Borrower, product: LoanProduct) -> date | None:
    """The last day the household certificate counts (None without a certificate date).

    An explicit ``certificate_valid_to`` wins; otherwise the product's validity runs from the
    date of issue (``just_out_of_poverty_months`` for a household just out of poverty).
    """
    if borrower.certificate_valid_to is not None:
        return borrower.certificate_valid_to
    if borrower.certificate_date is None:
        return None
    months = (
        product.just_out_of_poverty_months
        if borrower.household_status == HouseholdStatus.JUST_OUT_OF_POVERTY
        else product.certificate_validity_months
    )
    return add_months(borrower.certificate_date, months) - timedelta(days=1)


def _union_active(unit, on: date) -> bool:
    return (unit.active_from is None or unit.active_from <= on) and (
        unit.active_to is None or unit.active_to > on
    )


@dataclass(frozen=True)
class Eligibility:
    """The outcome of the eligibility rules: every rule not met, with its reason."""

    reasons: tuple[Reason, ...]
    outstanding: Decimal
    limit: Decimal
    on: date

    @property
    def eligible(self) -> bool:
        return not self.reasons

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]


def borrower_eligibility(
    *,
    borrower: Borrower,
    product: LoanProduct,
    amount: Decimal,
    term: int,
    on: date | None = None,
    application: LoanApplication | None = None,
    at_disbursement: bool = False,
) -> Eligibility:
    """Check every rule and return all those not met (an empty list: eligible).

    Rules: a household certificate (poor, near-poor, just out of poverty, low income) that is
    issued and still valid on the date; the age range of the product; an active grassroots union
    and superior union; an active product of the borrower's fund whose amount and term ranges
    hold the request; the fund's per-borrower limit on outstanding principal; no late loan; no
    other application in progress. At disbursement the product's ranges, the limit (checked
    then under the fund lock, with its own error) and the open-application rule are not
    re-checked: the terms were approved.
    """
    on = on or business_today()
    reasons: list[Reason] = []
    fund: Fund = borrower.fund
    expiry = certificate_expiry(borrower=borrower, product=product)
    status_label = HouseholdStatus(borrower.household_status).label
    if not borrower.certificate_number or borrower.certificate_date is None:
        reasons.append(
            Reason(
                "certificate_missing",
                "certificate_number",
                translatable(
                    _("Chưa có số và ngày cấp giấy chứng nhận %(household)s."),
                    {"household": lazy_lower(status_label)},
                ),
            )
        )
    elif borrower.certificate_date > on:
        reasons.append(
            Reason(
                "certificate_not_yet_issued",
                "certificate_date",
                translatable(
                    _("Giấy chứng nhận hộ cấp ngày %(issued)s, sau ngày %(on)s."),
                    {"issued": f"{borrower.certificate_date:%d/%m/%Y}", "on": f"{on:%d/%m/%Y}"},
                ),
            )
        )
    elif expiry is not None and expiry < on:
        reasons.append(
            Reason(
                "certificate_expired",
                "certificate_date",
                translatable(
                    _(
                        "Giấy chứng nhận %(household)s số %(number)s hết hiệu lực từ ngày "
                        "%(since)s."
                    ),
                    {
                        "household": lazy_lower(status_label),
                        "number": borrower.certificate_number,
                        "since": f"{expiry + timedelta(days=1):%d/%m/%Y}",
                    },
                ),
            )
        )
    age = age_on(borrower.date_of_birth, on)
    if age < product.min_age:
        reasons.append(
            Reason(
                "too_young",
                "date_of_birth",
                translatable(
                    _("Thành viên %(age)s tuổi, chưa đủ %(min)s tuổi theo sản phẩm %(product)s."),
                    {"age": age, "min": product.min_age, "product": product.code},
                ),
            )
        )
    elif age > product.max_age:
        reasons.append(
            Reason(
                "too_old",
                "date_of_birth",
                translatable(
                    _("Thành viên %(age)s tuổi, quá %(max)s tuổi theo sản phẩm %(product)s."),
                    {"age": age, "max": product.max_age, "product": product.code},
                ),
            )
        )
    gu: GrassrootsUnion = borrower.grassroots_union
    if not _union_active(gu, on):
        reasons.append(
            Reason(
                "union_inactive",
                "grassroots_union",
                translatable(
                    _("%(union)s không hoạt động vào ngày %(on)s."),
                    {"union": gu.name, "on": f"{on:%d/%m/%Y}"},
                ),
            )
        )
    elif not _union_active(gu.superior_union, on):
        reasons.append(
            Reason(
                "union_inactive",
                "grassroots_union",
                translatable(
                    _("%(superior)s (cấp trên của %(union)s) không hoạt động vào ngày %(on)s."),
                    {"superior": gu.superior_union.name, "union": gu.name, "on": f"{on:%d/%m/%Y}"},
                ),
            )
        )
    if not at_disbursement:
        reasons += _product_reasons(borrower=borrower, product=product, amount=amount, term=term)
    standing = borrower_standing(
        borrower=borrower,
        on=on,
        open_except=application.pk if application is not None and application.pk else None,
        with_open=not at_disbursement,
    )
    outstanding = standing.outstanding
    limit = amount_of(fund.borrower_outstanding_limit)
    if not at_disbursement and outstanding + amount > limit:
        reasons.append(
            Reason(
                "borrower_limit",
                "amount",
                translatable(
                    _(
                        "Dư nợ hiện tại %(outstanding)s cộng khoản đề nghị %(amount)s vượt mức "
                        "tối đa %(limit)s mỗi thành viên."
                    ),
                    {
                        "outstanding": format_vnd(outstanding),
                        "amount": format_vnd(amount),
                        "limit": format_vnd(limit),
                    },
                ),
            )
        )
    if standing.late:
        reasons.append(
            Reason("overdue_loan", "borrower", _("Thành viên đang có khoản vay quá hạn chưa trả."))
        )
    if standing.other_open is not None:
        other = LoanApplication.objects.get(pk=standing.other_open)  # for its status, rarely
        reasons.append(
            Reason(
                "open_application",
                "borrower",
                translatable(
                    _("Thành viên đang có hồ sơ vay #%(id)s chưa xử lý xong (%(status)s)."),
                    {"id": other.pk, "status": lazy_lower(other.get_status_display())},
                ),
            )
        )
    return Eligibility(tuple(reasons), outstanding, limit, on)


def _product_reasons(
    *, borrower: Borrower, product: LoanProduct, amount: Decimal, term: int
) -> list[Reason]:
    reasons = []
    if product.fund_id != borrower.fund_id:
        return [Reason("product_other_fund", "product", _("Sản phẩm vay thuộc quỹ khác."))]
    if not product.active:
        reasons.append(
            Reason(
                "product_inactive",
                "product",
                translatable(
                    _("Sản phẩm %(product)s đã ngừng áp dụng."), {"product": product.code}
                ),
            )
        )
    low, high = amount_of(product.min_amount), amount_of(product.max_amount)
    if not low <= amount <= high:
        reasons.append(
            Reason(
                "amount_out_of_range",
                "amount",
                translatable(
                    _(
                        "Số tiền %(amount)s ngoài khoảng %(low)s – %(high)s của sản phẩm "
                        "%(product)s."
                    ),
                    {
                        "amount": format_vnd(amount),
                        "low": format_vnd(low),
                        "high": format_vnd(high),
                        "product": product.code,
                    },
                ),
            )
        )
    if not product.min_term <= term <= product.max_term:
        unit = _("tuần") if product.frequency == "weekly" else _("tháng")
        reasons.append(
            Reason(
                "term_out_of_range",
                "term",
                translatable(
                    _(
                        "Thời hạn %(term)s %(unit)s ngoài khoảng %(min)s – %(max)s %(unit)s của "
                        "sản phẩm %(product)s."
                    ),
                    {
                        "term": term,
                        "unit": unit,
                        "min": product.min_term,
                        "max": product.max_term,
                        "product": product.code,
                    },
                ),
            )
        )
    return reasons
