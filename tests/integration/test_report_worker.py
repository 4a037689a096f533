"""A real worker on the real Redis generates the fund's quarterly report and then every
superior union's (in parallel), stores them and mails them through the file mail backend."""

import time
from pathlib import Path

import pytest

from reports.models import QuarterlyReport
from reports.quarterly import quarterly_report_figures
from reports.tasks import quarterly_reports_after_close_task

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def worker_env(monkeypatch, settings, tmp_path):
    """Media and mail directories shared by this process and the worker it starts next."""
    media, mails = tmp_path / "media", tmp_path / "mail"
    backend = "django.core.mail.backends.filebased.EmailBackend"
    monkeypatch.setenv("MEDIA_ROOT", str(media))
    monkeypatch.setenv("EMAIL_BACKEND", backend)
    monkeypatch.setenv("EMAIL_FILE_PATH", str(mails))
    settings.MEDIA_ROOT, settings.EMAIL_BACKEND, settings.EMAIL_FILE_PATH = media, backend, mails
    return media, mails


def test_worker_generates_and_mails_the_quarter_s_reports(
    federation, emails, worker_env, celery_worker_process
):
    media, mails = worker_env
    fund = federation.org.fund
    quarterly_reports_after_close_task.delay(2025, 1).get(timeout=30)
    deadline = time.monotonic() + 120
    expected = 1 + 2 + 1 + 1  # HN: fund + LB + HBT; the other fund: fund + its union
    while time.monotonic() < deadline:
        done = QuarterlyReport.objects.filter(year=2025, quarter=1)
        if done.count() == expected and not done.filter(pdf_sha256="").exists():
            break
        time.sleep(0.5)
    reports = list(QuarterlyReport.objects.filter(fund=fund, year=2025, quarter=1))
    assert len(reports) == 3, "the worker did not store the three reports in time"
    by_su = {r.superior_union_id: r for r in reports}
    # The fund's report first, then the superior unions'.
    assert by_su[None].generated_at <= min(r.generated_at for r in reports if r.superior_union_id)
    for su_id, r in by_su.items():
        expected_figures = quarterly_report_figures(
            fund_id=fund.pk, year=2025, quarter=1, superior_union_id=su_id
        ).as_json()
        assert r.figures == expected_figures
        assert Path(media / r.pdf.name).read_bytes()[:5] == b"%PDF-"
        assert (media / r.xlsx.name).exists()
    assert by_su[None].headline.startswith("Quý I/2025: giải ngân cho 4 đoàn viên của 3 CĐCS")
    # Mails for the fund's officers and for each superior union's officer that has an address.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(list(mails.glob("*.log"))) < 2:
        time.sleep(0.5)
    sent = "\n".join(p.read_text(errors="replace") for p in mails.glob("*.log"))
    assert "quy_lap@congdoan.vn" in sent and "capten_lb@congdoan.vn" in sent
    assert "capten_hbt@congdoan.vn" in sent
    assert sent.count("Content-Type: application/pdf") == 3
