"""The demo's loan operations: a quarter of lending planned up front, run day by day.

``demo_lending_plan(fund=, year=, size=)`` plans, deterministically (seeded random), the first
quarter of ``year - 1`` and of ``year`` on top of the demo federation (``demo.fund``): which
grassroots unions lend, their members, each application's amount, term and planned jobs, the
business day each step of the chain happens on, the follow-up visits and how every borrower
repays. Each quarter comes out exactly at its declared figures (``QuarterTarget``: loans,
grassroots unions, amount, jobs), e.g. the current Q1 at full size: 503 members of 35
grassroots unions, 15.220.000.000 ₫, 557 jobs planned and confirmed.

The plan is then run one business day at a time by the ``DAILY_OPERATIONS`` below (each a
function ``(plan, day)``), through the real services with real actors:

- the grassroots union's officer registers its members (one member file, ``members_import``),
  enters and submits each application; the superior union's officer reviews it; the fund officer
  ``quy`` approves (maker-checker: never the one who entered it); the fund's accountant
  ``ketoan`` disburses, one union's loans on the same day;
- the grassroots union's officer records a follow-up visit confirming the jobs;
- repayments are collected by the grassroots unions and remitted monthly, one remittance per
  union and due date (``repayment_batch_post``); a few borrowers pay at the fund themselves
  (``repayment_post``); some remittances come late; a few borrowers stop paying, so that there
  are overdue loans.

Dates are business dates in the past; the services still check eligibility on today's date, so
the demo's household certificates are valid from before the first quarter until today.
"""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import F

from accounting.formatting import format_vnd
from demo.fund import demo_password_hash
from fund.models import Fund, GrassrootsUnion, Role, SuperiorUnion
from fund.services import officer_profile_set
from loans.models import Installment, Loan, LoanProduct, LoanStatus
from loans.origination.applications import (
    application_approve,
    application_create,
    application_review,
    application_submit,
)
from loans.origination.cccd import cccd_build
from loans.origination.disbursement import loan_disburse_many
from loans.origination.member_import import members_import
from loans.origination.products import loan_product_create
from loans.servicing.remittances import (
    bank_statement_import,
    receipt_candidates,
    remittance_expected,
    remittance_receipt_confirm,
    remittances_open,
)
from loans.servicing.repayments import repayment_batch_post, repayment_post
from loans.servicing.visits import followup_visit_record

MILLION = 1_000_000
PRODUCT_CODE = "TVL"
MIN_MILLIONS, MAX_MILLIONS = 10, 50
MAX_JOBS = 4
TERMS = (12, 12, 24, 24, 24, 36, 36)  # months
AMOUNTS = (10, 15, 20, 20, 25, 30, 30, 30, 35, 40, 40, 50)  # millions, drawn per loan
LARGE_AMOUNTS = (30, 35, 40, 45, 50, 50, 50)
LATE_SHARE = 0.07  # remittances of a union for a due date that come late
SINGLE_SHARE = 0.05  # borrowers who pay at the fund themselves
DEFAULT_SHARE = 0.015  # borrowers who stop paying


@dataclass(frozen=True)
class QuarterTarget:
    """The figures a quarter of the demo comes out at."""

    loans: int
    grassroots_unions: int
    amount: int  # đồng
    jobs: int
    unions_by_superior: dict[str, int]


TARGETS = {
    "full": {
        # A year earlier the fund lent larger amounts to fewer members (about 49 million
        # each, near the product's 50 million): 14.730.000.000 ₫, so that this year's
        # 15.220.000.000 ₫ is +3,33%.
        "prior": QuarterTarget(
            300,
            33,
            14_730_000_000,
            540,
            {"LB": 6, "HBT": 5, "GD": 4, "CG": 4, "DA": 4, "KCN": 7, "YT": 3},
        ),
        "current": QuarterTarget(
            503,
            35,
            15_220_000_000,
            557,
            {"LB": 6, "HBT": 5, "GD": 5, "CG": 4, "DA": 5, "KCN": 7, "YT": 3},
        ),
    },
    "small": {
        "prior": QuarterTarget(16, 4, 470_000_000, 18, {"LB": 2, "HBT": 1, "KCN": 1}),
        "current": QuarterTarget(
            30, 6, 900_000_000, 33, {"LB": 2, "HBT": 1, "GD": 1, "KCN": 1, "YT": 1}
        ),
    },
}

