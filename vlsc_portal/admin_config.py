"""Django's admin app with the portal's site (:class:`vlsc_portal.admin.PortalAdminSite`) as
``admin.site``, the way Django's documentation overrides the default site. A module of its own:
``vlsc_portal``'s own app config is found by looking in ``vlsc_portal/apps.py``, where an
imported ``AdminConfig`` would be taken for it."""

from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    default_site = "vlsc_portal.admin.PortalAdminSite"
