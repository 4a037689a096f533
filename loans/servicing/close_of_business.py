"""Close of business: the daily run of a fund's loan book for one business date.

A run classifies the book (``loan_book_classify``: overdue installments, days past due, debt
groups, penalties) and posts the provision changes (``loan_provisions_post``) for the date, and
records a ``CloseOfBusinessRun`` with its summary and progress log. Business dates are calendar
days (the fund's loans fall due on any day, so every day is closed).

Rules the services keep:

* One run per fund and date. The work and the ``done`` row commit in one transaction; a second
  call for a done date returns that run and changes nothing. Two concurrent calls serialise on
  the run's unique row (``select_for_update``): the second waits and then finds it done.
* Dates are closed in order: a date is refused while the day before has no done run, unless the
  fund has no done run at all (its first run). ``close_of_business_catch_up`` runs every missed
  date, oldest first, each in its own transaction, so an interruption keeps what was done.
* A run that fails is rolled back and then recorded as ``failed`` with the error; running the
  date again retries it.

The Celery tasks (``loans.tasks``) and the ``close_of_business`` command call these two services
only, so both give the same result.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounting.dates import business_today
from accounting.formatting import format_date_vi, format_vnd
from fund.models import Fund
from fund.scoping import actor_user
from loans.errors import LoanError
from loans.models import CloseOfBusinessRun
from loans.servicing.arrears import loan_book_classify, loan_provisions_post
from loans.servicing.portfolio import portfolio_snapshot_write

logger = logging.getLogger(__name__)
Status = CloseOfBusinessRun.Status

__all__ = ["close_of_business_catch_up", "close_of_business_run", "last_closed_date"]


def _check(fund_id, business_date) -> date:
    if not isinstance(business_date, date):
        raise LoanError(
            _("Ngày nghiệp vụ phải là một ngày, nhận được %(value)s."),
            field="business_date",
            params={"value": repr(business_date)},
        )
    if business_date > business_today():
        raise LoanError(
            _("Không khóa sổ trước cho ngày %(date)s (sau hôm nay)."),
            field="business_date",
            params={"date": format_date_vi(business_date)},
        )
    if not Fund.objects.filter(pk=fund_id).exists():
        raise LoanError(_("Không có quỹ #%(fund)s."), field="fund", params={"fund": fund_id})
    return business_date


def last_closed_run(*, fund_id: int) -> CloseOfBusinessRun | None:
    """The fund's latest done run (its summary holds the book's figures of that date)."""
    return (
        CloseOfBusinessRun.objects.filter(fund_id=fund_id, status=Status.DONE)
        .order_by("-business_date")
        .first()
    )


def last_closed_date(*, fund_id: int) -> date | None:
    """The latest business date of the fund with a done run."""
    return (
        CloseOfBusinessRun.objects.filter(fund_id=fund_id, status=Status.DONE)
        .order_by("-business_date")
        .values_list("business_date", flat=True)
        .first()
    )


def _check_previous(fund_id: int, bd: date) -> None:
    done = CloseOfBusinessRun.objects.filter(fund_id=fund_id, status=Status.DONE)
    if not done.exists():
        return  # the fund's first run
    prev = bd - timedelta(days=1)
    if not done.filter(business_date=prev).exists():
        last = last_closed_date(fund_id=fund_id)
        raise LoanError(
            _(
                "Chưa khóa sổ ngày %(missing)s (ngày đã khóa gần nhất: %(last)s); chạy bù các "
                "ngày còn thiếu theo thứ tự trước khi khóa sổ ngày %(date)s."
            ),
            field="business_date",
            code="cob_gap",
            params={
                "missing": format_date_vi(prev),
                "last": format_date_vi(last),
                "date": format_date_vi(bd),
            },
        )


class _Progress:
    """Progress lines: logged as they happen and stored on the run."""

    def __init__(self, fund_id: int, bd: date):
        self.prefix = f"[khóa sổ quỹ #{fund_id} ngày {bd.isoformat()}]"
        self.lines: list[str] = []

    def __call__(self, message: str) -> None:
        logger.info("%s %s", self.prefix, message)
        self.lines.append(f"{timezone.now():%H:%M:%S} {message}")

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _work(run: CloseOfBusinessRun, progress: _Progress) -> dict:
    fund_id, bd = run.fund_id, run.business_date
    progress("Phân loại nợ: đánh dấu kỳ quá hạn, tính lãi phạt, số ngày quá hạn, nhóm nợ.")
    c = loan_book_classify(business_date=bd, fund_id=fund_id)
    progress(
        f"Đã xử lý {c.loans_processed} khoản vay; {c.newly_overdue_installments} kỳ mới quá hạn; "
        f"gốc quá hạn {format_vnd(c.overdue_principal)}, lãi quá hạn "
        f"{format_vnd(c.overdue_interest)}; lãi phạt phát sinh {format_vnd(c.penalty_accrued)}."
    )
    progress("Trích lập, hoàn nhập dự phòng rủi ro.")
    p = loan_provisions_post(
        business_date=bd,
        fund_id=fund_id,
        idempotency_key=f"cob:{fund_id}:{bd.isoformat()}:provisions",
        posted_by=run.triggered_by,
    )
    progress(
        f"Dự phòng: {p.loans_changed} khoản vay thay đổi, trích thêm {format_vnd(p.increase)}, "
        f"hoàn nhập {format_vnd(p.release)}, {p.entries_posted} bút toán."
    )
    snapshot_rows = portfolio_snapshot_write(fund_id=fund_id, business_date=bd)
    progress(f"Lưu dư nợ theo tuổi nợ: {snapshot_rows} dòng.")
    classify = c.as_json()
    return {
        "loans_processed": c.loans_processed,
        "newly_overdue_installments": c.newly_overdue_installments,
        "overdue_installments": c.overdue_installments,
        "loans_overdue": c.loans_overdue,
        "overdue_principal": classify["overdue_principal"],
        "overdue_interest": classify["overdue_interest"],
        "penalty_accrued": classify["penalty_accrued"],
        "penalty_outstanding": classify["penalty_outstanding"],
        "groups": classify["groups"],
        "provision_change": int(p.net_change),
        "timings": classify["timings"],
        "provisions": p.as_json(),
    }


def close_of_business_run(
    *, fund_id: int, business_date: date, triggered_by=None
) -> CloseOfBusinessRun:
    """Close `business_date` for the fund once: classify, accrue, provision; return the run.

    A done date is returned as it is (nothing runs again). Refused (``LoanError`` with code
    ``cob_gap``) while the previous date is not closed, except for the fund's first run.
    """
    bd = _check(fund_id, business_date)
    return _run(fund_id=fund_id, bd=bd, triggered_by=triggered_by, previous_closed=False)


def _run(*, fund_id: int, bd: date, triggered_by, previous_closed: bool) -> CloseOfBusinessRun:
    """`close_of_business_run` of a checked date. `previous_closed`: the caller has seen the
    day before done (or the fund never closed), so it is not read again: a done run stays
    done, nothing ever reopens it."""
    progress = _Progress(fund_id, bd)
    try:
        with transaction.atomic():
            run, _ = CloseOfBusinessRun.objects.select_for_update().get_or_create(
                fund_id=fund_id,
                business_date=bd,
                defaults={"triggered_by": actor_user(triggered_by)},
            )
            if run.status == Status.DONE:
                return run
            if not previous_closed:
                _check_previous(fund_id, bd)
            started = timezone.now()
            run.status, run.started_at, run.error = Status.RUNNING, started, ""
            run.triggered_by = actor_user(triggered_by)
            progress("Bắt đầu.")
            run.summary = _work(run, progress)
            run.finished_at = timezone.now()
            run.summary["seconds"] = round((run.finished_at - started).total_seconds(), 3)
            progress(f"Hoàn thành sau {run.summary['seconds']} giây.")
            run.status, run.log = Status.DONE, progress.text
            run.save()
            return run
    except LoanError:
        raise
    except Exception as e:
        progress(f"Lỗi: {e!r}")
        logger.exception("close of business failed: fund=%s date=%s", fund_id, bd)
        with transaction.atomic():
            CloseOfBusinessRun.objects.update_or_create(
                fund_id=fund_id,
                business_date=bd,
                defaults={
                    "status": Status.FAILED,
                    "finished_at": timezone.now(),
                    "error": repr(e)[:2000],
                    "log": progress.text,
                    "triggered_by": actor_user(triggered_by),
                },
            )
        raise


def close_of_business_catch_up(
    *, fund_id: int, through_date: date, triggered_by=None
) -> list[CloseOfBusinessRun]:
    """Run every business date after the last closed one through `through_date`, in order.

    A fund never closed starts at `through_date`. Returns the runs of the dates it went through
    (empty when `through_date` is already closed); each date commits on its own.
    """
    _check(fund_id, through_date)
    last = last_closed_date(fund_id=fund_id)
    start = through_date if last is None else last + timedelta(days=1)
    runs = []
    day = start
    while day <= through_date:
        # Each date's previous one is `last` or the date this loop has just closed (the
        # fund's first date has none): the gap check would only read it again.
        runs.append(_run(fund_id=fund_id, bd=day, triggered_by=triggered_by, previous_closed=True))
        day += timedelta(days=1)
    return runs
