"""The double-entry ledger kernel.

Design overview
---------------
* ``Account`` — the chart of accounts, Vietnamese codes (Circular 200/99): a tree in which only
  accounts without children take postings. Each account has a type (asset, liability, equity,
  income, expense), the side it normally sits on and one currency. ``path`` is the materialised
  path of codes (``/411/4111/``) so a subtree is one indexed prefix scan.
* ``JournalEntry`` — one business event: effective (business) date, recorded time, memo, who
  posted it, the business document that caused it, a unique idempotency key with the fingerprint
  of the request, and ``reversal_of`` (one-to-one, so an entry is reversed at most once).
* ``Posting`` — one leg: an account and a signed amount in whole đồng (debit > 0, credit < 0).
  The legs of an entry sum to zero per currency. Each posting carries the analytic dimensions
  ``fund_id`` (several funds share one database and one chart), ``superior_union_id`` /
  ``grassroots_union_id`` (as they were when posted, so past reports do not
  change when a union moves) and ``subledger`` (e.g. ``loan:42``, ``borrower:7``) so that any
  balance rolls up by union and reconciles per loan without thousands of sub-accounts.
* ``ChainLink`` — the tamper-evidence hash chain, sealed in order in batches by one sealer, so
  posting never waits on a global lock.
* ``PeriodClose`` — nothing may be posted on or before the latest ``closed_through`` date.
* ``AccountCheckpoint`` — balance of an account (per currency) as of a closed date. Because closed
  periods cannot change, checkpoints never go stale; a balance is the checkpoint plus the delta.
* ``AccountTurnover`` — debit and credit turnover per account, currency, fund and effective date,
  written by a database trigger in the same statement that inserts postings (so it can never
  miss one, whichever way postings are written), as one row per insert; ``ledger_turnover_
  compact`` later merges a day's rows into one. Balances and trial balances sum these rows (a
  few per account and day) instead of every posting; rows are only ever added or merged, never
  edited, so nobody waits on a hot row and the sum equals the postings' sum at every moment
  (``ledger_turnover_verify`` proves it).

On PostgreSQL the database enforces the rules itself (migration ``0002_ledger_triggers``): an
unbalanced or one-legged entry cannot commit (deferred constraint trigger, once per entry), posted
rows cannot be updated or deleted, postings to non-leaf accounts, in another currency than the
account's, into a closed period or into an entry of an earlier transaction are refused. On SQLite
the services check the same rules.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from accounting.errors import PostedRowImmutable

AMOUNT_DIGITS = 20


def _refuse(model, action: str):
    raise PostedRowImmutable(
        f"Sổ cái chỉ được ghi thêm: không {action} {model._meta.verbose_name} đã ghi; sửa sai "
        "bằng bút toán đảo."
    )


class AppendOnlyQuerySet(models.QuerySet):
    """The ORM's bulk edits refused on ledger rows (PostgreSQL refuses them too, by trigger)."""

    def update(self, **kwargs):
        _refuse(self.model, "sửa")

    def bulk_update(self, objs, fields, batch_size=None):
        _refuse(self.model, "sửa")

    def delete(self):
        _refuse(self.model, "xóa")

    delete.alters_data = True
    update.alters_data = True


