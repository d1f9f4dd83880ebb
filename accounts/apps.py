from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Staff accounts"

    def ready(self) -> None:
        from accounts import checks  # noqa: F401
        from accounts.notifications import register_account_templates

        register_account_templates()
