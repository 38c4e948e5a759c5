"""Support's phone lines, listed on the Contact support pages.

Demo numbers (the 555 range and similar fictional ranges): replace them with real ones before
going live.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# (region, number, hours)
PHONE_CONTACTS = [
    (_("United States and Canada"), "+1 555 0100 200", _("Monday to Friday, 8:00–18:00 ET")),
    (_("United Kingdom and Ireland"), "+44 20 7946 0200", _("Monday to Friday, 9:00–17:00 GMT")),
    (_("Germany and Austria"), "+49 30 5550 0200", _("Monday to Friday, 9:00–17:00 CET")),
    (_("Australia and New Zealand"), "+61 2 5550 0200", _("Monday to Friday, 9:00–17:00 AEST")),
]
