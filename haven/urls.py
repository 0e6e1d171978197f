"""Mounts the faces this process serves (``HAVEN_FACE``): portal, workspace and API."""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.i18n import set_language
from django.views.static import serve

from haven.core import views as core_views
from haven.core.access import public
from haven.core.urls import portal_urlpatterns

urlpatterns: list[URLPattern | URLResolver] = [path("healthz", core_views.healthz, name="healthz")]

if settings.HAVEN_FACE in {"workspace", "both"}:
    from haven.api import api

    urlpatterns += [
        path("desk/", include("haven.core.urls")),
        path("desk/", include("haven.accounts.urls")),
        path("desk/audit/", include("haven.audit.urls")),
        path("desk/registry/", include("haven.registry.urls")),
        path("desk/intake/", include("haven.intake.urls")),
        path("desk/cases/", include("haven.cases.urls")),
        path("desk/monitoring/", include("haven.monitoring.urls")),
        path("desk/referrals/", include("haven.referrals.urls")),
        path("desk/reports/", include("haven.reports.urls")),
        path("desk/coordination/", include("haven.coordination.urls")),
        path("desk/security/keys/", include("haven.accounts.webauthn_urls")),
        path("desk/language/", public(set_language), name="set_language"),
        path("api/v1/", api.urls),
    ]

if settings.HAVEN_SERVE_STATIC:
    urlpatterns += [
        re_path(
            r"^static/(?P<path>.*)$",
            public(serve),
            {"document_root": settings.STATIC_ROOT},
            name="static",
        )
    ]

if settings.HAVEN_FACE in {"portal", "both"}:
    # The portal carries its language in the path: no language cookie on HRD-facing pages.
    from haven.intake.urls import portal_urlpatterns as intake_portal_urlpatterns

    urlpatterns += i18n_patterns(
        path("", include((portal_urlpatterns, "portal"))),
        path("", include((intake_portal_urlpatterns, "intake_portal"))),
        prefix_default_language=False,
    )

handler400 = "haven.core.views.bad_request"
handler403 = "haven.core.views.permission_denied"
handler404 = "haven.core.views.page_not_found"
handler500 = "haven.core.views.server_error"
