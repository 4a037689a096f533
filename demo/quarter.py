"""The demo's scenario: the first quarter of last year, then of this year, one business day at a
time, and the quarterly report at the end.

``demo_quarter_run(fund=, year=, size=)`` takes the demo federation (``demo.fund``), plans the
lending of both quarters (``demo.loans.demo_lending_plan``) and runs every business day from
1 January of ``year - 1`` to 31 March of ``year`` through ``DAILY_JOBS``, in order, each day in
one transaction. Between the two quarters nothing is lent; borrowers keep repaying.

To add a daily job (the close of business, reminders…) append a function ``job(plan, day)`` to
``DAILY_JOBS``; ``plan.fund`` is the fund, ``day`` the business date, ``plan.in_quarter(day)``
says whether the day is in one of the two quarters. The report is produced in
``demo_report_produce`` once the last day has run.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import transaction

from accounting.formatting import quarter_label
from accounting.services import ledger_closed_through, ledger_seal, period_close
from demo import loans as loans_demo
from demo.loans import LendingPlan, demo_lending_plan
from fund.attainment import attainment, growth_display, percent_display
from fund.closing import year_close
from fund.models import Fund
from loans.reminders.planning import reminders_schedule
from loans.servicing.close_of_business import close_of_business_catch_up
from reports.quarterly import headline_sentence
from reports.services import quarterly_report_generate

DailyJob = Callable[[LendingPlan, date], None]

# The work of each business day, in order. The loan book's own operations come first (what
# the unions and the fund officers do during the day); jobs that close the day go after them.
DAILY_JOBS: list[DailyJob] = [
    loans_demo.applications_propose,
    loans_demo.applications_review,
    loans_demo.applications_approve,
    loans_demo.loans_disburse,
    loans_demo.followups_record,
    loans_demo.repayments_collect,
    loans_demo.bank_statement_reconcile,
]


def close_of_business(plan: LendingPlan, day: date) -> None:
    """The night's close of business, as the beat runs it: every calendar day through `day`
    (weekends included), each once — overdue marking, days past due, debt groups, penalties,
    provisions."""
    close_of_business_catch_up(fund_id=plan.fund.pk, through_date=day)


def reminders(plan: LendingPlan, day: date) -> None:
    """The morning's reminders, as the beat runs them: recorded at most once per installment
    and stage, plus one digest per grassroots officer, sent through the outbox."""
    reminders_schedule(fund_id=plan.fund.pk, business_date=day)


def year_end_close(plan: LendingPlan, day: date) -> None:
    """On the first business day of January, before December is locked, the accountant closes
    the year just ended (``fund.closing.year_close``): income and expenses to 911 and on to
    4212, the surplus carried to 4211 on 1 January; the ledger is then locked through
    31 December."""
    if day.month != 1 or day != loans_demo.business_days(day.replace(day=1), day)[0]:
        return
    if date(day.year - 1, 12, 31) < plan.days()[0]:
        return
    year_close(
        fund=plan.fund,
        year=day.year - 1,
        idempotency_key=f"demo:{plan.fund.code}:year_close:{day.year - 1}",
        actor=plan.actor("accountant"),
    )


def month_close(plan: LendingPlan, day: date) -> None:
    """On the first business day of a month, once the night's close of business has run
    through the month's last calendar day, the accountant closes the month in the ledger:
    nothing can be posted into it any more, and balances as of later dates start from its
    checkpoints instead of summing every posting since the fund began."""
    if day.day > 7:
        return
    last_of_previous = day.replace(day=1) - timedelta(days=1)
    first_business_day = loans_demo.business_days(day.replace(day=1), day)[0]
    if day != first_business_day or last_of_previous < plan.days()[0]:
        return
    if ledger_closed_through() == last_of_previous:
        return  # December: the year-end closing locked it already
    period_close(
        through=last_of_previous,
        closed_by=plan.actor("accountant"),
        note=f"Khóa sổ tháng {last_of_previous:%m/%Y}.",
    )


DAILY_JOBS += [close_of_business, year_end_close, month_close, reminders]


def demo_year(today: date) -> int:
    """The year whose first quarter the demo runs: this year once its first quarter is over
    (every date the services accept must be in the past), else the year before."""
    return today.year if today >= date(today.year, 4, 1) else today.year - 1


@dataclass(frozen=True)
class Headline:
    """The federation's sentence for a quarter, and its figures."""

    year: int
    quarter: int
    borrowers: int
    grassroots_unions: int
    loans: int
    amount: object  # Decimal, đồng
    jobs_created: int
    jobs_confirmed: int
    previous_amount: object
    percent_of_year: object  # Decimal | None
    growth_percent: object  # Decimal | None

    @property
    def percent_of_year_display(self) -> str:
        return percent_display(self.percent_of_year)

    @property
    def growth_display(self) -> str:
        return growth_display(self.growth_percent)

    @property
    def text(self) -> str:
        """The sentence exactly as the quarterly report states it."""
        return headline_sentence(
            label=quarter_label(self.quarter, self.year),
            borrowers=self.borrowers,
            grassroots_unions=self.grassroots_unions,
            amount=self.amount,
            jobs=self.jobs_created,
            percent_of_plan=self.percent_of_year,
            growth=self.growth_percent,
            previous_amount=self.previous_amount,
        )


