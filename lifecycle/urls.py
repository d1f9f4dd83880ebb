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
    path("lifecycle/due", views.due_list, name="due"),
    path("lifecycle/due/<slug:case_number>/hold", views.due_hold, name="due_hold"),
    path("lifecycle/holds", views.hold_list, name="holds"),
    path("lifecycle/holds/<int:hold_id>/keep", views.hold_keep, name="hold_keep"),
    path("lifecycle/holds/<int:hold_id>/release", views.hold_release, name="hold_release"),
    path("lifecycle/destruction", views.destruction_list, name="destruction"),
    path("lifecycle/destruction/ask/<slug:case_number>", views.destruction_ask, name="destruction_ask"),
    path("lifecycle/destruction/<int:request_id>", views.destruction_detail, name="destruction_detail"),
    path(
        "lifecycle/destruction/<int:request_id>/<slug:decision>",
        views.destruction_decide,
        name="destruction_decide",
    ),
]
