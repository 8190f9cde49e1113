from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CustomersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "customers"

    def ready(self) -> None:
        from config.cache import create_cache_tables

        # The rate limiter's database cache needs its table; `migrate` makes it.
        post_migrate.connect(create_cache_tables, sender=self, dispatch_uid="customers.create_cache_tables")
