from django.urls import path

from accounts.entra import views

app_name = "entra"

urlpatterns = [
    path("login/callback/", views.callback, name="callback"),
]