PURPOSES = [
    ("crafts", "Mua máy may công nghiệp nhận hàng gia công tại nhà"),
    ("crafts", "Mua máy vắt sổ, mở rộng tổ may gia đình"),
    ("trade", "Bổ sung vốn bán hàng tạp hóa"),
    ("trade", "Mở quầy bán rau quả tại chợ dân sinh"),
    ("livestock", "Nuôi lợn thịt theo hướng an toàn sinh học"),
    ("livestock", "Nuôi gà đẻ trứng"),
    ("crops", "Trồng rau sạch trong nhà lưới"),
    ("services", "Mở tiệm sửa xe máy"),
    ("services", "Mua xe chở hàng thuê"),
    ("services", "Mở cửa hàng cắt tóc, gội đầu"),
]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đỗ", "Bùi", "Đặng", "Ngô", "Dương"]
MIDDLE = {"female": ["Thị", "Thị Thu", "Thị Minh", "Thị Thanh", "Ngọc"], "male": ["Văn", "Đức"]}
GIVEN = {
    "female": ["Hoa", "Lan", "Mai", "Hương", "Thảo", "Nga", "Hạnh", "Yến", "Loan", "Phương"],
    "male": ["Minh", "Hùng", "Dũng", "Tuấn", "Nam", "Long", "Hải", "Quang", "Thắng", "Sơn"],
}
HOUSEHOLDS = ["poor", "poor", "near_poor", "near_poor", "near_poor", "low_income"]


# --------------------------------------------------------------------------------------------
# Calendar


def is_business_day(day: date) -> bool:
    return day.weekday() < 5


def business_days(start: date, end: date) -> list[date]:
    """Monday to Friday from `start` to `end`, both included."""
    n = (end - start).days + 1
    return [d for d in (start + timedelta(i) for i in range(n)) if is_business_day(d)]


def quarter_business_days(year: int) -> list[date]:
    return business_days(date(year, 1, 1), date(year, 3, 31))


def business_day_on_or_before(day: date) -> date:
    while not is_business_day(day):
        day -= timedelta(1)
    return day


# --------------------------------------------------------------------------------------------
# The plan


@dataclass
class PlannedLoan:
    """One member's loan, from the application to the last repayment, as the demo runs it."""

    ref: str  # stable name for idempotency keys: "2025Q1-0042"
    quarter: str  # "prior" | "current"
    gu: GrassrootsUnion
    national_id: str
    full_name: str
    sex: str
    date_of_birth: date
    household_status: str
    certificate_date: date
    amount: int
    term: int
    jobs: int
    purpose_kind: str
    purpose: str
    propose_on: date
    review_on: date
    approve_on: date
    disburse_on: date
    visit_on: date
    pays_alone: bool  # at the fund, not through the union's remittance
    stops_after: int | None  # the last installment paid (None: pays everything)
    borrower: object = None
    application: object = None
    loan: Loan | None = None


