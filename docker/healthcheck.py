"""Docker HEALTHCHECK: GET /ready on the container's own port.

A Python script because the slim image has no curl or wget. /ready touches no
database, so a database outage never marks the container unhealthy. App Service
ignores HEALTHCHECK (it uses its own Health check path); local runs and other
orchestrators use it.
"""

import os
import sys
import urllib.request

port = os.environ.get("APP_PORT") or os.environ.get("PORT") or "8000"
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=4) as reply:
        sys.exit(0 if reply.status == 200 else 1)
except OSError:
    sys.exit(1)
