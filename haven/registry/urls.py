from django.urls import path

from haven.registry import views

app_name = "registry"

urlpatterns = [
    path("defenders/", views.defender_list, name="defenders"),
    path("defenders/new/", views.defender_new, name="defender_new"),
    path("defenders/<int:defender_id>/", views.defender_detail, name="defender"),
    path("defenders/<int:defender_id>/edit/", views.defender_edit, name="defender_edit"),
    path("defenders/<int:defender_id>/export/", views.defender_export, name="defender_export"),
    path("defenders/<int:defender_id>/merge/", views.defender_merge, name="defender_merge"),
    path(
        "defenders/<int:defender_id>/channels/new/",
        views.defender_channel_new,
        name="defender_channel_new",
    ),
    path(
        "defenders/<int:defender_id>/consents/new/",
        views.defender_consent_new,
        name="defender_consent_new",
    ),
    path(
        "defenders/<int:defender_id>/affiliations/new/",
        views.affiliation_new,
        name="affiliation_new",
    ),
    path("defenders/<int:defender_id>/relations/new/", views.relation_new, name="relation_new"),
    path("organisations/", views.organisation_list, name="organisations"),
    path("organisations/new/", views.organisation_new, name="organisation_new"),
    path("organisations/<int:organisation_id>/", views.organisation_detail, name="organisation"),
    path(
        "organisations/<int:organisation_id>/edit/",
        views.organisation_edit,
        name="organisation_edit",
    ),
    path(
        "organisations/<int:organisation_id>/channels/new/",
        views.organisation_channel_new,
        name="organisation_channel_new",
    ),
    path(
        "organisations/<int:organisation_id>/consents/new/",
        views.organisation_consent_new,
        name="organisation_consent_new",
    ),
    path("channels/<int:channel_id>/edit/", views.channel_edit, name="channel_edit"),
    path("channels/<int:channel_id>/remove/", views.channel_remove, name="channel_remove"),
    path("consents/<int:consent_id>/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path("affiliations/<int:affiliation_id>/end/", views.affiliation_end, name="affiliation_end"),
    path("relations/<int:relation_id>/remove/", views.relation_remove, name="relation_remove"),
    path("import/", views.import_entries, name="import"),
]
