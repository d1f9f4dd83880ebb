from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("sign-in", views.login, name="login"),
    path("sign-in/code", views.code, name="code"),
    path("sign-in/set-up", views.set_up, name="set_up"),
    path("sign-out", views.sign_out, name="sign_out"),
]
