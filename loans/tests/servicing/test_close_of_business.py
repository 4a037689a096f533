"""Close of business: once per date, in order, caught up, recorded; command = task = service."""

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from accounting.models import JournalEntry
from loans.errors import LoanError
from loans.models import CloseOfBusinessRun, Installment
from loans.servicing import close_of_business as cob
from loans.servicing.close_of_business import close_of_business_catch_up, close_of_business_run
from loans.servicing.reconciliation import loan_book_reconcile
from loans.tasks import close_of_business_daily_task, close_of_business_task
from loans.tests.factories import today
from loans.tests.helpers import dec, inst, make_loan, race

pytestmark = pytest.mark.django_db

# The loan of helpers.make_loan (12,000,000 over 12 months, penalty 0.275 %/month) 15 days after
# its first due date: group 2, penalty 1,375 đ, provision 2 % × 12,000,000.
EXPECTED = {
    "loans_processed": 1,
    "newly_overdue_installments": 1,
    "overdue_installments": 1,
    "loans_overdue": 1,
    "overdue_principal": 1_000_000,
    "overdue_interest": 66_000,
    "penalty_accrued": 1_375,
    "penalty_outstanding": 1_375,
    "groups": {"2": [1, 12_000_000]},
    "provision_change": 240_000,
}


@pytest.fixture
def day(loan):
    return inst(loan, 1).due_date + timedelta(days=15)


def figures(summary):
    return {k: summary[k] for k in EXPECTED}


def test_run_closes_the_date_once(loan, day, org):
    run = close_of_business_run(fund_id=org.fund.pk, business_date=day)
    assert run.status == "done" and run.finished_at is not None
    assert figures(run.summary) == EXPECTED
    assert "Hoàn thành" in run.log and "1 kỳ mới quá hạn" in run.log
    entries = JournalEntry.objects.count()

    again = close_of_business_run(fund_id=org.fund.pk, business_date=day)
    assert again.pk == run.pk and again.summary == run.summary
    assert JournalEntry.objects.count() == entries
    assert dec(inst(loan, 1).penalty_due) == 1_375
    assert CloseOfBusinessRun.objects.count() == 1
    assert loan_book_reconcile(fund=org.fund, as_of=day).ok


def test_gap_refused_then_caught_up_in_order(loan, day, org):
    close_of_business_run(fund_id=org.fund.pk, business_date=day)
    with pytest.raises(LoanError) as e:
        close_of_business_run(fund_id=org.fund.pk, business_date=day + timedelta(days=2))
    assert e.value.code == "cob_gap" and e.value.field == "business_date"
    assert "Chưa khóa sổ ngày" in e.value.message
    assert CloseOfBusinessRun.objects.count() == 1

    runs = close_of_business_catch_up(fund_id=org.fund.pk, through_date=day + timedelta(days=3))
    assert [r.business_date for r in runs] == [day + timedelta(days=n) for n in (1, 2, 3)]
    assert all(r.status == "done" for r in runs)
    assert [r.started_at for r in runs] == sorted(r.started_at for r in runs)
    # 91.67 → 92 đ a day, each run.
    assert [r.summary["penalty_accrued"] for r in runs] == [92, 92, 92]
    assert dec(inst(loan, 1).penalty_due) == 1_375 + 3 * 92
    assert close_of_business_catch_up(fund_id=org.fund.pk, through_date=day) == []


def test_first_run_may_be_any_date_but_not_the_future(loan, org):
    with pytest.raises(LoanError):
        close_of_business_run(fund_id=org.fund.pk, business_date=today() + timedelta(days=1))
    run = close_of_business_run(fund_id=org.fund.pk, business_date=today() - timedelta(days=3))
    assert run.status == "done"


def test_catch_up_of_a_fund_never_closed_runs_the_date_only(loan, day, org):
    runs = close_of_business_catch_up(fund_id=org.fund.pk, through_date=day)
    assert [r.business_date for r in runs] == [day]


