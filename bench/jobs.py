"""Jobs benchmark (`make bench-jobs`, PostgreSQL): the background jobs' figures in one
JSON line.

- cob: close of business over 100,000 and 1,000,000 active loans (bench/jobs_cob.py);
- reminders: reminders prepared per second (bench/jobs_reminders.py);
- report: the quarterly report of a federation of 45 superior unions and 9,360 grassroots unions
  with 100,000 loans — the fund PDF (target < 30 s) and every superior union's PDF (target
  < 2 minutes on a 2-core machine) (bench/jobs_report.py).
"""

from combine import run_parts

if __name__ == "__main__":
    run_parts(
        "jobs",
        {"cob": "jobs_cob.py", "reminders": "jobs_reminders.py", "report": "jobs_report.py"},
    )
