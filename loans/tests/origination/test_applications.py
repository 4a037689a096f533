"""The approval chain: each move a service with an idempotency key, an event and an audit entry;
illegal moves, maker-checker and roles refused with a clear error that writes nothing."""

import pytest

from accounting.errors import IdempotencyConflict
from accounting.models import CommandRecord
from fund.errors import PermissionRefused
from fund.models import AuditLog, CapitalCommitment
from fund.selectors import capital_committed
from loans.errors import IllegalTransition, IneligibleBorrower, LoanError, MakerChecker
from loans.models import ApplicationEvent, LoanApplication
from loans.origination.applications import (
    application_approve,
    application_cancel,
    application_reject,
    application_review,
    application_submit,
    application_update,
)
from loans.origination.products import loan_product_update
from loans.tests.factories import BorrowerFactory, application_draft, application_to, new_key

pytestmark = pytest.mark.django_db


def counts():
    return (
        LoanApplication.objects.count(),
        ApplicationEvent.objects.count(),
        AuditLog.objects.count(),
        CommandRecord.objects.count(),
        CapitalCommitment.objects.count(),
    )


def to(status, chain, **fields):
    return application_to(
        status,
        borrower=chain.borrower,
        product=chain.product,
        maker=chain.maker,
        reviewer=chain.reviewer,
        approver=chain.approver,
        **fields,
    )


def test_the_whole_chain_records_who_did_what(chain):
    app = to("approved", chain)

    assert app.status == "approved"
    assert (app.created_by, app.submitted_by, app.reviewed_by, app.approved_by) == (
        chain.maker,
        chain.maker,
        chain.reviewer,
        chain.approver,
    )
    assert list(app.events.values_list("action", "from_status", "to_status", "actor")) == [
        ("create", "", "draft", chain.maker.pk),
        ("submit", "draft", "submitted", chain.maker.pk),
        ("review_approve", "submitted", "reviewed", chain.reviewer.pk),
        ("approve", "reviewed", "approved", chain.approver.pk),
    ]
    audited = AuditLog.objects.filter(object_id=str(app.pk), content_type__model="loanapplication")
    assert set(audited.values_list("action", flat=True)) == {
        "create",
        "submit",
        "review_approve",
        "approve",
    }


def test_approval_copies_the_product_terms_and_commits_capital(org, chain):
    app = to("approved", chain)

    assert app.terms["rate"] == "0.5500" and app.terms["method"] == "equal_principal"
    assert app.terms["debt_groups"][4] == {
        "group": 5,
        "min_days": 180,
        "provision_rate": "100",
        "reschedulings": 3,
    }
    assert app.terms["allocation_order"][0] == "penalty"
    commitment = CapitalCommitment.objects.get(reference=f"application:{app.pk}")
    assert commitment.amount.amount == 20_000_000 and commitment.superior_union == org.lb
    assert capital_committed(fund=org.fund) == 20_000_000


def test_a_retried_transition_returns_the_first_result_and_writes_nothing_more(chain):
    app = application_draft(borrower=chain.borrower, product=chain.product, actor=chain.maker)
    first = application_submit(application=app, idempotency_key="nop-1", actor=chain.maker)
    n = counts()
    again = application_submit(application=app, idempotency_key="nop-1", actor=chain.maker)

    assert again.pk == first.pk and again.status == "submitted"
    assert counts() == n


def test_a_key_reused_for_another_request_is_refused(chain):
    app = to("submitted", chain)
    application_review(
        application=app,
        decision="return",
        note="Thiếu xác nhận hộ nghèo",
        idempotency_key="r1",
        actor=chain.reviewer,
    )
    with pytest.raises(IdempotencyConflict):
        application_review(
            application=app,
            decision="return",
            note="Lý do khác",
            idempotency_key="r1",
            actor=chain.reviewer,
        )


