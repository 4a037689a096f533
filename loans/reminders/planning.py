"""Reminders of installments: before and after the due date, at most once per stage.

Design overview
---------------
* **Stages** (``ReminderStage``, per fund, defaults seeded by a migration): 3 days before the
  due date, on the due date, 7 and 30 days after. A stage is *reached* by an unpaid installment
  in force (its ``schedule_version`` is the loan's) of an active loan on ``due + days_from_due``;
  a day the run did not happen is caught up within ``catch_up_days`` (never into the next stage's
  days), so a missed beat does not lose a stage and an installment is in one stage's window at a
  time.
* **Record first** (``reminders_prepare``): one set-based ``INSERT … SELECT … ON CONFLICT DO
  NOTHING`` creates a ``ReminderDelivery`` row per installment reaching a stage; the unique
  constraint (installment, stage, channel, audience) makes the insert idempotent, so reruns,
  retried tasks and two workers preparing the same day create each row once.
  ``reminder_digests_prepare`` does the same for the grassroots officers: one digest per officer,
  day and channel listing all their overdue borrowers.
* **Claim, then send** (``reminder_deliveries_send``): rows are claimed ``pending``/``retry`` →
  ``sending`` in a short transaction with ``SELECT … FOR UPDATE SKIP LOCKED``; only the claimer
  sends. The outcome is written afterwards: ``sent``; ``skipped`` (paid in the meantime); or, on
  an error, ``retry`` with exponential backoff (``REMINDER_RETRY_BASE_SECONDS`` × 2ⁿ) until
  ``REMINDER_MAX_ATTEMPTS``, then ``failed``. Nothing is deleted: failures stay listed for the
  officers (``loans.reminders.selectors.reminder_deliveries_failed``, the admin) and can be
  requeued.

At most once
------------
A reminder must never be sent twice. A worker can die after claiming a row and before writing
the outcome; the message may or may not have left. ``reminder_deliveries_recover``
(run by the retry sweep) finds rows still ``sending`` after ``REMINDER_SENDING_LEASE_SECONDS``:

* on a channel whose backend is idempotent (the SMS file backend and the HTTP gateway, which
  deduplicates on the delivery's key) the row goes back to ``retry`` — resending cannot deliver
  twice;
* otherwise (e-mail) it becomes ``uncertain``, is listed with the failures and is NOT resent
  automatically: an officer checks and requeues it (``reminder_delivery_requeue``). That is the
  at-most-once choice: a lost reminder is visible and recoverable, a duplicate is not undoable.

A crash *before* the claim (row recorded, never sent) is simply sent by the next run, once.
Tasks are ``acks_late``: a redelivered task finds its rows sent or claimed and sends nothing.

Queuing goes through the transactional outbox (``fund.outbox``): ``reminders_schedule`` records
the rows and the send tasks in one transaction, so that Redis being down loses nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import Case, CharField, DateField, F, IntegerField, Q, Value, When
from django.template import Context, Engine
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounting.dates import business_today
from accounting.formatting import format_date_vi, format_vnd, without_diacritics
from accounting.money import amount_of
from fund.models import Fund, OfficerProfile, Role
from fund.outbox import outbox_enqueue
from fund.people import person_name
from fund.scoping import scope_for
from loans.db import db_value, insert_select
from loans.errors import LoanError
from loans.models import (
    DIGEST_STAGE,
    Borrower,
    Installment,
    InstallmentStatus,
    Loan,
    LoanStatus,
    ReminderChannel,
    ReminderDelivery,
    ReminderStage,
    ReminderTemplate,
)
from loans.reminders.channels import DeliveryError, channel_is_idempotent, message_send
from loans.reminders.defaults import STAGES as DEFAULT_STAGES
from loans.reminders.defaults import TEMPLATES as DEFAULT_TEMPLATES

logger = logging.getLogger(__name__)

Status = ReminderDelivery.Status
SEND_TASK = "loans.reminder_tasks.reminder_deliveries_send_task"
BATCH_SIZE = 500


_ENGINE = Engine(autoescape=False)


@dataclass(frozen=True)
class Stage:
    code: str
    days_from_due: int
    catch_up_days: int


def reminder_stages(*, fund_id: int) -> list[Stage]:
    """The fund's stages in force (its own when it has any, else the defaults), by day."""
    rows = list(
        ReminderStage.objects.filter(Q(fund_id=fund_id) | Q(fund__isnull=True))
        .order_by("days_from_due", "code")
        .values_list("fund_id", "code", "days_from_due", "catch_up_days", "active")
    )
    if not rows:
        return [Stage(code, days, catch_up) for code, _, days, catch_up in DEFAULT_STAGES]
    # The fund's own stages when it has any (even all inactive), else the defaults.
    owner = fund_id if any(r[0] == fund_id for r in rows) else None
    return [
        Stage(code, days, catch_up)
        for fund, code, days, catch_up, active in rows
        if fund == owner and active
    ]


