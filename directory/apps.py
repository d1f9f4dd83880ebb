from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    """The local authority directory: authorities, postcode areas and the lookup between them."""

    name = "directory"
    verbose_name = "Local authority directory"