@dataclass
class LendingPlan:
    """What the demo does, by business day; the daily operations consume it."""

    fund: Fund
    year: int
    size: str
    product: LoanProduct
    actors: dict  # "fund", "accountant", ("su", id), ("gu", id) -> user
    loans: list[PlannedLoan]
    targets: dict[str, QuarterTarget]
    late: dict[tuple[int, date], int]  # (union id, due date) -> business days late
    end: date  # the last business date the demo runs
    by_day: dict[str, dict[date, list]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    payments: dict[date, list] = field(default_factory=lambda: defaultdict(list))
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rng: random.Random = field(default_factory=random.Random)

    def days(self) -> list[date]:
        """Every business day from the prior year's first quarter to the current one's end."""
        return business_days(date(self.year - 1, 1, 1), self.end)

    def in_quarter(self, day: date) -> bool:
        """Whether `day` is in one of the two first quarters the demo lends in."""
        return day.month <= 3

    def actor(self, kind, unit_id=None):
        return self.actors[kind if unit_id is None else (kind, unit_id)]


def split_total(rng, n: int, total: int, low: int, high: int, weights) -> list[int]:
    """`n` integers in [low, high] summing to `total`, drawn around `weights`."""
    if not n * low <= total <= n * high:
        raise ValueError(f"{total} cannot be split into {n} values in [{low}, {high}]")
    values = [min(high, max(low, w)) for w in weights]
    diff = total - sum(values)
    while diff:
        i = rng.randrange(n)
        step = 1 if diff > 0 else -1
        if low <= values[i] + step <= high:
            values[i] += step
            diff -= step
    return values


def _choose_unions(rng, fund: Fund, target: QuarterTarget) -> list[GrassrootsUnion]:
    """`target.unions_by_superior` grassroots unions of each superior union; Long Biên's first
    ones (those with a plan of their own and the demo officer ``cdcs``) always lend."""
    chosen = []
    for code, k in target.unions_by_superior.items():
        gus = list(
            GrassrootsUnion.objects.filter(fund=fund, superior_union__code=code).order_by("code")
        )
        if len(gus) < k:
            raise ValueError(f"{code} has {len(gus)} grassroots unions, {k} needed")
        fixed = gus[: min(k, 3)] if code == "LB" else []
        rest = [g for g in gus if g not in fixed]
        chosen += fixed + rng.sample(rest, k - len(fixed))
    if len(chosen) != target.grassroots_unions:
        raise ValueError("unions_by_superior does not add up to grassroots_unions")
    return chosen


def _person(rng, serial: int, year: int) -> dict:
    sex = "female" if rng.random() < 0.7 else "male"
    born = date(rng.randint(1970, 2001), rng.randint(1, 12), rng.randint(1, 28))
    name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE[sex])} {rng.choice(GIVEN[sex])}"
    return {
        "sex": sex,
        "date_of_birth": born,
        "full_name": name,
        "national_id": cccd_build(province="001", sex=sex, date_of_birth=born, serial=serial),
        "household_status": rng.choice(HOUSEHOLDS),
        # Issued in the autumn before the quarter; the demo product keeps it valid 36 months.
        "certificate_date": date(year - 1, rng.randint(9, 11), rng.randint(1, 28)),
    }


def _plan_quarter(rng, fund, year: int, quarter: str, target: QuarterTarget, serial0: int):
    unions = _choose_unions(rng, fund, target)
    days = quarter_business_days(year)
    # Each union's loans are disbursed together on one business day, spread over the quarter
    # (the first week goes to entering applications, the last to follow-up visits).
    slots = days[6:-4]
    disburse_days = sorted(rng.sample(slots, len(unions)))
    rng.shuffle(disburse_days)
    per_union = split_total(
        rng,
        len(unions),
        target.loans,
        1,
        target.loans,
        [round(target.loans / len(unions) * rng.uniform(0.5, 1.5)) for _ in unions],
    )
    n = target.loans
    # The usual mix of amounts, or a mix of larger ones for a quarter that lends more each.
    amounts = AMOUNTS if target.amount / MILLION / n < 35 else LARGE_AMOUNTS
    millions = split_total(
        rng,
        n,
        target.amount // MILLION,
        MIN_MILLIONS,
        MAX_MILLIONS,
        [rng.choice(amounts) for _ in range(n)],
    )
    jobs = split_total(
        rng, n, target.jobs, 1, MAX_JOBS, [1 + (rng.random() < 0.1) for _ in range(n)]
    )
    # At least one borrower of each kind, whatever the size.
    alone = set(rng.sample(range(n), max(1, round(n * SINGLE_SHARE))))
    stopping = set(rng.sample(range(n), max(1, round(n * DEFAULT_SHARE))))
    loans = []
    i = 0
    for gu, count, d in zip(unions, per_union, disburse_days, strict=True):
        k = days.index(d)
        for _ in range(count):
            kind, purpose = rng.choice(PURPOSES)
            visit = days[min(len(days) - 1, k + rng.randint(5, 12))]
            loans.append(
                PlannedLoan(
                    ref=f"{year}Q1-{i + 1:04d}",
                    quarter=quarter,
                    gu=gu,
                    amount=millions[i] * MILLION,
                    term=rng.choice(TERMS),
                    jobs=jobs[i],
                    purpose_kind=kind,
                    purpose=purpose,
                    propose_on=days[k - 6 + rng.randint(0, 1)],
                    review_on=days[k - 4 + rng.randint(0, 1)],
                    approve_on=days[k - 2 + rng.randint(0, 1)],
                    disburse_on=d,
                    visit_on=visit,
                    pays_alone=i in alone,
                    stops_after=rng.randint(0, 2) if i in stopping else None,
                    **_person(rng, serial0 + i, year),
                )
            )
            i += 1
    return loans


