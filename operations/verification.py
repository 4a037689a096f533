"""Every verifier of the books, run together (the restore drill, `manage.py verify_all`).

The ledger's hash chain and signed heads, the daily turnover against the postings, the period
checkpoints against the postings, and each fund's loan book against the ledger. Read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from accounting.dates import business_today


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class VerificationResult:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
        }


def books_verify(*, as_of=None) -> VerificationResult:
    from accounting.selectors import checkpoints_verify, ledger_verify, turnover_verify
    from fund.models import Fund
    from loans.servicing.reconciliation import loan_book_reconcile

    as_of = as_of or business_today()
    result = VerificationResult()
    chain = ledger_verify()
    result.checks.append(
        Check(
            "chain",
            chain.ok,
            f"{chain.links_checked} links, head #{chain.head_seq}, "
            f"{chain.unsealed_entries} unsealed"
            + ("" if chain.ok else f"; broken at #{chain.first_broken_seq}: {chain.problem}"),
        )
    )
    turnover = turnover_verify()
    result.checks.append(
        Check(
            "turnover",
            turnover.ok,
            f"{turnover.keys_checked} keys, {len(turnover.differences)} differences",
        )
    )
    checkpoints = checkpoints_verify()
    result.checks.append(
        Check(
            "checkpoints",
            checkpoints.ok,
            f"{checkpoints.checkpoints_checked} checkpoints of {checkpoints.closes} closes, "
            f"{len(checkpoints.differences)} differences",
        )
    )
    for fund in Fund.objects.order_by("code"):
        book = loan_book_reconcile(fund=fund, as_of=as_of)
        detail = f"{book.loans_checked} loans on {as_of:%d/%m/%Y}"
        if not book.ok:
            detail += ": " + "; ".join(book.lines()[:5])
        result.checks.append(Check(f"loan book {fund.code}", book.ok, detail))
    return result
