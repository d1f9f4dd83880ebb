from django.urls import URLPattern, path

from lifecycle import views

app_name = "lifecycle"

urlpatterns: list[URLPattern] = [
    path("lifecycle/exports", views.export_list, name="export_list"),
    path("lifecycle/exports/new", views.export_new, name="export_new"),
    path("lifecycle/exports/<uuid:export_id>", views.export_detail, name="export_detail"),
    path("lifecycle/exports/<uuid:export_id>/approve", views.export_approve, name="export_approve"),
    path("lifecycle/exports/<uuid:export_id>/cancel", views.export_cancel, name="export_cancel"),
    path("lifecycle/exports/<uuid:export_id>/download", views.export_download, name="export_download"),
    path("lifecycle/exports/<uuid:export_id>/bundle", views.export_bundle, name="export_bundle"),
]
