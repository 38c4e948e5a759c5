from django.urls import path

from accounts.views import conversion, preferences, registration, signin, step_up

app_name = "accounts"

urlpatterns = [
    path("", signin.landing, name="landing"),
    path("sign-in/", signin.sign_in, name="sign_in"),
    path("sign-out/", signin.sign_out, name="sign_out"),
    path("sign-in/again/<str:token>/", step_up.sign_in_again, name="step_up"),
    path("register/", registration.register, name="register"),
    path("register/status/", registration.registration_status, name="registration_status"),
    path(
        "register/status/email/",
        registration.registration_email_delivery,
        name="registration_email_delivery",
    ),
    path("register/resend/", registration.resend_verification, name="resend_verification"),
    path(
        "register/cancel/",
        registration.cancel_pending_registration,
        name="cancel_pending_registration",
    ),
    path(
        "register/cancel/<int:registration_id>/",
        registration.cancel_registration,
        name="cancel_registration",
    ),
    path("register/confirm/", registration.confirm_prefix, name="confirm_prefix"),
    path("register/confirm/<str:token>/", registration.confirm, name="confirm"),
    path("convert/", conversion.start, name="convert_start"),
    path("convert/code/", conversion.code, name="convert_code"),
    path("convert/code/resend/", conversion.resend_code, name="convert_code_resend"),
    path("convert/country/", conversion.country, name="convert_country"),
    path("convert/country/confirm/", conversion.country_confirm, name="convert_country_confirm"),
    path("convert/finish/", conversion.finish, name="convert_finish"),
    path("account/preferences/", preferences.preferences_page, name="preferences"),
]
