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
    # Administrators' staff pages added here (the others are in triage/urls.py, under the same admin/staff/).
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
