from django.urls import path

from haven.core import views

app_name = "core"

urlpatterns = [path("", views.desk, name="desk")]

portal_urlpatterns = [path("", views.portal_home, name="portal_home")]