def test_failed_run_recorded_then_retried(loan, day, org, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("mất kết nối")

    monkeypatch.setattr(cob, "loan_provisions_post", broken)
    with pytest.raises(RuntimeError):
        close_of_business_run(fund_id=org.fund.pk, business_date=day)
    run = CloseOfBusinessRun.objects.get()
    assert run.status == "failed" and "mất kết nối" in run.error
    # Rolled back: the classification of the failed attempt left nothing behind.
    assert not Installment.objects.filter(overdue=True).exists()

    monkeypatch.undo()
    run = close_of_business_run(fund_id=org.fund.pk, business_date=day)
    assert run.status == "done" and run.error == "" and figures(run.summary) == EXPECTED
    assert CloseOfBusinessRun.objects.count() == 1


@pytest.mark.parametrize("how", ["service", "command", "task"])
def test_command_and_task_give_the_service_result(loan, day, org, how):
    if how == "service":
        close_of_business_run(fund_id=org.fund.pk, business_date=day)
    elif how == "command":
        out = StringIO()
        call_command("close_of_business", "--date", day.isoformat(), "--fund", "HN", stdout=out)
        assert "1 kỳ mới quá hạn" in out.getvalue()
    else:
        result = close_of_business_task.apply(args=(org.fund.pk, day.isoformat())).get()
        assert result["status"] == "done"
    run = CloseOfBusinessRun.objects.get(fund=org.fund)
    assert run.business_date == day and figures(run.summary) == EXPECTED


def test_command_catch_up_and_refusal(loan, day, org):
    call_command("close_of_business", "--date", day.isoformat(), "--fund", str(org.fund.pk))
    with pytest.raises(CommandError, match="Chưa khóa sổ"):
        call_command("close_of_business", "--date", (day + timedelta(days=2)).isoformat())
    out = StringIO()
    call_command(
        "close_of_business",
        "--date",
        (day + timedelta(days=2)).isoformat(),
        "--fund",
        "HN",
        "--catch-up",
        stdout=out,
    )
    assert CloseOfBusinessRun.objects.filter(fund=org.fund).count() == 3
    with pytest.raises(CommandError, match="Không có quỹ"):
        call_command("close_of_business", "--fund", "XX")


def test_beat_runs_the_daily_catch_up_for_every_fund(loan, org, django_capture_on_commit_callbacks):
    from fund.models import OutboxMessage

    entry = settings.CELERY_BEAT_SCHEDULE["close-of-business"]
    assert entry["task"] == "loans.tasks.close_of_business_daily_task"
    # Queued through the outbox (run eagerly here after the commit), once per fund and date.
    with django_capture_on_commit_callbacks(execute=True):
        assert close_of_business_daily_task.apply().get() == 2  # HN and HCM
    with django_capture_on_commit_callbacks(execute=True):
        close_of_business_daily_task.apply().get()
    assert OutboxMessage.objects.filter(key__startswith="close-of-business:").count() == 2
    yesterday = today() - timedelta(days=1)
    assert set(
        CloseOfBusinessRun.objects.filter(business_date=yesterday, status="done").values_list(
            "fund__code", flat=True
        )
    ) == {"HN", "HCM"}


@pytest.mark.postgres
def test_concurrent_runs_of_one_date_run_once(purge_ledger_after, org, chain, capital):
    loan = make_loan(chain)
    day = inst(loan, 1).due_date + timedelta(days=15)
    outcomes = race(lambda i: close_of_business_run(fund_id=org.fund.pk, business_date=day))
    assert all(isinstance(o, CloseOfBusinessRun) for o in outcomes), outcomes
    assert len({o.pk for o in outcomes}) == 1
    assert CloseOfBusinessRun.objects.get().summary["penalty_accrued"] == 1_375
    assert JournalEntry.objects.filter(document_type="loan_provision").count() == 1
    assert dec(inst(loan, 1).penalty_due) == 1_375


# --------------------------------------------------------------------------------------------
# Quiet dates and the cost of a date


def _book_state(fund_id):
    """Everything a close of business can change, without the run's clock readings."""
    from accounting.models import CommandRecord, Posting
    from loans.models import Loan

    runs = []
    for r in CloseOfBusinessRun.objects.filter(fund_id=fund_id).order_by("business_date"):
        summary = {k: v for k, v in r.summary.items() if k not in ("timings", "seconds")}
        runs.append((r.business_date, r.status, summary))
    return {
        "loans": list(Loan.objects.order_by("pk").values()),
        "installments": list(Installment.objects.order_by("pk").values()),
        "entries": list(JournalEntry.objects.order_by("pk").values_list("idempotency_key", "memo")),
        "postings": list(
            Posting.objects.order_by("pk").values_list(
                "entry__idempotency_key", "account__code", "subledger", "amount"
            )
        ),
        "commands": list(
            CommandRecord.objects.order_by("pk").values_list("scope", "key", "result_id")
        ),
        "runs": runs,
    }


def _full_pass(monkeypatch):
    """Make the pass run every statement, as if some loan were at risk and recalled."""
    from loans.servicing import arrears as servicing

    real = servicing._pass_loans_create
    monkeypatch.setattr(servicing, "_pass_loans_create", lambda d, **kw: (real(d, **kw), (1, 1))[1])


@pytest.mark.parametrize("on", ["quiet", "late", "recalled"])
def test_a_date_with_nothing_at_risk_leaves_the_state_a_full_pass_leaves(
    loan, day, org, monkeypatch, on
):
    from django.db import transaction

    from loans.models import Loan

    if on == "quiet":  # the day after disbursement: nothing due, nothing late
        bd = loan.disbursed_on + timedelta(days=1)
    else:
        bd = day
    if on == "recalled":
        Loan.objects.filter(pk=loan.pk).update(recalled_on=bd - timedelta(days=3))
    states = []
    for full in (False, True):
        with transaction.atomic():
            if full:
                _full_pass(monkeypatch)
            close_of_business_run(fund_id=org.fund.pk, business_date=bd)
            close_of_business_catch_up(fund_id=org.fund.pk, through_date=bd + timedelta(days=2))
            states.append(_book_state(org.fund.pk))
            monkeypatch.undo()
            transaction.set_rollback(True)
    assert states[0] == states[1]
    assert len(states[0]["runs"]) == 3
    if on == "quiet":
        assert states[0]["runs"][0][2]["overdue_installments"] == 0
    else:
        assert states[0]["runs"][0][2]["loans_overdue"] == 1


def _queries_per_date(org, first, days):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    close_of_business_run(fund_id=org.fund.pk, business_date=first)
    with CaptureQueriesContext(connection) as q:
        close_of_business_catch_up(fund_id=org.fund.pk, through_date=first + timedelta(days=days))
    statements = [x["sql"] for x in q.captured_queries]
    return len([s for s in statements if "SAVEPOINT" not in s]) / days


def test_a_quiet_date_costs_a_handful_of_queries_whatever_the_book(chain, capital, org):
    from django.db import connection

    first = make_loan(chain)
    quiet = first.disbursed_on + timedelta(days=1)
    one = _queries_per_date(org, quiet, 5)
    # (PostgreSQL: and four SET LOCALs, two temporary tables created and dropped; and two for the
    # day's ageing: its old rows deleted, the new ones inserted from one SELECT)
    per_date = 21 if connection.vendor == "postgresql" else 15
    assert one <= per_date + 2 / 5  # and two for the catch-up: the fund, its last closed date
    for _ in range(3):
        make_loan(chain)
    CloseOfBusinessRun.objects.all().delete()
    assert _queries_per_date(org, quiet + timedelta(days=10), 5) == one


def test_a_date_with_loans_in_arrears_costs_the_same_whatever_their_number(
    chain, capital, org, day
):

    make_loan(chain)
    one = _queries_per_date(org, day, 3)
    assert one <= 35
    for _ in range(3):
        make_loan(chain)
    CloseOfBusinessRun.objects.all().delete()
    assert _queries_per_date(org, day + timedelta(days=10), 3) <= one
