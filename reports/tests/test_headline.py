"""The headline sentence, word for word, in the federation's style and its edge cases."""

from decimal import Decimal

from reports.quarterly import headline_sentence

EXAMPLE = (
    "Quý I/2024: giải ngân cho 503 đoàn viên của 35 CĐCS, số tiền 15.220.000.000 ₫ (đạt 25,16% "
    "kế hoạch, tăng 3,33% so với cùng kỳ), tạo việc làm mới cho 557 lao động."
)


def sentence(**kw):
    args = dict(
        label="Quý I/2024",
        borrowers=503,
        grassroots_unions=35,
        amount=Decimal(15_220_000_000),
        jobs=557,
        percent_of_plan=Decimal("25.16"),
        growth=Decimal("3.33"),
        previous_amount=Decimal(14_729_000_000),
    )
    return headline_sentence(**{**args, **kw})


def test_the_federation_s_example_word_for_word():
    assert sentence() == EXAMPLE


def test_from_the_raw_figures():
    """15.22 bn of a 60.5 bn plan, against 14.73 bn a year earlier."""
    from fund.attainment import growth_of, percent_of

    pct = percent_of(15_220_000_000, 60_500_000_000)
    growth = growth_of(15_220_000_000, 14_730_000_000)
    assert (pct, growth) == (Decimal("25.16"), Decimal("3.33"))
    assert sentence(percent_of_plan=pct, growth=growth) == EXAMPLE


def test_a_fall_says_giam():
    assert "(đạt 25,16% kế hoạch, giảm 3,33% so với cùng kỳ)" in sentence(growth=Decimal("-3.33"))


def test_the_same_as_a_year_earlier():
    assert "(đạt 25,16% kế hoạch, bằng cùng kỳ)" in sentence(growth=Decimal(0))


def test_without_a_plan_or_a_prior_year():
    s = sentence(percent_of_plan=None, growth=None)
    assert "(chưa có kế hoạch năm, cùng kỳ năm trước chưa giải ngân)" in s


def test_nothing_disbursed():
    assert sentence(amount=0, borrowers=0, grassroots_unions=0, jobs=0, growth=Decimal(-100)) == (
        "Quý I/2024: chưa giải ngân khoản vay nào (đạt 25,16% kế hoạch; cùng kỳ năm trước "
        "14.729.000.000 ₫)."
    )
    assert sentence(amount=0, percent_of_plan=None, previous_amount=0) == (
        "Quý I/2024: chưa giải ngân khoản vay nào (chưa có kế hoạch năm; cùng kỳ năm trước cũng "
        "chưa giải ngân)."
    )


def test_thousands_of_members_and_a_superior_union():
    s = sentence(borrowers=1503, jobs=2557, unit_name="LĐLĐ quận Long Biên")
    assert s.startswith("Quý I/2024, LĐLĐ quận Long Biên: giải ngân cho 1.503 đoàn viên của 35")
    assert s.endswith("tạo việc làm mới cho 2.557 lao động.")
