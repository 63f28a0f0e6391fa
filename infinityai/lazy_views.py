"""A route whose view class is imported on its first use, not when the URLconf loads.

Why: /api/schema and /docs are the only routes that need drf-spectacular, and importing
it (with its view extensions in infinityai/openapi.py and accounts/openapi.py) cost every
worker about 1.4 MiB and part of its boot, though most workers never serve either page
(docs/PERFORMANCE.md). The first request to one of these routes pays the import instead.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.module_loading import import_string


class LazyView:
    """Stands in for `import_string(dotted_path).as_view()`. Any attribute asked of it
    (`cls`, `initkwargs` for the schema generator, `csrf_exempt` for Django's CSRF
    middleware, `__name__` for resolver matches) comes from the real view, which the
    first such question imports."""

    def __init__(self, dotted_path: str) -> None:
        self.dotted_path = dotted_path

    @cached_property
    def view(self) -> Callable[..., HttpResponseBase]:
        return import_string(self.dotted_path).as_view()

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return self.view(request, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "view":  # copying, pickling, or `view` failing to import
            raise AttributeError(name)
        return getattr(self.view, name)

    def __repr__(self) -> str:
        return f"LazyView({self.dotted_path!r})"
