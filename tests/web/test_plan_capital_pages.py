"""The fund officer's plan setting and capital withdrawal/transfer pages."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounting.models import JournalEntry, Posting
from accounting.money import amount_of
from fund.models import (
    AnnualPlan,
    AuditLog,
    CapitalMovement,
    CapitalMoveRequest,
    CapitalSource,
    PlanSplit,
)
from fund.selectors import capital_source_balance
from fund.services import annual_plan_set, capital_source_create
from loans.tests.factories import today
from tests.web.helpers import error_fields, idempotency_key, plan_data

pytestmark = pytest.mark.django_db

BN = 1_000_000_000


# Plans -----------------------------------------------------------------------------------------


def test_plan_set_change_with_reason_and_history(as_user, officers, org):
    c = as_user(officers.fund)
    year = today().year
    url = reverse("fundweb:plan_set")
    page = c.get(url, {"year": year})
    assert page.status_code == 200 and 'id="plan-form"' in page.content.decode()

    bad = c.post(url, plan_data(year, borrowers="-1", disbursed_amount="mười tỷ"))
    assert bad.status_code == 400
    assert {"borrowers", "disbursed_amount"} <= error_fields(bad)
    assert "Chỉ tiêu không được âm." in bad.content.decode()
    assert not AnnualPlan.objects.exists() and not AuditLog.objects.exists()

    r = c.post(url, plan_data(year))
    assert r.status_code == 302 and r["Location"].endswith(f"?year={year}")
    plan = AnnualPlan.objects.get(fund=org.fund, year=year)
    assert amount_of(plan.disbursed_amount) == 60_500_000_000 and plan.jobs == 2300
    # A double submit of the same figures records nothing more.
    assert c.post(url, plan_data(year)).status_code == 302
    assert AuditLog.objects.filter(object_id=str(plan.pk), action="create").count() == 1
    assert not AuditLog.objects.filter(action="update").exists()

    # Changing an existing plan needs a reason; without one nothing is written.
    r = c.post(url, plan_data(year, jobs="2500"))
    assert r.status_code == 400 and "reason" in error_fields(r)
    plan.refresh_from_db()
    assert plan.jobs == 2300 and not AuditLog.objects.filter(action="update").exists()

    reason = "LĐLĐ thành phố giao bổ sung chỉ tiêu việc làm"
    assert c.post(url, plan_data(year, jobs="2500", reason=reason)).status_code == 302
    plan.refresh_from_db()
    assert plan.jobs == 2500
    log = AuditLog.objects.get(action="update")
    assert log.changes == {"jobs": [2300, 2500], "reason": [None, reason]}
    assert log.actor == officers.fund

    body = c.get(reverse("fundweb:plans"), {"year": year}).content.decode()
    history = body.split('data-testid="plan-history"', 1)[1]
    assert reason in history and "2300 → 2500" in history


def test_plan_change_refused_by_the_split_writes_nothing(as_user, officers, org):
    year = today().year
    plan = annual_plan_set(fund=org.fund, year=year, disbursed_amount=10 * BN, borrowers=100)
    c = as_user(officers.fund)
    split_url = reverse("fundweb:plan_split_set", args=[year])
    assert c.get(split_url).status_code == 200
    r = c.post(
        split_url,
        {"superior_union": org.lb.pk, "quarter": "0", "disbursed_amount": "6.000.000.000"},
    )
    assert r.status_code == 302
    split = PlanSplit.objects.get(plan=plan, superior_union=org.lb, quarter=0)
    assert amount_of(split.disbursed_amount) == 6 * BN

    # Another superior union's part beyond what is left: refused next to the amount.
    r = c.post(
        split_url,
        {"superior_union": org.hbt.pk, "quarter": "0", "disbursed_amount": "5.000.000.000"},
    )
    assert r.status_code == 400 and "disbursed_amount" in error_fields(r)
    assert not PlanSplit.objects.filter(superior_union=org.hbt).exists()

    # Lowering the plan below its split is refused and leaves the plan as it was.
    r = c.post(
        reverse("fundweb:plan_set"),
        plan_data(year, disbursed_amount="5.000.000.000", reason="Giảm chỉ tiêu"),
    )
    assert r.status_code == 400 and "disbursed_amount" in error_fields(r)
    plan.refresh_from_db()
    assert amount_of(plan.disbursed_amount) == 10 * BN
    assert not AuditLog.objects.filter(action="update").exists()

    # Changing a split needs a reason too; the split form opens with its current figures.
    form = c.get(split_url, {"superior_union": org.lb.pk, "quarter": 0}).content.decode()
    assert 'value="6.000.000.000"' in form
    data = {"superior_union": org.lb.pk, "quarter": "0", "disbursed_amount": "7.000.000.000"}
    assert "reason" in error_fields(c.post(split_url, data))
    assert c.post(split_url, {**data, "reason": "Điều chỉnh giữa năm"}).status_code == 302
    split.refresh_from_db()
    assert amount_of(split.disbursed_amount) == 7 * BN
    assert c.get(reverse("fundweb:plan_split_set", args=[1999])).status_code == 404


def test_plan_pages_refuse_other_roles(as_user, officers, org):
    year = today().year
    annual_plan_set(fund=org.fund, year=year, disbursed_amount=BN)
    before = AuditLog.objects.count()
    urls = [
        reverse("fundweb:plan_set"),
        reverse("fundweb:plan_split_set", args=[year]),
    ]
    for user in (officers.superior, officers.grassroots, officers.auditor):
        c = as_user(user)
        for url in urls:
            assert c.get(url).status_code == 403
            r = c.post(url, plan_data(year, disbursed_amount="2.000.000.000", reason="x"))
            assert r.status_code == 403
    assert amount_of(AnnualPlan.objects.get(year=year).disbursed_amount) == BN
    assert AuditLog.objects.count() == before


# Capital ---------------------------------------------------------------------------------------


@pytest.fixture
def donors(org, capital):
    return capital_source_create(
        fund=org.fund, code="TT", name="Tài trợ doanh nghiệp", kind=CapitalSource.Kind.DONORS
    )


def _withdrawal(source, key, amount="100.000.000", **over):
    return {
        "idempotency_key": key,
        "source": source.pk,
        "amount": amount,
        "effective_date": today().isoformat(),
        "cash_account": "1121",
        "memo": "Hoàn trả vốn ngân sách",
        **over,
    }


def test_withdrawal_dated_after_today_is_refused_by_the_date(as_user, officers, capital):
    """A capital move dated tomorrow (Hà Nội) is refused next to its date, nothing written."""
    from datetime import timedelta

    c = as_user(officers.fund)
    url = reverse("fundweb:capital_withdraw")
    key = idempotency_key(c.get(url))
    tomorrow = (today() + timedelta(days=1)).strftime("%d/%m/%Y")
    tables = (CapitalMovement, JournalEntry, Posting, AuditLog)
    before = [m.objects.count() for m in tables]
    data = {**_withdrawal(capital.source, key, effective_date=tomorrow), "confirmed": "1"}
    r = c.post(url, data)
    assert r.status_code == 400 and "effective_date" in error_fields(r)
    assert "sau ngày hôm nay" in r.content.decode()
    assert [m.objects.count() for m in tables] == before


@pytest.mark.parametrize(
    "amount", ["1.5", "0.5", "1.00", "1,000", "1e6", "+1000", "-1000", "1_000", "１０００", "١٠٠٠"]
)
def test_an_amount_not_in_whole_dong_is_refused_by_its_field(as_user, officers, capital, amount):
    """The issue's case: "0.5" posted 5 đồng and "1.5" 15 đồng. Each is refused next to the
    amount, on the confirmed post too, and nothing is written."""
    c = as_user(officers.fund)
    url = reverse("fundweb:capital_withdraw")
    key = idempotency_key(c.get(url))
    tables = (CapitalMovement, JournalEntry, Posting, AuditLog)
    before = [m.objects.count() for m in tables]
    data = _withdrawal(capital.source, key, amount=amount)
    for confirmed in ({}, {"confirmed": "1"}):
        r = c.post(url, {**data, **confirmed})
        assert r.status_code == 400 and error_fields(r) == {"amount"}, amount
        assert "Số tiền chỉ gồm chữ số" in r.content.decode()
    assert [m.objects.count() for m in tables] == before


def test_withdrawal_form_confirm_and_post_once(as_user, officers, org, capital):
    source = capital.source
    c = as_user(officers.fund)
    url = reverse("fundweb:capital_withdraw")
    page = c.get(url)
    assert page.status_code == 200
    key = idempotency_key(page)

    # More than the source holds: refused next to the amount, nothing posted.
    r = c.post(url, _withdrawal(source, key, amount="2.000.000.000"))
    assert r.status_code == 400 and "amount" in error_fields(r)
    r = c.post(url, _withdrawal(source, key, amount="0", effective_date="31/02/2026"))
    assert r.status_code == 400 and {"amount", "effective_date"} <= error_fields(r)
    assert not CapitalMovement.objects.filter(kind="withdrawal").exists()

    # Valid: a confirmation page first, still nothing posted.
    entries = JournalEntry.objects.count()
    r = c.post(url, _withdrawal(source, key))
    body = r.content.decode()
    assert r.status_code == 200 and 'id="confirm-form"' in body
    assert "100.000.000 ₫" in body and "một trăm triệu đồng" in body.lower()
    assert f'value="{key}"' in body
    assert JournalEntry.objects.count() == entries

    # "Back" re-opens the form with what was typed.
    back = c.post(url, {**_withdrawal(source, key), "confirmed": "1", "back": "1"})
    assert back.status_code == 200 and 'id="capital-out-form"' in back.content.decode()
    assert JournalEntry.objects.count() == entries

    # Confirmed twice (a double click): one movement, one balanced entry.
    confirmed = {**_withdrawal(source, key), "confirmed": "1"}
    assert c.post(url, confirmed).status_code == 302
    assert c.post(url, confirmed).status_code == 302
    movement = CapitalMovement.objects.get(kind="withdrawal")
    assert (
        amount_of(movement.amount) == 100_000_000
        and movement.idempotency_key == f"web:{officers.fund.pk}:{key}"
    )
    assert JournalEntry.objects.count() == entries + 1
    legs = Posting.objects.filter(entry=movement.journal_entry)
    assert sum(Decimal(p.debit) - Decimal(p.credit) for p in legs) == 0
    assert capital_source_balance(source=source) == 900_000_000


def test_transfer_between_sources(as_user, officers, org, capital, donors):
    source = capital.source
    c = as_user(officers.fund)
    url = reverse("fundweb:capital_transfer")
    key = idempotency_key(c.get(url))
    data = {
        "idempotency_key": key,
        "source": source.pk,
        "target_source": source.pk,
        "amount": "250.000.000",
        "effective_date": today().isoformat(),
        "memo": "",
    }
    r = c.post(url, data)
    assert r.status_code == 400 and "target_source" in error_fields(r)
    r = c.post(url, {**data, "target_source": 987654})
    assert r.status_code == 400 and "target_source" in error_fields(r)
    data["target_source"] = donors.pk
    assert 'id="confirm-form"' in c.post(url, data).content.decode()
    assert not CapitalMovement.objects.filter(kind="transfer").exists()
    r = c.post(url, {**data, "confirmed": "1"})
    assert r.status_code == 302 and r["Location"] == reverse("fundweb:capital_requests")
    assert c.post(url, {**data, "confirmed": "1"}).status_code == 302
    # Above the fund's threshold (100.000.000 ₫): one request waits for a second fund officer.
    req = CapitalMoveRequest.objects.get()
    assert req.status == "pending" and not CapitalMovement.objects.filter(kind="transfer")
    page = c.get(reverse("fundweb:capital_requests")).content.decode()
    assert f'id="confirm-{req.pk}"' not in page  # not offered to the officer who entered it
    confirm = reverse("fundweb:capital_request_confirm", args=[req.pk])
    r = c.post(confirm)
    assert r.status_code == 400 and "Tách bạch nhiệm vụ" in r.content.decode()
    assert not CapitalMovement.objects.filter(kind="transfer").exists()

    other = as_user(officers.checker)
    assert (
        f'id="confirm-{req.pk}"' in other.get(reverse("fundweb:capital_requests")).content.decode()
    )
    assert other.post(confirm).status_code == 302
    assert other.post(confirm).status_code == 302  # a double click: confirmed once
    assert CapitalMovement.objects.filter(kind="transfer").count() == 1
    assert CapitalMovement.objects.get(kind="transfer").confirmed_by == officers.checker
    assert capital_source_balance(source=source) == 750_000_000
    assert capital_source_balance(source=donors) == 250_000_000
    body = c.get(reverse("fundweb:capital")).content.decode()
    assert "Ngân sách thành phố → Tài trợ doanh nghiệp" in body


def _confirmation_rows(response) -> list[tuple[str, str]]:
    html = response.content.decode().split('<dl class="facts">', 1)[1].split("</dl>", 1)[0]
    return [
        (part.split("</dt>", 1)[0], part.split("<dd>", 1)[1].split("</dd>", 1)[0])
        for part in html.split("<dt>")[1:]
    ]


def test_confirmation_rows_of_each_capital_movement(as_user, officers, capital, donors):
    """The three movements confirm the same facts in the same order, each with its own rows."""
    source = capital.source
    c = as_user(officers.fund)
    day = today()
    common = {"amount": "100.000.000", "effective_date": day.isoformat(), "memo": ""}
    shared = [
        ("Số tiền", "100.000.000 ₫"),
        ("Bằng chữ", "Một trăm triệu đồng"),
        ("Ngày hạch toán", day.strftime("%d/%m/%Y")),
    ]
    ns, td = f"{source.code} {source.name}", f"{donors.code} {donors.name}"
    cases = [
        ("fundweb:capital", {}, [("Nghiệp vụ", "Góp, bổ sung vốn"), ("Nguồn vốn", ns), *shared]),
        (
            "fundweb:capital_withdraw",
            {"cash_account": "1111"},
            [
                ("Nghiệp vụ", "Rút, hoàn trả vốn"),
                ("Nguồn vốn", ns),
                *shared,
                ("Chi từ tài khoản", "1111"),
            ],
        ),
        (
            "fundweb:capital_transfer",
            {"target_source": donors.pk},
            [
                ("Nghiệp vụ", "Điều chuyển giữa các nguồn vốn"),
                ("Từ nguồn", ns),
                ("Sang nguồn", td),
                *shared,
            ],
        ),
    ]
    for name, extra, rows in cases:
        url = reverse(name)
        data = {
            "idempotency_key": idempotency_key(c.get(url)),
            "source": source.pk,
            **common,
            **extra,
        }
        r = c.post(url, data)
        assert r.status_code == 200
        assert _confirmation_rows(r) == [*rows, ("Diễn giải", "—")]
    assert not CapitalMovement.objects.exclude(kind="contribution").exists()


def test_capital_pages_refuse_other_roles(as_user, officers, capital, donors):
    source = capital.source
    movements = CapitalMovement.objects.count()
    for user in (officers.superior, officers.grassroots, officers.auditor):
        c = as_user(user)
        for name in ("fundweb:capital_withdraw", "fundweb:capital_transfer"):
            url = reverse(name)
            assert c.get(url).status_code == 403
            data = {**_withdrawal(source, "k-" + user.username), "confirmed": "1"}
            data["target_source"] = donors.pk
            assert c.post(url, data).status_code == 403
    assert CapitalMovement.objects.count() == movements


# Lending capacity of the superior unions -------------------------------------------------------


def test_allocation_set_and_remove(as_user, officers, org, capital):
    from fund.models import LendingAllocation
    from fund.selectors import lending_allocation_in_force

    c = as_user(officers.fund)
    url = reverse("fundweb:allocations")
    page = c.get(url)
    assert page.status_code == 200
    assert "không giới hạn" in page.content.decode().split('data-union="LB"', 1)[1]

    bad = {"superior_union": org.other_su.pk, "amount": "-5", "valid_from": "hôm nay"}
    r = c.post(url, bad)
    assert r.status_code == 400
    assert {"superior_union", "amount", "valid_from"} <= error_fields(r)
    assert not LendingAllocation.objects.exists()

    data = {
        "superior_union": org.lb.pk,
        "amount": "300.000.000",
        "valid_from": today().isoformat(),
        "note": "Hạn mức năm",
    }
    assert c.post(url, data).status_code == 302
    assert c.post(url, data).status_code == 302  # a double submit records one change
    assert LendingAllocation.objects.count() == 1
    assert lending_allocation_in_force(superior_union=org.lb) == 300_000_000
    assert AuditLog.objects.filter(action="create", object_repr__contains="LĐLĐ quận Long").count()
    assert not AuditLog.objects.filter(action="update").exists()
    row = c.get(url).content.decode().split('data-union="LB"', 1)[1].split("</tr>", 1)[0]
    assert "300.000.000 ₫" in row

    # Blank amount: the limit is lifted from that day (same day: that day's figure replaced).
    assert c.post(url, {**data, "amount": ""}).status_code == 302
    assert lending_allocation_in_force(superior_union=org.lb) is None
    assert AuditLog.objects.filter(action="update").count() == 1

    for user in (officers.superior, officers.grassroots, officers.auditor):
        other = as_user(user)
        assert other.get(url).status_code == 403
        assert other.post(url, {**data, "amount": "1"}).status_code == 403
    assert lending_allocation_in_force(superior_union=org.lb) is None


def test_plan_split_for_a_grassroots_union_by_its_code(as_user, officers, org):
    """A grassroots union's part is set on the same page, named by its code (a federation has
    thousands: no list); a bad code, another fund's union or a part beyond its superior union's
    is refused next to the field and writes nothing."""
    year = today().year
    plan = annual_plan_set(fund=org.fund, year=year, disbursed_amount=10 * BN, borrowers=100)
    c = as_user(officers.fund)
    url = reverse("fundweb:plan_split_set", args=[year])
    lb = {"superior_union": org.lb.pk, "quarter": "0", "disbursed_amount": "4.000.000.000"}
    assert c.post(url, lb).status_code == 302
    before = (PlanSplit.objects.count(), AuditLog.objects.count())

    for code, field in [
        ("LB-999", "grassroots_code"),  # no such union
        (org.other_gu.code, "grassroots_code"),  # another fund's
    ]:
        r = c.post(url, {"grassroots_code": code, "quarter": "0", "disbursed_amount": "1"})
        assert r.status_code == 400 and field in error_fields(r), code
    r = c.post(url, {"grassroots_code": "LB-999", "quarter": "0", "disbursed_amount": "1"})
    assert "Quỹ không có công đoàn cơ sở mã LB-999." in r.content.decode()
    # Beyond what its superior union was given.
    r = c.post(
        url, {"grassroots_code": org.lb1.code, "quarter": "0", "disbursed_amount": "5.000.000.000"}
    )
    assert r.status_code == 400 and "disbursed_amount" in error_fields(r)
    # Named under another superior union.
    r = c.post(
        url,
        {
            "superior_union": org.hbt.pk,
            "grassroots_code": org.lb1.code,
            "quarter": "0",
            "disbursed_amount": "1.000.000.000",
        },
    )
    assert r.status_code == 400 and "superior_union" in error_fields(r)
    assert (PlanSplit.objects.count(), AuditLog.objects.count()) == before

    # Accepted, the code typed in lower case; shown on the plans page with its edit link.
    ok = {"grassroots_code": org.lb1.code.lower(), "quarter": "1"}
    assert c.post(url, {**ok, "disbursed_amount": "1.500.000.000"}).status_code == 302
    split = PlanSplit.objects.get(plan=plan, grassroots_union=org.lb1, quarter=1)
    assert split.superior_union_id == org.lb.pk
    assert amount_of(split.disbursed_amount) == Decimal(1_500_000_000)
    page = c.get(reverse("fundweb:plans"), {"year": year}).content.decode()
    edit = f"?quarter=1&amp;grassroots_union={org.lb1.pk}"
    assert org.lb1.name in page and edit in page

    # The edit link opens the form with the union's code and figures; a change needs a reason.
    form = c.get(url, {"quarter": 1, "grassroots_union": org.lb1.pk}).content.decode()
    assert f'value="{org.lb1.code}"' in form and 'value="1.500.000.000"' in form
    change = {**ok, "disbursed_amount": "2.000.000.000"}
    assert "reason" in error_fields(c.post(url, change))
    assert c.post(url, {**change, "reason": "Thêm hộ vay"}).status_code == 302
    split.refresh_from_db()
    assert amount_of(split.disbursed_amount) == 2 * BN
