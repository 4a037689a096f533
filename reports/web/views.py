"""Stored quarterly reports: the list for the user's scope and the PDF/XLSX downloads.

Access: fund officers, auditors and superior-union officers (``fund.access``); which reports
each sees is ``reports.selectors`` (another unit's report answers 404).
"""

from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from fund.access import access
from fund.models import Role
from reports.selectors import quarterly_report_get, quarterly_report_list

REPORT_READERS = (Role.FUND_OFFICER, Role.AUDITOR, Role.SUPERIOR_OFFICER)
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@require_GET
@access(REPORT_READERS)
def report_list(request):
    reports = quarterly_report_list(scope=request.scope)
    return render(request, "reports/report_list.html", {"reports": reports})


@require_GET
@access(REPORT_READERS)
def report_download(request, pk, kind):
    if kind not in CONTENT_TYPES:
        raise Http404(_("Không tìm thấy."))
    report = quarterly_report_get(scope=request.scope, pk=pk)
    f = getattr(report, kind)
    try:
        fh = f.open("rb")
    except FileNotFoundError:
        raise Http404(_("Tệp báo cáo không còn trên máy chủ.")) from None
    return FileResponse(
        fh,
        as_attachment=True,
        filename=f.name.rsplit("/", 1)[-1],
        content_type=CONTENT_TYPES[kind],
    )
