"""The user model. Custom from the first migration, so that fields can be added
later without Django's painful mid-project swap of AUTH_USER_MODEL."""

from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        db_table = "accounts_user"
