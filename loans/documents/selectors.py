"""Which documents a user sees: those of the owners they see (``fund.scoping``). A document of
another unit's member, application, loan or visit is a 404, like the owner itself."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from fund.scoping import Scope, scope_filter, scoped_get_or_404
from loans.models import Borrower, Document, FollowUpVisit, Loan, LoanApplication

# Each owner: its model and the path from it to its grassroots union.
OWNER_MODELS = {
    "borrower": (Borrower, "grassroots_union"),
    "application": (LoanApplication, "grassroots_union"),
    "loan": (Loan, "grassroots_union"),
    "visit": (FollowUpVisit, "loan__grassroots_union"),
}


def document_owner_kind(owner) -> str:
    """``"borrower"``, ``"application"``, ``"loan"`` or ``"visit"``: what `owner` is."""
    for kind, (model, _path) in OWNER_MODELS.items():
        if isinstance(owner, model):
            return kind
    raise TypeError(f"documents cannot be attached to {type(owner).__name__}")


def document_owner_union_id(owner) -> int:
    """The grassroots union of an owner: a borrower's current one, the application's, the
    loan's (as of disbursement), the visited loan's."""
    if isinstance(owner, FollowUpVisit):
        return owner.loan.grassroots_union_id
    return owner.grassroots_union_id


def document_owner_get(scope: Scope, owner_kind: str, pk) -> object:
    """An owner by kind and id inside the scope, else 404."""
    try:
        model, path = OWNER_MODELS[owner_kind]
    except KeyError:
        raise Http404(_("Không tìm thấy.")) from None
    return scoped_get_or_404(model.objects.all(), scope, pk=pk, grassroots_field=path)


def documents_visible(scope: Scope) -> QuerySet:
    """Every document whose owner the scope sees."""
    visible = Q()
    for kind, (model, path) in OWNER_MODELS.items():
        owners = scope_filter(model.objects.all(), scope, grassroots_field=path).values("pk")
        visible |= Q(**{f"{kind}__in": owners})
    return Document.objects.filter(visible)


def document_get(scope: Scope, pk) -> Document:
    """One document inside the scope (through its owner), else 404."""
    try:
        return documents_visible(scope).select_related("uploaded_by", "withdrawn_by").get(pk=pk)
    except (Document.DoesNotExist, ValueError, TypeError):
        raise Http404(_("Không tìm thấy.")) from None


def documents_of(owner, *, withdrawn: bool = True) -> QuerySet:
    """The documents attached to `owner`, oldest first; without the withdrawn ones unless
    `withdrawn`."""
    qs = Document.objects.filter(**{document_owner_kind(owner): owner}).select_related(
        "uploaded_by", "withdrawn_by"
    )
    if not withdrawn:
        qs = qs.filter(withdrawn_at__isnull=True)
    return qs.order_by("uploaded_at", "pk")


def application_documents_missing(application: LoanApplication) -> list[str]:
    """The kinds the application's product requires before review that neither the application
    nor its borrower has (withdrawn documents do not count), in the product's order."""
    required = list(application.product.required_document_kinds or [])
    if not required:
        return []
    present = set(
        Document.objects.filter(
            Q(application=application) | Q(borrower_id=application.borrower_id),
            withdrawn_at__isnull=True,
            kind__in=required,
        ).values_list("kind", flat=True)
    )
    return [kind for kind in required if kind not in present]


def applications_documents_missing(applications) -> dict[int, list[str]]:
    """``{application id: missing kinds}`` for a page of applications (their products read with
    them), in one query: the queue of reviews marks what each still lacks."""
    wanted = {a.pk: list(a.product.required_document_kinds or []) for a in applications}
    wanted = {pk: kinds for pk, kinds in wanted.items() if kinds}
    if not wanted:
        return {}
    borrower_of = {a.pk: a.borrower_id for a in applications if a.pk in wanted}
    on_application, on_borrower = defaultdict(set), defaultdict(set)
    rows = Document.objects.filter(
        Q(application_id__in=wanted) | Q(borrower_id__in=set(borrower_of.values())),
        withdrawn_at__isnull=True,
    ).values_list("application_id", "borrower_id", "kind")
    for application_id, borrower_id, kind in rows:
        if application_id is not None:
            on_application[application_id].add(kind)
        else:
            on_borrower[borrower_id].add(kind)
    return {
        pk: [k for k in kinds if k not in on_application[pk] | on_borrower[borrower_of[pk]]]
        for pk, kinds in wanted.items()
    }
