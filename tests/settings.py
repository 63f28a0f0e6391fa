"""Settings for in-process tests: the real settings module, with a test environment.

In-process tests run on SQLite; tests against MariaDB start real servers (see
tests/support/servers.py), so the service's own connection code is what is tested.
"""

import os

os.environ["ENV_FILE"] = ""  # a developer's .env must not change test results
os.environ.pop("DB_HOST", None)
os.environ.setdefault("SECRET_KEY", "in-process-test-secret-key-of-32-characters-or-more")

from infinityai.settings import *  # noqa: F403