def demo_headline(*, fund: Fund, year: int, quarter: int = 1) -> Headline:
    """The quarter's headline from plan attainment (the figures the quarterly report states)."""

    def a(indicator):
        return attainment(fund=fund, indicator=indicator, year=year, quarter=quarter)

    amount = a("disbursed_amount")
    return Headline(
        year=year,
        quarter=quarter,
        borrowers=int(a("borrowers").achieved),
        grassroots_unions=int(a("grassroots_unions").achieved),
        loans=int(a("loans").achieved),
        amount=amount.achieved,
        jobs_created=int(a("jobs_created").achieved),
        jobs_confirmed=int(a("jobs_confirmed").achieved),
        previous_amount=amount.previous,
        percent_of_year=amount.percent_of_year,
        growth_percent=amount.growth_percent,
    )


@dataclass
class DemoRun:
    plan: LendingPlan
    days: int
    headline: Headline
    report: object = None  # the stored quarterly report, once reports can produce it
    # CPU seconds spent in each daily job, in the days' commits (with the reminders sent after
    # them), in planning and in the report, for `demo -v 2`.
    cpu_seconds: dict[str, float] = field(default_factory=dict)


def demo_report_produce(plan: LendingPlan):
    """The quarterly plan-attainment report of the current quarter (PDF and XLSX).

    The same service the beat runs after a quarter closes; the files are stored under
    MEDIA_ROOT (var/media by default). The quarter's entries are sealed first, as the beat's
    sealing job would have done by then, so the report states the head of the chain it was
    drawn from (an auditor ties the PDF to the sealed ledger)."""
    ledger_seal()
    return quarterly_report_generate(fund_id=plan.fund.pk, year=plan.year, quarter=1)


def demo_quarter_run(
    *,
    fund: Fund,
    year: int,
    size: str = "full",
    progress: Callable[[int, int, date], None] | None = None,
) -> DemoRun:
    """Run the demo's two first quarters on `fund` (loaded by ``demo_federation_load``) and
    produce the current quarter's report. Deterministic for (year, size)."""
    cpu: dict[str, float] = defaultdict(float)
    clock = time.process_time()
    plan = demo_lending_plan(fund=fund, year=year, size=size)
    cpu["plan"] = time.process_time() - clock
    days = plan.days()
    for n, day in enumerate(days, start=1):
        # One transaction per business day: the day's work commits together, as one write to
        # the database file instead of one per service call.
        with transaction.atomic():
            for job in DAILY_JOBS:
                clock = time.process_time()
                job(plan, day)
                cpu[job.__name__] += time.process_time() - clock
            clock = time.process_time()
        # The commit, and what runs once it is done: the outbox's tasks (the reminders sent).
        cpu["commit_and_send"] += time.process_time() - clock
        if progress is not None:
            progress(n, len(days), day)
    # The close of business through the quarter's last calendar day (a weekend after its last
    # business day too): the demo's book ends with its business date on the quarter's end, the
    # date every page's figures are then as of (docs/loans.md, "The business date").
    with transaction.atomic():
        close_of_business(plan, plan.end)
    clock = time.process_time()
    report = demo_report_produce(plan)
    cpu["report"] = time.process_time() - clock
    return DemoRun(
        plan=plan,
        days=len(days),
        headline=demo_headline(fund=fund, year=year, quarter=1),
        report=report,
        cpu_seconds=dict(cpu),
    )
