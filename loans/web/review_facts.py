"""What the reviewer of an application weighs, beside the application itself: the member's loans
and debt (overdue included, as of the business date), the guarantor (their details, their own
debt when they are a member, and the loans they already guarantee), and the schedule the loan
would have if disbursed today (the product's terms and the working-day rule, as the
disbursement computes it). Shown on the application's page until it is disbursed."""

from __future__ import annotations

from datetime import date

from loans.models import ApplicationStatus
from loans.origination.applications import application_schedule_preview
from loans.schedules import ScheduleError, schedule_totals
from loans.servicing.selectors import guaranteed_loans, member_debt

S = ApplicationStatus
BEFORE_DISBURSEMENT = (S.DRAFT, S.SUBMITTED, S.RETURNED, S.REVIEWED, S.APPROVED)


def review_facts(app, *, on: date) -> dict:
    """The page's ``review`` context for `app` (nothing once the application is decided)."""
    if app.status not in BEFORE_DISBURSEMENT:
        return {}
    guarantor = None
    if app.guarantor_national_id:
        guarantor = {
            "debt": member_debt(fund_id=app.fund_id, national_id=app.guarantor_national_id),
            "guarantees": guaranteed_loans(
                fund_id=app.fund_id, national_id=app.guarantor_national_id
            ).count(),
        }
    try:
        schedule = application_schedule_preview(app, on=on)
        error = None
    except ScheduleError as e:
        schedule, error = [], e.message
    return {
        "review": {
            "debt": member_debt(fund_id=app.fund_id, national_id=app.borrower.national_id),
            "guarantor": guarantor,
            "schedule": schedule,
            "schedule_totals": schedule_totals(schedule) if schedule else None,
            "schedule_error": error,
            "schedule_on": on,
        }
    }
