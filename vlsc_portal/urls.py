from django.contrib import admin
from django.urls import include, path

from vlsc_portal import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/entra/", include("accounts.entra.urls")),
    path("", include("accounts.urls")),
]

handler400 = "vlsc_portal.errors.bad_request"
handler403 = "vlsc_portal.errors.permission_denied"
handler404 = "vlsc_portal.errors.page_not_found"
handler500 = "vlsc_portal.errors.server_error"
