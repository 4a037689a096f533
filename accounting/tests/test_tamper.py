"""The tamper suite: what an insider does to the ledger behind the services' back, and which
check catches it (docs/ledger.md §11, the threat model).

Each case starts from a fresh sealed ledger (its own test transaction: six entries posted
through the services, sealed, the head signed and the high-water mark written outside the
database) and acts as the database's superuser where the act needs it (triggers off with
``session_replication_role = replica``). Each case names how it is stopped: *refused* for the
application's role (its privileges, ``accounting/tests/test_privileges.py``) and *detected* by
which verifier — ``ledger_verify`` (chain, signed heads, high-water mark, request MAC of
unsealed entries), ``ledger_seal`` (re-verifies before sealing), ``turnover_verify``,
``checkpoints_verify``. The audit log's cases are in ``fund/tests/test_tamper_audit.py``.
"""

from datetime import date

import pytest
from django.db import connection

from accounting.errors import ChainTampered
from accounting.models import Account, ChainHead, ChainLink, JournalEntry, Posting
from accounting.selectors import (
    checkpoints_verify,
    ledger_signed_head,
    ledger_verify,
    published_heads_check,
    turnover_verify,
)
from accounting.services import (
    account_labels,
    entry_hash,
    ledger_seal,
    link_hash,
    period_close,
)
from accounting.tests.factories import entry_post
from accounting.tests.helpers import run_deferred_checks, tamper

pytestmark = pytest.mark.postgres


class SealedLedger(list):
    """The entries of the fresh ledger, with `seal()`: seal as the beat task would (the
    high-water mark moves when the seal commits)."""

    def __init__(self, entries, seal):
        super().__init__(entries)
        self.seal = seal


@pytest.fixture
def sealed(db, settings, tmp_path, django_capture_on_commit_callbacks):
    """Six entries posted and sealed; the high-water mark kept in a folder of the test's own."""
    settings.LEDGER_HEAD_DIR = str(tmp_path)
    entries = [entry_post(1_000_000 + i, on=date(2025, 3, 10 + i)) for i in range(6)]

    def seal():
        with django_capture_on_commit_callbacks(execute=True):
            return ledger_seal()

    seal()
    assert ledger_verify().ok
    return SealedLedger(entries, seal)


def rechain(from_seq: int) -> None:
    """Recompute every link from `from_seq` on with the project's own hash functions and write
    them back (triggers off), as an attacker who read the code would."""
    labels = account_labels()
    prev = ChainLink.objects.get(seq=from_seq - 1).link_hash if from_seq > 1 else "0" * 64
    for lk in ChainLink.objects.filter(seq__gte=from_seq).order_by("seq"):
        e = JournalEntry.objects.get(pk=lk.entry_id)
        eh = entry_hash(e, list(Posting.objects.filter(entry=e)), labels)
        lh = link_hash(prev, eh)
        tamper(
            "UPDATE accounting_chainlink SET entry_hash = %s, prev_hash = %s, link_hash = %s"
            " WHERE seq = %s",
            [eh, prev, lh, lk.seq],
        )
        prev = lh


def broken() -> str:
    report = ledger_verify()
    assert not report.ok
    return report.problem


def test_altered_entry_with_the_chain_recomputed_is_caught_by_the_signed_heads(sealed):
    """Refused for the app role (UPDATE, session_replication_role); a superuser who alters an
    amount and recomputes every later link with the project's functions is detected by
    ``ledger_verify``: the signed head no longer matches the link at its number."""
    tamper(
        "UPDATE accounting_posting SET amount = sign(amount) * 9000000 WHERE entry_id = %s",
        [sealed[2].pk],
    )
    rechain(3)
    assert "không còn là đầu chuỗi đã ký" in broken()


def test_a_raw_balanced_entry_is_never_sealed_and_is_reported(sealed):
    """With every trigger on, a balanced Dr 8111 / Cr 1121 of 300,000,000 đồng inserted in raw
    SQL passes the database's checks; its request hash cannot be the MAC the services make
    (the key is not in the database): ``ledger_verify`` reports it and ``ledger_seal`` refuses
    to seal it."""
    ids = dict(Account.objects.filter(code__in=["8111", "1121"]).values_list("code", "id"))
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO accounting_journalentry (effective_date, recorded_at, memo,"
            " document_type, document_id, idempotency_key, request_hash)"
            " VALUES ('2025-03-20', now(), 'chi', '', '', 'raw-1', repeat('a', 64)) RETURNING id"
        )
        entry_id = cur.fetchone()[0]
        for code, amount in (("8111", 300_000_000), ("1121", -300_000_000)):
            cur.execute(
                "INSERT INTO accounting_posting (entry_id, account_id, amount, amount_currency,"
                " effective_date, subledger) VALUES (%s, %s, %s, 'VND', '2025-03-20', '')",
                [entry_id, ids[code], amount],
            )
    run_deferred_checks()  # the balance trigger accepts it: it is balanced
    assert f"#{entry_id} không khớp mã xác thực" in broken()
    with pytest.raises(ChainTampered):
        sealed.seal()
    assert not ChainLink.objects.filter(entry_id=entry_id).exists()


