"""Backups of the database and the stored files, and the restore drill (docs/operations.md).

A backup is one directory ``trovon-<UTC stamp>`` under settings.BACKUP_DIR holding
``database.dump`` (``pg_dump`` custom format; ``database.sqlite3`` on the embedded SQLite),
``media.tar.gz`` (MEDIA_ROOT: the stored quarterly reports and every other file the app wrote;
and, under ``documents/``, the members' documents when they are stored on this disk)
and ``manifest.json`` (when, from which database, each file's size and SHA-256). With
settings.BACKUP_PASSPHRASE_FILE each data file is encrypted with GnuPG (AES-256, symmetric)
and ends in ``.gpg``. The directory is written under a temporary name and renamed when whole,
so a crash never leaves a backup that looks complete. The newest settings.BACKUP_KEEP backups
are kept, older ones removed.

``restore_drill`` restores the newest backup into a scratch database (never the live one),
checks the files against the manifest, and runs every verifier of the books there
(``operations.verification``): a backup is only known good once it has been restored.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connection

PREFIX = "trovon-"
DB_DUMP = "database.dump"
DB_SQLITE = "database.sqlite3"
MEDIA = "media.tar.gz"
MANIFEST = "manifest.json"


class BackupError(Exception):
    pass


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _run(cmd: list[str], *, env: dict | None = None) -> None:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{cmd[0]} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")


def pg_env(db: dict) -> dict:
    """libpq's environment for a Django database's settings (no password on a command line)."""
    env = dict(os.environ)
    for key, value in (
        ("PGHOST", db.get("HOST")),
        ("PGPORT", db.get("PORT")),
        ("PGUSER", db.get("USER")),
        ("PGPASSWORD", db.get("PASSWORD")),
        ("PGDATABASE", db.get("NAME")),
    ):
        if value:
            env[key] = str(value)
    return env


def _passphrase_file(passphrase_file: str | None) -> str | None:
    path = passphrase_file if passphrase_file is not None else settings.BACKUP_PASSPHRASE_FILE
    if not path:
        return None
    if not Path(path).is_file():
        raise BackupError(f"BACKUP_PASSPHRASE_FILE {path} does not exist")
    return path


def _gpg(args: list[str], passphrase_file: str) -> None:
    home = tempfile.mkdtemp(prefix="trovon-gpg-")
    try:
        _run(
            ["gpg", "--batch", "--yes", "--quiet", "--homedir", home, "--pinentry-mode",
             "loopback", "--passphrase-file", passphrase_file, *args]
        )  # fmt: skip
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _encrypt(path: Path, passphrase_file: str) -> Path:
    out = path.with_name(path.name + ".gpg")
    _gpg(["--symmetric", "--cipher-algo", "AES256", "--output", str(out), str(path)],
         passphrase_file)  # fmt: skip
    path.unlink()
    return out


def _decrypt(path: Path, out: Path, passphrase_file: str) -> Path:
    _gpg(["--decrypt", "--output", str(out), str(path)], passphrase_file)
    return out


def documents_directory() -> Path | None:
    """The directory of members' documents when they are kept on this disk (the ``documents``
    storage is a FileSystemStorage); None when they live in a bucket, backed up by its owner."""
    entry = settings.STORAGES.get("documents") or {}
    location = (entry.get("OPTIONS") or {}).get("location")
    if entry.get("BACKEND") != "django.core.files.storage.FileSystemStorage" or not location:
        return None
    return Path(location)


def backup_create(
    *,
    directory: Path | None = None,
    keep: int | None = None,
    passphrase_file: str | None = None,
    now: datetime | None = None,
) -> Path:
    """Write one whole backup and prune old ones; returns the backup's directory."""
    directory = Path(directory or settings.BACKUP_DIR)
    keep = settings.BACKUP_KEEP if keep is None else keep
    secret = _passphrase_file(passphrase_file)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    final = directory / f"{PREFIX}{stamp}"
    if final.exists():
        raise BackupError(f"{final} already exists")
    work = Path(tempfile.mkdtemp(prefix=f".partial-{stamp}-", dir=directory))
    try:
        db = settings.DATABASES["default"]
        if connection.vendor == "postgresql":
            dump = work / DB_DUMP
            _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(dump)], env=pg_env(db))
        else:
            # SQLite's online backup, through Django's own connection (in-memory databases too).
            dump = work / DB_SQLITE
            connection.ensure_connection()
            target = sqlite3.connect(str(dump))
            with target:
                connection.connection.backup(target)
            target.close()
        media = work / MEDIA
        media_root = Path(settings.MEDIA_ROOT)
        with tarfile.open(media, "w:gz") as tar:
            if media_root.is_dir():
                tar.add(str(media_root), arcname="media")
            documents_root = documents_directory()
            if documents_root is not None and documents_root.is_dir():
                tar.add(str(documents_root), arcname="documents")
        files = [dump, media]
        if secret:
            files = [_encrypt(p, secret) for p in files]
        manifest = {
            "created_at": (now or datetime.now(UTC)).isoformat(),
            "engine": connection.vendor,
            "database": db.get("NAME") if connection.vendor == "postgresql" else "sqlite",
            "encrypted": bool(secret),
            "files": {p.name: {"bytes": p.stat().st_size, "sha256": _sha256(p)} for p in files},
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2))
        work.chmod(0o750)
        work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    backups_prune(directory=directory, keep=keep)
    return final


