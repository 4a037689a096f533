"""``manage.py run_jobs`` (fund/scheduler.py) on the embedded default: on start, the close of
business catches up every missed day through yesterday, so the business date is yesterday."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command

from loans.servicing.close_of_business import close_of_business_run
from loans.servicing.selectors import business_date
from loans.tests.factories import today


@pytest.mark.django_db
def test_run_jobs_catches_up_the_close_of_business_to_yesterday(org):
    yesterday = today() - timedelta(days=1)
    close_of_business_run(fund_id=org.fund.pk, business_date=yesterday - timedelta(days=5))
    call_command("run_jobs", "--once", stdout=io.StringIO())
    assert business_date(fund_id=org.fund.pk) == yesterday