def test_tail_truncation_is_caught_by_the_signed_head(sealed):
    """The last three entries deleted with their postings and links: the chain verifies link
    by link, but the last signed head names a link that is gone (``ledger_verify``)."""
    last3 = [e.pk for e in sealed[-3:]]
    tamper("DELETE FROM accounting_chainlink WHERE entry_id = ANY(%s)", [last3])
    tamper("DELETE FROM accounting_posting WHERE entry_id = ANY(%s)", [last3])
    tamper("DELETE FROM accounting_journalentry WHERE id = ANY(%s)", [last3])
    assert "chuỗi đã bị cắt hoặc viết lại" in broken()


def test_tail_truncation_with_the_signed_heads_deleted_is_caught_by_the_high_water_mark(sealed):
    """The same, with the signed heads deleted too: the high-water mark the sealer keeps
    outside the database is ahead of the chain (``ledger_verify``)."""
    more = [entry_post(2_000_000 + i, on=date(2025, 3, 20)) for i in range(2)]
    sealed.seal()
    ids = [e.pk for e in more]
    tamper("DELETE FROM accounting_chainlink WHERE entry_id = ANY(%s)", [ids])
    tamper("DELETE FROM accounting_posting WHERE entry_id = ANY(%s)", [ids])
    tamper("DELETE FROM accounting_journalentry WHERE id = ANY(%s)", [ids])
    tamper("DELETE FROM accounting_chainhead WHERE chain = 'ledger' AND seq > 6")
    assert "mốc cao nhất giữ ngoài CSDL là #8" in broken()


def test_entry_altered_before_the_sealer_ran_is_not_sealed(sealed):
    """An entry changed in the minute before the seal: the sealer re-verifies each entry's
    request MAC before sealing and refuses (``ledger_seal``; ``ledger_verify`` reports it)."""
    fresh = entry_post(5_000_000, on=date(2025, 3, 25))
    tamper(
        "UPDATE accounting_posting SET amount = sign(amount) * 50000000 WHERE entry_id = %s",
        [fresh.pk],
    )
    with pytest.raises(ChainTampered, match=f"#{fresh.pk}"):
        sealed.seal()
    assert not ChainLink.objects.filter(entry_id=fresh.pk).exists()
    assert f"#{fresh.pk}" in broken()


def test_updated_turnover_is_caught_by_turnover_verification(sealed):
    """Refused for the app role (l1's guard); a superuser's UPDATE of a turnover row is
    detected by ``turnover_verify``."""
    tamper("UPDATE accounting_accountturnover SET debit = debit + 1000000")
    assert not turnover_verify().ok


def test_updated_checkpoint_is_caught_by_checkpoint_verification(sealed):
    """A checkpoint written by the close and then changed: ``checkpoints_verify``."""
    period_close(through=date(2025, 3, 31))
    tamper("UPDATE accounting_accountcheckpoint SET balance = balance + 1")
    assert not checkpoints_verify().ok


def test_account_moved_and_renamed_breaks_the_chain(sealed):
    """1121 (with postings) renumbered and moved under 411 by plain SQL: refused for the app
    role (chart trigger, l1); detected by ``ledger_verify`` since the entry hash covers the
    account's code and path."""
    parent = Account.objects.get(code="411")
    tamper(
        "UPDATE accounting_account SET code = '4119', parent_id = %s, path = '/411/4119/'"
        " WHERE code = '1121'",
        [parent.pk],
    )
    assert "đã bị sửa sau khi niêm phong" in broken()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE accounting_posting SET amount = amount * 2 WHERE entry_id = %s",
        "UPDATE accounting_journalentry SET memo = 'đã sửa' WHERE id = %s",
        "UPDATE accounting_posting SET grassroots_union_id = 99 WHERE entry_id = %s",
        "UPDATE accounting_posting SET superior_union_id = 98 WHERE entry_id = %s",
    ],
    ids=["amount", "memo", "grassroots-union", "superior-union"],
)
def test_sealed_rows_edited_are_caught_by_the_chain(sealed, sql):
    """Refused for the app role (no UPDATE); detected by ``ledger_verify`` (the entry hash)."""
    tamper(sql, [sealed[1].pk])
    report = ledger_verify()
    assert not report.ok
    assert report.first_broken_entry_id == sealed[1].pk


