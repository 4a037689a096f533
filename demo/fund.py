"""A demo federation modelled on Hanoi's: ``demo_federation_load(year=2025)``.

LĐLĐ TP Hà Nội's fund with seven superior unions — LĐLĐ quận Long Biên (280 grassroots unions:
25 administrative units, 96 schools, 159 private firms), LĐLĐ quận Hai Bà Trưng, Công đoàn ngành
Giáo dục and others —, one demo officer per role (``quy``, ``capten``, ``cdcs``,
``kiemtoan``, and ``ketoan``, the second fund officer who disburses and confirms what ``quy``
approves and enters; password ``trovon-demo``), capital from three sources (the donors' money
entered by one fund officer and confirmed by the other), lending capacity for two superior
unions, and the plan of the year (60.500.000.000 ₫, split by quarter and by superior union)
and of the year before. ``size="small"`` keeps a handful of grassroots unions per superior
union, for tests.

Idempotent: the unions go in through the import (re-importing changes nothing), money through
idempotency keys, plans and allocations through upserting services.
"""

from __future__ import annotations

import csv
import functools
import io
from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.db import transaction

from fund.models import CapitalMovement, CapitalSource, Fund, GrassrootsUnion, Role, SuperiorUnion
from fund.services import (
    annual_plan_set,
    capital_contribution_post,
    capital_move_confirm,
    capital_move_enter,
    capital_source_create,
    lending_allocation_set,
    officer_profile_set,
    plan_split_set,
)
from fund.union_io import COLUMNS, unions_import

DEMO_PASSWORD = "trovon-demo"
FUND_CODE = "HN"
BN = 1_000_000_000

WARDS = {
    "LB": [
        "Bồ Đề",
        "Cự Khối",
        "Đức Giang",
        "Gia Thụy",
        "Giang Biên",
        "Long Biên",
        "Ngọc Lâm",
        "Ngọc Thụy",
        "Phúc Đồng",
        "Phúc Lợi",
        "Sài Đồng",
        "Thạch Bàn",
        "Thượng Thanh",
        "Việt Hưng",
    ],
    "HBT": [
        "Bạch Đằng",
        "Bách Khoa",
        "Bạch Mai",
        "Cầu Dền",
        "Đống Mác",
        "Đồng Nhân",
        "Đồng Tâm",
        "Lê Đại Hành",
        "Minh Khai",
        "Phố Huế",
        "Quỳnh Mai",
        "Thanh Lương",
        "Thanh Nhàn",
        "Trương Định",
        "Vĩnh Tuy",
    ],
    "CG": [
        "Dịch Vọng",
        "Dịch Vọng Hậu",
        "Mai Dịch",
        "Nghĩa Đô",
        "Nghĩa Tân",
        "Quan Hoa",
        "Trung Hòa",
        "Yên Hòa",
    ],
    "DA": [
        "Cổ Loa",
        "Đông Hội",
        "Kim Chung",
        "Mai Lâm",
        "Nguyên Khê",
        "Uy Nỗ",
        "Vân Hà",
        "Vĩnh Ngọc",
        "Xuân Nộn",
    ],
    "GD": ["Ba Đình", "Hoàn Kiếm", "Đống Đa", "Tây Hồ", "Thanh Xuân", "Hoàng Mai"],
    "YT": ["Ba Đình", "Đống Đa", "Hà Đông", "Thanh Xuân"],
    "KCN": ["Thăng Long", "Nội Bài", "Quang Minh", "Thạch Thất - Quốc Oai", "Phú Nghĩa"],
}

# code, name, kind, address, contact, {grassroots kind: (full count, small count)}
SUPERIOR_UNIONS = [
    (
        "LB",
        "LĐLĐ quận Long Biên",
        "district",
        "Số 1 Vạn Hạnh, Việt Hưng, Long Biên",
        "Nguyễn Thị Thu Hà",
        {"administrative": (25, 2), "school": (96, 3), "private_enterprise": (159, 4)},
    ),
    (
        "HBT",
        "LĐLĐ quận Hai Bà Trưng",
        "district",
        "Số 30 Lê Đại Hành, Hai Bà Trưng",
        "Trần Văn Minh",
        {
            "administrative": (30, 1),
            "school": (60, 2),
            "state_enterprise": (10, 1),
            "private_enterprise": (110, 2),
        },
    ),
    (
        "GD",
        "Công đoàn ngành Giáo dục Hà Nội",
        "industry",
        "Số 81 Thợ Nhuộm, Hoàn Kiếm",
        "Lê Thị Mai",
        {"school": (120, 3)},
    ),
    (
        "CG",
        "LĐLĐ quận Cầu Giấy",
        "district",
        "Số 36 Cầu Giấy",
        "Phạm Quốc Huy",
        {"administrative": (20, 1), "school": (40, 1), "private_enterprise": (80, 2)},
    ),
    (
        "DA",
        "LĐLĐ huyện Đông Anh",
        "district",
        "Thị trấn Đông Anh",
        "Đỗ Văn Thắng",
        {
            "administrative": (25, 1),
            "school": (70, 1),
            "state_enterprise": (5, 1),
            "private_enterprise": (60, 1),
        },
    ),
    (
        "KCN",
        "Công đoàn các Khu công nghiệp và chế xuất Hà Nội",
        "industry",
        "Số 8 Nguyễn Chí Thanh, Ba Đình",
        "Hoàng Thị Lan",
        {"state_enterprise": (10, 1), "private_enterprise": (150, 3)},
    ),
    (
        "YT",
        "Công đoàn ngành Y tế Hà Nội",
        "industry",
        "Số 4 Sơn Tây, Ba Đình",
        "Vũ Thị Hạnh",
        {"administrative": (45, 2)},
    ),
]

