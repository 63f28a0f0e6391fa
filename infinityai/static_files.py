"""Static files: collectstatic leaves out the files no page of the service names.

Every worker indexes each collected file when it starts (WhiteNoise builds a
responder per file, with headers for its compressed variants), and the image
carries them. Left out: Django REST framework's browsable-API assets (the API
renders JSON only, REST_FRAMEWORK's DEFAULT_RENDERER_CLASSES) and ReDoc's bundle
(the API is documented through Swagger UI at /docs; no ReDoc view is routed).
"""

from __future__ import annotations

from django.contrib.staticfiles.apps import StaticFilesConfig


class ServedStaticFilesConfig(StaticFilesConfig):
    # Paths relative to each app's static/ folder, matched by collectstatic and findstatic.
    ignore_patterns = [*StaticFilesConfig.ignore_patterns, "rest_framework/*", "drf_spectacular_sidecar/redoc/*"]
