"""django-otp-webauthn's endpoints under our access marks, with the names its script expects.

Registering a key needs a fully signed-in member; using one is a step of signing in.
"""

from django.urls import path
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn import views as webauthn

from haven.accounts.views import (
    SecurityKeyRegistration,
    SecurityKeyRegistrationStart,
    SecurityKeySignIn,
)
from haven.core.access import login_step, public, requires_role

app_name = "otp_webauthn"

urlpatterns = [
    path(
        "registration/begin/",
        requires_role()(SecurityKeyRegistrationStart.as_view()),
        name="credential-registration-begin",
    ),
    path(
        "registration/complete/",
        requires_role()(SecurityKeyRegistration.as_view()),
        name="credential-registration-complete",
    ),
    path(
        "authentication/begin/",
        login_step("mfa_verify")(webauthn.BeginCredentialAuthenticationView.as_view()),
        name="credential-authentication-begin",
    ),
    path(
        "authentication/complete/",
        login_step("mfa_verify")(SecurityKeySignIn.as_view()),
        name="credential-authentication-complete",
    ),
    path(
        "jsi18n/",
        public(JavaScriptCatalog.as_view(packages=["django_otp_webauthn"])),
        name="js-i18n-catalog",
    ),
]
