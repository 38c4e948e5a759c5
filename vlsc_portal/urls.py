from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from accounts.views.signin import admin_login
from vlsc_portal import health

# The admin named as the portal (templates/admin/base_site.html draws its header); its own
# "Back to the portal" link replaces Django's "View site".
admin.site.site_header = _("Volume Licensing Service Center")
admin.site.site_title = _("VLSC administration")
admin.site.index_title = _("Administration")
admin.site.site_url = None

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("admin/login/", admin_login, name="admin_login"),
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
