"""Signals other apps listen to, so accounts need not know them."""

from django.dispatch import Signal

# Sent with ``user`` and ``email`` (lower case) when an address becomes verified for a user:
# at registration of the address the identity provider proved at sign-in, or when ownership of an
# invitation address is confirmed.
address_verified = Signal()
