"""What every API view shares: the no-store header, 405 before credentials, and the
OPTIONS answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.exceptions import MethodNotAllowed
from rest_framework.metadata import BaseMetadata

if TYPE_CHECKING:  # rest_framework.views imports this module (DEFAULT_METADATA_CLASS)
    from rest_framework.request import Request
    from rest_framework.views import APIView

# Answers that carry tokens or live state: never kept by a browser or a proxy.
NO_STORE = {"Cache-Control": "no-store"}


class MethodBeforeCredentials:
    """An unsupported method is a 405 before authentication (DRF checks credentials
    first, which would answer 401 to `TRACE /api/auth/me`)."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):  # type: ignore[attr-defined]
            raise MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)  # type: ignore[misc]


class MinimalMetadata(BaseMetadata):
    """OPTIONS says what the route renders and parses, nothing more: DRF's default also
    sends the view's docstring (written for maintainers) and its serializer's fields."""

    def determine_metadata(self, request: Request, view: APIView) -> dict[str, Any]:
        return {"renders": [r.media_type for r in view.renderer_classes],
                "parses": [p.media_type for p in view.parser_classes]}
