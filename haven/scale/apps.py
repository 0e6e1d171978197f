from django.apps import AppConfig


class ScaleConfig(AppConfig):
    """Synthetic data at a global size (``manage.py seed_scale``); never real data."""

    name = "haven.scale"
    label = "scale"
    verbose_name = "Scale generator (synthetic data only)"