def test_deleted_entry_is_caught_by_the_chain(sealed):
    """An entry and its postings deleted, its link left: ``ledger_verify``."""
    tamper("DELETE FROM accounting_posting WHERE entry_id = %s", [sealed[3].pk])
    tamper("DELETE FROM accounting_journalentry WHERE id = %s", [sealed[3].pk])
    assert "đã bị xóa" in broken()


def test_deleted_link_is_caught_by_the_chain(sealed):
    """A link deleted in the middle: ``ledger_verify`` finds the gap in the numbers."""
    tamper("DELETE FROM accounting_chainlink WHERE seq = 3")
    assert "thiếu mắt xích số 3" in broken()


def test_swapped_links_are_caught_by_the_chain(sealed):
    """Two links' entries swapped: each link's entry hash no longer matches its entry."""
    a, b = sealed[1].pk, sealed[2].pk
    swap = "UPDATE accounting_chainlink SET entry_id = %s WHERE entry_id = %s"
    tamper(swap, [-a, a])  # through a free id: the link's entry is unique
    tamper(swap, [a, b])
    tamper(swap, [b, -a])
    assert "đã bị sửa sau khi niêm phong" in broken()


def test_links_appended_without_the_sealer_are_caught(sealed):
    """A superuser posts an entry through the services and seals it with the project's hash
    functions but without the key: the link lies beyond the last signed head."""
    extra = entry_post(7_000_000, on=date(2025, 3, 28))
    head = ChainLink.objects.order_by("-seq").first()
    eh = entry_hash(extra, list(extra.postings.all()), account_labels())
    ChainLink.objects.create(
        seq=head.seq + 1,
        entry=extra,
        entry_hash=eh,
        prev_hash=head.link_hash,
        link_hash=link_hash(head.link_hash, eh),
    )
    assert "không được ký" in broken()
    with pytest.raises(ChainTampered):
        sealed.seal()


def test_a_forged_head_is_caught_by_its_signature(sealed):
    """A head row inserted without the key (a copied signature does not fit another head)."""
    real = ledger_signed_head()
    rechain(2)  # nothing changed: the same hashes, so the head still holds
    assert ledger_verify().ok
    ChainHead.objects.create(
        chain="ledger",
        seq=real.seq + 1,
        link_hash="f" * 64,
        signed_at=real.signed_at,
        key_id=real.key_id,
        signature=real.signature,
    )
    assert "chữ ký không hợp lệ" in broken()


def test_published_heads_still_in_the_chain_until_it_is_rewritten(sealed):
    """The heads an auditor kept check against today's chain; after a rewrite they do not."""
    kept = ledger_signed_head().line()
    assert [r.ok for r in published_heads_check(f"Quý 1:\n{kept}\n")] == [True]
    tamper("UPDATE accounting_journalentry SET memo = 'x' WHERE id = %s", [sealed[0].pk])
    rechain(1)
    (result,) = published_heads_check(kept)
    assert not result.ok
    assert "viết lại" in result.problem


APP_REFUSED = [
    ("rewrite a link", "UPDATE accounting_chainlink SET link_hash = repeat('0', 64)"),
    ("delete a signed head", "DELETE FROM accounting_chainhead"),
    ("rewrite a signed head", "UPDATE accounting_chainhead SET seq = seq + 1"),
    ("delete an audit link", "DELETE FROM fund_auditlink"),
    ("alter a sealed memo", "UPDATE accounting_journalentry SET memo = 'x'"),
    ("swap links", "UPDATE accounting_chainlink SET entry_id = entry_id"),
]


@pytest.mark.parametrize("sql", [r[1] for r in APP_REFUSED], ids=[r[0] for r in APP_REFUSED])
def test_the_application_role_is_refused_the_rewrites(sealed, sql):
    """What the cases above do as superuser, the application's own login cannot do at all
    (privileges and triggers, docs/ledger.md §11); the raw balanced entry is the one act it
    can do, and the request MAC catches it (above)."""
    import psycopg

    from accounting.roles import app_role
    from accounting.tests.helpers import pg_connect

    # The rows the app role attacks must be visible to its own connection: commit-free
    # attacks on the test's uncommitted rows would touch nothing, so the refusal asked for is
    # the privilege or trigger check, which PostgreSQL makes before looking at any row.
    with pg_connect(user=app_role(), password=None) as conn:
        with pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.RaiseException)):
            conn.execute(sql)
        conn.rollback()