def _stage_windows(stages: list[Stage], business_date: date) -> list[tuple[str, date, date]]:
    """(stage, first due date, last due date) of the installments in each stage's window today."""
    windows = []
    for i, stage in enumerate(stages):
        span = stage.catch_up_days
        if i + 1 < len(stages):
            span = min(span, stages[i + 1].days_from_due - stage.days_from_due - 1)
        last_due = business_date - timedelta(days=stage.days_from_due)
        windows.append((stage.code, last_due - timedelta(days=max(span, 0)), last_due))
    return windows


def _in_force(fund_id: int):
    """Unpaid installments of the schedules in force of the fund's active loans."""
    return Installment.objects.filter(
        loan__fund_id=fund_id,
        loan__status=LoanStatus.ACTIVE,
        schedule_version=F("loan__schedule_version"),
    ).exclude(status=InstallmentStatus.PAID)


def reminders_prepare(*, fund_id: int, business_date: date) -> int:
    """Record the borrower reminders of every installment reaching a stage on `business_date`.

    Set-based (one INSERT … SELECT); idempotent: a row per (installment, stage, channel,
    audience) is created at most once, whatever the reruns or concurrent runs. Borrowers without
    a phone number get no SMS row. Returns the number of rows created.
    """
    windows = _stage_windows(reminder_stages(fund_id=fund_id), business_date)
    if not windows:
        return 0
    cond = Q()
    whens = []
    for code, first, last in windows:
        in_window = Q(due_date__gte=first, due_date__lte=last)
        cond |= in_window
        whens.append(When(in_window, then=Value(code)))
    qs = (
        _in_force(fund_id)
        .filter(cond)
        .exclude(loan__borrower__phone="")
        .annotate(
            r_fund=Value(fund_id, output_field=IntegerField()),
            r_kind=Value(ReminderDelivery.Kind.INSTALLMENT.value, output_field=CharField()),
            r_installment=F("id"),
            r_gu=F("loan__borrower__grassroots_union_id"),
            r_stage=Case(*whens, output_field=CharField()),
            r_channel=Value(ReminderChannel.SMS.value, output_field=CharField()),
            r_audience=Value(ReminderDelivery.Audience.BORROWER.value, output_field=CharField()),
            r_recipient=F("loan__borrower__phone"),
            r_date=Value(business_date, output_field=DateField()),
        )
        .values(
            "r_fund",
            "r_kind",
            "r_installment",
            "r_gu",
            "r_stage",
            "r_channel",
            "r_audience",
            "r_recipient",
            "r_date",
        )
        .order_by()
    )
    return insert_select(
        ReminderDelivery,
        qs,
        {
            "fund_id": "r_fund",
            "kind": "r_kind",
            "installment_id": "r_installment",
            "grassroots_union_id": "r_gu",
            "stage": "r_stage",
            "channel": "r_channel",
            "audience": "r_audience",
            "recipient": "r_recipient",
            "business_date": "r_date",
        },
    )


def _overdue(fund_id: int, business_date: date):
    """Installments in force, unpaid, due before `business_date` (whether or not the close of
    business has flagged them yet)."""
    return _in_force(fund_id).filter(due_date__lt=business_date)


