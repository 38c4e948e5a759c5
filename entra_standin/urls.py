from django.contrib import admin
from django.urls import include, path, re_path
from oauth2_provider import views as dot_views

from entra_standin.directory import oidc, views

T = oidc.TENANT_RE

standin_patterns = (
    [
        path("", views.home, name="home"),
        path("login/", views.signin, name="signin"),
        path("signup/", views.signup, name="signup"),
        path("signup/code/", views.signup_code, name="signup_code"),
        path("signed-out/", views.signed_out, name="signed-out"),
        path("mailbox/", views.mailbox_index, name="mailbox"),
        path("mailbox/<str:key>/", views.mailbox_message, name="message"),
        re_path(
            rf"^{T}/v2\.0/\.well-known/openid-configuration/?$", oidc.discovery, name="discovery"
        ),
        re_path(
            rf"^{T}/oauth2/v2\.0/authorize/?$",
            oidc.EntraAuthorizationView.as_view(),
            name="authorize",
        ),
        re_path(rf"^{T}/oauth2/v2\.0/token/?$", dot_views.TokenView.as_view(), name="token"),
        re_path(rf"^{T}/oauth2/v2\.0/logout/?$", oidc.end_session, name="logout"),
        re_path(rf"^{T}/discovery/v2\.0/keys/?$", dot_views.JwksInfoView.as_view(), name="keys"),
    ],
    "standin",
)

urlpatterns = [
    path("", include(standin_patterns)),
    path("admin/", admin.site.urls),
    # DOT's own routes, kept so its internal reverse() calls work.
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
]
