"""Schedules generated per second, per method: `python bench/schedules.py [--seconds 1.0]`.

Pure Python, no database. Two shapes: a typical monthly loan (36 months, 6.6 %/year, odd amount,
disbursed on the 31st) and the longest weekly one (156 weeks, 0.65 %/month, 2 weeks of principal
grace). Ends with the figures as one JSON line.
"""

import argparse
import json
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loans.schedules import (  # noqa: E402
    Frequency,
    Method,
    RatePeriod,
    ScheduleTerms,
    schedule_generate,
)

SHAPES = {
    "monthly_36": {
        "installments": 36,
        "rate": Decimal("6.6"),
        "rate_period": RatePeriod.YEAR,
        "frequency": Frequency.MONTHLY,
        "principal_grace": 0,
    },
    "weekly_156": {
        "installments": 156,
        "rate": Decimal("0.65"),
        "rate_period": RatePeriod.MONTH,
        "frequency": Frequency.WEEKLY,
        "principal_grace": 2,
    },
}


def rate_per_second(*, terms: ScheduleTerms, seconds: float) -> float:
    """Schedules per second, timed over at least ``seconds`` of repeated generation."""
    done, started = 0, time.perf_counter()
    while True:
        for _ in range(50):
            schedule_generate(terms)
        done += 50
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    args = parser.parse_args()
    figures = {}
    for shape, values in SHAPES.items():
        for method in Method:
            terms = ScheduleTerms(
                principal=Decimal(30_000_007),
                method=method,
                disbursed_on=date(2026, 1, 31),
                **values,
            )
            per_second = rate_per_second(terms=terms, seconds=args.seconds)
            key = f"schedules_per_second_{method.value}_{shape}"
            figures[key] = round(per_second)
            print(f"{key:52} {per_second:>10,.0f}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