def reminder_digests_prepare(*, fund_id: int, business_date: date) -> int:
    """Record one digest per grassroots officer whose union has overdue borrowers today.

    By e-mail when the officer's account has an address, else by SMS to the officer's phone;
    one row per (officer, day, channel), created at most once. Returns the rows created.
    """
    unions = _overdue(fund_id, business_date).values("loan__borrower__grassroots_union_id")
    officers = OfficerProfile.objects.filter(
        fund_id=fund_id,
        role=Role.GRASSROOTS_OFFICER,
        user__is_active=True,
        grassroots_union_id__in=unions,
    ).select_related("user")
    rows = []
    for officer in officers:
        if officer.user.email:
            channel, to = ReminderChannel.EMAIL, officer.user.email
        elif officer.phone:
            channel, to = ReminderChannel.SMS, officer.phone
        else:
            continue
        rows.append(
            ReminderDelivery(
                fund_id=fund_id,
                kind=ReminderDelivery.Kind.DIGEST,
                officer_id=officer.user_id,
                grassroots_union_id=officer.grassroots_union_id,
                stage=DIGEST_STAGE,
                channel=channel,
                audience=ReminderDelivery.Audience.OFFICER,
                recipient=to,
                business_date=business_date,
            )
        )
    if not rows:
        return 0
    before = ReminderDelivery.objects.filter(
        fund_id=fund_id, kind=ReminderDelivery.Kind.DIGEST, business_date=business_date
    ).count()
    ReminderDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    after = ReminderDelivery.objects.filter(
        fund_id=fund_id, kind=ReminderDelivery.Kind.DIGEST, business_date=business_date
    ).count()
    return after - before


# --------------------------------------------------------------------------------------------
# Sending


@dataclass
class SendReport:
    sent: int = 0
    retry: int = 0
    failed: int = 0
    skipped: int = 0
    not_claimed: int = 0  # already sent, claimed by another worker, or not due yet
    recovered: int = 0
    uncertain: int = 0

    def add(self, other: SendReport) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict:
        return asdict(self)


