#!/usr/bin/env python
"""Django's command-line utility, with configuration errors printed plainly."""

import os
import secrets
import sys

# Commands that sign nothing need no SECRET_KEY: `makemigrations --check` on a fresh
# clone, `collectstatic` in an image build. Without one, they get a throwaway key for
# this process; every other command still stops and names SECRET_KEY.
KEYLESS_COMMANDS = {"makemigrations", "collectstatic", "configdocs"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infinityai.settings")
    if sys.argv[1:2] and sys.argv[1] in KEYLESS_COMMANDS and not os.environ.get("SECRET_KEY"):
        os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    from infinityai import logs

    logs.STREAM = "ext://sys.stderr"  # a command's output is its own; log lines go beside it
    from infinityai.config import ConfigError, load, load_or_exit

    if sys.argv[1:2] == ["diagnose"]:
        from health.diagnostics import driver_findings, report_broken_configuration, report_without_django

        as_json = "--json" in sys.argv
        try:
            config = load()
        except ConfigError as exc:  # diagnose reports a broken configuration in its own format
            raise SystemExit(report_broken_configuration(exc, as_json=as_json)) from None
        missing = driver_findings(config)  # Django itself would die importing the driver
        if missing:
            raise SystemExit(report_without_django(config, missing, as_json=as_json))
    load_or_exit()  # one clear message naming every bad variable, then exit 2
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