FIRM_TRADES = [
    "May mặc",
    "Cơ khí",
    "Điện tử",
    "Thực phẩm",
    "Xây dựng",
    "Vận tải",
    "Bao bì",
    "Dược phẩm",
    "In",
    "Nhựa",
    "Thương mại",
    "Dịch vụ",
]
FIRM_NAMES = [
    "An Phát",
    "Hòa Bình",
    "Thành Công",
    "Minh Long",
    "Phú Thịnh",
    "Đại Việt",
    "Hưng Thịnh",
    "Sao Mai",
    "Hồng Hà",
    "Tân Tiến",
    "Việt Hưng",
    "Bình Minh",
    "Kim Long",
    "Phúc An",
    "Trường Sơn",
    "Đông Đô",
]
ADMIN_UNITS = [
    "UBND phường {w}",
    "Trạm Y tế phường {w}",
    "Ban Quản lý chợ {w}",
    "Công an phường {w}",
    "Bệnh viện đa khoa {w}",
    "Trung tâm Văn hóa {w}",
]
SCHOOL_LEVELS = ["Trường Mầm non", "Trường Tiểu học", "Trường THCS", "Trường THPT"]
STATE_FIRMS = [
    "Công ty TNHH MTV Nước sạch {w}",
    "Công ty Điện lực {w}",
    "Công ty TNHH MTV Môi trường đô thị {w}",
    "Công ty CP Xe khách {w}",
]

# Superior-union split of this year's plan (the rest, 9,5 tỷ, stays unallocated).
SPLIT = {
    "LB": 9 * BN,
    "HBT": 8 * BN,
    "GD": 7 * BN,
    "CG": 6 * BN,
    "DA": 7 * BN,
    "KCN": 10 * BN,
    "YT": 4 * BN,
}
QUARTERS = [15 * BN, 16 * BN, 15_500_000_000, 14 * BN]
LAST_YEAR_QUARTERS = [14 * BN, 14_500_000_000, 15 * BN, 14_500_000_000]


