"""`make demo` runs end to end at reduced size and prints a balanced trial balance."""

import io

import pytest
from django.core.management import call_command

from fund.models import Fund, SuperiorUnion


@pytest.mark.django_db
def test_demo_small_prints_a_balanced_trial_balance_and_a_sound_chain():
    out = io.StringIO()
    call_command("demo", keep=True, size="small", stdout=out)
    text = out.getvalue()
    assert "Cân đối: CÓ" in text
    assert "Chuỗi niêm phong toàn vẹn" in text
    assert "60.500.000.000 ₫" in text
    assert Fund.objects.count() == 1
    assert SuperiorUnion.objects.exists()
    # A second run changes nothing (the demo is idempotent when kept).
    call_command("demo", keep=True, size="small", stdout=io.StringIO())
    assert Fund.objects.count() == 1
