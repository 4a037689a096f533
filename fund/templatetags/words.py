"""Codes and people in words on the pages: {{ user|person }}, {{ code|action }},
{{ code|stage }} (fund.people and fund.labels do the work)."""

from django import template

from fund.labels import action_label, model_label, stage_label
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