def _gu_name(kind: str, su_code: str, i: int) -> str:
    wards = WARDS[su_code]
    w = wards[i % len(wards)]
    if kind == "school":
        return f"CĐCS {SCHOOL_LEVELS[i % len(SCHOOL_LEVELS)]} {w}"
    if kind == "administrative":
        return "CĐCS " + ADMIN_UNITS[i % len(ADMIN_UNITS)].format(w=w)
    if kind == "state_enterprise":
        return "CĐCS " + STATE_FIRMS[i % len(STATE_FIRMS)].format(w=w)
    trade = FIRM_TRADES[i % len(FIRM_TRADES)]
    name = FIRM_NAMES[(i // len(FIRM_TRADES)) % len(FIRM_NAMES)]
    form = "TNHH" if i % 3 else "CP"
    return f"CĐCS Công ty {form} {trade} {name}"


def _csv(rows: list[list]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def _grassroots_rows(size: str) -> list[list]:
    header = [h for _, h, _, _ in COLUMNS["grassroots"]]
    rows = [header]
    for su_code, _, _, _, _, kinds in SUPERIOR_UNIONS:
        n = 0
        for kind, (full, small) in kinds.items():
            for i in range(full if size == "full" else small):
                n += 1
                ward = WARDS[su_code][i % len(WARDS[su_code])]
                rows.append(
                    [
                        f"{su_code}-{n:03d}",
                        _gu_name(kind, su_code, i),
                        kind,
                        su_code,
                        f"Phường {ward}",
                        "",
                        "",
                        "",
                        "",
                        "",
                    ]
                )
    return rows


def _superior_rows() -> list[list]:
    header = [h for _, h, _, _ in COLUMNS["superior"]]
    return [header] + [
        [code, name, kind, address, contact, "", "", "", ""]
        for code, name, kind, address, contact, _ in SUPERIOR_UNIONS
    ]


@functools.cache
def demo_password_hash() -> str:
    """The demo password, hashed once (a hash costs half a second of CPU by design); every demo
    account stores the same salted hash."""
    return make_password(DEMO_PASSWORD)


def _officer(username, name, fund, role, perms, *, superior_union=None, grassroots_union=None):
    User = get_user_model()
    first, _, last = name.rpartition(" ")
    user, created = User.objects.get_or_create(
        username=username, defaults={"first_name": last, "last_name": first}
    )
    if user.is_staff and not user.is_superuser:  # officers work in the app, not the admin
        user.is_staff = False
        user.save(update_fields=["is_staff"])
    if created or not user.has_usable_password():
        # Every demo account signs in with the one published password.
        user.password = demo_password_hash()
        user.save(update_fields=["password"])
    officer_profile_set(
        user=user,
        fund=fund,
        role=role,
        superior_union=superior_union,
        grassroots_union=grassroots_union,
    )
    user.user_permissions.add(*Permission.objects.filter(codename__in=perms))
    return user


def _fund_perms(actions: tuple[str, ...], models: tuple[str, ...]) -> list[str]:
    return [f"{a}_{m}" for a in actions for m in models]


FUND_MODELS = (
    "fund",
    "superiorunion",
    "grassrootsunion",
    "grassrootsunionaffiliation",
    "officerprofile",
    "capitalsource",
    "capitalmovement",
    "lendingallocation",
    "capitalcommitment",
    "annualplan",
    "plansplit",
    "auditlog",
)
LEDGER_MODELS = ("account", "journalentry", "posting", "periodclose", "chainlink")


def demo_federation_load(*, year: int, size: str = "full") -> Fund:
    """Load (or complete) the demo federation for `year`; running it again changes nothing."""
    if size not in ("full", "small"):
        raise ValueError("size must be 'full' or 'small'")
    with transaction.atomic():
        fund, _ = Fund.objects.get_or_create(
            code=FUND_CODE,
            defaults={
                "name": "Quỹ Trợ vốn CNVCLĐ nghèo thành phố Hà Nội",
                "federation_name": "LĐLĐ TP Hà Nội",
                "address": "Số 51 Quang Trung, Hoàn Kiếm, Hà Nội",
                # The demo enters two years of history at once, as a fund moving its books in
                # would: its window of postings dated back without a reason is opened wide.
                "backdate_open_months": 36,
            },
        )
        unions_import(fund=fund, data=_csv(_superior_rows()), format="csv", level="superior")
        unions_import(
            fund=fund, data=_csv(_grassroots_rows(size)), format="csv", level="grassroots"
        )
        su = {s.code: s for s in SuperiorUnion.objects.filter(fund=fund)}

        _load_officers(fund, su)
        _load_capital(fund, su, year)
        _load_plan(fund, su, year - 1, LAST_YEAR_QUARTERS, 58 * BN, 1950, 2200, split=False)
        _load_plan(fund, su, year, QUARTERS, 60_500_000_000, 2000, 2300, split=True)
    return fund


def _load_officers(fund: Fund, su: dict) -> None:
    first_gu = (
        GrassrootsUnion.objects.filter(fund=fund, superior_union=su["LB"]).order_by("code").first()
    )
    _officer(
        "quy",
        "Nguyễn Văn Quý",
        fund,
        Role.FUND_OFFICER,
        _fund_perms(("view", "add", "change"), FUND_MODELS) + _fund_perms(("view",), LEDGER_MODELS),
    )
    # The second fund officer (the accountant): disburses what ``quy`` approved and confirms
    # the capital moves ``quy`` enters above the fund's threshold (separation of duties).
    _officer(
        "ketoan",
        "Đinh Thị Hằng",
        fund,
        Role.FUND_OFFICER,
        _fund_perms(("view", "add", "change"), FUND_MODELS) + _fund_perms(("view",), LEDGER_MODELS),
    )
    _officer(
        "capten",
        "Trần Thị Thu",
        fund,
        Role.SUPERIOR_OFFICER,
        _fund_perms(("view", "change"), ("grassrootsunion",))
        + _fund_perms(("view",), ("superiorunion", "grassrootsunionaffiliation", "auditlog")),
        superior_union=su["LB"],
    )
    _officer(
        "cdcs",
        "Lê Văn Cường",
        fund,
        Role.GRASSROOTS_OFFICER,
        _fund_perms(("view", "change"), ("grassrootsunion",)),
        grassroots_union=first_gu,
    )
    _officer(
        "kiemtoan",
        "Phạm Thị Kiểm",
        fund,
        Role.AUDITOR,
        _fund_perms(("view",), FUND_MODELS + LEDGER_MODELS),
    )


def _load_capital(fund: Fund, su: dict, year: int) -> None:
    sources = {
        kind: capital_source_create(fund=fund, code=code, name=name, kind=kind)
        for kind, code, name in [
            (CapitalSource.Kind.CITY_BUDGET, "NSTP", "Ngân sách thành phố Hà Nội"),
            (CapitalSource.Kind.UNION_FUNDS, "LDLD", "Quỹ của LĐLĐ thành phố Hà Nội"),
            (CapitalSource.Kind.DONORS, "TAITRO", "Doanh nghiệp, nhà hảo tâm ủng hộ"),
            (CapitalSource.Kind.REFLOWS, "BOSUNG", "Bổ sung từ kết quả hoạt động"),
        ]
    }
    # The year before's capital lends the demo's prior-year quarter; this year's the current one
    # (together 95,5 tỷ against ~30 tỷ lent over the two first quarters).
    for kind, amount, day, memo in [
        ("city_budget", 20 * BN, date(year - 1, 1, 2), "Ngân sách thành phố cấp vốn cho Quỹ"),
        ("union_funds", 15 * BN, date(year - 1, 1, 2), "LĐLĐ thành phố bổ sung vốn cho Quỹ"),
    ]:
        capital_contribution_post(
            fund=fund,
            source=sources[kind],
            amount=amount,
            effective_date=day,
            idempotency_key=f"demo:{fund.code}:{year - 1}:capital:{kind}",
            memo=memo,
        )
    # The donors' money is entered by the fund officer and, above the fund's threshold, posted
    # only once the second fund officer confirms it (``fund.services.capital_move_confirm``).
    User = get_user_model()
    entered = capital_move_enter(
        kind=CapitalMovement.Kind.CONTRIBUTION,
        fund=fund,
        source=sources["donors"],
        amount=5_500_000_000,
        effective_date=date(year, 1, 15),
        idempotency_key=f"demo:{fund.code}:{year}:capital:donors",
        memo="Doanh nghiệp ủng hộ Quỹ Trợ vốn",
        actor=User.objects.get(username="quy"),
    )
    capital_move_confirm(request=entered, actor=User.objects.get(username="ketoan"))
    for kind, amount, day, memo in [
        ("city_budget", 30 * BN, date(year, 1, 2), "Ngân sách thành phố cấp vốn cho Quỹ"),
        ("union_funds", 25 * BN, date(year, 1, 2), "LĐLĐ thành phố bổ sung vốn cho Quỹ"),
    ]:
        capital_contribution_post(
            fund=fund,
            source=sources[kind],
            amount=amount,
            effective_date=day,
            idempotency_key=f"demo:{fund.code}:{year}:capital:{kind}",
            memo=memo,
        )
    for code, amount in (("LB", 12 * BN), ("KCN", 14 * BN)):
        lending_allocation_set(
            superior_union=su[code],
            amount=amount,
            valid_from=date(year - 1, 1, 1),
            note=f"Hạn mức cho vay từ năm {year - 1}",
        )


def _figures(amount: int, borrowers_total: int, jobs_total: int, total_amount: int) -> dict:
    borrowers = borrowers_total * amount // total_amount
    return {
        "disbursed_amount": amount,
        "borrowers": borrowers,
        "loans": borrowers,
        "jobs": jobs_total * amount // total_amount,
    }


def _load_plan(fund, su, year, quarters, total, borrowers, jobs, *, split: bool) -> None:
    plan = annual_plan_set(
        fund=fund,
        year=year,
        disbursed_amount=total,
        borrowers=borrowers,
        loans=borrowers,
        jobs=jobs,
        note=f"Kế hoạch hoạt động Quỹ năm {year}",
    )
    for q, amount in enumerate(quarters, start=1):
        plan_split_set(plan=plan, quarter=q, **_figures(amount, borrowers, jobs, total))
    if not split:
        return
    for code, amount in SPLIT.items():
        plan_split_set(
            plan=plan, superior_union=su[code], **_figures(amount, borrowers, jobs, total)
        )
    for q, amount in enumerate((2 * BN, 2_500_000_000, 2_500_000_000, 2 * BN), start=1):
        plan_split_set(
            plan=plan,
            superior_union=su["LB"],
            quarter=q,
            **_figures(amount, borrowers, jobs, total),
        )
    for gu in GrassrootsUnion.objects.filter(superior_union=su["LB"]).order_by("code")[:3]:
        plan_split_set(
            plan=plan, grassroots_union=gu, **_figures(300_000_000, borrowers, jobs, total)
        )
