"""Backups and the restore drill, for real: pg_dump / pg_restore on PostgreSQL (SQLite's online
backup on the embedded database), GnuPG encryption, retention, and the verifiers run against the
restored copy in a separate process."""

import json
import shutil
import tarfile
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from loans.documents.services import document_attach
from loans.tests.helpers import pdf_bytes
from operations.backups import (
    MANIFEST,
    BackupError,
    backup_create,
    backups_list,
    restore_drill,
)


@pytest.fixture
def stored_report(settings, tmp_path):
    media = tmp_path / "media"
    (media / "reports" / "quarterly").mkdir(parents=True)
    (media / "reports" / "quarterly" / "q1.pdf").write_bytes(b"%PDF-1.4 test")
    settings.MEDIA_ROOT = media
    return media


def test_backup_then_restore_drill_verifies_the_restored_books(
    purge_ledger_after, org, stored_report, tmp_path, capsys, settings
):
    settings.BACKUP_PASSPHRASE_FILE = ""
    call_command("backup", dir=str(tmp_path / "backups"))
    (path,) = backups_list(directory=tmp_path / "backups")
    manifest = json.loads((path / MANIFEST).read_text())
    assert manifest["encrypted"] is False and "media.tar.gz" in manifest["files"]
    call_command("restore_drill", dir=str(tmp_path / "backups"), json=True)
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert result["ok"], result
    names = [c["name"] for c in result["verification"]["checks"]]
    assert names[:3] == ["chain", "turnover", "checkpoints"]
    assert {"loan book HN", "loan book HCM"} <= set(names)
    assert result["media_files"] == 1
    shutil.rmtree(tmp_path / "backups")
    with pytest.raises(Exception, match="no backup"):
        call_command("restore_drill", dir=str(tmp_path / "backups"))


def test_encrypted_backup_needs_its_passphrase(purge_ledger_after, org, stored_report, tmp_path):
    secret = tmp_path / "passphrase"
    secret.write_text("correct horse battery staple\n")
    path = backup_create(directory=tmp_path / "b", passphrase_file=str(secret))
    assert all(name.endswith(".gpg") for name in json.loads((path / MANIFEST).read_text())["files"])
    # The dump is not readable without the key.
    assert b"trovon" not in next(path.glob("database.*.gpg")).read_bytes()[:4096]
    with pytest.raises(BackupError, match="encrypted"):
        restore_drill(directory=tmp_path / "b", passphrase_file="")
    assert restore_drill(directory=tmp_path / "b", passphrase_file=str(secret)).ok


def test_a_damaged_backup_is_refused(purge_ledger_after, org, stored_report, tmp_path):
    path = backup_create(directory=tmp_path / "b", passphrase_file="")
    media = path / "media.tar.gz"
    media.write_bytes(media.read_bytes()[:-10])
    with pytest.raises(BackupError, match="does not match the manifest"):
        restore_drill(backup=path, passphrase_file="")


def test_retention_keeps_the_newest_and_ignores_partial_ones(db, stored_report, tmp_path):
    start = datetime(2027, 3, 1, 18, 30, tzinfo=UTC)
    for day in range(4):
        backup_create(
            directory=tmp_path, keep=2, passphrase_file="", now=start + timedelta(days=day)
        )
    (tmp_path / ".partial-x").mkdir()
    kept = [p.name for p in backups_list(directory=tmp_path)]
    assert kept == ["trovon-20270303T183000Z", "trovon-20270304T183000Z"]


def test_members_documents_on_disk_are_in_the_backup(
    purge_ledger_after, borrower, stored_report, tmp_path
):
    data = pdf_bytes()
    doc = document_attach(owner=borrower, kind="cccd", name="a.pdf", data=data)
    path = backup_create(directory=tmp_path / "b", passphrase_file="")
    with tarfile.open(path / "media.tar.gz") as tar:
        stored = tar.extractfile(f"documents/{doc.file.name}").read()
        assert "media/reports/quarterly/q1.pdf" in tar.getnames()
    assert stored == data
