"""Each app's migrations form one line: one leaf, and no number used twice.

Two branches that each add a migration both take the next number; merged, the app has two leaves
(Django refuses to migrate) or, after a merge migration, two files with one number, which reads
as one step and is two. The fix is to renumber the newer one before it is merged.

The graph is read as a new database sees it: a squashed migration stands for the ones it
replaces, which stay on disk for databases that applied them one by one.
"""

import re
from collections import defaultdict
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.migrations.loader import MigrationLoader

PROJECT_APPS = ["accounting", "fund", "loans", "reports"]


@pytest.fixture(scope="module")
def graph():
    return MigrationLoader(None, ignore_no_migrations=True).graph


# Third-party apps with their own migrations (Django, DRF, django-money, axes, knox, otp).
THIRD_PARTY = ("django", "rest_framework", "djmoney", "axes", "knox")


def test_the_project_apps_are_the_ones_with_migrations(graph):
    with_migrations = {app for app, _ in graph.nodes if apps.is_installed(app)}
    local = {
        config.label
        for config in apps.get_app_configs()
        if not config.module.__name__.startswith(
            ("django", "rest_framework", "djmoney", "axes", "knox")
        )
    }
    assert with_migrations & local == set(PROJECT_APPS)


@pytest.mark.parametrize("app", PROJECT_APPS)
def test_one_leaf_per_app(graph, app):
    assert len(graph.leaf_nodes(app)) == 1, graph.leaf_nodes(app)


@pytest.mark.parametrize("app", PROJECT_APPS)
def test_no_two_migrations_of_an_app_share_a_number(graph, app):
    by_number = defaultdict(list)
    for node_app, name in graph.nodes:
        if node_app == app:
            by_number[re.match(r"\d+", name).group()].append(name)
    assert {n: names for n, names in by_number.items() if len(names) > 1} == {}


@pytest.mark.django_db
def test_the_models_need_no_new_migration():
    out = StringIO()
    try:
        call_command("makemigrations", check=True, dry_run=True, stdout=out, stderr=out)
    except SystemExit:
        pytest.fail(f"makemigrations finds changes not in a migration:\n{out.getvalue()}")
