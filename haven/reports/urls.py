from django.urls import path

from haven.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("all/", views.all_missions, name="all_missions"),
    path("annual/", views.annual_page, name="annual"),
    path("annual.csv", views.annual_export, {"fmt": "csv"}, name="annual_csv"),
    path("annual.json", views.annual_export, {"fmt": "json"}, name="annual_json"),
]
