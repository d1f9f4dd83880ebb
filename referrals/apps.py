from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = "Referrals"

    def ready(self) -> None:
        from referrals.hooks import register
        from referrals.metrics import register_referral_gauges

        # Triage runs the helpline's referral actions, sweeps the referrals' clocks and withdraws open
        # referrals through the ports it offers (triage/ports.py): it cannot import this app, above it.
        register()
        register_referral_gauges()
