"""Verification of the books that runs by itself (docs/ledger.md §11).

``integrity_verify`` runs the four verifications — the ledger's chain with its signed heads and
high-water mark (and the request MAC of entries not yet sealed), the daily turnover against the
postings, the checkpoints against the postings, the audit log's chain — and returns one result
per check. ``integrity_check_run`` (the nightly beat job) seals first, stores the run, and
e-mails the fund officers and auditors at once when a check fails. ``chain_heads_email`` sends
them the signed heads to keep, which ``verify_ledger --published`` and the auditor's page check
later against the chain.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounting.dates import business_today
from accounting.errors import ChainTampered
from accounting.selectors import (
    ChainReport,
    checkpoints_verify,
    ledger_signed_head,
    ledger_verify,
    turnover_verify,
)
from accounting.services import chain_head_latest, ledger_seal
from fund.audit import AUDIT_CHAIN, audit_seal, audit_verify
from fund.models import IntegrityCheck, OfficerProfile, Role

log = logging.getLogger(__name__)

CHECK_LABELS = {
    "ledger": _("Chuỗi niêm phong sổ cái và đầu chuỗi đã ký"),
    "turnover": _("Phát sinh theo ngày khớp với định khoản"),
    "checkpoints": _("Số dư chốt khớp với định khoản"),
    "audit": _("Chuỗi niêm phong nhật ký thay đổi"),
}


@dataclass
class CheckResult:
    check: str  # a key of CHECK_LABELS
    ok: bool
    checked: int  # links, turnover keys or checkpoints checked
    problem: str = ""

    @property
    def label(self) -> str:
        return str(CHECK_LABELS[self.check])


def integrity_verify(
    *, seal_problems: dict[str, str] | None = None, chain: ChainReport | None = None
) -> list[CheckResult]:
    """Run the four verifications; `seal_problems` (chain -> refusal) are what the sealers
    refused just before, reported under their chain's check; `chain`: the ledger's
    verification when the caller has just run it."""
    seal_problems = seal_problems or {}
    chain = chain or ledger_verify()
    chain_problem = seal_problems.get("ledger") or chain.problem
    if chain.first_broken_seq:
        chain_problem = f"mắt xích #{chain.first_broken_seq}: {chain.problem}"
    turnover = turnover_verify()
    checkpoints = checkpoints_verify()
    audit = audit_verify()
    audit_problem = seal_problems.get("audit") or (
        f"mắt xích #{audit.first_broken_seq}: {audit.problem}"
        if audit.first_broken_seq
        else audit.problem
    )
    return [
        CheckResult("ledger", chain.ok and not chain_problem, chain.links_checked, chain_problem),
        CheckResult(
            "turnover",
            turnover.ok,
            turnover.keys_checked,
            "; ".join(d.describe() for d in turnover.differences[:5]),
        ),
        CheckResult(
            "checkpoints",
            checkpoints.ok,
            checkpoints.checkpoints_checked,
            "; ".join(d.describe() for d in checkpoints.differences[:5]),
        ),
        CheckResult("audit", audit.ok and not audit_problem, audit.links_checked, audit_problem),
    ]


def integrity_recipients() -> list[str]:
    """The fund officers and auditors (active, with an address), who hear of a failure."""
    addresses = (
        OfficerProfile.objects.filter(
            role__in=[Role.FUND_OFFICER, Role.AUDITOR], user__is_active=True
        )
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    return sorted({a.lower() for a in addresses})


def integrity_check_run() -> IntegrityCheck:
    """The nightly job: seal both chains, run every verification, store the result and, when a
    check fails, e-mail the fund officers and auditors at once."""
    started = time.perf_counter()
    seal_problems = {}
    for chain, seal in (("ledger", ledger_seal), ("audit", audit_seal)):
        try:
            seal()
        except ChainTampered as e:
            seal_problems[chain] = str(e.message)
        except ImproperlyConfigured as e:  # no signing key: the chain stays unsigned
            seal_problems[chain] = f"không niêm phong được: {e}"
    results = integrity_verify(seal_problems=seal_problems)
    check = IntegrityCheck.objects.create(
        ok=all(r.ok for r in results),
        seconds=round(time.perf_counter() - started, 3),
        results=[asdict(r) for r in results],
    )
    if not check.ok:
        check.emailed_to = _failure_email(check, results)
        IntegrityCheck.objects.filter(pk=check.pk).update(emailed_to=check.emailed_to)
    return check


def _failure_email(check: IntegrityCheck, results: list[CheckResult]) -> list[str]:
    to = integrity_recipients()
    lines = [f"- {r.label}: {'khớp' if r.ok else 'KHÔNG KHỚP — ' + r.problem}" for r in results]
    log.error("Kiểm tra toàn vẹn sổ sách #%s thất bại: %s", check.pk, "; ".join(lines))
    if not to:
        return []
    body = (
        "Kính gửi các đồng chí,\n\n"
        f"Lần kiểm tra toàn vẹn sổ sách lúc {timezone.localtime(check.at):%H:%M %d/%m/%Y} "
        "phát hiện sai lệch:\n\n" + "\n".join(lines) + "\n\nĐề nghị kiểm tra ngay sổ cái và "
        "nhật ký thay đổi; không sửa dữ liệu trước khi kiểm toán viên xem xét.\n"
    )
    EmailMessage(
        "[Quỹ Trợ vốn] CẢNH BÁO: sổ sách không toàn vẹn",
        body,
        settings.DEFAULT_FROM_EMAIL,
        to,
    ).send()
    return to


def integrity_check_latest() -> IntegrityCheck | None:
    return IntegrityCheck.objects.order_by("-at", "-id").first()


def chain_heads_text() -> str:
    """The signed heads of the ledger and of the audit log, one ``trovon-head`` line each."""
    heads = [ledger_signed_head(), chain_head_latest(AUDIT_CHAIN)]
    return "\n".join(h.line() for h in heads if h is not None)


def chain_heads_email() -> list[str]:
    """E-mail the signed heads to the fund officers and auditors, to keep; returns the
    addresses (empty, nothing sent, when there is no head or nobody to send to)."""
    text = chain_heads_text()
    to = integrity_recipients()
    if not text or not to:
        return []
    body = (
        "Kính gửi các đồng chí,\n\n"
        f"Đầu chuỗi đã ký của sổ cái và nhật ký thay đổi lúc "
        f"{timezone.localtime():%H:%M %d/%m/%Y}. Xin lưu giữ các dòng dưới đây (tệp kèm "
        "theo): bất kỳ lúc nào sau này, trang Kiểm tra chuỗi niêm phong hoặc lệnh "
        "'verify_ledger --published' cho biết chúng có còn trong chuỗi hay không.\n\n"
        f"{text}\n"
    )
    msg = EmailMessage(
        "[Quỹ Trợ vốn] Đầu chuỗi niêm phong đã ký", body, settings.DEFAULT_FROM_EMAIL, to
    )
    msg.attach(f"dau-chuoi-{business_today():%Y%m%d}.txt", text + "\n", "text/plain")
    msg.send()
    return to
