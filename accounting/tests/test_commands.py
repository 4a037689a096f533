"""Management commands: trial_balance, verify_ledger, period_close, verify_checkpoints."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounting.models import AccountCheckpoint, PeriodClose
from accounting.tests.factories import entry_post
from accounting.tests.helpers import tamper

pytestmark = pytest.mark.django_db


def run(*args, **kwargs) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err, **kwargs)
    return out.getvalue(), err.getvalue()


def test_trial_balance_prints_a_balanced_table():
    entry_post(30_000_000_000, dr="1121", cr="4111", on=date(2025, 1, 2))
    entry_post(5_000_000, dr="1283", cr="1121", on=date(2025, 1, 3))
    out, _ = run("trial_balance", "--as-of", "2025-01-31")
    assert "BẢNG CÂN ĐỐI TÀI KHOẢN đến ngày 31/01/2025" in out
    assert "29.995.000.000 ₫" in out  # 1121
    assert "30.000.000.000 ₫" in out  # 4111 and the totals
    assert "Cân đối: CÓ" in out
    out, _ = run("trial_balance", "--as-of", "2025-01-02", "--fund", "3")
    assert "Cân đối: CÓ" in out and "29.995" not in out


def test_verify_ledger_seals_and_reports_an_intact_chain():
    for i in range(3):
        entry_post(1_000 + i)
    out, _ = run("verify_ledger")
    assert "Đã niêm phong thêm: 3 bút toán" in out
    assert "Chuỗi niêm phong toàn vẹn: 3 mắt xích" in out
    out, _ = run("verify_ledger", "--no-seal")
    assert "Đã niêm phong thêm: 0" in out


def test_verify_ledger_fails_with_the_first_broken_link():
    entries = [entry_post(1_000 + i) for i in range(3)]
    run("verify_ledger")
    tamper("UPDATE accounting_posting SET amount = amount * 2 WHERE entry_id = %s", [entries[1].pk])
    with pytest.raises(CommandError) as e:
        run("verify_ledger")
    assert e.value.returncode == 2
    assert f"mắt xích #2 (bút toán #{entries[1].pk})" in str(e.value)


def test_verify_ledger_exits_non_zero_from_the_command_line(monkeypatch, capsys):
    from django.db import connections

    from accounting.management.commands.verify_ledger import Command

    entry = entry_post()
    run("verify_ledger")
    tamper("UPDATE accounting_journalentry SET memo = 'sửa' WHERE id = %s", [entry.pk])
    monkeypatch.setattr(connections, "close_all", lambda: None)  # keep the test's connection
    with pytest.raises(SystemExit) as e:
        Command().run_from_argv(["manage.py", "verify_ledger", "--no-seal"])
    assert e.value.code == 2
    assert f"bút toán #{entry.pk}" in capsys.readouterr().err


def test_period_close_command():
    entry_post(on=date(2025, 1, 5))
    out, _ = run("period_close", "--through", "2025-01-31", "--note", "Tháng 1")
    assert "Đã khóa sổ đến hết ngày 31/01/2025; 2 số dư chốt đã ghi." in out
    pc = PeriodClose.objects.get()
    assert (pc.closed_through, pc.note) == (date(2025, 1, 31), "Tháng 1")
    with pytest.raises(CommandError, match="31/01/2025"):
        run("period_close", "--through", "2025-01-15")
    with pytest.raises(CommandError):
        run("period_close")  # --through is required
    assert PeriodClose.objects.count() == 1


def test_verify_checkpoints_command():
    entry_post(7_000, on=date(2025, 1, 5))
    run("period_close", "--through", "2025-01-31")
    out, _ = run("verify_checkpoints")
    assert "khớp với tổng định khoản: 2 số dư chốt, 1 kỳ khóa sổ" in out
    cp = AccountCheckpoint.objects.get(account__code="4111")
    tamper("UPDATE accounting_accountcheckpoint SET balance = 0 WHERE id = %s", [cp.pk])
    err = StringIO()
    with pytest.raises(CommandError, match="1 số dư chốt sai lệch") as e:
        call_command("verify_checkpoints", stdout=StringIO(), stderr=err)
    assert e.value.returncode == 2
    assert "Tài khoản 4111" in err.getvalue() and "31/01/2025" in err.getvalue()
