"""`command_once`: a business command runs once per key; a retry returns its first result."""

import pytest

from accounting.errors import ApplicationError, IdempotencyConflict
from accounting.idempotency import command_once
from accounting.models import CommandRecord

pytestmark = pytest.mark.django_db


def test_runs_once_and_replays_the_first_result():
    runs = []

    def run():
        runs.append(1)
        return "42"

    first = command_once(scope="loan_disburse", key="k1", payload={"a": 1}, run=run, load=int)
    again = command_once(scope="loan_disburse", key="k1", payload={"a": 1}, run=run, load=int)
    assert (first, again, len(runs)) == ("42", 42, 1)
    assert CommandRecord.objects.get().result_id == "42"


def test_same_key_other_request_is_refused_and_scopes_are_separate():
    command_once(scope="s", key="k", payload={"a": 1}, run=lambda: "1", load=str)
    with pytest.raises(IdempotencyConflict, match="'k'"):
        command_once(scope="s", key="k", payload={"a": 2}, run=lambda: "2", load=str)
    assert command_once(scope="other", key="k", payload={"a": 2}, run=lambda: "2", load=str)


def test_a_failed_command_leaves_no_record():
    def boom():
        raise ApplicationError("không được")

    with pytest.raises(ApplicationError):
        command_once(scope="s", key="k", payload={}, run=boom, load=str)
    assert not CommandRecord.objects.exists()
    assert command_once(scope="s", key="k", payload={}, run=lambda: "ok", load=str) == "ok"


def test_a_key_is_required():
    with pytest.raises(ApplicationError, match="khóa chống trùng"):
        command_once(scope="s", key=" ", payload={}, run=lambda: "x", load=str)


def test_a_result_known_beforehand_is_recorded_with_the_key():
    first = command_once(scope="s", key="k", payload={}, run=lambda: "7", load=int, result_id=7)
    assert first == "7" and CommandRecord.objects.get().result_id == "7"
    assert command_once(scope="s", key="k", payload={}, run=lambda: "8", load=int, result_id=7) == 7


def test_a_command_returning_another_result_than_announced_writes_nothing():
    with pytest.raises(ApplicationError, match="#8"):
        command_once(scope="s", key="k", payload={}, run=lambda: "8", load=int, result_id=7)
    assert not CommandRecord.objects.exists()
