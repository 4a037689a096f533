"""The fund's JSON API: one view per operation, every one through ``fund.scoping``.

Rows outside the user's scope answer 404 (never 403, which would confirm they exist); a role
that may see a row but not make the change answers 403; a refused request 400 with the
``ApplicationError`` as JSON (``code``, ``field``, ``message``, and ``errors`` for an import).
Mount with ``path("api/fund/", include("fund.web.urls"))``.
"""

from __future__ import annotations

import json
from datetime import date
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounting.errors import ApplicationError
from apicommon.errors import refusal_status
from fund import services
from fund.access import ALL_ROLES
from fund.attainment import attainment
from fund.audit import audit_log_list
from fund.models import Fund, GrassrootsUnion, SuperiorUnion
from fund.scoping import (
    Scope,
    scope_filter,
    scope_for,
    scope_require_write,
    scoped_get_or_404,
    superior_union_scope_filter,
)
from fund.selectors import (
    capital_available,
    capital_by_source,
    capital_committed,
    lending_allocation_in_force,
    loans_outstanding,
)
from fund.union_io import unions_export, unions_import


def _error(e: ApplicationError, status: int) -> JsonResponse:
    return JsonResponse(e.as_dict(), status=status, json_dumps_params={"ensure_ascii": False})


def scoped_view(view):
    """Resolve the user's scope and turn refusals into JSON answers."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            scope = scope_for(request.user)
        except PermissionDenied as e:
            return JsonResponse({"code": "forbidden", "message": str(e)}, status=403)
        try:
            return view(request, scope, *args, **kwargs)
        except ApplicationError as e:
            return _error(e, refusal_status(e))

    wrapper.access_rule = ALL_ROLES  # scoped per role below; see fund.access
    return wrapper


def _json(data, status=200) -> JsonResponse:
    return JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


def _body(request) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise ApplicationError(
            _("Nội dung yêu cầu không phải JSON hợp lệ."), field="body"
        ) from None
    if not isinstance(data, dict):
        raise ApplicationError(_("Nội dung yêu cầu phải là một đối tượng JSON."), field="body")
    return data


def _date(value, field: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ApplicationError(
            _("Ngày không hợp lệ: %(value)s (YYYY-MM-DD)."), field=field, params={"value": value}
        ) from None


def _int(value, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApplicationError(
            _("Giá trị không hợp lệ: %(value)s."), field=field, params={"value": value}
        ) from None


# Output serializers ---------------------------------------------------------------------------


def _union_out(u) -> dict:
    return {
        "id": u.pk,
        "code": u.code,
        "name": u.name,
        "kind": u.kind,
        "kind_display": u.get_kind_display(),
        "address": u.address,
        "contact_name": u.contact_name,
        "contact_phone": u.contact_phone,
        "contact_email": u.contact_email,
        "active_from": u.active_from.isoformat() if u.active_from else None,
        "active_to": u.active_to.isoformat() if u.active_to else None,
    }


def _grassroots_out(gu: GrassrootsUnion) -> dict:
    return {**_union_out(gu), "superior_union_id": gu.superior_union_id}


# Input serializers ----------------------------------------------------------------------------

UPDATE_FIELDS = {
    "code",
    "name",
    "kind",
    "address",
    "contact_name",
    "contact_phone",
    "contact_email",
    "active_from",
    "active_to",
}


def _update_in(data: dict) -> dict:
    unknown = set(data) - UPDATE_FIELDS
    if unknown:
        raise ApplicationError(
            _("Trường không hợp lệ: %(fields)s."),
            field=sorted(unknown)[0],
            params={"fields": ", ".join(sorted(unknown))},
        )
    out = dict(data)
    for f in ("active_from", "active_to"):
        if f in out:
            out[f] = _date(out[f], f)
    return out


# Views ----------------------------------------------------------------------------------------


@require_GET
@scoped_view
def grassroots_union_list(request, scope: Scope):
    qs = scope_filter(GrassrootsUnion.objects.all(), scope, grassroots_field="").order_by("code")
    if su := _int(request.GET.get("superior_union"), "superior_union"):
        qs = qs.filter(superior_union_id=su)
    if q := request.GET.get("q"):
        qs = qs.filter(name__icontains=q) | qs.filter(code__icontains=q)
    limit = min(_int(request.GET.get("limit"), "limit") or 100, 1000)
    offset = _int(request.GET.get("offset"), "offset") or 0
    rows = list(qs[offset : offset + limit])
    return _json({"count": qs.count(), "results": [_grassroots_out(g) for g in rows]})


@require_http_methods(["GET", "POST"])
@scoped_view
def grassroots_union_detail(request, scope: Scope, pk):
    gu = scoped_get_or_404(GrassrootsUnion.objects.all(), scope, pk=pk, grassroots_field="")
    if request.method == "POST":
        scope_require_write(scope)
        gu = services.grassroots_union_update(
            grassroots_union=gu, actor=request.user, **_update_in(_body(request))
        )
    return _json(_grassroots_out(gu))


@require_POST
@scoped_view
def grassroots_union_move(request, scope: Scope, pk):
    gu = scoped_get_or_404(GrassrootsUnion.objects.all(), scope, pk=pk, grassroots_field="")
    data = _body(request)
    target = SuperiorUnion.objects.filter(
        pk=_int(data.get("superior_union"), "superior_union"), fund_id=scope.fund_id
    ).first()
    if target is None:
        raise Http404(_("Không tìm thấy."))
    gu = services.grassroots_union_move(
        grassroots_union=gu,
        superior_union=target,
        effective_date=_date(data.get("effective_date"), "effective_date"),
        actor=request.user,
    )
    return _json(_grassroots_out(gu))


@require_GET
@scoped_view
def superior_union_detail(request, scope: Scope, pk):
    qs = superior_union_scope_filter(SuperiorUnion.objects.all(), scope)
    su = qs.filter(pk=_int(pk, "pk")).first()
    if su is None:
        raise Http404(_("Không tìm thấy."))
    return _json(_union_out(su))


@require_GET
@scoped_view
def unions_export_view(request, scope: Scope):
    level = request.GET.get("level", "grassroots")
    fmt = request.GET.get("format", "csv")
    data = unions_export(scope=scope, level=level, format=fmt)
    content_type = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(data, content_type=content_type)
    name = "cong-doan-cap-tren" if level == "superior" else "cong-doan-co-so"
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@require_POST
@scoped_view
def unions_import_view(request, scope: Scope):
    upload = request.FILES.get("file")
    if upload is None:
        raise ApplicationError(_("Chưa chọn tệp."), field="file")
    fmt = "xlsx" if upload.name.lower().endswith(".xlsx") else "csv"
    result = unions_import(
        fund=Fund.objects.get(pk=scope.fund_id),
        data=upload.read(),
        format=fmt,
        level=request.POST.get("level", "grassroots"),
        actor=request.user,
        effective_date=_date(request.POST.get("effective_date"), "effective_date"),
    )
    return _json(
        {
            "rows": result.rows,
            "created": result.created,
            "updated": result.updated,
            "moved": result.moved,
            "unchanged": result.unchanged,
        }
    )


@require_GET
@scoped_view
def audit_log_view(request, scope: Scope):
    g = request.GET
    actor_id = _int(g.get("actor"), "actor")
    qs = audit_log_list(
        scope=scope,
        model=g.get("model") or None,
        start=_date(g.get("start"), "start"),
        end=_date(g.get("end"), "end"),
        object_id=g.get("object_id") or None,
        action=g.get("action") or None,
    )
    if actor_id is not None:
        qs = qs.filter(actor_id=actor_id)
    limit = min(_int(g.get("limit"), "limit") or 100, 1000)
    return _json(
        {
            "count": qs.count(),
            "results": [
                {
                    "at": e.at.isoformat(),
                    "actor": e.actor_name,
                    "action": e.action,
                    "model": f"{e.content_type.app_label}.{e.content_type.model}",
                    "object_id": e.object_id,
                    "object": e.object_repr,
                    "changes": e.changes,
                }
                for e in qs[:limit]
            ],
        }
    )


@require_GET
@scoped_view
def capital_view(request, scope: Scope):
    fund = Fund.objects.get(pk=scope.fund_id)
    if scope.is_fund_wide:
        return _json(
            {
                "available": str(capital_available(fund=fund)),
                "outstanding": str(loans_outstanding(fund=fund)),
                "committed": str(capital_committed(fund=fund)),
                "by_source": {s.code: str(v) for s, v in capital_by_source(fund=fund).items()},
            }
        )
    if scope.superior_union_id is None:
        raise Http404(_("Không tìm thấy."))
    su = SuperiorUnion.objects.get(pk=scope.superior_union_id)
    allocation = lending_allocation_in_force(superior_union=su)
    return _json(
        {
            "superior_union_id": su.pk,
            "allocation": None if allocation is None else str(allocation),
            "available": str(capital_available(fund=fund, superior_union=su)),
            "outstanding": str(loans_outstanding(fund=fund, superior_union=su)),
        }
    )


@require_GET
@scoped_view
def attainment_view(request, scope: Scope):
    g = request.GET
    su = gu = None
    if gu_id := _int(g.get("grassroots_union"), "grassroots_union"):
        gu = scoped_get_or_404(GrassrootsUnion.objects.all(), scope, pk=gu_id, grassroots_field="")
    elif su_id := _int(g.get("superior_union"), "superior_union"):
        su = (
            superior_union_scope_filter(SuperiorUnion.objects.all(), scope).filter(pk=su_id).first()
        )
        if su is None:
            raise Http404(_("Không tìm thấy."))
    elif not scope.is_fund_wide:
        raise Http404(_("Không tìm thấy."))
    a = attainment(
        fund=Fund.objects.get(pk=scope.fund_id),
        indicator=g.get("indicator", "disbursed_amount"),
        year=_int(g.get("year"), "year") or timezone.localdate().year,
        quarter=_int(g.get("quarter"), "quarter"),
        period=g.get("period", "quarter"),
        superior_union=su,
        grassroots_union=gu,
    )
    return _json(
        {
            "indicator": a.indicator,
            "period": a.period,
            "start": a.start.isoformat(),
            "end": a.end.isoformat(),
            "planned": str(a.planned),
            "achieved": str(a.achieved),
            "percent": None if a.percent is None else str(a.percent),
            "percent_display": a.percent_display,
            "previous": str(a.previous),
            "growth_percent": None if a.growth_percent is None else str(a.growth_percent),
            "growth_display": a.growth_display,
            "percent_of_year_display": a.percent_of_year_display,
        }
    )