def _claim(ids: list[int], now: datetime) -> list[int]:
    with transaction.atomic():
        claimed = list(
            ReminderDelivery.objects.select_for_update(skip_locked=True)
            .filter(pk__in=ids, status__in=[Status.PENDING, Status.RETRY], next_attempt_at__lte=now)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if claimed:
            ReminderDelivery.objects.filter(pk__in=claimed).update(
                status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
            )
    return claimed


def _left(inst: Installment) -> Decimal:
    return sum(
        (
            amount_of(getattr(inst, f"{c}_due")) - amount_of(getattr(inst, f"{c}_paid"))
            for c in ("principal", "interest", "penalty", "savings")
        ),
        Decimal(0),
    )


class _Skip(Exception):
    """Nothing to send any more (paid, loan closed); the reason is recorded."""


@dataclass
class _Composer:
    fund_id: int
    templates: dict = field(default_factory=dict)
    compiled_texts: dict = field(default_factory=dict)

    def template(self, stage: str, channel: str) -> ReminderTemplate:
        key = (stage, channel)
        if key not in self.templates:
            self.templates[key] = (
                ReminderTemplate.objects.filter(
                    Q(fund_id=self.fund_id) | Q(fund__isnull=True), stage=stage, channel=channel
                )
                .order_by(F("fund_id").asc(nulls_last=True))
                .first()
            )
        tpl = self.templates[key]
        if tpl is None and not ReminderTemplate.objects.filter(fund__isnull=True).exists():
            # The seeded defaults are missing altogether (a flushed database): use the code's.
            for stage_, channel_, subject, body in DEFAULT_TEMPLATES:
                if (stage_, channel_) == key:
                    tpl = ReminderTemplate(stage=stage, channel=channel, subject=subject, body=body)
        if tpl is None:
            raise DeliveryError(f"Chưa có mẫu tin cho mốc «{stage}», kênh {channel}.")
        return tpl

    def compiled(self, text: str):
        if text not in self.compiled_texts:
            self.compiled_texts[text] = _ENGINE.from_string(text)
        return self.compiled_texts[text]

    def render(self, d: ReminderDelivery, context: dict) -> tuple[str, str]:
        tpl = self.template(d.stage, d.channel)
        ctx = Context({"fund_name": d.fund.name, **context})
        subject = self.compiled(tpl.subject).render(ctx).strip() if tpl.subject else ""
        body = self.compiled(tpl.body).render(ctx).strip()
        if d.channel == ReminderChannel.SMS and d.fund.sms_without_diacritics:
            body = without_diacritics(body)
        return " ".join(subject.split()), body

    def compose(self, d: ReminderDelivery) -> tuple[str, str]:
        if d.kind == ReminderDelivery.Kind.DIGEST:
            return self.render(d, self.digest_context(d))
        inst = d.installment
        loan = inst.loan
        if inst.status == InstallmentStatus.PAID:
            raise _Skip("Kỳ trả nợ đã được trả đủ trước khi gửi.")
        if loan.status != LoanStatus.ACTIVE or inst.schedule_version != loan.schedule_version:
            raise _Skip("Khoản vay đã tất toán hoặc lịch trả nợ đã thay đổi.")
        borrower = loan.borrower
        union = borrower.grassroots_union
        return self.render(
            d,
            {
                "borrower_name": borrower.full_name,
                "amount_due": format_vnd(_left(inst)),
                "due_date": format_date_vi(inst.due_date),
                "installment_number": inst.number,
                "loan_id": loan.pk,
                "days_overdue": max(0, (d.business_date - inst.due_date).days),
                "days_to_due": max(0, (inst.due_date - d.business_date).days),
                "union_name": union.name,
                "union_contact_name": union.contact_name,
                "union_contact_phone": union.contact_phone,
            },
        )

    def digest_context(self, d: ReminderDelivery) -> dict:
        rows = (
            _overdue(d.fund_id, d.business_date)
            .filter(loan__borrower__grassroots_union_id=d.grassroots_union_id)
            .select_related("loan__borrower")
            .order_by("loan__borrower__full_name", "loan_id", "due_date")
        )
        by_borrower: dict[int, dict] = {}
        amounts: dict[int, Decimal] = defaultdict(Decimal)
        for inst in rows:
            b = inst.loan.borrower
            entry = by_borrower.setdefault(
                b.pk, {"name": b.full_name, "phone": b.phone, "first_due": inst.due_date}
            )
            entry["first_due"] = min(entry["first_due"], inst.due_date)
            amounts[b.pk] += _left(inst)
        if not by_borrower:
            raise _Skip("Không còn thành viên quá hạn.")
        borrowers = [
            {
                "name": e["name"],
                "phone": e["phone"],
                "amount": format_vnd(amounts[pk]),
                "due_date": format_date_vi(e["first_due"]),
                "days_overdue": (d.business_date - e["first_due"]).days,
            }
            for pk, e in by_borrower.items()
        ]
        officer = d.officer
        union = d.grassroots_union
        return {
            "officer_name": person_name(officer),
            "union_name": union.name,
            "date": format_date_vi(d.business_date),
            "borrowers": borrowers,
            "count": len(borrowers),
            "total": format_vnd(sum(amounts.values(), Decimal(0))),
        }


def _outcome_write(pk: int, *, only_if: list[str] | None = None, **values) -> None:
    """Write one delivery's outcome: ``UPDATE … SET values WHERE id = pk [AND status IN
    only_if]``, run straight on the cursor. One per message, right after it went (a worker that
    dies leaves one message in doubt, not a batch), so it must not cost a query compilation
    each; the values go through each field's own preparation, as the ORM's would."""
    meta = ReminderDelivery._meta
    conn = connections[router.db_for_write(ReminderDelivery)]
    qn = conn.ops.quote_name
    fields = [meta.get_field(name) for name in values]
    params = [db_value(f, values[f.name], conn) for f in fields] + [pk]
    sql = (
        f"UPDATE {qn(meta.db_table)} SET "
        + ", ".join(f"{qn(f.column)} = %s" for f in fields)
        + f" WHERE {qn(meta.pk.column)} = %s"
    )
    if only_if:
        sql += f" AND {qn(meta.get_field('status').column)} IN ({', '.join(['%s'] * len(only_if))})"
        params += [str(status) for status in only_if]
    with conn.cursor() as cursor:
        cursor.execute(sql, params)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=settings.REMINDER_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))


