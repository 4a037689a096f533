"""Several approved applications paid out together (``loan_disburse_many``): the same rows as
one ``loan_disburse`` after the other, every capital check seeing the loans made before it in
the batch, all or nothing."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Q

from accounting.models import CommandRecord, JournalEntry, Posting
from fund.errors import InsufficientCapital
from fund.models import AuditLog, CapitalCommitment
from fund.services import capital_commitment_release, lending_allocation_set
from loans.errors import LoanError
from loans.models import ApplicationEvent, Installment, Loan, LoanApplication
from loans.origination.disbursement import loan_disburse, loan_disburse_many
from loans.tests.factories import BorrowerFactory, application_to, fund_capital, new_key, today

pytestmark = pytest.mark.django_db

AMOUNTS = (20_000_000, 35_000_000, 10_000_000)


def _approved(chain, org, amounts=AMOUNTS, gu=None):
    return [
        application_to(
            "approved",
            borrower=BorrowerFactory(grassroots_union=gu or org.lb1),
            product=chain.product,
            maker=chain.maker,
            reviewer=chain.reviewer,
            approver=chain.approver,
            amount=amount,
            term=12 + 12 * (i % 2),
        )
        for i, amount in enumerate(amounts)
    ]


def _rows(apps) -> list:
    """What the disbursement wrote for each application, with row ids replaced by the
    application's place in the list (ids differ between two runs)."""
    out = []
    for n, app in enumerate(apps):
        app = LoanApplication.objects.get(pk=app.pk)
        loan = Loan.objects.get(application=app)
        # Ids as they appear in memos, notes, sub-ledgers and audit entries, by what they name.
        names = [
            ("khoản vay #", loan.pk, "L"),
            ("Khoản vay #", loan.pk, "L"),
            ("hồ sơ #", app.pk, "A"),
            ("loan:", loan.pk, "L"),
        ]

        def plain(text, names=names):
            for prefix, pk, label in names:
                text = text.replace(f"{prefix}{pk}", f"{prefix}{label}")
            return text

        entry = JournalEntry.objects.get(pk=loan.disbursement_entry_id)
        postings = Posting.objects.filter(entry=entry).select_related("account").order_by("id")
        audit = (
            AuditLog.objects.filter(
                Q(content_type__model="loanapplication", object_id=str(app.pk))
                | Q(content_type__model="loan", object_id=str(loan.pk))
            )
            .select_related("content_type")
            .order_by("id")
        )
        out.append(
            {
                "n": n,
                "status": app.status,
                "loan": (
                    loan.principal,
                    loan.outstanding_principal,
                    loan.savings_withheld,
                    loan.disbursed_on,
                    loan.maturity_date,
                    loan.term,
                    loan.rate,
                    loan.superior_union_id,
                    loan.grassroots_union_id,
                    loan.status,
                ),
                "schedule": list(
                    Installment.objects.filter(loan=loan)
                    .order_by("number")
                    .values_list(
                        "number",
                        "due_date",
                        "principal_due",
                        "interest_due",
                        "savings_due",
                        "balance_after",
                        "status",
                    )
                ),
                "entry": (entry.effective_date, plain(entry.memo), entry.document_type),
                "postings": [
                    (
                        p.account.code,
                        p.amount,
                        p.fund_id,
                        p.superior_union_id,
                        p.grassroots_union_id,
                        plain(p.subledger),
                    )
                    for p in postings
                ],
                "events": list(
                    ApplicationEvent.objects.filter(application=app)
                    .order_by("id")
                    .values_list("action", "from_status", "to_status", "actor_id")
                ),
                "audit": [
                    (
                        a.action,
                        a.content_type.model,
                        a.actor_id,
                        {
                            k: [
                                "E" if k == "journal_entry" and x is not None else plain(str(x))
                                for x in v
                            ]
                            for k, v in a.changes.items()
                        },
                    )
                    for a in audit
                ],
                "commitment": CapitalCommitment.objects.get(
                    reference=app.commitment_reference
                ).status,
            }
        )
    return out


def _undone(work):
    """Run `work`, read what it wrote, then roll it back."""
    with transaction.atomic():
        result = work()
        transaction.set_rollback(True)
    return result


