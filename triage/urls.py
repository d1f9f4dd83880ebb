from django.urls import path

from triage import admin_views, views

app_name = "triage"

urlpatterns = [
    path("", views.home, name="home"),
    path("cases", views.case_list, name="case_list"),
    path("cases/bulk", views.case_bulk, name="case_bulk"),
    path("cases/<slug:case_number>", views.case_detail, name="case_detail"),
    path("cases/<slug:case_number>/<slug:action>", views.case_action, name="case_action"),
    path("cases/<slug:case_number>/files/<uuid:file_id>", views.case_file, name="case_file"),
    path("cases/<slug:case_number>/files/<uuid:file_id>/preview", views.case_file_preview, name="case_file_preview"),
    path("cases/<slug:case_number>/files/<uuid:file_id>/view", views.case_file_view, name="case_file_view"),
    path("phone-report", views.phone_report, name="phone_report"),
    path("phone-report/sent", views.phone_report_sent, name="phone_report_sent"),
    path("admin/authorities", admin_views.authority_list, name="admin_authorities"),
    path("admin/authorities/<slug:gss_code>", admin_views.authority_inbox, name="admin_authority_inbox"),
]