@cache
def _UNUSED_COLUMNS() -> list[str]:  # noqa: N802 - a constant, worked out once
    """The loan's and borrower's columns a message does not use (a loan row has some forty)."""
    keep = {
        "installment__loan": {"id", "status", "schedule_version", "borrower"},
        "installment__loan__borrower": {"id", "full_name", "grassroots_union"},
    }
    models = {"installment__loan": Loan, "installment__loan__borrower": Borrower}
    return [
        f"{path}__{f.name}"
        for path, model in models.items()
        for f in model._meta.concrete_fields
        if f.name not in keep[path]
    ]


def reminder_deliveries_send(*, ids, now: datetime | None = None) -> SendReport:
    """Send the deliveries in `ids` that are due and not yet claimed; each by one caller only.

    Safe to call twice, concurrently, or again after a crash: rows already sent or claimed by
    another worker are left alone (``not_claimed``). Errors never escape: they are stored on the
    row (``retry`` with backoff, then ``failed``).
    """
    now = now or timezone.now()
    ids = sorted({int(i) for i in ids})
    report = SendReport()
    claimed = _claim(ids, now)
    report.not_claimed = len(ids) - len(claimed)
    if not claimed:
        return report
    rows = (
        ReminderDelivery.objects.filter(pk__in=claimed)
        .select_related(
            "fund",
            "officer",
            "grassroots_union",
            "installment__loan__borrower__grassroots_union",
        )
        .defer(*_UNUSED_COLUMNS())
    )
    composers: dict[int, _Composer] = {}
    for d in rows.order_by("pk"):
        composer = composers.setdefault(d.fund_id, _Composer(fund_id=d.fund_id))
        subject = body = ""
        try:
            subject, body = composer.compose(d)
            provider_id = message_send(
                channel=d.channel,
                to=d.recipient,
                subject=subject,
                body=body,
                key=f"reminder-{d.pk}",
            )
        except _Skip as skip:
            _outcome_write(d.pk, status=Status.SKIPPED, last_error=str(skip))
            report.skipped += 1
        except Exception as exc:  # noqa: BLE001 - every failure is kept on the row, retried
            logger.warning("reminder %s: send failed: %s", d.pk, exc)
            final = d.attempts >= settings.REMINDER_MAX_ATTEMPTS  # counted by the claim
            _outcome_write(
                d.pk,
                status=Status.FAILED if final else Status.RETRY,
                next_attempt_at=now + _backoff(d.attempts),
                last_error=f"{type(exc).__name__}: {exc}"[:2000],
                subject=subject[:255],
                body=body,
            )
            if final:
                report.failed += 1
            else:
                report.retry += 1
        else:
            # Also from "uncertain" or "retry": a slow worker's real outcome wins over a guess.
            _outcome_write(
                d.pk,
                only_if=[Status.SENDING, Status.UNCERTAIN, Status.RETRY],
                status=Status.SENT,
                sent_at=timezone.now(),
                subject=subject[:255],
                body=body,
                provider_id=str(provider_id)[:255],
                last_error="",
            )
            report.sent += 1
    return report


def reminder_deliveries_recover(*, now: datetime | None = None) -> SendReport:
    """Rows left ``sending`` by a worker that died: retry on an idempotent channel, else mark
    ``uncertain`` for an officer (never resent blindly: at most once)."""
    now = now or timezone.now()
    stale = ReminderDelivery.objects.filter(
        status=Status.SENDING,
        claimed_at__lt=now - timedelta(seconds=settings.REMINDER_SENDING_LEASE_SECONDS),
    )
    report = SendReport()
    for channel in ReminderChannel.values:
        rows = stale.filter(channel=channel)
        if channel_is_idempotent(channel):
            report.recovered += rows.update(
                status=Status.RETRY,
                next_attempt_at=now,
                last_error="Tiến trình gửi bị dừng giữa chừng; gửi lại (kênh chống trùng theo mã).",
            )
        else:
            report.uncertain += rows.update(
                status=Status.UNCERTAIN,
                last_error=(
                    "Tiến trình gửi bị dừng giữa chừng, không rõ tin đã đi hay chưa. Không tự gửi "
                    "lại để tránh gửi hai lần; kiểm tra rồi chọn «Gửi lại» nếu cần."
                ),
            )
    return report


