from django.urls import path

from haven.coordination import views

app_name = "coordination"

urlpatterns = [
    path("", views.index, name="index"),
    path("our-keys/", views.our_keys, name="our_keys"),
    path("our-keys/card.txt", views.our_key_card, name="our_key_card"),
    path("partners/new/", views.partner_new, name="partner_new"),
    path("partners/<int:partner_id>/", views.partner_detail, name="partner"),
    path("partners/<int:partner_id>/verify/", views.partner_verify, name="partner_verify"),
    path("partners/<int:partner_id>/active/", views.partner_active, name="partner_active"),
    path("partners/<int:partner_id>/rota/", views.send_rota, name="send_rota"),
    path("cases/<int:case_id>/send/", views.send_summary, name="send_summary"),
    path("import/", views.import_bundle, name="import"),
    path("received/<int:received_id>/", views.received_detail, name="received"),
]
