from django.urls import path

from haven.intake import portal_views, views

app_name = "intake"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:submission_id>/", views.submission_detail, name="submission"),
    path("<int:submission_id>/triage/", views.submission_triage, name="submission_triage"),
    path("<int:submission_id>/link/", views.submission_link, name="submission_link"),
    path("<int:submission_id>/delete/", views.submission_discard, name="submission_discard"),
]

portal_urlpatterns = [
    path("request/", portal_views.request_form, name="request"),
    path("receipt/", portal_views.receipt_login, name="receipt"),
    path("receipt/message/", portal_views.add_information, name="receipt_message"),
    path("receipt/delete/", portal_views.request_deletion, name="receipt_delete"),
]
