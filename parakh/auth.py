"""The sign-in backend: Django's ModelBackend, reading the signed-in user of every request
with a prepared query (parakh.prepared) instead of composing the same queryset each time."""

from django.contrib.auth import backends, get_user_model

from .prepared import PreparedQuery

_USER = PreparedQuery(lambda p: get_user_model()._default_manager.filter(pk=p.pk))


class ModelBackend(backends.ModelBackend):
    def get_user(self, user_id):
        user = _USER.first(pk=int(user_id))
        return user if user is not None and self.user_can_authenticate(user) else None
