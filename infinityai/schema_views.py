"""GET /api/schema (the OpenAPI document) and GET /docs (Swagger UI over it)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response

from infinityai.openapi import error_responses

SCHEMA_PATH = "/api/schema"


class FormatParameterNegotiation(DefaultContentNegotiation):
    """`?format=` chooses the renderer here only (URL_FORMAT_OVERRIDE is off elsewhere)."""

    def select_renderer(self, request: Request, renderers: list, format_suffix: str | None = None) -> tuple:
        return super().select_renderer(request, renderers, format_suffix or request.query_params.get("format"))


class SchemaView(SpectacularAPIView):
    """JSON first, like every other answer of the API; YAML on request
    (`?format=yaml`, or `Accept: application/yaml`)."""

    renderer_classes = [OpenApiJsonRenderer2, OpenApiJsonRenderer, OpenApiYamlRenderer2, OpenApiYamlRenderer]
    content_negotiation_class = FormatParameterNegotiation

    @extend_schema(
        operation_id="schema", tags=["docs"], summary="This OpenAPI document",
        parameters=[OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "yaml"],
                                     description="Default JSON; or choose with the Accept header.")],
        responses={
            (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="OpenAPI 3, JSON."),
            (200, "application/yaml"): OpenApiResponse(OpenApiTypes.STR, description="OpenAPI 3, YAML."),
            **error_responses(404),
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class DocsView(SpectacularSwaggerView):
    """Swagger UI; its files are the project's static files (drf-spectacular-sidecar)."""

    url = SCHEMA_PATH
    # DRF's OPTIONS metadata cannot be rendered by the page's template renderer.
    http_method_names = ["get", "head"]

    @extend_schema(
        operation_id="docs", tags=["docs"], summary="Swagger UI (an HTML page)",
        responses={(200, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="Swagger UI.")},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
