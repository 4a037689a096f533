"""Codes and people in words on the pages: {{ user|person }}, {{ code|action }},
{{ code|stage }}, {{ account|account }} (fund.people and fund.labels do the work)."""

from django import template

from fund.labels import account_name, action_label, model_label, stage_label
from fund.people import person_name

register = template.Library()


@register.filter
def person(user):
    return person_name(user) or "—"


@register.filter
def action(code):
    return action_label(code)


@register.filter
def stage(code):
    return stage_label(code)


@register.filter
def model_name(content_type):
    return model_label(content_type)


@register.filter
def account(obj):
    """A chart account (or a statement's line) by its name in the page's language."""
    return account_name(str(obj.name), getattr(obj, "name_en", ""))
