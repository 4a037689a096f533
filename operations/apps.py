from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Running the fund's installation: backups, the restore drill (no models)."""

    name = "operations"
    verbose_name = "Vận hành"