def _officer(username: str, first: str, last: str, fund, role, **unit):
    """An officer the demo acts for; like the accounts of ``demo.fund`` they sign in with the
    demo password (``make demo`` prints it), so that every union's pages can be visited."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username, defaults={"first_name": first, "last_name": last}
    )
    if created or not user.has_usable_password():
        user.password = demo_password_hash()
        user.save(update_fields=["password"])
    officer_profile_set(user=user, fund=fund, role=role, **unit)
    return user


def _actors(fund: Fund, unions) -> dict:
    User = get_user_model()
    actors = {
        "fund": User.objects.get(username="quy"),
        "accountant": _officer("ketoan", "Hằng", "Đinh Thị", fund, Role.FUND_OFFICER),
    }
    demo_gu = User.objects.get(username="cdcs")
    demo_su = User.objects.get(username="capten")
    for su in SuperiorUnion.objects.filter(fund=fund).order_by("code"):
        if demo_su.officer.superior_union_id == su.pk:
            actors[("su", su.pk)] = demo_su
        else:
            actors[("su", su.pk)] = _officer(
                f"capten_{su.code.lower()}",
                su.code,
                "Cán bộ",
                fund,
                Role.SUPERIOR_OFFICER,
                superior_union=su,
            )
    for gu in unions:
        if ("gu", gu.pk) in actors:
            continue
        if demo_gu.officer.grassroots_union_id == gu.pk:
            actors[("gu", gu.pk)] = demo_gu
        else:
            actors[("gu", gu.pk)] = _officer(
                f"cdcs_{gu.code.lower()}",
                gu.code,
                "Cán bộ",
                fund,
                Role.GRASSROOTS_OFFICER,
                grassroots_union=gu,
            )
    return actors


def _product(fund: Fund, actor) -> LoanProduct:
    existing = LoanProduct.objects.filter(fund=fund, code=PRODUCT_CODE).first()
    if existing is not None:
        return existing
    return loan_product_create(
        fund=fund,
        code=PRODUCT_CODE,
        name="Cho vay tạo việc làm",
        actor=actor,
        min_amount=MIN_MILLIONS * MILLION,
        max_amount=MAX_MILLIONS * MILLION,
        min_term=6,
        max_term=36,
        rate=Decimal("0.55"),
        rate_period="month",
        method="equal_principal",
        frequency="monthly",
        day_off_rule="following",
        penalty_rate=Decimal("0.275"),
        penalty_rate_period="month",
        certificate_validity_months=36,
        description="Cho đoàn viên hộ nghèo, cận nghèo vay 10–50 triệu đồng, 6–36 tháng, "
        "lãi 0,55%/tháng trên dư nợ giảm dần, gốc trả đều hằng tháng.",
    )


def demo_lending_plan(*, fund: Fund, year: int, size: str = "full") -> LendingPlan:
    """Plan the demo's two first quarters (``year - 1`` and ``year``) and register the members
    who borrow (one member file through ``members_import``). Deterministic for (year, size)."""
    if size not in TARGETS:
        raise ValueError("size must be 'full' or 'small'")
    rng = random.Random(f"trovon-demo:{year}:{size}")
    targets = TARGETS[size]
    loans = _plan_quarter(rng, fund, year - 1, "prior", targets["prior"], 100_000)
    loans += _plan_quarter(rng, fund, year, "current", targets["current"], 200_000)
    unions = list({p.gu.pk: p.gu for p in loans}.values())
    actors = _actors(fund, unions)
    product = _product(fund, actors["fund"])
    late = {}
    end = date(year, 3, 31)
    plan = LendingPlan(
        fund=fund,
        year=year,
        size=size,
        product=product,
        actors=actors,
        loans=loans,
        targets=targets,
        late=late,
        end=business_day_on_or_before(end),
    )
    _members_register(plan)
    for p in loans:
        plan.by_day["propose"][p.propose_on].append(p)
        plan.by_day["review"][p.review_on].append(p)
        plan.by_day["approve"][p.approve_on].append(p)
        plan.by_day["disburse"][p.disburse_on].append(p)
        plan.by_day["visit"][p.visit_on].append(p)
    plan.rng = random.Random(f"trovon-demo:{year}:{size}:repayments")
    return plan


def _members_register(plan: LendingPlan) -> None:
    from loans.origination.member_import import COLUMNS

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([header for _, header, _, _ in COLUMNS])
    for p in plan.loans:
        row = {
            "national_id": p.national_id,
            "full_name": p.full_name,
            "date_of_birth": p.date_of_birth.strftime("%d/%m/%Y"),
            "sex": p.sex,
            "grassroots_code": p.gu.code,
            "household_status": p.household_status,
            "certificate_number": f"GCN-{p.ref}",
            "certificate_date": p.certificate_date.strftime("%d/%m/%Y"),
            "phone": f"091{int(p.national_id[-7:]):07d}",  # a Vinaphone number
            "address": p.gu.address or "Hà Nội",
        }
        writer.writerow([row.get(name, "") for name, _, _, _ in COLUMNS])
    members_import(
        fund=plan.fund,
        data=out.getvalue().encode("utf-8"),
        format="csv",
        effective_date=date(plan.year - 2, 1, 1),
    )
    from loans.models import Borrower

    ids = dict(
        Borrower.objects.filter(
            fund=plan.fund, national_id__in=[p.national_id for p in plan.loans]
        ).values_list("national_id", "pk")
    )
    # With what the chain reads of each borrower (fund, union, superior union) in the same query.
    borrowers = Borrower.objects.select_related("fund", "grassroots_union__superior_union").in_bulk(
        list(ids.values())
    )
    for p in plan.loans:
        p.borrower = borrowers[ids[p.national_id]]


# --------------------------------------------------------------------------------------------
# Daily operations: each takes (plan, day) and does that day's work of the loan book


def _key(plan: LendingPlan, what: str, ref: str) -> str:
    return f"demo:{plan.fund.code}:{what}:{ref}"


def applications_propose(plan: LendingPlan, day: date) -> None:
    """Grassroots unions enter their members' applications and send them up."""
    for p in plan.by_day["propose"].get(day, ()):
        maker = plan.actor("gu", p.gu.pk)
        app = application_create(
            borrower=p.borrower,
            product=plan.product,
            amount=p.amount,
            term=p.term,
            purpose_kind=p.purpose_kind,
            purpose=p.purpose,
            planned_jobs=p.jobs,
            security_kind="group",
            group_name=f"Tổ vay vốn {p.gu.code}",
            actor=maker,
        )
        p.application = application_submit(
            application=app, idempotency_key=_key(plan, "submit", p.ref), actor=maker
        )
        plan.counts["applications"] += 1


