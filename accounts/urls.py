from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("sign-in", views.login, name="login"),
    path("sign-in/code", views.code, name="code"),
    path("invitation/<str:secret>", views.invitation, name="invitation"),
    path("recovery-codes", views.recovery_codes, name="recovery_codes"),
    path("sign-out", views.sign_out, name="sign_out"),
]
