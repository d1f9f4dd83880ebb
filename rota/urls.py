from django.urls import URLPattern, path

from rota import views

app_name = "rota"

urlpatterns: list[URLPattern] = [
    path("rota", views.rota, name="rota"),
    path("rota/add", views.shift_add, name="shift_add"),
    path("rota/<int:shift_id>/edit", views.shift_edit, name="shift_edit"),
    path("rota/<int:shift_id>/remove", views.shift_remove, name="shift_remove"),
]
