"""Settings for a real server with extra routes that fail on purpose (tests only).

DJANGO_SETTINGS_MODULE=tests.support.faulty_settings: the real settings and middleware,
with tests/support/faulty_urls.py in front of the real routes.
"""

from infinityai.settings import *  # noqa: F403

ROOT_URLCONF = "tests.support.faulty_urls"
