from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "haven.registry"
    label = "registry"
    verbose_name = "Registry of defenders and organisations"

    def ready(self) -> None:
        from haven.registry import desk

        desk.register()