@pytest.mark.parametrize(
    "status, move",
    [
        ("draft", "review"),
        ("draft", "approve"),
        ("submitted", "approve"),
        ("submitted", "submit"),
        ("reviewed", "review"),
        ("reviewed", "submit"),
        ("approved", "approve"),
        ("approved", "submit"),
    ],
)
def test_illegal_transitions_are_refused_with_a_clear_error(chain, status, move):
    app = (
        application_draft(borrower=chain.borrower, product=chain.product, actor=chain.maker)
        if status == "draft"
        else to(status, chain)
    )
    n = counts()
    with pytest.raises(IllegalTransition) as e:
        if move == "submit":
            application_submit(application=app, idempotency_key=new_key(), actor=chain.maker)
        elif move == "review":
            application_review(
                application=app, decision="approve", idempotency_key=new_key(), actor=chain.reviewer
            )
        else:
            application_approve(application=app, idempotency_key=new_key(), actor=chain.approver)
    assert e.value.field == "status"
    assert f"hồ sơ #{app.pk}" in e.value.message
    assert counts() == n


def test_terminal_states_refuse_every_move(chain):
    app = to("submitted", chain)
    application_reject(
        application=app,
        reason="Không đúng đối tượng",
        idempotency_key=new_key(),
        actor=chain.reviewer,
    )
    for call in (
        lambda: application_submit(application=app, idempotency_key=new_key(), actor=chain.maker),
        lambda: application_cancel(
            application=app, reason="x", idempotency_key=new_key(), actor=chain.maker
        ),
        lambda: application_update(application=app, amount=10_000_000),
    ):
        with pytest.raises(IllegalTransition) as e:
            call()
        assert "Từ chối" in e.value.message


def test_the_approver_must_not_be_the_maker(org, officers, chain):
    """A fund officer who entered the application cannot approve it; another one can."""
    app = application_to(
        "reviewed",
        borrower=chain.borrower,
        product=chain.product,
        maker=officers.fund,
        reviewer=chain.reviewer,
        approver=None,
    )
    n = counts()
    with pytest.raises(MakerChecker) as e:
        application_approve(application=app, idempotency_key=new_key(), actor=officers.fund)
    assert e.value.field == "actor"
    assert "không được tự phê duyệt" in e.value.message
    assert counts() == n
    approved = application_approve(
        application=app, idempotency_key=new_key(), actor=officers.checker
    )
    assert approved.status == "approved"


def test_the_reviewer_cannot_approve_either(officers, chain):
    app = application_to(
        "reviewed",
        borrower=chain.borrower,
        product=chain.product,
        maker=chain.maker,
        reviewer=officers.fund,
        approver=None,
    )
    with pytest.raises(MakerChecker):
        application_approve(application=app, idempotency_key=new_key(), actor=officers.fund)


def test_an_approval_needs_a_person(chain):
    app = to("reviewed", chain)
    with pytest.raises(MakerChecker):
        application_approve(application=app, idempotency_key=new_key(), actor=None)


@pytest.mark.parametrize("who", ["grassroots", "superior", "auditor", "other_fund"])
def test_only_a_fund_officer_of_the_fund_approves(officers, chain, who):
    app = to("reviewed", chain)
    n = counts()
    with pytest.raises(PermissionRefused):
        application_approve(
            application=app, idempotency_key=new_key(), actor=getattr(officers, who)
        )
    assert counts() == n


def test_the_review_belongs_to_the_superior_union_of_the_grassroots_union(officers, chain):
    app = to("submitted", chain)
    for who in ("superior_hbt", "grassroots", "auditor"):
        with pytest.raises(PermissionRefused):
            application_review(
                application=app,
                decision="approve",
                idempotency_key=new_key(),
                actor=getattr(officers, who),
            )
    reviewed = application_review(
        application=app, decision="approve", idempotency_key=new_key(), actor=officers.superior
    )
    assert reviewed.status == "reviewed"


def test_returned_applications_go_back_to_the_grassroots_union_and_come_again(chain):
    app = to("submitted", chain)
    app = application_review(
        application=app,
        decision="return",
        note="Bổ sung giấy xác nhận của tổ vay vốn",
        idempotency_key=new_key(),
        actor=chain.reviewer,
    )
    assert app.status == "returned" and app.review_note.startswith("Bổ sung")
    app = application_update(application=app, amount=15_000_000, actor=chain.maker)
    app = application_submit(application=app, idempotency_key=new_key(), actor=chain.maker)

    assert app.status == "submitted" and app.amount.amount == 15_000_000
    assert list(app.events.values_list("action", flat=True)) == [
        "create",
        "submit",
        "review_return",
        "submit",
    ]
    update = AuditLog.objects.get(
        action="update", object_id=str(app.pk), content_type__model="loanapplication"
    )
    assert update.changes == {"amount": ["20000000", "15000000"]}