class AppendOnlyModel(models.Model):
    """A ledger row: inserted once, never saved again nor deleted (the friendly guard; on
    PostgreSQL the triggers of migration 0002 are the real one)."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            _refuse(type(self), "sửa")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _refuse(type(self), "xóa")


class AccountType(models.TextChoices):
    ASSET = "asset", _("Tài sản")
    LIABILITY = "liability", _("Nợ phải trả")
    EQUITY = "equity", _("Nguồn vốn quỹ")
    INCOME = "income", _("Thu nhập")
    EXPENSE = "expense", _("Chi phí")


class Side(models.TextChoices):
    DEBIT = "debit", _("Nợ")
    CREDIT = "credit", _("Có")


class Account(models.Model):
    code = models.CharField(_("số hiệu"), max_length=32, unique=True)
    name = models.CharField(_("tên tài khoản"), max_length=255)
    name_en = models.CharField(_("tên tiếng Anh"), max_length=255, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("tài khoản cấp trên"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("đường dẫn"), max_length=512, unique=True, editable=False)
    account_type = models.CharField(_("loại"), max_length=16, choices=AccountType.choices)
    normal_side = models.CharField(_("số dư thông thường"), max_length=6, choices=Side.choices)
    # A contra account (2293 provisions) sits on the side opposite its type's usual one.
    is_contra = models.BooleanField(_("tài khoản điều chỉnh giảm"), default=False)
    currency = models.CharField(_("tiền tệ"), max_length=3, default="VND")

    class Meta:
        verbose_name = _("tài khoản")
        verbose_name_plural = _("hệ thống tài khoản")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


# The document type of a year-end closing entry (income and expenses closed to the result and
# the surplus): the income statement leaves these entries out, the auditor sees them flagged.
CLOSING_DOCUMENT_TYPE = "year_close"


class JournalEntry(AppendOnlyModel):
    effective_date = models.DateField(_("ngày hạch toán"), db_index=True)
    recorded_at = models.DateTimeField(_("thời điểm ghi sổ"), auto_now_add=True)
    memo = models.CharField(_("diễn giải"), max_length=500)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người ghi sổ"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    document_type = models.CharField(_("loại chứng từ"), max_length=64, blank=True)
    document_id = models.CharField(_("số chứng từ"), max_length=64, blank=True)
    idempotency_key = models.CharField(_("khóa chống trùng"), max_length=200, unique=True)
    request_hash = models.CharField(_("mã băm yêu cầu"), max_length=64, editable=False)
    reversal_of = models.OneToOneField(
        "self",
        verbose_name=_("bút toán đảo của"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    # Why the entry is dated before the fund's open window ("" when it is not): a back-dated
    # posting is flagged here, covered by the request MAC and the entry hash when set.
    backdated_reason = models.CharField(
        _("lý do ghi sổ lùi ngày"), max_length=500, blank=True, default="", db_default=""
    )
    # Filled by a PostgreSQL trigger with the inserting transaction's id, so that postings can
    # only be added to an entry inside the transaction that created it.
    txid = models.BigIntegerField(_("giao dịch CSDL"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("bút toán")
        verbose_name_plural = _("sổ nhật ký chung")
        ordering = ["id"]
        indexes = [models.Index(fields=["document_type", "document_id"])]

    def __str__(self):
        return f"#{self.pk} {self.effective_date} {self.memo}"


class Posting(AppendOnlyModel):
    entry = models.ForeignKey(
        JournalEntry, verbose_name=_("bút toán"), on_delete=models.PROTECT, related_name="postings"
    )
    account = models.ForeignKey(
        Account, verbose_name=_("tài khoản"), on_delete=models.PROTECT, related_name="postings"
    )
    # Signed: debit > 0, credit < 0. Whole đồng.
    amount = MoneyField(
        _("số tiền"), max_digits=AMOUNT_DIGITS, decimal_places=0, default_currency="VND"
    )
    effective_date = models.DateField(_("ngày hạch toán"))
    fund_id = models.BigIntegerField(_("quỹ"), null=True, blank=True)
    superior_union_id = models.BigIntegerField(_("công đoàn cấp trên"), null=True, blank=True)
    grassroots_union_id = models.BigIntegerField(_("công đoàn cơ sở"), null=True, blank=True)
    subledger = models.CharField(_("sổ chi tiết"), max_length=64, blank=True, db_index=True)

    class Meta:
        verbose_name = _("định khoản")
        verbose_name_plural = _("định khoản")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="posting_amount_nonzero"),
        ]
        indexes = [
            models.Index(fields=["account", "effective_date"], name="posting_acct_date"),
            # The delta since a checkpoint, for all accounts (trial balance, period close).
            models.Index(fields=["effective_date"], name="posting_date"),
            # A superior union's balances by grassroots union (its quarterly report, its page):
            # the lines are never updated, so the covering index is read alone (index-only
            # scan) instead of a heap page per line (~2,400 pages at the benchmark's largest
            # superior union, 9,604 lines).
            models.Index(
                fields=["superior_union_id", "account"],
                include=["grassroots_union_id", "effective_date", "fund_id", "amount"],
                name="posting_superior_sums",
            ),
            models.Index(fields=["grassroots_union_id", "account"], name="posting_grassroots"),
        ]

    @property
    def debit(self):
        return self.amount.amount if self.amount.amount > 0 else 0

    @property
    def credit(self):
        return -self.amount.amount if self.amount.amount < 0 else 0


class SealedLink(AppendOnlyModel):
    """A link of a hash chain: ``link_hash = sha256(prev_hash + <the row's hash>)``, numbered
    from 1 with no gaps. The ledger's chain (`ChainLink`) and the audit log's
    (``fund.AuditLink``) are both made of these."""

    seq = models.BigIntegerField(_("số thứ tự"), primary_key=True)
    prev_hash = models.CharField(_("mã băm mắt xích trước"), max_length=64)
    link_hash = models.CharField(_("mã băm mắt xích"), max_length=64)
    sealed_at = models.DateTimeField(_("thời điểm niêm phong"), auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["seq"]


class ChainLink(SealedLink):
    """One sealed entry in the hash chain: ``link_hash = sha256(prev_hash + entry_hash)``."""

    entry = models.OneToOneField(
        JournalEntry,
        verbose_name=_("bút toán"),
        on_delete=models.PROTECT,
        related_name="chain_link",
    )
    entry_hash = models.CharField(_("mã băm bút toán"), max_length=64)
    # 1: links sealed before the hash covered the account's code and path (migration 0008);
    # 2: the entry hash covers each posting's account code and path too.
    hash_version = models.PositiveSmallIntegerField(_("phiên bản mã băm"), default=2)

    class Meta:
        verbose_name = _("mắt xích niêm phong")
        verbose_name_plural = _("chuỗi niêm phong sổ cái")
        ordering = ["seq"]


class ChainHead(AppendOnlyModel):
    """A signed chain head: each seal signs the head it leaves with the Ed25519 key the database
    does not hold (``accounting.signing``). The heads of a chain only move forward; the latest is
    the high-water mark the chain may never fall short of. ``chain`` names the chain (``ledger``,
    ``audit``), so other apps' chains are signed the same way."""

    chain = models.CharField(_("chuỗi"), max_length=16)
    seq = models.BigIntegerField(_("số mắt xích"))
    link_hash = models.CharField(_("mã băm đầu chuỗi"), max_length=64)
    signed_at = models.DateTimeField(_("thời điểm ký"))
    key_id = models.CharField(_("mã khóa ký"), max_length=16)
    signature = models.CharField(_("chữ ký"), max_length=128)

    class Meta:
        verbose_name = _("đầu chuỗi đã ký")
        verbose_name_plural = _("đầu chuỗi đã ký")
        ordering = ["chain", "seq"]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="chainhead_unique")]


