from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from accounts.views.preferences import set_language
from accounts.views.signin import admin_login
from vlsc_portal import health


class FaviconRedirect(RedirectView):
    """``/favicon.ico``, which browsers ask for on their own: the SVG icon the pages link to.
    Temporary (302), as the static file's address changes with its content in production."""

    permanent = False

    def get_redirect_url(self, *args, **kwargs) -> str:
        return static("favicon.svg")


# The admin named as the portal (page titles); templates/admin/base_site.html gives it the
# portal's own header, whose navigation replaces Django's "View site".
admin.site.site_header = _("Volume Licensing Service Center")
admin.site.site_title = _("VLSC administration")
admin.site.index_title = _("Administration")
admin.site.site_url = None

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("favicon.ico", FaviconRedirect.as_view(), name="favicon"),
    path("admin/login/", admin_login, name="admin_login"),
    # Django's set_language, wrapped: it also remembers the choice of a signed-in person.
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("accounts/entra/", include("accounts.entra.urls")),
    path("", include("accounts.urls")),
    path("", include("agreements.urls")),
    path("", include("support.urls")),
    path("", include("api.urls")),
]

handler400 = "vlsc_portal.errors.bad_request"
handler403 = "vlsc_portal.errors.permission_denied"
handler404 = "vlsc_portal.errors.page_not_found"
handler500 = "vlsc_portal.errors.server_error"