def test_a_return_or_rejection_needs_a_reason(chain):
    app = to("submitted", chain)
    for decision in ("return", "reject"):
        with pytest.raises(LoanError) as e:
            application_review(
                application=app,
                decision=decision,
                note="  ",
                idempotency_key=new_key(),
                actor=chain.reviewer,
            )
        assert e.value.field == "note"
    with pytest.raises(LoanError) as e:
        application_review(
            application=app, decision="maybe", idempotency_key=new_key(), actor=chain.reviewer
        )
    assert e.value.field == "decision"


def test_a_rejection_keeps_the_reason_and_who_decided_and_releases_the_commitment(
    org, officers, chain
):
    app = to("approved", chain)
    assert capital_committed(fund=org.fund) == 20_000_000
    app = application_reject(
        application=app,
        reason="Hộ đã thoát nghèo trước khi giải ngân",
        idempotency_key=new_key(),
        actor=officers.fund,
    )

    assert app.status == "rejected"
    assert app.decided_by == officers.fund and app.decided_at is not None
    assert app.decision_reason == "Hộ đã thoát nghèo trước khi giải ngân"
    assert capital_committed(fund=org.fund) == 0
    event = app.events.get(action="reject")
    assert (event.from_status, event.actor, event.note) == (
        "approved",
        officers.fund,
        "Hộ đã thoát nghèo trước khi giải ngân",
    )


def test_the_superior_union_rejects_at_review(chain):
    app = to("submitted", chain)
    app = application_review(
        application=app,
        decision="reject",
        note="Mục đích vay không rõ ràng",
        idempotency_key=new_key(),
        actor=chain.reviewer,
    )
    assert app.status == "rejected"
    assert (app.decided_by, app.decision_reason) == (chain.reviewer, "Mục đích vay không rõ ràng")


def test_only_the_fund_rejects_after_review(officers, chain):
    app = to("reviewed", chain)
    with pytest.raises(PermissionRefused):
        application_reject(
            application=app, reason="x", idempotency_key=new_key(), actor=chain.reviewer
        )
    app.refresh_from_db()
    assert app.status == "reviewed"


def test_cancellation_keeps_reason_and_who(org, officers, chain):
    app = to("submitted", chain)
    app = application_cancel(
        application=app,
        reason="Thành viên không còn nhu cầu vay",
        idempotency_key=new_key(),
        actor=chain.maker,
    )
    assert app.status == "cancelled"
    assert (app.decided_by, app.decision_reason) == (
        chain.maker,
        "Thành viên không còn nhu cầu vay",
    )


def test_an_approved_application_is_cancelled_only_by_the_fund(org, officers, chain):
    app = to("approved", chain)
    with pytest.raises(PermissionRefused):
        application_cancel(
            application=app, reason="x", idempotency_key=new_key(), actor=chain.maker
        )
    app = application_cancel(
        application=app,
        reason="Thành viên nghỉ việc",
        idempotency_key=new_key(),
        actor=officers.fund,
    )
    assert app.status == "cancelled"
    assert capital_committed(fund=org.fund) == 0


def test_an_auditor_writes_nothing(officers, chain):
    n = counts()
    with pytest.raises(PermissionRefused) as e:
        application_draft(borrower=chain.borrower, product=chain.product, actor=officers.auditor)
    assert (e.value.code, e.value.field) == ("read_only", "actor")
    app = application_draft(borrower=chain.borrower, product=chain.product, actor=chain.maker)
    n = counts()
    for call in (
        lambda: application_submit(
            application=app, idempotency_key=new_key(), actor=officers.auditor
        ),
        lambda: application_cancel(
            application=app, reason="x", idempotency_key=new_key(), actor=officers.auditor
        ),
        lambda: application_update(application=app, amount=10_000_000, actor=officers.auditor),
    ):
        with pytest.raises(PermissionRefused):
            call()
    assert counts() == n


def test_a_grassroots_officer_cannot_apply_for_a_member_of_another_union(org, officers, product):
    other = BorrowerFactory(grassroots_union=org.lb2)
    n = counts()
    with pytest.raises(PermissionRefused) as e:
        application_draft(borrower=other, product=product, actor=officers.grassroots)
    assert e.value.field == "borrower"
    assert counts() == n
    # the superior union covers both of its grassroots unions
    assert application_draft(borrower=other, product=product, actor=officers.superior).pk


