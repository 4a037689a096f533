"""The loan book: borrowers, products, applications, loans and their schedules.

Design overview
---------------
* ``Borrower`` — a union member of a poor, near-poor, just-out-of-poverty or low-income household,
  a member of one grassroots union at a time. ``Borrower.grassroots_union`` is the current one;
  ``BorrowerMembership`` keeps the history (``valid_from`` inclusive, ``valid_to`` exclusive). The
  CCCD number is unique within a fund and validated (``loans.origination.cccd``).
* ``LoanProduct`` — amount and term ranges, rate (per month or per year), method, frequency,
  grace periods, penalty rate, compulsory savings, the repayment allocation order and the
  debt-group table (``loans.terms``), and the eligibility settings (age, certificate validity).
* ``LoanApplication`` — proposed by a grassroots union, reviewed by its superior union, approved
  by a fund officer who did not enter it, then disbursed. Its ``terms`` are the product's terms
  copied at approval; ``ApplicationEvent`` is its timeline (who moved it, when, why).
* ``Loan`` — created by the disbursement, with the terms copied from the application (a product
  change never alters a loan) and the grassroots and superior unions AS OF disbursement, so that
  past reports do not change when a union or a member moves. ``outstanding_principal`` is stored
  and kept in step with the ledger (account 1283, sub-ledger ``loan:<id>``) by the services;
  ``loan_book_reconcile`` proves it. ``days_past_due`` and ``debt_group`` are written by the
  daily arrears pass (``loans.servicing.arrears``), which runs as set-based SQL over every
  active loan, hence the partial indexes on active loans and unpaid installments.
* ``Installment`` — one due date of the schedule (``loans.schedules``) in whole đồng: what is
  due, what has been paid, the penalty, and its status.
* ``LoanTransaction`` — the loan book's own journal: each change of a loan's principal (and the
  interest, penalty and savings moved with it), dated and pointing at its ledger entry. The
  outstanding principal as of a date is the sum of these up to that date.
* ``FollowUpVisit`` — a visit after disbursement that checks the purpose and confirms the new
  jobs the application planned.
* ``Document`` — a file attached to a borrower, an application, a loan or a visit (a CCCD scan,
  a certificate, the signed contract, visit photos), its type checked by content; see
  ``loans.models.documents``.

The models live in one module per sub-domain (origination, loan, restructuring, reminders);
this package imports them all, so ``from loans.models import Loan`` works and the app label and
tables stay those of the ``loans`` app.
"""

from loans.models.documents import Document, DocumentKind, DocumentType  # noqa: F401
from loans.models.loan import (  # noqa: F401
    CloseOfBusinessRun,
    FollowUpVisit,
    Installment,
    InstallmentStatus,
    Loan,
    LoanStatus,
    LoanTransaction,
    Repayment,
    RepaymentAllocation,
    RepaymentBatch,
)
from loans.models.origination import (  # noqa: F401
    FREQUENCY_CHOICES,
    METHOD_CHOICES,
    RATE_PERIOD_CHOICES,
    ApplicationEvent,
    ApplicationStatus,
    Borrower,
    BorrowerMembership,
    HouseholdStatus,
    LoanApplication,
    LoanProduct,
    PurposeKind,
    SavingsKind,
    SecurityKind,
    Sex,
    rate_field,
)
from loans.models.portfolio import PortfolioSnapshot  # noqa: F401
from loans.models.reminders import (  # noqa: F401
    DIGEST_STAGE,
    ReminderChannel,
    ReminderDelivery,
    ReminderStage,
    ReminderTemplate,
)
from loans.models.remittances import BankStatement, BankStatementLine  # noqa: F401
from loans.models.restructuring import (  # noqa: F401
    InterestWaiver,
    LoanChangeRequest,
    LoanClosure,
    LoanWriteOff,
    ScheduleRevision,
    WriteOffCause,
    WriteOffRecovery,
)