def applications_review(plan: LendingPlan, day: date) -> None:
    """Superior unions review what their grassroots unions sent."""
    for p in plan.by_day["review"].get(day, ()):
        p.application = application_review(
            application=p.application,
            decision="approve",
            note="Đủ điều kiện, đề nghị Quỹ cho vay.",
            idempotency_key=_key(plan, "review", p.ref),
            actor=plan.actor("su", p.gu.superior_union_id),
            decided_on=day,
        )


def applications_approve(plan: LendingPlan, day: date) -> None:
    """The fund officer approves (never the one who entered or reviewed it)."""
    for p in plan.by_day["approve"].get(day, ()):
        p.application = application_approve(
            application=p.application,
            idempotency_key=_key(plan, "approve", p.ref),
            actor=plan.actor("fund"),
            decided_on=day,
        )


def loans_disburse(plan: LendingPlan, day: date) -> None:
    """The fund's accountant pays out the approved loans of the day; their repayments are then
    put in the calendar."""
    todays = plan.by_day["disburse"].get(day, ())
    if not todays:
        return
    # One union's loans of the day, paid out together (under one capital lock and read).
    loans = loan_disburse_many(
        applications=[p.application for p in todays],
        disbursed_on=day,
        idempotency_keys=[_key(plan, "disburse", p.ref) for p in todays],
        actor=plan.actor("accountant"),
    )
    for p, loan in zip(todays, loans, strict=True):
        p.loan = loan
        plan.counts["loans"] += 1
    _payments_schedule(plan, todays)


