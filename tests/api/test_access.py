"""Every endpoint under /api/v1/ carries an access rule, and the rule is enforced."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.views import APIView

from apicommon.permissions import AccessRolePermission
from fund.access import PUBLIC, view_access_rule

pytestmark = pytest.mark.django_db


def _api_patterns(patterns=None, prefix=""):
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from _api_patterns(p.url_patterns, route)
        elif isinstance(p, URLPattern) and route.startswith("api/v1/"):
            yield route, p


def test_the_api_has_its_endpoints():
    routes = [r for r, _ in _api_patterns()]
    assert len(routes) >= 45
    assert "api/v1/repayments/create/" in routes


def test_every_api_view_has_an_access_rule_enforced_by_the_permission_class():
    missing, unenforced = [], []
    for route, p in _api_patterns():
        rule = view_access_rule(p.callback)
        if rule is None or not (rule == PUBLIC or (isinstance(rule, tuple) and rule)):
            missing.append(route)
        cls = getattr(p.callback, "cls", None)
        if cls is None or not issubclass(cls, APIView):
            unenforced.append(route)
        elif AccessRolePermission not in cls.permission_classes:
            unenforced.append(route)
    assert missing == []
    assert unenforced == []


def test_a_view_without_a_rule_is_refused(rf, officers):
    from apicommon.views import ApiView

    class Open(ApiView):
        def get(self, request):  # pragma: no cover - never reached
            raise AssertionError

    request = rf.get("/api/v1/x/")
    request.user = officers.fund
    response = Open.as_view()(request)
    assert response.status_code == 403


def test_anonymous_callers_get_401_with_json_and_public_endpoints_stay_open(api, org):
    anon = api(None)
    for url in ("/api/v1/loans/", "/api/v1/me/", "/api/v1/ledger/trial-balance/"):
        r = anon.get(url)
        assert r.status_code == 401, url
        assert r.json()["code"] == "not_authenticated"
        assert r["WWW-Authenticate"].startswith("Token")
    assert anon.get("/api/v1/schema/").status_code == 200
    r = anon.get("/api/v1/no-such-thing/")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_a_user_without_an_officer_role_is_refused(api, db):
    from fund.tests.factories import UserFactory

    r = api(UserFactory())
    r = r.get("/api/v1/loans/")
    assert r.status_code == 403
    assert r.json()["code"] == "permission_denied"


def test_token_sign_in(api, officers):
    officers.fund.set_password("mật-khẩu-dài-1")
    officers.fund.save()
    r = api(None).post(
        "/api/v1/auth/token/",
        {"username": "quy_lap", "password": "mật-khẩu-dài-1"},
        format="json",
    )
    assert r.status_code == 200
    token = r.json()["token"]
    c = api(None)
    c.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert c.get("/api/v1/me/").json()["role"] == "fund_officer"
    bad = api(None).post(
        "/api/v1/auth/token/", {"username": "quy_lap", "password": "sai"}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "authorization"


def test_the_schema_is_openapi_json(api, org):
    r = api(None).get("/api/v1/schema/?format=json")
    assert r.status_code == 200
    schema = r.json()
    assert schema["openapi"].startswith("3.")
    disburse = schema["paths"]["/api/v1/applications/{id}/disburse/"]["post"]
    header = [p for p in disburse["parameters"] if p["name"] == "Idempotency-Key"]
    assert header and header[0]["required"] is True
    assert "409" in disburse["responses"]


def test_every_post_documented_with_a_required_key_refuses_one_without_it(api, org, officers):
    """What the schema promises about Idempotency-Key is what each money POST enforces: no key,
    nothing done (the key is checked before the body or the row)."""
    schema = api(None).get("/api/v1/schema/?format=json").json()
    keyed = [
        path
        for path, item in schema["paths"].items()
        if any(
            p["name"] == "Idempotency-Key" and p.get("required")
            for p in item.get("post", {}).get("parameters", [])
        )
    ]
    # disburse, repayment, reversal, remittance, three capital moves, and a loan's life after
    # disbursement: two requests, their approval, waiver, recovery, closure, recall; a bank
    # receipt confirmed as a remittance; a capital move's confirmation and rejection by a
    # second fund officer; the year-end closing
    assert len(keyed) == 18
    for path in keyed:
        r = api(officers.fund).post(path.replace("{id}", "1"), {}, format="json")
        assert (r.status_code, r.json()["code"]) == (400, "idempotency_key_required"), path
        assert r.json()["field"] == "Idempotency-Key"


def test_the_catch_all_keeps_reverse_working_and_answers_json(api, org):
    from django.urls import reverse

    assert reverse("admin:index") == "/admin/"
    assert reverse("api:loan_detail", args=[7]) == "/api/v1/loans/7/"
    r = api(None).get("/api/v1/loans/a%0Ab/")
    assert r.status_code == 404 and r["Content-Type"] == "application/json"
