from django.urls import path

from accounts import admin_views, views

app_name = "accounts"

urlpatterns = [
    path("sign-in", views.login, name="login"),
    path("sign-in/code", views.code, name="code"),
    path("invitation/<str:secret>", views.invitation, name="invitation"),
    path("invitation/<str:secret>/authenticator", views.invitation_authenticator, name="invitation_authenticator"),
    path("recovery-codes", views.recovery_codes, name="recovery_codes"),
    path("sign-out", views.sign_out, name="sign_out"),
    path("signed-out", views.signed_out, name="signed_out"),
    # Staff administration, for administrators (the authorities' referral inboxes stay in triage/urls.py).
    path("admin/staff", admin_views.staff_list, name="admin_staff"),
    path("admin/partnerships", admin_views.partnership_list, name="admin_partnerships"),
    path("admin/partnerships/new", admin_views.partnership_edit, name="admin_partnership_new"),
    path("admin/partnerships/<int:partnership_id>", admin_views.partnership_edit, name="admin_partnership"),
    path("admin/national-bodies", admin_views.national_body_list, name="admin_national_bodies"),
    path("admin/national-bodies/new", admin_views.national_body_edit, name="admin_national_body_new"),
    path("admin/national-bodies/<int:body_id>", admin_views.national_body_edit, name="admin_national_body"),
    path(
        "admin/national-bodies/<int:body_id>/delete",
        admin_views.national_body_remove,
        name="admin_national_body_delete",
    ),
    path("admin/staff/invite", admin_views.staff_invite, name="admin_staff_invite"),
    path("admin/staff/<int:user_id>", admin_views.staff_detail, name="admin_staff_detail"),
    path("admin/staff/<int:user_id>/invitation", admin_views.staff_invitation, name="admin_staff_invitation"),
    path("admin/staff/<int:user_id>/access", admin_views.staff_access, name="admin_staff_access"),
    path("admin/staff/<int:user_id>/disable", admin_views.staff_disable, name="admin_staff_disable"),
    path("admin/staff/<int:user_id>/mfa-reset", admin_views.staff_mfa_reset, name="admin_staff_mfa_reset"),
    path(
        "admin/staff/<int:user_id>/mfa-reset/approve",
        admin_views.staff_mfa_reset_approve,
        name="admin_staff_mfa_reset_approve",
    ),
    path(
        "admin/staff/<int:user_id>/mfa-reset/cancel",
        admin_views.staff_mfa_reset_cancel,
        name="admin_staff_mfa_reset_cancel",
    ),
    path(
        "admin/staff/<int:user_id>/access/confirm",
        admin_views.staff_access_confirm,
        name="admin_staff_access_confirm",
    ),
    path(
        "admin/staff/<int:user_id>/invitation/revoke",
        admin_views.staff_invitation_revoke,
        name="admin_staff_invitation_revoke",
    ),
    path(
        "admin/staff/<int:user_id>/invitation/reissue",
        admin_views.staff_invitation_reissue,
        name="admin_staff_invitation_reissue",
    ),
    path("admin/staff/<int:user_id>/enable", admin_views.staff_enable, name="admin_staff_enable"),
]
