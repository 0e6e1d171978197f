from django.urls import path

from haven.monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("hearings/", views.hearing_calendar, name="calendar"),
    path("cases/<int:case_id>/hearings/new/", views.hearing_new, name="hearing_new"),
    path("hearings/<int:hearing_id>/", views.hearing_detail, name="hearing"),
    path("hearings/<int:hearing_id>/report/", views.report_edit, name="report"),
    path("hearings/<int:hearing_id>/report/print/", views.report_print, name="report_print"),
    path("cases/<int:case_id>/detentions/new/", views.detention_new, name="detention_new"),
    path("detentions/<int:detention_id>/", views.detention_detail, name="detention"),
    path("visits/<int:visit_id>/", views.visit_edit, name="visit"),
    path("civic-space/", views.civic_space, name="civic_space"),
    path("civic-space/new/", views.civic_event_new, name="civic_event_new"),
    path("civic-space/<int:event_id>/", views.civic_event_detail, name="civic_event"),
    path("civic-space/register.csv", views.reprisal_register, {"fmt": "csv"}, name="register_csv"),
    path(
        "civic-space/register.json", views.reprisal_register, {"fmt": "json"}, name="register_json"
    ),
    path("feed/", views.feed_settings, name="feed"),
    path("feed/<str:feed_token>.ics", views.ics, name="ics"),
]
