"""Every view of the site and the API, walked from the URL conf, against every role.

1. Every view carries an explicit access rule (``fund.access``), except the short allow-list
   below, so a page cannot ship open by accident.
2. Every URL pattern × every role (and anonymous, and a signed-in user without a role):
   never a 500; anonymous visitors are sent to the log-in page (pages) or get 401/403 (API);
   roles outside a view's rule get 403; roles inside it, given the ids of rows of ANOTHER fund,
   get 404 (``fund.scoping``: other units' ids leak nothing).
3. An auditor can change nothing: a POST to every URL with ids of their own fund leaves every
   table of the fund's apps as it was.

The patterns are read from the URL conf when the tests are collected, so pages and endpoints
added later are covered without touching this file. URL keyword arguments are filled from the
kwarg's name or the URL's name (``loan``, ``borrower``, ``entry``…); an unknown one gets an id
that exists nowhere, which a scoped view must answer with 404 too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from fund.access import PUBLIC, view_access_rule
from fund.models import Role
from tests.helpers import row_counts

# Views that answer to their own permission system or need none, and why:
ALLOWED_NAMESPACES = (
    # The Django admin site checks is_staff and per-model permissions itself.
    "admin",
)
ALLOWED_WITHOUT_RULE = (
    "django.contrib.admin.",
    # i18n's set_language only sets the language cookie, for anyone (the switch on every page).
    "django.views.i18n.set_language",
    # Static and media files (served by Django only in development).
    "django.views.static.serve",
    "django.contrib.staticfiles.views.serve",
)

# URL names whose keyword arguments are not rows of a fund (none yet). A view listed here is
# still checked for 500s and roles, only not for the 404 on another fund's ids.
KWARGS_NOT_FUND_ROWS: set[str] = set()

ROLES = ["anonymous", "no_role", *Role.values]
# Keyword arguments that are not rows (a period, a response format): given a plain value and not
# expected to answer 404.
NOT_ROW_KWARGS = {"format": "json", "year": 2024, "quarter": 1, "month": 1}
MISSING_ID = 987_654_321


@dataclass(frozen=True)
class Endpoint:
    route: str  # the pattern as written, e.g. "audit/entries/<int:pk>/"
    name: str  # "namespace:name" or "" when unnamed
    pattern: URLPattern
    kwargs: tuple[str, ...]
    namespace: str = ""

    @property
    def callback(self):
        return self.pattern.callback

    def __str__(self):
        return self.name or self.route


def _qualname(callback) -> str:
    view = getattr(callback, "view_class", None) or getattr(callback, "cls", None) or callback
    return f"{view.__module__}.{getattr(view, '__qualname__', view.__class__.__name__)}"


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
            yield from _walk(p, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            route = prefix + str(p.pattern)
            name = f"{namespace}:{p.name}" if namespace and p.name else (p.name or "")
            kwargs = tuple(
                re.findall(r"<(?:\w+:)?(\w+)>", route) + re.findall(r"\(\?P<(\w+)>", route)
            )
            yield Endpoint(route, name, p, kwargs, namespace)


def all_endpoints() -> list[Endpoint]:
    return list(_walk(get_resolver()))


def allow_listed(endpoint: Endpoint) -> bool:
    if endpoint.namespace.split(":")[0] in ALLOWED_NAMESPACES:
        return True
    return _qualname(endpoint.callback).startswith(ALLOWED_WITHOUT_RULE)


def checked_endpoints() -> list[Endpoint]:
    seen, out = set(), []
    for e in all_endpoints():
        if allow_listed(e):
            continue
        key = (e.route, e.name)
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


# 1 ---------------------------------------------------------------------------------------------


def test_the_walk_finds_the_known_views():
    names = {e.name for e in all_endpoints()}
    assert {"audit:trial_balance", "audit:entry_detail", "api:grassroots_union_list"} <= names
    assert any(allow_listed(e) for e in all_endpoints())  # the admin site is there


def test_every_view_has_an_explicit_access_rule():
    missing = [
        f"{e.route} ({_qualname(e.callback)})"
        for e in checked_endpoints()
        if view_access_rule(e.callback) is None
    ]
    assert not missing, "views without an access rule (fund.access):\n" + "\n".join(missing)


def test_keyword_arguments_are_filled_with_the_row_they_name():
    books = SimpleNamespace(
        loan=SimpleNamespace(pk=1), repayment=SimpleNamespace(pk=2), borrower=SimpleNamespace(pk=3)
    )

    def value(kwarg, name):
        return _value(kwarg, Endpoint("x/", name, None, (kwarg,)), books)

    assert value("pk", "loans:loan_repayment_create") == 1
    assert value("pk", "loans:repayment_reverse") == 2
    assert value("borrower_id", "loans:loan_list") == 3
    assert value("pk", "loans:installment_detail") == MISSING_ID
    assert value("year", "reports:quarterly") == 2024


def test_a_view_without_a_rule_would_be_caught():
    def naked(request):  # pragma: no cover - never called
        return None

    endpoint = Endpoint("x/", "x", URLPattern(re.compile("x/"), naked), ())
    assert view_access_rule(endpoint.callback) is None and not allow_listed(endpoint)


# 2 ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sites(two_funds_books):
    """The two funds of the root conftest, and a signed-in user who has no role."""
    two_funds_books.no_role = get_user_model().objects.create_user("khong_vai_tro", password="x")
    return two_funds_books


def _user(sites, role: str):
    if role == "anonymous":
        return None
    if role == "no_role":
        return sites.no_role
    people = sites.main.officers
    return {
        Role.FUND_OFFICER: people.fund,
        Role.SUPERIOR_OFFICER: people.superior,
        Role.GRASSROOTS_OFFICER: people.grassroots,
        Role.AUDITOR: people.auditor,
    }[role]


# The row a keyword argument names: the hint found earliest in the kwarg's name (``loan_pk``),
# else in the URL's own name (``loan_repayment_create`` → a loan, ``repayment_reverse`` → a
# repayment); namespaces are left out (every ``loans:`` URL would read as a loan).
HINTS = {
    "repayment": lambda b: b.repayment.pk,
    "application": lambda b: b.application.pk,
    "borrower": lambda b: b.borrower.pk,
    "product": lambda b: b.product.pk,
    "loan": lambda b: b.loan.pk,
    "entry": lambda b: b.entry.pk,
    "journal": lambda b: b.entry.pk,
    "grassroots": lambda b: b.grassroots_union.pk,
    "superior": lambda b: b.superior_union.pk,
    "union": lambda b: b.grassroots_union.pk,
    "capital": lambda b: b.capital.pk,
    "officer": lambda b: b.officers.fund.pk,
    "fund": lambda b: b.fund.pk,
}


def _value(kwarg: str, endpoint: Endpoint, books: SimpleNamespace):
    if kwarg in NOT_ROW_KWARGS:
        return NOT_ROW_KWARGS[kwarg]
    for text in (kwarg.lower(), endpoint.name.rsplit(":", 1)[-1].lower()):
        found = [(text.find(h), -len(h), h) for h in HINTS if h in text]
        if found:
            return HINTS[min(found)[2]](books)
    return MISSING_ID


def _has_id_kwargs(endpoint: Endpoint) -> bool:
    return any(k not in NOT_ROW_KWARGS for k in endpoint.kwargs)


def url_for(endpoint: Endpoint, books: SimpleNamespace) -> str:
    kwargs = {k: _value(k, endpoint, books) for k in endpoint.kwargs}
    if endpoint.name:
        try:
            return reverse(endpoint.name, kwargs=kwargs)
        except Exception:  # an unnamed variant (format suffix) or a regex reverse cannot do
            pass
    path = endpoint.route
    for k, v in kwargs.items():
        path = re.sub(rf"<(?:\w+:)?{k}>", str(v), path)
        path = re.sub(rf"\(\?P<{k}>[^)]*\)", str(v), path)
    path = re.sub(r"[\^$?]|\\\.|\\Z", lambda m: "." if m.group() == "\\." else "", path)
    return "/" + path.lstrip("/")


def request(client: Client, url: str):
    """GET; a view that only takes POST (405) is asked with an empty POST instead, with an
    Idempotency-Key (an API POST that moves money refuses a request without one before it
    looks at the ids, whatever they are; here the ids are what is tested)."""
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url, {}, HTTP_IDEMPOTENCY_KEY="permission-check")
    return response


def _is_login_redirect(response) -> bool:
    login = resolve_url(settings.LOGIN_URL)
    return response.status_code == 302 and response["Location"].split("?")[0].endswith(login)


def _token_only(callback) -> bool:
    """An API view that takes only a token (signing a token out): a signed-in session is no
    credential there, so every session answers 401 as an anonymous caller does."""
    from rest_framework.authentication import SessionAuthentication

    classes = getattr(getattr(callback, "cls", None), "authentication_classes", None)
    return classes is not None and not any(issubclass(c, SessionAuthentication) for c in classes)


def _is_api(url: str) -> bool:
    return url.startswith("/api/")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", checked_endpoints(), ids=str)
def test_every_url_answers_every_role_as_its_rule_says(sites, endpoint, role):
    rule = view_access_rule(endpoint.callback)
    url = url_for(endpoint, sites.other)
    client = Client()
    user = _user(sites, role)
    if user is not None:
        client.force_login(user)
    response = request(client, url)
    status = response.status_code
    where = f"{url} as {role}: {status}"
    assert status < 500, where
    if rule == PUBLIC:
        return
    if role == "anonymous" or (_is_api(url) and _token_only(endpoint.callback)):
        if _is_api(url):
            assert status in (401, 403), where
        else:
            assert _is_login_redirect(response), where
    elif role == "no_role" or role not in rule:
        assert status == 403, where
    elif _has_id_kwargs(endpoint) and endpoint.name not in KWARGS_NOT_FUND_ROWS:
        assert status == 404, f"{where} — another fund's ids must answer 404"
    else:
        assert status != 403, f"{where} — the rule lets this role in"


UNION_ROLES = [Role.SUPERIOR_OFFICER, Role.GRASSROOTS_OFFICER]


@pytest.mark.django_db
@pytest.mark.parametrize("role", UNION_ROLES)
@pytest.mark.parametrize("endpoint", [e for e in checked_endpoints() if _has_id_kwargs(e)], ids=str)
def test_union_officers_get_404_for_other_unions_of_their_fund(sites, endpoint, role):
    """The same fund, another superior and grassroots union: its rows are out of scope too."""
    rule = view_access_rule(endpoint.callback)
    if rule == PUBLIC or role not in rule or endpoint.name in KWARGS_NOT_FUND_ROWS:
        return
    try:
        url = url_for(endpoint, sites.main.neighbour)
    except AttributeError:  # a fund-wide row (product, capital…): a union officer may see it
        return
    client = Client()
    client.force_login(_user(sites, role))
    status = request(client, url).status_code
    assert status == 404, f"{url} as {role}: {status} — another union's ids must answer 404"


# 3 ---------------------------------------------------------------------------------------------

FUND_APPS = ("accounting", "fund", "loans", "reports")


@pytest.mark.django_db
def test_an_auditor_changes_nothing_anywhere(sites):
    """POST (and PUT/PATCH/DELETE on the API) to every URL with ids of the auditor's own fund."""
    client = Client()
    client.force_login(sites.main.officers.auditor)
    before = row_counts(FUND_APPS)
    succeeded = []
    for endpoint in checked_endpoints():
        url = url_for(endpoint, sites.main)
        for method in ("post", "put", "patch", "delete"):
            if method != "post" and not _is_api(url):
                continue
            response = getattr(client, method)(url, {}, content_type="application/json")
            assert response.status_code < 500, f"{method} {url}: {response.status_code}"
            # A page may re-render its form with errors (200); an API answers 2xx only on success.
            if _is_api(url) and response.status_code < 300:
                succeeded.append(f"{method} {url}")
    assert row_counts(FUND_APPS) == before
    assert not succeeded, f"writes an auditor was allowed: {succeeded}"


