"""Signals other apps listen to, so accounts need not know them."""

from django.dispatch import Signal

# Sent with ``user`` and ``email`` (lower case) when an address becomes verified for a user:
# at first sign-in with the same address, or when ownership of an invitation address is confirmed.
address_verified = Signal()
