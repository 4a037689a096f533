"""The accounts of the chart by the role they play for the fund and its loans.

The chart itself (codes, names, normal sides) is ``accounting``'s and knows nothing of loans;
this module names the codes the fund's and the loans' postings use, one constant per code, so
that no module spells an account number of its own.
"""

from __future__ import annotations

CAPITAL = "411"  # the fund's capital (its sources)
BANK = "1121"  # deposits at the bank
CASH = "1111"  # cash in hand
IN_TRANSIT = "1131"  # money remitted by a union and not yet seen on the bank's statement
CASH_ACCOUNTS = (BANK, CASH)  # where money is paid out of and collected into
LOANS_RECEIVABLE = "1283"  # principal lent and not yet repaid
LOAN_LOSS_PROVISION = "2293"  # provisions against the loans (a contra-asset)
PROVISION_EXPENSE = "6422"  # the cost of making provisions
WRITE_OFF_EXPENSE = "8111"  # principal written off beyond its provision
RECOVERY_INCOME = "7111"  # money recovered on written-off loans
INTEREST_INCOME = "5151"  # interest collected (cash basis)
PENALTY_INCOME = "5152"  # penalty interest collected
BORROWER_SAVINGS = "33881"  # the borrowers' compulsory savings held by the fund
RESULT = "911"  # the year's result: income and expenses close to it at year end
SURPLUS_PRIOR_YEARS = "4211"  # surplus of prior years (the closed year's, carried on 1 January)
SURPLUS_CURRENT_YEAR = "4212"  # surplus of the year just closed
