from django.apps import AppConfig


class JobsConfig(AppConfig):
    """The worker: one command that runs every background job and the event delivery."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "jobs"
