"""Project-wide test set-up.

Tests marked ``postgres`` need the real database (its triggers, real parallel connections); on
SQLite they are skipped with a reason that says so, and the run ends by listing them.

``--frozen-now=2027-12-31T17:30:00Z`` (or ``TROVON_FROZEN_NOW``) starts the whole session at that
instant, the clock ticking on from there: a test that only passes on some days of the year fails
on the day that breaks it, not months later. Python's clock follows (``timezone.now()``,
``localdate()``, ``date.today()``); the database's own ``now()`` does not, so the runs at fixed
dates in .ci/run choose tests that take the date from Python.
"""

import os
from datetime import datetime

import pytest
from django.db import connection
from django.utils import translation

# Fixtures shared by the apps' tests and the delivery-level suite under tests/: the loan tests'
# fund with its unions, officers, product, member and capital, and the reports' federation.
pytest_plugins = ["loans.tests.fixtures", "reports.tests.fixtures"]

PG_REASON = (
    "needs PostgreSQL (DATABASE_URL is not set, running on the embedded SQLite); "
    "bash .ci/run runs it against the real server"
)


def pytest_addoption(parser):
    parser.addoption(
        "--frozen-now",
        default=os.environ.get("TROVON_FROZEN_NOW", ""),
        metavar="ISO-8601",
        help="start the session's clock at this instant, e.g. 2027-12-31T17:30:00Z "
        "(default: $TROVON_FROZEN_NOW, else the real clock)",
    )


def frozen_now(config) -> datetime | None:
    value = config.getoption("--frozen-now")
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise pytest.UsageError(f"--frozen-now needs a time zone (Z or +07:00): {value}")
    return moment


REDIS_TEST_URL = "redis://127.0.0.1:6379/15"


def redis_url_of_this_process() -> str:
    """The Redis database of this test process: ``TROVON_TEST_REDIS_URL`` (else database 15), one
    lower for each parallel worker (``pytest -n 2``: gw0 on 15, gw1 on 14), since the tests that
    use it empty it and count its queues."""
    url = os.environ.get("TROVON_TEST_REDIS_URL", REDIS_TEST_URL)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw"):
        base, _, number = url.rpartition("/")
        url = f"{base}/{int(number or 0) - int(worker[2:])}"
    return url


def pytest_configure(config):
    from django.conf import settings

    from accounting.signing import signing_key_generate

    # Read by the tests that use Redis (tests/integration, the outbox's), and by the worker
    # processes they start.
    os.environ["TROVON_TEST_REDIS_URL"] = redis_url_of_this_process()

    # Every run signs chain heads with a key of its own; the high-water mark outside the
    # database is per test where a test needs it (the `high_water` fixture), since each test's
    # rolled-back database would fall short of the last one's.
    settings.LEDGER_SIGNING_KEY = signing_key_generate()
    settings.LEDGER_HEAD_DIR = ""
    # The same for the processes the tests start (the real Celery worker of tests/integration):
    # heads they sign must verify here.
    os.environ["LEDGER_SIGNING_KEY"] = settings.LEDGER_SIGNING_KEY
    os.environ["LEDGER_HEAD_DIR"] = ""
    # Started before any test module is imported, so that dates computed at collection time
    # (parametrize lists, module constants) see the frozen day too.
    moment = frozen_now(config)
    if moment is not None:
        import time_machine

        config._trovon_traveller = time_machine.travel(moment, tick=True)
        config._trovon_traveller.start()


def pytest_unconfigure(config):
    traveller = getattr(config, "_trovon_traveller", None)
    if traveller is not None:
        traveller.stop()


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason=PG_REASON)
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def pytest_report_header(config):
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    lines = [f"trovon: database engine {engine}"]
    moment = frozen_now(config)
    if moment is not None:
        lines.append(f"trovon: clock frozen at {moment.isoformat()} (ticking)")
    return lines


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """On PostgreSQL, the test database as production has it: owned by the owner role, with the
    application role's grants (accounting/roles.py), so tests can connect as either."""
    if connection.vendor == "postgresql":
        from django.db import IntegrityError, ProgrammingError

        from accounting.roles import roles_create

        with django_db_blocker.unblock():
            for attempt in range(3):  # another test run may create the roles at the same moment
                try:
                    roles_create(owner_password=None, app_password=None)
                    break
                except (IntegrityError, ProgrammingError):
                    if attempt == 2:
                        raise
            if as_app_role():
                # Every Django connection from now on acts as the application role (SET ROLE
                # after login; the test database was created and migrated by the login role).
                from django.db.backends.signals import connection_created

                connection_created.connect(_set_app_role, dispatch_uid="trovon.test_app_role")
                connection.close()
    yield
    if connection.vendor == "postgresql" and as_app_role():
        # The login role drops the test database.
        from django.db.backends.signals import connection_created

        connection_created.disconnect(dispatch_uid="trovon.test_app_role")
        with django_db_blocker.unblock():
            connection.close()


def as_app_role() -> bool:
    """``TROVON_TEST_AS_APP_ROLE=1`` (bash .ci/run sets it): the PostgreSQL suite runs as the
    application's role, so every privilege it lacks fails a test that needs it."""
    return os.environ.get("TROVON_TEST_AS_APP_ROLE") == "1"


def _set_app_role(sender, connection, **kwargs):
    if connection.vendor == "postgresql":
        from accounting.roles import app_role

        with connection.cursor() as cur:
            cur.execute(f'SET ROLE "{app_role()}"')


@pytest.fixture
def purge_ledger_after(transactional_db):
    """For tests that commit for real (parallel connections) on PostgreSQL.

    The ledger refuses TRUNCATE, so the flush that ends a transactional test runs with triggers
    off (session_replication_role = replica, which needs the superuser the tests connect as).
    """
    yield
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            # The flush runs as the login role (a superuser), triggers off; the next test's
            # `_triggers_back_on` turns them on and returns to the application role.
            cur.execute("RESET ROLE")
            cur.execute("SET session_replication_role = replica")


@pytest.fixture(autouse=True)
def _language_back_to_default():
    """A request in English leaves English active in the thread (LocaleMiddleware activates
    the request's language and nothing resets it between tests): back to the default after
    each test, so that the next one sees messages in Vietnamese as a fresh process would."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _triggers_back_on(django_db_blocker):
    """Undo `purge_ledger_after` on a reused connection, so every test runs with triggers on."""
    if connection.vendor == "postgresql" and connection.connection is not None:
        with django_db_blocker.unblock(), connection.cursor() as cur:
            cur.execute("RESET ROLE")
            cur.execute("SET session_replication_role = DEFAULT")
            if as_app_role():
                from accounting.roles import app_role

                cur.execute(f'SET ROLE "{app_role()}"')
    yield


@pytest.fixture(scope="module")
def two_funds_books(django_db_setup, django_db_blocker):
    """Two funds with books (``reports.tests.factories.two_funds``), built once per module.

    Built inside a transaction that is rolled back when the module ends; each test runs in a
    savepoint of it (pytest-django's ``django_db``), so tests may write without affecting others.
    """
    from django.db import transaction

    from accounting.services import chart_cache_clear
    from reports.tests.factories import two_funds

    with django_db_blocker.unblock():
        with transaction.atomic():
            data = two_funds()
            yield data
            transaction.set_rollback(True)
    chart_cache_clear()