@pytest.mark.django_db
def test_an_auditor_is_refused_a_change_through_the_fund_api(sites):
    from fund.models import GrassrootsUnion

    gu = sites.main.grassroots_union
    client = Client()
    client.force_login(sites.main.officers.auditor)
    url = reverse("api:grassroots_union_update", args=[gu.pk])
    r = client.post(url, {"contact_phone": "+84900123456"}, content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    assert GrassrootsUnion.objects.get(pk=gu.pk).contact_phone != "+84900123456"
    client.force_login(sites.main.officers.fund)  # the same request by a fund officer works
    r = client.post(url, {"contact_phone": "+84900123456"}, content_type="application/json")
    assert r.status_code == 200
    assert GrassrootsUnion.objects.get(pk=gu.pk).contact_phone == "+84900123456"


@pytest.mark.django_db
def test_auditor_pages_refuse_post(sites):
    client = Client()
    client.force_login(sites.main.officers.auditor)
    names = [e.name for e in checked_endpoints() if e.name.startswith("audit:")]
    assert len(names) >= 8
    for e in checked_endpoints():
        if e.name == "audit:chain":
            # Its POST is the check of the heads an auditor kept (an upload): it reads the
            # chain and writes nothing; an empty one is refused with the field named.
            r = client.post(url_for(e, sites.main), {})
            assert r.status_code == 200 and r.context["heads_form"].errors
        elif e.name.startswith("audit:"):
            assert client.post(url_for(e, sites.main), {}).status_code == 405, e.name
