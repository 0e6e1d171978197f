from django.urls import path

from haven.accounts import destruction_views, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("mfa/enrol/", views.mfa_enrol, name="mfa_enrol"),
    path("mfa/verify/", views.mfa_verify, name="mfa_verify"),
    path("reauthenticate/", views.reauth, name="reauth"),
    path("security/", views.security, name="security"),
    path("security/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path(
        "security/recovery-codes/new/",
        views.recovery_codes_regenerate,
        name="recovery_codes_regenerate",
    ),
    path("mission/", views.switch_mission, name="switch_mission"),
    path("mission/settings/", views.mission_settings, name="mission_settings"),
    path("notices/dismiss/", views.notice_dismiss, name="notice_dismiss"),
    path("members/", views.members, name="members"),
    path("members/new/", views.member_add, name="member_add"),
    path("members/<int:membership_id>/", views.member_detail, name="member"),
    path("members/<int:membership_id>/reset-mfa/", views.member_reset_mfa, name="member_reset_mfa"),
    path("members/<int:membership_id>/password/", views.member_password, name="member_password"),
    path(
        "members/<int:membership_id>/sessions/",
        views.member_kill_sessions,
        name="member_kill_sessions",
    ),
    path("members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("emergency/", destruction_views.emergency_page, name="emergency"),
    path("emergency/start/", destruction_views.emergency_start, name="emergency_start"),
    path("emergency/confirm/", destruction_views.emergency_confirm, name="emergency_confirm"),
    path("emergency/token/", destruction_views.emergency_use_token, name="emergency_use_token"),
]
