from django.urls import path

from haven.intake import portal_views, views

app_name = "intake"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:submission_id>/", views.submission_detail, name="submission"),
    path("<int:submission_id>/triage/", views.submission_triage, name="submission_triage"),
    path("<int:submission_id>/link/", views.submission_link, name="submission_link"),
    path("<int:submission_id>/delete/", views.submission_discard, name="submission_discard"),
    path(
        "<int:submission_id>/create-defender/",
        views.submission_create_defender,
        name="submission_create_defender",
    ),
    path(
        "<int:submission_id>/files/<int:attachment_id>/",
        views.attachment_download,
        name="attachment",
    ),
    path(
        "<int:submission_id>/files/<int:attachment_id>/original/",
        views.attachment_original,
        name="attachment_original",
    ),
    path("portal-texts/", views.portal_texts, name="portal_texts"),
    path("portal-texts/edit/", views.portal_text_edit, name="portal_text_edit"),
]

portal_urlpatterns = [
    path("request/", portal_views.request_form, name="request"),
    path("receipt/", portal_views.receipt_login, name="receipt"),
    path("receipt/message/", portal_views.add_information, name="receipt_message"),
    path("receipt/delete/", portal_views.request_deletion, name="receipt_delete"),
    path("what-we-do/", portal_views.what_we_do, name="what_we_do"),
    path("safety/", portal_views.safety, name="safety"),
]
