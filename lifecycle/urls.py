from django.urls import path

from lifecycle import views

app_name = "lifecycle"

urlpatterns = [
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
