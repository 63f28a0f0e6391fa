"""WSGI entry point for gunicorn (see gunicorn.conf.py)."""

import os

from django.core.wsgi import get_wsgi_application

from infinityai.head_responses import without_head_bodies

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infinityai.settings")

application = without_head_bodies(get_wsgi_application())