def followups_record(plan: LendingPlan, day: date) -> None:
    """Grassroots unions visit their borrowers and confirm the jobs the loans created."""
    for p in plan.by_day["visit"].get(day, ()):
        followup_visit_record(
            loan=p.loan,
            visited_on=day,
            purpose_verified=True,
            jobs_confirmed=p.jobs,
            note="Vốn sử dụng đúng mục đích.",
            actor=plan.actor("gu", p.gu.pk),
        )


@dataclass(frozen=True)
class _Payment:
    planned: PlannedLoan
    through: date  # pays everything due up to this date


def _payments_schedule(plan: LendingPlan, planned: list[PlannedLoan]) -> None:
    """Put each installment's payment on the day it will be paid: the business day on or before
    its due date, some unions' remittances a few business days late, none after a borrower
    stops paying."""
    days = plan.days()
    index = {d: i for i, d in enumerate(days)}
    by_loan = {p.loan.pk: p for p in planned}
    rows = (
        Installment.objects.filter(loan_id__in=by_loan, due_date__lte=plan.end)
        .order_by("loan_id", "number")
        .values_list("loan_id", "number", "due_date")
    )
    for loan_id, number, due in rows:
        p = by_loan[loan_id]
        if p.stops_after is not None and number > p.stops_after:
            continue
        pay = business_day_on_or_before(due)
        key = (p.gu.pk, due)
        if key not in plan.late:
            plan.late[key] = plan.rng.randint(3, 10) if plan.rng.random() < LATE_SHARE else 0
        i = index[pay] + (0 if p.pays_alone else plan.late[key])
        if i < len(days):
            plan.payments[days[i]].append(_Payment(p, due))


def _owed_through(loan_ids, through: dict[int, date]) -> dict[int, Decimal]:
    """What each loan owes on its installments due up to its date (penalties included)."""
    owed: dict[int, Decimal] = defaultdict(Decimal)
    parts = [
        f"{c}_{x}"
        for c in ("principal", "interest", "penalty", "savings")
        for x in "due paid".split()
    ]
    rows = Installment.objects.filter(
        loan_id__in=loan_ids,
        loan__status=LoanStatus.ACTIVE,
        schedule_version=F("loan__schedule_version"),
        due_date__lte=max(through.values()),
    ).values_list("loan_id", "due_date", *parts)
    for loan_id, due, *amounts in rows:
        if due <= through[loan_id]:
            owed[loan_id] += sum(amounts[0::2]) - sum(amounts[1::2])
    return owed


def _with_unions(p: PlannedLoan) -> Loan:
    """The planned loan's row with its unions at hand for the services' permission checks: the
    union the loan is recorded on and the borrower's are both ``p.gu`` (the member file put the
    borrower there), so they are not read again for every payment."""
    p.borrower.grassroots_union = p.gu
    p.loan.borrower = p.borrower
    p.loan.grassroots_union = p.gu
    return p.loan


