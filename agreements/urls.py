from django.urls import path

from agreements import views

app_name = "agreements"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("agreements/request-access/", views.request_access, name="request_access"),
    path("agreements/request-access/sent/", views.request_sent, name="request_sent"),
    path("agreements/<str:number>/", views.agreement_detail, name="detail"),
]
