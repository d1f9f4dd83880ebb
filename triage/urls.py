from django.urls import path

from accounts import admin_views as staff_admin
from triage import admin_views, views

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
    path("admin/staff", staff_admin.staff_list, name="admin_staff"),
    path("admin/staff/invite", staff_admin.staff_invite, name="admin_staff_invite"),
    path("admin/staff/<int:user_id>", staff_admin.staff_detail, name="admin_staff_detail"),
    path("admin/staff/<int:user_id>/invitation", staff_admin.staff_invitation, name="admin_staff_invitation"),
    path("admin/staff/<int:user_id>/access", staff_admin.staff_access, name="admin_staff_access"),
    path("admin/staff/<int:user_id>/disable", staff_admin.staff_disable, name="admin_staff_disable"),
    path("admin/staff/<int:user_id>/mfa-reset", staff_admin.staff_mfa_reset, name="admin_staff_mfa_reset"),
    path(
        "admin/staff/<int:user_id>/mfa-reset/approve",
        staff_admin.staff_mfa_reset_approve,
        name="admin_staff_mfa_reset_approve",
    ),
    path(
        "admin/staff/<int:user_id>/mfa-reset/cancel",
        staff_admin.staff_mfa_reset_cancel,
        name="admin_staff_mfa_reset_cancel",
    ),
]