def repayments_collect(plan: LendingPlan, day: date) -> None:
    """Borrowers pay what is due; each grassroots union remits its members' payments of the day
    as one transfer (one entry), the few who pay at the fund one by one."""
    todays = plan.payments.pop(day, [])
    if not todays:
        return
    through = {x.planned.loan.pk: x.through for x in todays}
    owed = _owed_through(list(through), through)
    by_union = defaultdict(list)
    for x in todays:
        # The loan as disbursed, with its unions (``loans_disburse``): the services read and
        # lock the current row themselves; a loan owing nothing (repaid, or closed) is left out.
        loan = _with_unions(x.planned)
        if owed.get(loan.pk, 0) <= 0:
            continue
        if x.planned.pays_alone:
            repayment_post(
                loan=loan,
                amount=owed[loan.pk],
                paid_on=day,
                idempotency_key=_key(plan, "repay", f"{x.planned.ref}:{day:%Y%m%d}"),
                actor=plan.actor("accountant"),
            )
            plan.counts["repayments"] += 1
        else:
            by_union[x.planned.gu].append((loan, owed[loan.pk]))
    for gu, lines in by_union.items():
        receipt = f"UNC-{gu.code}-{day:%Y%m%d}"
        repayment_batch_post(
            grassroots_union=gu,
            receipt_number=receipt,
            paid_on=day,
            lines=lines,
            idempotency_key=_key(plan, "remit", receipt),
            actor=plan.actor("gu", gu.pk),
        )
        plan.counts["remittances"] += 1
        plan.counts["repayments"] += len(lines)


DAILY_OPERATIONS = [
    applications_propose,
    applications_review,
    applications_approve,
    loans_disburse,
    followups_record,
    repayments_collect,
]


def demo_overdue_loans(*, fund: Fund, on: date) -> int:
    """Active loans with an installment due before `on` not fully paid."""
    return (
        Installment.objects.filter(loan__fund=fund, loan__status=LoanStatus.ACTIVE, due_date__lt=on)
        .exclude(status="paid")
        .values("loan_id")
        .distinct()
        .count()
    )


# The bank's side: the statement of the fund's account, a business day after the remittances.
NEVER_ARRIVES = 0.02  # remittances the bank never shows (listed as not received)


def bank_statement_reconcile(plan: LendingPlan, day: date) -> None:
    """The fund's accountant imports the bank's statement of the day (the unions' transfers of
    the business days before arrive today, a few never do; the bank's interest once a month is
    no remittance) and a fund officer confirms each receipt the system matches exactly; the
    fuzzy ones are left on the list, as a fund officer would after a look."""
    rows = []
    for batch in remittances_open(fund_id=plan.fund.pk).filter(paid_on__lt=day):
        rng = random.Random(f"{plan.year}:{batch.receipt_number}")
        if rng.random() < NEVER_ARRIVES:
            continue
        expected = remittance_expected(batch)
        if expected > 0:
            rows.append(
                (
                    expected,
                    f"FT{day:%y%m%d}{batch.pk:06d}",
                    f"{batch.grassroots_union.code} nop tien thu no {batch.receipt_number}",
                )
            )
    month_end = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    if day == business_day_on_or_before(month_end):
        interest = Decimal(random.Random(f"{day}").randrange(200_000, 900_000))
        rows.append((interest, f"LAI{day:%y%m}", "Lai tien gui thang"))
    if not rows:
        return
    text = "Ngày giao dịch,Số tiền,Số tham chiếu,Nội dung\n" + "".join(
        f'{day:%d/%m/%Y},"{format_vnd(a, symbol=False)}",{ref},{note}\n' for a, ref, note in rows
    )
    result = bank_statement_import(
        fund=plan.fund,
        data=text.encode(),
        format="csv",
        file_name=f"saoke-{day:%Y%m%d}.csv",
        actor=plan.actor("accountant"),
    )
    if result.statement is None:
        return
    open_batches = list(remittances_open(fund_id=plan.fund.pk))
    for line in result.statement.lines.all():
        found = receipt_candidates(line, open_batches=open_batches)
        if found and found[0].exact:
            remittance_receipt_confirm(
                line=line,
                batch=found[0].batch,
                idempotency_key=_key(plan, "bank", line.bank_reference),
                actor=plan.actor("fund"),
            )
            open_batches.remove(found[0].batch)
            plan.counts["remittances_confirmed"] += 1
