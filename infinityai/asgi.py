"""ASGI entry point (not used in production; kept for tooling that expects it)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infinityai.settings")

application = get_asgi_application()
