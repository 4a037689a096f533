"""Production settings: the deploy checks are clean and the hardening is on when DEBUG is off.

The settings are read in a fresh process with production-like environment values (DEBUG off, a
real secret, a host name), the way the server starts, so nothing this test process configured
leaks into them.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[1]

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "trovon.example.org",
    # As docker-compose.yml runs the web service: behind the Caddy TLS proxy.
    "TRUSTED_PROXIES": "172.28.0.0/16",
}

READ_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
names = [
    "DEBUG", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_HTTPONLY", "X_FRAME_OPTIONS", "SECURE_CONTENT_TYPE_NOSNIFF",
    "MIDDLEWARE", "ALLOWED_HOSTS", "SECURE_PROXY_SSL_HEADER",
]
print(json.dumps({n: getattr(settings, n) for n in names}))
"""


def _env(**values):
    overrides = ("SECURE_", "SESSION_", "CSRF_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(overrides)}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", PYTHONWARNINGS="ignore", **values)
    return env


def _settings(**values) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", READ_SETTINGS],
        cwd=BASE_DIR,
        env=_env(**values),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def production():
    return _settings(**PRODUCTION_ENV)


def test_manage_check_deploy_is_clean_in_production():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=_env(**PRODUCTION_ENV),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_https_only_cookies_and_hsts_in_production(production):
    assert production["DEBUG"] is False
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["CSRF_COOKIE_SECURE"] is True
    assert production["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_session_cookie_framing_and_csrf_in_production(production):
    assert production["SESSION_COOKIE_HTTPONLY"] is True
    assert production["X_FRAME_OPTIONS"] == "DENY"
    assert production["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    middleware = production["MIDDLEWARE"]
    assert "django.middleware.csrf.CsrfViewMiddleware" in middleware
    assert "django.middleware.clickjacking.XFrameOptionsMiddleware" in middleware
    # Only the health and metrics probes (config/probes.py: no page, no cookie, no redirect for
    # compose's healthchecks) answer before the security middleware.
    assert middleware[:2] == [
        "config.probes.ProbeMiddleware",
        "django.middleware.security.SecurityMiddleware",
    ]
    assert production["ALLOWED_HOSTS"] == ["trovon.example.org"]


def test_production_refuses_to_start_without_a_secret_key():
    env = _env(DEBUG="0", ALLOWED_HOSTS="trovon.example.org")
    env.pop("SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "-c", READ_SETTINGS],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_development_serves_plain_http():
    dev = _settings(DEBUG="1")
    assert dev["SECURE_SSL_REDIRECT"] is False and dev["SESSION_COOKIE_SECURE"] is False


def test_forwarded_proto_is_believed_only_behind_the_tls_proxy():
    """Without TRUSTED_PROXIES any client could send X-Forwarded-Proto: https and pass for a
    secure request; the header is trusted only when the deployment says the proxy is there."""
    alone = _settings(**{k: v for k, v in PRODUCTION_ENV.items() if k != "TRUSTED_PROXIES"})
    assert alone["SECURE_PROXY_SSL_HEADER"] is None


@pytest.mark.django_db
def test_csrf_is_enforced_on_a_real_post(django_user_model):
    """A POST without the CSRF token is refused (the test client skips the check by default)."""
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    user = django_user_model.objects.create_user("csrf", password="x-pass-123")
    strict.force_login(user)
    assert strict.post("/i18n/setlang/", {"language": "en"}).status_code == 403
