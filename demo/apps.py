from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo fund's data and the `demo` command; no models, never part of production."""

    name = "demo"
    verbose_name = "Demo"
