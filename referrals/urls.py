from django.urls import path

from referrals import views

app_name = "referrals"

urlpatterns = [
    path("referrals", views.referral_list, name="referral_list"),
    path("referrals/<slug:case_number>", views.referral_detail, name="referral_detail"),
    path("referrals/<slug:case_number>/<slug:action>", views.referral_action, name="referral_action"),
]
