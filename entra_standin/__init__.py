"""Entra ID stand-in: a development and test identity provider shaped like Microsoft Entra ID.

It is a separate Django project (``entra_standin.settings``). It never imports the portal and the
portal never imports it (except :mod:`entra_standin.testing` and :mod:`entra_standin.demo`,
which import no Django code).
"""