def backups_list(*, directory: Path | None = None) -> list[Path]:
    """Whole backups, oldest first (a directory without its manifest is not one)."""
    directory = Path(directory or settings.BACKUP_DIR)
    if not directory.is_dir():
        return []
    return sorted(
        p for p in directory.iterdir() if p.name.startswith(PREFIX) and (p / MANIFEST).is_file()
    )


def backups_prune(*, directory: Path | None = None, keep: int | None = None) -> list[Path]:
    keep = settings.BACKUP_KEEP if keep is None else keep
    backups = backups_list(directory=directory)
    removed = backups[: max(0, len(backups) - max(1, keep))]
    for path in removed:
        shutil.rmtree(path)
    return removed


@dataclass
class DrillResult:
    backup: Path
    database: str
    files_ok: bool
    media_files: int
    verification: dict

    @property
    def ok(self) -> bool:
        return self.files_ok and self.verification.get("ok", False)


def restore_drill(
    *,
    backup: Path | None = None,
    directory: Path | None = None,
    scratch_name: str | None = None,
    passphrase_file: str | None = None,
    keep_database: bool = False,
) -> DrillResult:
    """Restore `backup` (default: the newest) into a scratch database and verify the books there."""
    if backup is None:
        backups = backups_list(directory=directory)
        if not backups:
            raise BackupError(f"no backup in {directory or settings.BACKUP_DIR}")
        backup = backups[-1]
    manifest = json.loads((backup / MANIFEST).read_text())
    for name, meta in manifest["files"].items():
        path = backup / name
        if not path.is_file() or _sha256(path) != meta["sha256"]:
            raise BackupError(f"{path} is missing or does not match the manifest")
    secret = _passphrase_file(passphrase_file) if manifest["encrypted"] else None
    if manifest["encrypted"] and not secret:
        raise BackupError("the backup is encrypted: set BACKUP_PASSPHRASE_FILE")
    work = Path(tempfile.mkdtemp(prefix="trovon-drill-"))
    try:

        def plain(name: str) -> Path:
            if secret:
                return _decrypt(backup / f"{name}.gpg", work / name, secret)
            return backup / name

        with tarfile.open(plain(MEDIA), "r:gz") as tar:
            media_files = sum(1 for m in tar.getmembers() if m.isfile())
        if manifest["engine"] == "postgresql":
            db = dict(settings.DATABASES["default"])
            scratch = scratch_name or f"{db['NAME']}_restore_drill"
            env = pg_env({**db, "NAME": "postgres"})
            _run(["dropdb", "--if-exists", scratch], env=env)
            _run(["createdb", scratch], env=env)
            _run(
                ["pg_restore", "--no-owner", "--no-acl", "--exit-on-error", "--dbname", scratch,
                 str(plain(DB_DUMP))],
                env=env,
            )  # fmt: skip
            url = _pg_url({**db, "NAME": scratch})
        else:
            scratch_path = work / "restored.sqlite3"
            shutil.copyfile(plain(DB_SQLITE), scratch_path)
            scratch = str(scratch_path)
            url = f"sqlite:///{scratch_path}"
        verification = _verify_in(url)
        if manifest["engine"] == "postgresql" and not keep_database:
            _run(["dropdb", "--if-exists", scratch], env=env)
        return DrillResult(backup, scratch, True, media_files, verification)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _pg_url(db: dict) -> str:
    from urllib.parse import quote

    auth = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def _verify_in(database_url: str) -> dict:
    """Run `manage.py migrate` then `verify_all --json` against another database, in fresh
    processes."""
    # No high-water mark: the live installation's last signed head is newer than any backup by
    # design; the drill checks the backup's own chain and signatures, not that it is the latest.
    env = dict(os.environ, DATABASE_URL=database_url, LEDGER_HEAD_DIR="")
    env.pop("DATABASE_REPLICA_URL", None)
    # A backup taken before an upgrade is brought to this code's schema first, as a restore would.
    migrated = subprocess.run(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "migrate", "--noinput", "-v0"],
        env=env,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
    )
    if migrated.returncode != 0:
        raise BackupError(f"migrating the restored copy failed: {migrated.stderr.strip()[-2000:]}")
    result = subprocess.run(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "verify_all", "--json"],
        env=env,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise BackupError(f"verify_all gave no result: {result.stderr.strip()[-2000:]}")
    return json.loads(lines[-1])
