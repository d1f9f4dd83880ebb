from django.urls import path

from triage import admin_views, referral_views, views

app_name = "triage"

urlpatterns = [
    path("", views.home, name="home"),
    path("cases", views.case_list, name="case_list"),
    path("cases/<slug:case_number>", views.case_detail, name="case_detail"),
    path("cases/<slug:case_number>/<slug:action>", views.case_action, name="case_action"),
    path("phone-report", views.phone_report, name="phone_report"),
    path("phone-report/sent", views.phone_report_sent, name="phone_report_sent"),
    path("admin/authorities", admin_views.authority_list, name="admin_authorities"),
    path("admin/authorities/<slug:gss_code>", admin_views.authority_inbox, name="admin_authority_inbox"),
    path("referrals", referral_views.referral_list, name="referral_list"),
    path("referrals/<slug:case_number>", referral_views.referral_detail, name="referral_detail"),
    path("referrals/<slug:case_number>/<slug:action>", referral_views.referral_action, name="referral_action"),
]
