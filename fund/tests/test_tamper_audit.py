"""The tamper suite's audit-log cases (the ledger's are in ``accounting/tests/test_tamper.py``).

Each case starts from a freshly sealed log (five rows written through ``audit_record``, sealed
by ``audit_seal``, the head signed, the high-water mark written outside the database) and acts
as the superuser with the triggers off. The application's role is refused UPDATE and DELETE of
the log by the append-only trigger; what a superuser does is detected by ``audit_verify``.
"""

import pytest
from django.db import connection

from accounting.errors import ChainTampered
from accounting.tests.helpers import tamper as superuser
from fund.audit import audit_record, audit_seal, audit_verify
from fund.models import AuditLink, AuditLog

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def log(org, officers, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.LEDGER_HEAD_DIR = str(tmp_path)
    rows = [
        audit_record(actor=officers.fund, action="update", obj=org.lb1, changes={"n": [i, i + 1]})
        for i in range(5)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert audit_seal() == 5
    assert audit_verify().ok
    return rows


def problem() -> str:
    report = audit_verify()
    assert not report.ok
    return report.problem


def test_the_log_seals_in_order_and_a_new_row_joins_the_chain(log, org):
    audit_record(actor=None, action="create", obj=org.lb)
    report = audit_verify()
    assert (report.ok, report.links_checked, report.unsealed_rows) == (True, 5, 1)
    assert audit_seal() == 1
    assert AuditLink.objects.order_by("-seq").first().log_id == AuditLog.objects.latest("id").pk


def test_the_application_role_cannot_update_or_delete_a_row(log):
    from django.db import transaction
    from django.db.utils import DatabaseError

    for sql in ("UPDATE fund_auditlog SET action = 'x'", "DELETE FROM fund_auditlink"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)


def test_an_altered_row_is_detected(log):
    superuser("UPDATE fund_auditlog SET changes = '{\"n\": [0, 9]}' WHERE id = %s", [log[1].pk])
    assert f"#{log[1].pk} đã bị sửa" in problem()


def test_a_deleted_row_is_detected(log):
    superuser("DELETE FROM fund_auditlog WHERE id = %s", [log[2].pk])
    assert f"#{log[2].pk} đã bị xóa" in problem()


def test_a_row_deleted_with_its_link_is_detected(log):
    superuser("DELETE FROM fund_auditlink WHERE log_id = %s", [log[2].pk])
    superuser("DELETE FROM fund_auditlog WHERE id = %s", [log[2].pk])
    assert "thiếu mắt xích số 3" in problem()


def test_the_tail_deleted_is_detected_by_the_signed_head(log):
    ids = [r.pk for r in log[-2:]]
    superuser("DELETE FROM fund_auditlink WHERE log_id = ANY(%s)", [ids])
    superuser("DELETE FROM fund_auditlog WHERE id = ANY(%s)", [ids])
    assert "chuỗi đã bị cắt hoặc viết lại" in problem()


def test_the_tail_and_its_heads_deleted_are_detected_by_the_high_water_mark(log):
    ids = [r.pk for r in log[-2:]]
    superuser("DELETE FROM fund_auditlink WHERE log_id = ANY(%s)", [ids])
    superuser("DELETE FROM fund_auditlog WHERE id = ANY(%s)", [ids])
    superuser("DELETE FROM accounting_chainhead WHERE chain = 'audit'")
    assert "mốc cao nhất giữ ngoài CSDL là #5" in problem()


def test_the_sealer_will_not_build_on_a_rewritten_chain(log, org):
    superuser("DELETE FROM fund_auditlink WHERE seq = 5")
    audit_record(actor=None, action="create", obj=org.lb)
    with pytest.raises(ChainTampered):
        audit_seal()
