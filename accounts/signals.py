"""Signals other apps listen to, so accounts need not know them."""

from django.dispatch import Signal

# Sent with ``user`` and ``email`` (lower case) when an address becomes verified for a user:
# at registration of the address the identity provider proved at sign-in, or when ownership of an
# invitation address is confirmed.
address_verified = Signal()

# Sent with ``user`` when a signed-in person asks for the admin, before their staff flag is
# checked: apps that grant admin access bring it up to date first.
admin_requested = Signal()
