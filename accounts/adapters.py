"""allauth adapters: work accounts sign up automatically; nothing is matched by email."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter

from accounts.next_page import home_page
from accounts.services import signin


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # Local (password) sign-up does not exist; accounts come from work-account sign-in.
        return False

    def get_login_redirect_url(self, request) -> str:
        # Only when the sign-in carries no ``next`` (allauth prefers a safe one).
        return home_page(request.user)

    def get_signup_redirect_url(self, request) -> str:
        return home_page(request.user)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin) -> bool:
        return True

    def is_auto_signup_allowed(self, request, sociallogin) -> bool:
        return True

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        user.email = signin.sign_in_address(sociallogin.account.extra_data)
        return user
