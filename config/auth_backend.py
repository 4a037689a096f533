"""The login backend: Django's model backend, reading the officer profile with the user.

Every page needs the signed-in user's officer profile (scope, header) and the unit it belongs
to; reading them in the same query as the user saves two or three queries per request.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class OfficerModelBackend(ModelBackend):
    def get_user(self, user_id):
        UserModel = get_user_model()
        try:
            user = UserModel._default_manager.select_related(
                "officer__fund", "officer__superior_union", "officer__grassroots_union"
            ).get(pk=user_id)
        except UserModel.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
