"""What every page's header needs: the user's role, unit and navigation."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist

from config.navigation import navigation_for
from fund.models import Role
from fund.scoping import scope_for
from loans.web.inbox import nav_badges


def officer(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    try:
        profile = user.officer
    except ObjectDoesNotExist:
        return {"officer_role": None, "officer_unit": "", "navigation": []}
    unit = profile.grassroots_union or profile.superior_union or profile.fund
    current = getattr(getattr(request, "resolver_match", None), "view_name", "")
    nav = navigation_for(profile.role)
    # What waits for the officer, counted on their entries (cached: loans.web.inbox).
    acts = profile.role != Role.AUDITOR
    badges = nav_badges(getattr(request, "scope", None) or scope_for(user)) if acts else {}
    for item in nav:
        item["active"] = item["url_name"] == current
        item["count"] = badges.get(item["url_name"], 0)
    return {
        "officer_role": profile.role,
        "officer_role_label": profile.get_role_display(),
        "officer_unit": str(getattr(unit, "name", unit)),
        "navigation": nav,
    }
