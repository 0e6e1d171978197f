from django.urls import path

from haven.referrals import views

app_name = "referrals"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("new/", views.mechanism_new, name="mechanism_new"),
    path("<int:mechanism_id>/", views.mechanism_detail, name="mechanism"),
    path("<int:mechanism_id>/verify/", views.mechanism_verify, name="mechanism_verify"),
    path("cases/<int:case_id>/new/", views.referral_new, name="referral_new"),
    path("referrals/<int:referral_id>/", views.referral_detail, name="referral"),
]
