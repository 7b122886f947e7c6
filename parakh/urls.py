from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

from annotate import views as annotate_views

from .health import healthz, livez

api_patterns = [
    path("", include("synth.api.urls")),
    path("", include("evaluation.api.urls")),
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("livez", livez, name="livez"),
    # Throttled: failed sign-ins per username and address lock out for a while.
    path("login/", annotate_views.login, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    path("synth/", include("synth.urls")),
    path("evaluation/", include("evaluation.urls")),
    path("", include("annotate.urls")),
]
