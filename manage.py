#!/usr/bin/env python
"""Django's command-line utility, with configuration errors printed plainly."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infinityai.settings")
    from infinityai.config import load_or_exit

    load_or_exit()  # one clear message naming every bad variable, then exit 2
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