def reminders_retry_due(*, now: datetime | None = None, limit: int = 1000) -> SendReport:
    """The sweep: recover interrupted sends, then send every row due (new or after backoff)."""
    now = now or timezone.now()
    report = reminder_deliveries_recover(now=now)
    ids = list(
        ReminderDelivery.objects.filter(
            status__in=[Status.PENDING, Status.RETRY], next_attempt_at__lte=now
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for start in range(0, len(ids), BATCH_SIZE):
        report.add(reminder_deliveries_send(ids=ids[start : start + BATCH_SIZE], now=now))
    return report


# --------------------------------------------------------------------------------------------
# The daily run


@dataclass
class ReminderRun:
    fund_id: int
    business_date: date
    prepared: int = 0
    digests: int = 0
    batches: int = 0
    send: SendReport = field(default_factory=SendReport)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["business_date"] = self.business_date.isoformat()
        return data


def _pending_ids(fund_id: int, business_date: date) -> list[int]:
    return list(
        ReminderDelivery.objects.filter(
            fund_id=fund_id, business_date=business_date, status=Status.PENDING
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def reminders_schedule(*, fund_id: int, business_date: date) -> ReminderRun:
    """Record the day's reminders and queue their sending, in one transaction (via the outbox).

    With Redis down the records and the queued tasks commit all the same; the outbox relay
    publishes the tasks when Redis is back.
    """
    run = ReminderRun(fund_id=fund_id, business_date=business_date)
    with transaction.atomic():
        run.prepared = reminders_prepare(fund_id=fund_id, business_date=business_date)
        run.digests = reminder_digests_prepare(fund_id=fund_id, business_date=business_date)
        ids = _pending_ids(fund_id, business_date)
        for start in range(0, len(ids), BATCH_SIZE):
            chunk = ids[start : start + BATCH_SIZE]
            outbox_enqueue(
                task_name=SEND_TASK,
                args=[chunk],
                key=f"reminders:{fund_id}:{business_date.isoformat()}:{chunk[0]}-{chunk[-1]}",
            )
            run.batches += 1
    return run


def reminders_run(*, fund_id: int, business_date: date) -> ReminderRun:
    """The same as the scheduled job, synchronously: record the day's reminders and send them
    here (``manage.py send_reminders``)."""
    run = ReminderRun(fund_id=fund_id, business_date=business_date)
    with transaction.atomic():
        run.prepared = reminders_prepare(fund_id=fund_id, business_date=business_date)
        run.digests = reminder_digests_prepare(fund_id=fund_id, business_date=business_date)
    ids = _pending_ids(fund_id, business_date)
    for start in range(0, len(ids), BATCH_SIZE):
        run.send.add(reminder_deliveries_send(ids=ids[start : start + BATCH_SIZE]))
        run.batches += 1
    return run


def reminders_schedule_funds(
    *, business_date: date | None = None, fund_id: int | None = None
) -> list[ReminderRun]:
    """``reminders_schedule`` for one fund or every fund; the business date defaults to today
    on the fund's calendar (Asia/Ho_Chi_Minh)."""
    business_date = business_date or business_today()
    funds = Fund.objects.order_by("pk").values_list("pk", flat=True)
    if fund_id is not None:
        funds = funds.filter(pk=fund_id)
    return [reminders_schedule(fund_id=f, business_date=business_date) for f in funds]


def reminder_delivery_requeue(*, delivery: ReminderDelivery, actor=None) -> ReminderDelivery:
    """Send a failed or uncertain delivery again (an officer's decision), through the outbox."""
    if actor is not None:
        scope = scope_for(actor)
        if not scope.can_write or not scope.allows_grassroots_union(delivery.grassroots_union):
            raise LoanError(
                _("Bạn không có quyền gửi lại lượt nhắc nợ này."), field="actor", code="forbidden"
            )
    allowed = [Status.FAILED, Status.UNCERTAIN, Status.RETRY]
    with transaction.atomic():
        locked = ReminderDelivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.status not in allowed:
            raise LoanError(
                _("Chỉ gửi lại được lượt nhắc gửi lỗi hoặc chưa rõ kết quả."),
                field="status",
                code="not_requeueable",
            )
        locked.status = Status.PENDING
        locked.attempts = 0
        locked.next_attempt_at = timezone.now()
        locked.save(update_fields=["status", "attempts", "next_attempt_at"])
        outbox_enqueue(task_name=SEND_TASK, args=[[locked.pk]])
    return locked
