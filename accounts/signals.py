"""Signals other apps listen to (metrics count sign-in outcomes).

`login_attempted` is sent once per POST /login with `outcome` one of
OUTCOMES; it never carries credentials.
"""

import django.dispatch

OUTCOMES = ("success", "failure", "fallback", "throttled", "unavailable")

login_attempted = django.dispatch.Signal()
