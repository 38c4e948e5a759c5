from django.urls import path

from support import views

app_name = "support"

urlpatterns = [
    path("support/contact/", views.contact, name="contact"),
    path("support/contact/sent/", views.contact_sent, name="contact_sent"),
    path("support/", views.lookup, name="lookup"),
    path("support/person/", views.person, name="person"),
    path("support/overview/", views.overview, name="overview"),
    path("support/queue/", views.queue, name="queue"),
    path("support/requests/<str:reference>/", views.request_detail, name="request"),
    path("support/requests/<str:reference>/assign/", views.request_assign, name="request_assign"),
    path("support/requests/<str:reference>/answer/", views.request_answer, name="request_answer"),
    path("support/requests/<str:reference>/close/", views.request_close, name="request_close"),
    path(
        "support/registrations/<int:pk>/resend/",
        views.registration_resend,
        name="registration_resend",
    ),
    path(
        "support/registrations/<int:pk>/cancel/",
        views.registration_cancel,
        name="registration_cancel",
    ),
]