def test_a_batch_writes_the_same_rows_as_one_disbursement_after_the_other(
    chain, capital, officers, org
):
    apps = _approved(chain, org)
    on = today() - timedelta(days=1)

    def one_by_one():
        for app in apps:
            loan_disburse(
                application=app,
                disbursed_on=on,
                idempotency_key=f"one-{app.pk}",
                actor=officers.fund,
            )
        return _rows(apps)

    def together():
        loans = loan_disburse_many(
            applications=apps,
            disbursed_on=on,
            idempotency_keys=[f"many-{app.pk}" for app in apps],
            actor=officers.fund,
        )
        assert [loan.application_id for loan in loans] == [app.pk for app in apps]
        return _rows(apps)

    single = _undone(one_by_one)
    batch = _undone(together)
    for got, expected in zip(batch, single, strict=True):
        for part in expected:
            assert got[part] == expected[part], (expected["n"], part)
    assert [r["status"] for r in batch] == ["disbursed"] * 3
    assert [r["loan"][0].amount for r in batch] == list(AMOUNTS)


def test_each_application_keeps_its_own_key(chain, capital, officers, org):
    apps = _approved(chain, org, amounts=AMOUNTS[:2])
    keys = [new_key("d"), new_key("d")]
    first = loan_disburse_many(
        applications=apps, disbursed_on=today(), idempotency_keys=keys, actor=officers.fund
    )
    again = loan_disburse_many(
        applications=apps, disbursed_on=today(), idempotency_keys=keys, actor=officers.fund
    )
    assert [loan.pk for loan in again] == [loan.pk for loan in first]
    # One of them alone, under its key, is the same request: the same loan.
    assert (
        loan_disburse(
            application=apps[1], disbursed_on=today(), idempotency_key=keys[1], actor=officers.fund
        )
        == first[1]
    )
    assert CommandRecord.objects.filter(scope="loans.loan_disburse").count() == 2
    assert Loan.objects.count() == 2


def _without_commitment(app):
    """The application no longer holds capital (its commitment released by hand), so that what
    is available for it depends on the loans made before it, not on its own commitment."""
    capital_commitment_release(reference=app.commitment_reference)


def test_the_capital_check_sees_the_loans_made_before_it_in_the_batch(chain, officers, org):
    fund_capital(org.fund, amount=40_000_000)
    apps = _approved(chain, org, amounts=AMOUNTS[:2])  # 20 and 35 million
    _without_commitment(apps[1])
    counts = (Loan.objects.count(), Posting.objects.count(), AuditLog.objects.count())
    # 40 million less the first loan's 20: 20 left for the second's 35.
    with pytest.raises(InsufficientCapital, match="Vốn khả dụng của quỹ chỉ còn 20.000.000 ₫"):
        loan_disburse_many(
            applications=apps,
            disbursed_on=today(),
            idempotency_keys=[new_key("d") for _ in apps],
            actor=officers.fund,
        )
    # All or nothing: the first is not paid out either.
    assert (Loan.objects.count(), Posting.objects.count(), AuditLog.objects.count()) == counts
    assert set(LoanApplication.objects.values_list("status", flat=True)) == {"approved"}
    # One after the other, the same refusal for the second.
    loan_disburse(
        application=apps[0], disbursed_on=today(), idempotency_key=new_key("d"), actor=officers.fund
    )
    with pytest.raises(InsufficientCapital, match="chỉ còn 20.000.000 ₫"):
        loan_disburse(
            application=apps[1],
            disbursed_on=today(),
            idempotency_key=new_key("d"),
            actor=officers.fund,
        )


def test_the_union_s_capacity_counts_the_loans_made_before_it_in_the_batch(
    chain, capital, officers, org
):
    lending_allocation_set(
        superior_union=org.lb, amount=40_000_000, valid_from=today() - timedelta(days=30)
    )
    apps = _approved(chain, org, amounts=AMOUNTS[:2])
    _without_commitment(apps[1])
    with pytest.raises(InsufficientCapital, match="Long Biên chỉ còn 20.000.000 ₫"):
        loan_disburse_many(
            applications=apps,
            disbursed_on=today(),
            idempotency_keys=[new_key("d") for _ in apps],
            actor=officers.fund,
        )
    assert not Loan.objects.exists()


def test_one_key_per_application(chain, capital, officers, org):
    apps = _approved(chain, org, amounts=AMOUNTS[:2])
    with pytest.raises(LoanError, match="khóa chống trùng"):
        loan_disburse_many(
            applications=apps,
            disbursed_on=today(),
            idempotency_keys=[new_key("d")],
            actor=officers.fund,
        )
    assert not Loan.objects.exists()
