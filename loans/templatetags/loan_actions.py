"""``{% loan_actions loan %}``: the loan page's block of actions that apply to the loan's state
and the signed-in officer's role (``loans.policy``'s table, shown by
``loans.web.actions.loan_actions``), with the loan's requests waiting for a decision."""

from django import template

register = template.Library()


@register.inclusion_tag("loans/actions/_block.html", takes_context=True)
def loan_actions(context, loan):
    from loans.policy import pending_requests
    from loans.web.actions import loan_actions as actions_for

    scope = getattr(context.get("request"), "scope", None)
    return {
        "loan": loan,
        "actions": actions_for(loan, scope) if scope else [],
        "requests": pending_requests(loan) if loan.status == "active" else [],
    }


@register.inclusion_tag("loans/actions/_decisions.html")
def loan_decisions(loan):
    """The decisions taken on the loan after disbursement, oldest first: reschedulings and
    recalls, waivers, reversed repayments, the write-off and its recoveries, the closure."""
    from loans.web.loan_facts import loan_decisions as decisions_of

    return {"decisions": decisions_of(loan)}
