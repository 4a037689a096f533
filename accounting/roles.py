"""The two PostgreSQL roles and what each may do (docs/ledger.md §11).

* ``trovon_owner`` owns the schema, the tables, the sequences and the ledger's functions, and
  runs ``manage.py migrate``. Nothing else connects as it.
* ``trovon_app`` is the application (web, worker, beat). It owns nothing, is no superuser, and
  has only the rights below: on the ledger's posted tables INSERT and SELECT; on the tables a
  balance is read from (turnover, checkpoints, closes) SELECT only — the ledger's own
  functions, running as the owner, write them; on every other table what the application
  needs (SELECT, INSERT, UPDATE, DELETE; never TRUNCATE, never a change of the schema).

``roles_create`` (run once as a superuser: ``manage.py db_roles``) creates both roles and hands
the database over to the owner; ``grants_apply`` (run as the owner after every ``migrate``, from
``post_migrate``) grants the application its rights on every table, so a table added by a later
migration is covered the moment it exists.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import connections


def app_role() -> str:
    return settings.DATABASE_APP_ROLE


def owner_role() -> str:
    return settings.DATABASE_OWNER_ROLE


def _tables(attribute: str) -> list[str]:
    """Tables each app lists in its AppConfig: ``insert_only_tables`` (rows, once written,
    never change: the application adds and reads them) and ``read_only_tables`` (written only
    by the ledger's own functions: the application reads them)."""
    return sorted(
        table for config in apps.get_app_configs() for table in getattr(config, attribute, ())
    )


def insert_only_tables() -> list[str]:
    return _tables("insert_only_tables")


def read_only_tables() -> list[str]:
    return _tables("read_only_tables")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def role_exists(cur, role: str) -> bool:
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    return cur.fetchone() is not None


def roles_create(
    *, owner_password: str | None, app_password: str | None, using: str = "default"
) -> list[str]:
    """Create (or update) both roles and give the database, its schema and every object in it
    to the owner. Run as a superuser, once per database; safe to run again. A password of None
    leaves an existing role's password alone (the test set-up). Returns the SQL run."""
    connection = connections[using]
    owner, app = _quote(owner_role()), _quote(app_role())
    database = _quote(connection.settings_dict["NAME"])
    done = []
    with connection.cursor() as cur:

        def run(sql: str, params=None, *, shown: str | None = None) -> None:
            cur.execute(sql, params)
            done.append(shown or sql)

        for role, password in ((owner_role(), owner_password), (app_role(), app_password)):
            verb = "ALTER" if role_exists(cur, role) else "CREATE"
            # Neither may become a superuser, create roles or databases, or skip row security.
            sql = (
                f"{verb} ROLE {_quote(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                "NOREPLICATION NOBYPASSRLS NOINHERIT"
            )
            if password is None:
                run(sql)
            else:
                run(sql + " PASSWORD %s", [password], shown=sql + " PASSWORD '…'")
        run(f"ALTER DATABASE {database} OWNER TO {owner}")
        run(f"ALTER SCHEMA public OWNER TO {owner}")
        run("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        run(f"REVOKE ALL ON DATABASE {database} FROM PUBLIC")
        run(f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {app}")
        # Objects created earlier by another role (a database migrated as the superuser).
        cur.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') "
            "AND pg_get_userbyid(c.relowner) <> %s",
            [owner_role()],
        )
        for (table,) in cur.fetchall():
            run(f"ALTER TABLE public.{_quote(table)} OWNER TO {owner}")
        cur.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> %s",
            [owner_role()],
        )
        for (function,) in cur.fetchall():
            run(f"ALTER FUNCTION {function} OWNER TO {owner}")
    done += grants_apply(using=using)
    return done


def grants_apply(*, using: str = "default") -> list[str]:
    """Grant the application role its rights on every table and sequence there is now, and
    on those the owner creates later. Run as the owner (or a superuser). Returns the SQL run;
    nothing when the database is not PostgreSQL or the application role does not exist."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    app = _quote(app_role())
    done = []
    with connection.cursor() as cur:
        if not role_exists(cur, app_role()):
            return []
        cur.execute("SELECT current_user")
        if cur.fetchone()[0] == app_role():
            return []  # the application grants nothing (a flush in its tests sends post_migrate)

        def run(sql: str) -> None:
            cur.execute(sql)
            done.append(sql)

        run(f"GRANT USAGE ON SCHEMA public TO {app}")
        run(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {app}")
        run(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}")
        run(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}")
        existing = set(connection.introspection.table_names(cur))
        for table in insert_only_tables():
            if table in existing:
                run(f"REVOKE UPDATE, DELETE ON public.{_quote(table)} FROM {app}")
        for table in read_only_tables():
            if table in existing:
                run(f"REVOKE INSERT, UPDATE, DELETE ON public.{_quote(table)} FROM {app}")
        # The ledger's functions that write the guarded tables: the application and no one else.
        cur.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND p.prosecdef AND p.prorettype <> 'trigger'::regtype"
        )
        for (function,) in cur.fetchall():
            run(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")
            run(f"GRANT EXECUTE ON FUNCTION {function} TO {app}")
        # Tables a later migration creates: the application's rights from the start (the
        # post_migrate run of this function then narrows those of the ledger's tables).
        run(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}"
        )
        run(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {app}")
    return done


def grants_after_migrate(sender, using="default", **kwargs) -> None:
    """post_migrate: the application's rights on whatever the migration created."""
    grants_apply(using=using)