def test_a_product_of_another_fund_is_refused(org, chain):
    from loans.tests.factories import LoanProductFactory

    foreign = LoanProductFactory(fund=org.other_fund)
    with pytest.raises(LoanError) as e:
        application_draft(borrower=chain.borrower, product=foreign, actor=chain.maker)
    assert e.value.field == "product"
    assert LoanApplication.objects.count() == 0


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"amount": -5_000_000}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": 1.5e7}, "amount"),
        ({"term": 0}, "term"),
        ({"term": "12"}, "term"),
        ({"planned_jobs": -1}, "planned_jobs"),
        ({"purpose": ""}, "purpose"),
        ({"purpose_kind": "gambling"}, "purpose_kind"),
        ({"security_kind": "collateral"}, "security_kind"),
        ({"security_kind": "group", "group_name": ""}, "group_name"),
        ({"security_kind": "guarantor", "guarantor_name": ""}, "guarantor_name"),
        (
            {
                "security_kind": "guarantor",
                "guarantor_name": "Trần Văn B",
                "guarantor_national_id": "123",
            },
            "guarantor_national_id",
        ),
    ],
)
def test_bad_application_input_names_the_field_and_writes_nothing(chain, fields, field):
    n = counts()
    with pytest.raises(Exception) as e:
        application_draft(
            borrower=chain.borrower, product=chain.product, actor=chain.maker, **fields
        )
    assert getattr(e.value, "field", None) == field
    assert counts() == n


def test_the_borrower_is_not_their_own_guarantor(chain):
    with pytest.raises(LoanError) as e:
        application_draft(
            borrower=chain.borrower,
            product=chain.product,
            security_kind="guarantor",
            guarantor_name="Chính mình",
            guarantor_national_id=chain.borrower.national_id,
        )
    assert e.value.field == "guarantor_national_id"


def test_a_guarantor_is_kept_on_the_application(chain):
    app = application_draft(
        borrower=chain.borrower,
        product=chain.product,
        security_kind="guarantor",
        guarantor_name="Trần Văn Bình",
        guarantor_national_id="001 085 012 345",
        guarantor_relationship="Chồng",
        group_name="ignored",
    )
    assert (app.guarantor_name, app.guarantor_national_id, app.group_name) == (
        "Trần Văn Bình",
        "001085012345",
        "",
    )


def test_an_ineligible_member_is_refused_with_every_reason(chain):
    chain.borrower.certificate_number = ""
    chain.borrower.save()
    n = counts()
    with pytest.raises(IneligibleBorrower) as e:
        application_draft(
            borrower=chain.borrower, product=chain.product, amount=60_000_000, term=48
        )
    assert [r.code for r in e.value.reasons] == [
        "certificate_missing",
        "amount_out_of_range",
        "term_out_of_range",
        "borrower_limit",
    ]
    assert e.value.field == "certificate_number"
    assert "Không đủ điều kiện vay" in e.value.message
    assert counts() == n


def test_eligibility_is_checked_again_when_the_application_moves_on(chain):
    app = to("submitted", chain)
    chain.product.active = False
    chain.product.save()
    with pytest.raises(IneligibleBorrower) as e:
        application_review(
            application=app, decision="approve", idempotency_key=new_key(), actor=chain.reviewer
        )
    assert e.value.reasons[0].code == "product_inactive"
    app.refresh_from_db()
    assert app.status == "submitted"


def test_one_application_at_a_time(chain):
    to("submitted", chain)
    with pytest.raises(IneligibleBorrower) as e:
        application_draft(borrower=chain.borrower, product=chain.product, actor=chain.maker)
    assert e.value.reasons[0].code == "open_application"


def test_a_term_the_product_does_not_offer_is_refused_before_its_grace_is_looked_at(chain):
    loan_product_update(product=chain.product, min_term=6, principal_grace=5)
    with pytest.raises(IneligibleBorrower) as e:
        application_draft(borrower=chain.borrower, product=chain.product, term=5)
    assert e.value.field == "term"
    # within the range, a grace of 5 leaves at least one installment of principal
    assert application_draft(borrower=chain.borrower, product=chain.product, term=6).pk
