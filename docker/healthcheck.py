"""Docker HEALTHCHECK: GET /ready on the container's own port.

A Python script because the slim image has no curl or wget. /ready touches no
database, so a database outage never marks the container unhealthy. App Service
ignores HEALTHCHECK (it uses its own Health check path); local runs and other
orchestrators use it.
"""

import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from infinityai.config import Config, ConfigError, get_values  # after the path above

try:
    # The port gunicorn binds (APP_PORT, then PORT, then 8000), read as gunicorn.conf.py reads it.
    port = Config(get_values(["APP_PORT", "PORT"]), []).port
except ConfigError:
    sys.exit(1)
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=4) as reply:
        sys.exit(0 if reply.status == 200 else 1)
except OSError:
    sys.exit(1)