class PeriodClose(AppendOnlyModel):
    closed_through = models.DateField(_("khóa sổ đến ngày"), unique=True)
    closed_at = models.DateTimeField(_("thời điểm khóa"), auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người khóa sổ"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField(_("ghi chú"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("kỳ đã khóa sổ")
        verbose_name_plural = _("các kỳ đã khóa sổ")
        ordering = ["closed_through"]


class AccountCheckpoint(AppendOnlyModel):
    account = models.ForeignKey(
        Account, verbose_name=_("tài khoản"), on_delete=models.PROTECT, related_name="checkpoints"
    )
    as_of = models.DateField(_("ngày chốt"))
    fund_id = models.BigIntegerField(_("quỹ"), null=True, blank=True)
    currency = models.CharField(_("tiền tệ"), max_length=3, default="VND")
    # Signed: debit - credit.
    balance = models.DecimalField(_("số dư (Nợ − Có)"), max_digits=AMOUNT_DIGITS, decimal_places=0)
    posting_count = models.BigIntegerField(_("số định khoản"))

    class Meta:
        verbose_name = _("số dư chốt")
        verbose_name_plural = _("số dư chốt")
        # Two partial unique indexes rather than NULLS NOT DISTINCT, which SQLite lacks.
        constraints = [
            models.UniqueConstraint(
                fields=["account", "as_of", "currency", "fund_id"],
                condition=Q(fund_id__isnull=False),
                name="checkpoint_unique_fund",
            ),
            models.UniqueConstraint(
                fields=["account", "as_of", "currency"],
                condition=Q(fund_id__isnull=True),
                name="checkpoint_unique_all_funds",
            ),
        ]


class CommandRecord(models.Model):
    """One business command run under an idempotency key (see ``accounting.idempotency``)."""

    scope = models.CharField(_("loại lệnh"), max_length=64)
    key = models.CharField(_("khóa chống trùng"), max_length=200)
    request_hash = models.CharField(_("mã băm yêu cầu"), max_length=64)
    result_id = models.CharField(_("kết quả"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("thời điểm"), auto_now_add=True)

    class Meta:
        verbose_name = _("lệnh chống trùng")
        verbose_name_plural = _("lệnh chống trùng")
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="command_record_unique")
        ]


class AccountTurnover(models.Model):
    """Debit and credit turnover of postings, per account, currency, fund and effective date.

    Written only by the trigger on ``accounting_posting`` (migration ``0006_account_turnover``)
    and merged by ``ledger_turnover_compact``; the sum of the rows of a key always equals the
    sum of that key's postings.
    """

    account = models.ForeignKey(
        Account, verbose_name=_("tài khoản"), on_delete=models.PROTECT, related_name="+"
    )
    currency = models.CharField(_("tiền tệ"), max_length=3)
    fund_id = models.BigIntegerField(_("quỹ"), null=True, blank=True)
    effective_date = models.DateField(_("ngày hạch toán"))
    debit = models.DecimalField(_("phát sinh Nợ"), max_digits=AMOUNT_DIGITS, decimal_places=0)
    credit = models.DecimalField(_("phát sinh Có"), max_digits=AMOUNT_DIGITS, decimal_places=0)
    postings = models.BigIntegerField(_("số định khoản"))
    # False for a row just written by the trigger; the compaction merges them.
    compacted = models.BooleanField(_("đã gộp"), default=False)

    class Meta:
        verbose_name = _("phát sinh theo ngày")
        verbose_name_plural = _("phát sinh theo ngày")
        indexes = [
            models.Index(fields=["account", "effective_date"], name="turnover_acct_date"),
            models.Index(fields=["effective_date"], name="turnover_date"),
            models.Index(
                fields=["account", "effective_date"],
                condition=Q(compacted=False),
                name="turnover_to_compact",
            ),
        ]
