"""Request type for htmx-aware views (django-htmx's middleware sets request.htmx)."""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
