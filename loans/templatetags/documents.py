"""``{% documents_panel owner %}``: the documents block of a borrower's, application's or
loan's page (``loans.web.documents.documents_context``)."""

from django import template

register = template.Library()


@register.inclusion_tag("loans/documents/_panel.html", takes_context=True)
def documents_panel(context, owner):
    from loans.web.documents import documents_context

    return documents_context(context["request"], owner)
