"""Guards that keep the layout from breaking what is stored outside the code.

Celery task names are stored: in outbox rows waiting for the broker, in the beat schedule, in
messages already queued in Redis. A task that moves to another module keeps its name only
because it says it with ``name=``; renaming one strands what is already queued. And the project
has no import cycle between its modules, lazy imports included: a cycle held by an import inside
a function is still one (import-linter's layers in ``make lint`` catch most, not all).
"""

import ast
import importlib
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["accounting", "apicommon", "config", "demo", "fund", "loans", "operations", "reports"]

# Every task the project registers, by the name stored in queues and rows. Change this list only
# together with a plan for what is already queued under the old name.
TASK_NAMES = {
    "accounting.tasks.ledger_seal_task",
    "accounting.tasks.ledger_turnover_compact_task",
    "fund.tasks.outbox_relay_task",
    "fund.tasks.audit_seal_task",
    "fund.tasks.integrity_check_task",
    "fund.tasks.chain_heads_email_task",
    "loans.tasks.close_of_business_task",
    "loans.tasks.close_of_business_catch_up_task",
    "loans.tasks.close_of_business_daily_task",
    # The reminder tasks keep the names they had in the module loans.reminder_tasks.
    "loans.reminder_tasks.reminder_deliveries_send_task",
    "loans.reminder_tasks.reminders_daily_task",
    "loans.reminder_tasks.reminders_retry_task",
    "reports.tasks.quarterly_report_task",
    "reports.tasks.quarterly_reports_after_close_task",
    "reports.tasks.quarterly_reports_due_task",
    "reports.tasks.quarterly_reports_fund_task",
}


def project_sources(*, tests: bool = False):
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if "migrations" in parts or (not tests and "tests" in parts):
                continue
            yield path


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def called_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def registered_task_names() -> set[str]:
    from config.celery import app

    app.loader.import_default_modules()
    return {name for name in app.tasks if not name.startswith("celery.")}


def test_every_registered_task_has_its_pinned_name():
    assert registered_task_names() == TASK_NAMES


def test_every_task_names_itself():
    """A ``@shared_task`` without ``name=`` is named after its module: moving it renames it."""
    unpinned = []
    for path in project_sources():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for decorator in node.decorator_list:
                name = decorator.func if isinstance(decorator, ast.Call) else decorator
                if getattr(name, "id", getattr(name, "attr", None)) not in ("shared_task", "task"):
                    continue
                keywords = decorator.keywords if isinstance(decorator, ast.Call) else []
                if not any(k.arg == "name" for k in keywords):
                    unpinned.append(f"{module_name(path)}.{node.name}")
    assert unpinned == []


def test_every_task_in_the_beat_schedule_is_registered():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled - registered_task_names() == set()


def outbox_task_names() -> dict[str, str]:
    """Each ``outbox_enqueue(task_name=...)`` in the project: where it is, the name it sends.

    A name given by a module-level constant is read from the imported module."""
    found = {}
    for path in project_sources():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and called_name(node) == "outbox_enqueue"):
                continue
            where = f"{module_name(path)}:{node.lineno}"
            arg = next((k.value for k in node.keywords if k.arg == "task_name"), None)
            if isinstance(arg, ast.Constant):
                found[where] = arg.value
            elif isinstance(arg, ast.Name):
                found[where] = getattr(importlib.import_module(module_name(path)), arg.id)
            else:
                pytest.fail(f"{where}: outbox_enqueue's task_name is not a name this test can read")
    return found


def test_every_task_the_outbox_can_enqueue_is_registered():
    sent = outbox_task_names()
    assert sent, "no outbox_enqueue call found: has it been renamed?"
    registered = registered_task_names()
    assert {where: name for where, name in sent.items() if name not in registered} == {}


def module_cycles() -> list[list[str]]:
    """The project's import cycles between modules (strongly connected components of more than
    one module), lazy imports included, ``if TYPE_CHECKING:`` imports not."""
    import grimp

    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    modules = sorted(m for m in graph.modules if ".tests" not in m and ".migrations" not in m)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & set(modules)) for m in modules}

    # Tarjan's algorithm, iterative (a recursive one would hit the recursion limit on big graphs).
    index, low, on_stack, stack, cycles = {}, {}, set(), [], []
    for start in modules:
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            targets = edges[node]
            if i < len(targets):
                work.append((node, i + 1))
                target = targets[i]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def test_no_import_cycle_between_the_projects_modules():
    assert module_cycles() == []
