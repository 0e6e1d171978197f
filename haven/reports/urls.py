from django.urls import path

from haven.reports import export_views, views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("all/", views.all_missions, name="all_missions"),
    path("annual/", views.annual_page, name="annual"),
    path("annual.csv", views.annual_export, {"fmt": "csv"}, name="annual_csv"),
    path("annual.json", views.annual_export, {"fmt": "json"}, name="annual_json"),
    path("exports/", export_views.export_list, name="exports"),
    path("exports/new/", export_views.export_new, name="export_new"),
    path("exports/<int:export_id>/approve/", export_views.export_approve, name="export_approve"),
    path("exports/<int:export_id>/refuse/", export_views.export_refuse, name="export_refuse"),
    path("exports/<int:export_id>/cancel/", export_views.export_cancel, name="export_cancel"),
    path("exports/<int:export_id>/download/", export_views.export_download, name="export_download"),
]
