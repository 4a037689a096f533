"""The confirmation step of a form whose post cannot be undone (a capital movement, a decision
on a loan, a day's disbursements): the form, then a confirmation page that carries the same
values and the same idempotency key in hidden fields, then one post.

The idempotency key travels with the values, so a double click on either page, or a reload of
the confirmation, posts once. "Back" on the confirmation re-opens the form with what was typed;
a refusal of the service re-opens it with the reason next to its field. The confirmation
page's template shows what will happen and includes ``includes/confirm_form.html`` (the hidden
values and the two buttons; no script, so the Content Security Policy holds).
"""

from __future__ import annotations

from collections.abc import Callable

from django.forms.utils import ErrorDict

from accounting.errors import ApplicationError
from fund.web.forms import form_error_apply


def confirm_step(
    request,
    form,
    *,
    form_page: Callable,
    confirm_page: Callable,
    post: Callable,
    confirm: bool | Callable = True,
    check: Callable | None = None,
    refused: Callable = form_error_apply,
):
    """The answer to the POST of a bound `form`.

    - `form_page(form, status)` renders the form (with its errors);
    - `confirm_page(form)` renders the confirmation page;
    - `post(form)` runs the service and answers its success; an ``ApplicationError`` it raises
      is put on the form by `refused(form, error)` and the form is shown again (400);
    - `confirm`: whether to ask first, or a callable(form) when the values decide;
    - `check(form)`: refuses early, on the form, what the service would refuse (the service
      checks again when confirmed).
    """
    if request.POST.get("back"):
        form.is_valid()  # re-show the typed values without the errors of an unconfirmed form
        form._errors = ErrorDict()
        return form_page(form, 200)
    if check is not None and form.is_valid():
        check(form)
    if not form.is_valid():
        return form_page(form, 400)
    ask = confirm(form) if callable(confirm) else confirm
    if ask and request.POST.get("confirmed") != "1":
        return confirm_page(form)
    try:
        return post(form)
    except ApplicationError as e:
        refused(form, e)
        return form_page(form, 400)
