"""A bank receipt is confirmed once: real parallel PostgreSQL connections."""

import pytest

from accounting.models import JournalEntry
from accounting.selectors import account_balance
from loans.errors import LoanError
from loans.models import BankStatementLine
from loans.servicing.remittances import bank_statement_import, remittance_receipt_confirm
from loans.servicing.repayments import repayment_batch_post
from loans.tests.factories import today
from loans.tests.helpers import THREADS, disbursed, race

pytestmark = pytest.mark.postgres


def test_two_matches_of_one_receipt_one_wins(purge_ledger_after, org, chain, officers):
    loan = disbursed(org, chain)
    batches = [
        repayment_batch_post(
            grassroots_union=org.lb1,
            receipt_number=f"UNC-{n}",
            paid_on=today(),
            lines=[(loan, 100_000)],
            idempotency_key=f"nop-{n}",
        )
        for n in range(2)
    ]
    data = f"Ngày giao dịch,Số tiền,Số tham chiếu,Nội dung\n{today():%d/%m/%Y},100.000,FT1,x\n"
    bank_statement_import(fund=org.fund, data=data.encode(), format="csv")
    line = BankStatementLine.objects.get()

    outcomes = race(
        lambda i: remittance_receipt_confirm(
            line=line, batch=batches[i % 2], idempotency_key=f"xn-{i}", actor=officers.fund
        )
    )

    won = [o for o in outcomes if isinstance(o, BankStatementLine)]
    refused = [o for o in outcomes if isinstance(o, LoanError)]
    assert len(won) == 1 and len(refused) == THREADS - 1, outcomes
    assert JournalEntry.objects.filter(document_type="remittance_receipt").count() == 1
    assert account_balance(account="1131", as_of=today(), fund_id=org.fund.pk) == 100_000
