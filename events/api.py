"""`/api/v1/webhook-endpoints`: a merchant's own URLs that receive its customer events."""

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from api.permissions import READ_SCOPE, WRITE_SCOPE
from api.schema import problem_responses
from api.views import MerchantAPIMixin
from events.models import WebhookEndpoint
from events.selectors import webhook_endpoint_get, webhook_endpoint_list
from events.services import webhook_endpoint_create, webhook_endpoint_delete, webhook_endpoint_update
from events.validation import EVENT_TYPES, MAX_DESCRIPTION_LENGTH, MAX_URL_LENGTH


def _timestamp(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def webhook_endpoint_as_dict(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """The API shape of an endpoint; the secret is never part of it (see `create`)."""
    return {
        "id": str(endpoint.id),
        "url": endpoint.url,
        "description": endpoint.description,
        "enabled_events": list(endpoint.enabled_events),
        "is_active": endpoint.is_active,
        "created_at": _timestamp(endpoint.created_at),
        "updated_at": _timestamp(endpoint.updated_at),
    }


# --- OpenAPI description only: the rules live in events/validation.py -------------------


class WebhookEndpointShape(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.URLField(max_length=MAX_URL_LENGTH)
    description = serializers.CharField(max_length=MAX_DESCRIPTION_LENGTH, allow_blank=True)
    enabled_events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_TYPES))
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class WebhookEndpointCreatedShape(WebhookEndpointShape):
    secret = serializers.CharField(help_text="The signing secret. Shown in this response only: store it now.")


@extend_schema_serializer(many=False)  # the body is this object, not an array of them
class WebhookEndpointListShape(serializers.Serializer):
    data = WebhookEndpointShape(many=True)


# As much of the URL rules (Django's URLValidator, a host name of at most 253 characters, no local
# names, no #fragment) as a schema can say: http(s), a DNS name, an optional port, path and query.
_URL_PATTERN = (
    r"^https?://([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,2}"
    r"(?!(localhost|local|internal|localdomain)([:/?#]|$))[A-Za-z]{2,63}"
    r"(:[0-9]{1,5})?([/?](%[0-9A-Fa-f]{2}|[A-Za-z0-9._~!$&'()*+,;=:@/?-])*)?$"
)


@extend_schema_field({"type": "string", "format": "uri", "maxLength": MAX_URL_LENGTH, "pattern": _URL_PATTERN})
class WebhookURLField(serializers.URLField):
    pass


class WebhookEndpointWriteShape(serializers.Serializer):
    url = WebhookURLField(
        max_length=MAX_URL_LENGTH, help_text="http:// or https://, on a public address; receives the POSTs."
    )
    description = serializers.CharField(
        max_length=MAX_DESCRIPTION_LENGTH, required=False, allow_blank=True, allow_null=True, help_text="null: empty."
    )
    enabled_events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES),
        required=False,
        min_length=1,
        help_text="Event types to receive; default: all of them.",
    )
    is_active = serializers.BooleanField(required=False, help_text="Default true; false pauses deliveries.")


class WebhookEndpointPatchShape(WebhookEndpointWriteShape):
    url = WebhookURLField(max_length=MAX_URL_LENGTH, required=False)


def _problems(**descriptions: str) -> dict:
    return problem_responses(descriptions)


_COMMON = {
    "unauthorized": "Missing, expired or revoked access token.",
    "insufficient-scope": "The token lacks the scope this call needs (`required_scope`).",
    "rate-limited": "Rate limit reached; see Retry-After.",
    "internal-error": "Unexpected error; nothing was changed.",
}
_NOT_FOUND = {"not-found": "No webhook endpoint with this id for your merchant."}
_INVALID = {"validation-error": "Invalid fields, each named in `errors`.", "malformed-json": "The body is not JSON."}
_ENDPOINT_ID = OpenApiParameter("endpoint_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Endpoint id.")
_ENDPOINT_EXAMPLE = {
    "id": "3f1c2b4a-9d8e-4f7a-b6c5-1a2b3c4d5e6f",
    "url": "https://crm.example.com/hooks/vault",
    "description": "CRM sync",
    "enabled_events": ["customer.created", "customer.updated"],
    "is_active": True,
    "created_at": "2026-05-31T14:30:00.123456Z",
    "updated_at": "2026-05-31T14:30:00.123456Z",
}
_TAGS = ["webhook endpoints"]

webhook_endpoint_schema = extend_schema_view(
    list=extend_schema(
        operation_id="webhook_endpoints_list",
        tags=_TAGS,
        summary="List webhook endpoints",
        responses={200: WebhookEndpointListShape, **_problems(**_COMMON)},
    ),
    create=extend_schema(
        operation_id="webhook_endpoints_create",
        tags=_TAGS,
        summary="Register a webhook endpoint",
        description="Customer events recorded from now on are POSTed to `url`, signed with the returned "
        "`secret` (shown only in this response). See docs/events.md for payload, headers, "
        "signature check and retries. At most 16 endpoints per merchant.",
        request=WebhookEndpointWriteShape,
        responses={
            201: OpenApiResponse(
                WebhookEndpointCreatedShape,
                examples=[
                    OpenApiExample("created", value={**_ENDPOINT_EXAMPLE, "secret": "whsec_3Jx…"}, response_only=True)
                ],
            ),
            **_problems(**_INVALID, **_COMMON),
        },
    ),
    retrieve=extend_schema(
        operation_id="webhook_endpoints_retrieve",
        tags=_TAGS,
        summary="Retrieve a webhook endpoint",
        parameters=[_ENDPOINT_ID],
        responses={
            200: OpenApiResponse(WebhookEndpointShape, examples=[OpenApiExample("endpoint", value=_ENDPOINT_EXAMPLE)]),
            **_problems(**_NOT_FOUND, **_COMMON),
        },
    ),
    partial_update=extend_schema(
        operation_id="webhook_endpoints_update",
        tags=_TAGS,
        summary="Change a webhook endpoint",
        description="Fields sent are set; the others stay; `{}` changes nothing, while an empty body is a 400. "
        "The secret never changes.",
        parameters=[_ENDPOINT_ID],
        request=WebhookEndpointPatchShape,
        responses={200: WebhookEndpointShape, **_problems(**_INVALID, **_NOT_FOUND, **_COMMON)},
    ),
    update=extend_schema(
        operation_id="webhook_endpoints_replace",
        tags=_TAGS,
        summary="Replace a webhook endpoint",
        description="Fields left out take their defaults. The secret never changes.",
        parameters=[_ENDPOINT_ID],
        request=WebhookEndpointWriteShape,
        responses={200: WebhookEndpointShape, **_problems(**_INVALID, **_NOT_FOUND, **_COMMON)},
    ),
    destroy=extend_schema(
        operation_id="webhook_endpoints_delete",
        tags=_TAGS,
        summary="Remove a webhook endpoint",
        description="Nothing more is sent to it, including deliveries still queued.",
        parameters=[_ENDPOINT_ID],
        responses={204: OpenApiResponse(description="Removed."), **_problems(**_NOT_FOUND, **_COMMON)},
    ),
)


@webhook_endpoint_schema
class WebhookEndpointViewSet(MerchantAPIMixin, viewsets.GenericViewSet):
    """Webhook endpoints of the merchant that owns the access token.

    Reading needs customers:read; registering, changing and removing need
    customers:write, since an endpoint receives customer data.
    """

    queryset = WebhookEndpoint.objects.none()
    lookup_field = "endpoint_id"
    scopes_by_action = {
        "list": READ_SCOPE,
        "retrieve": READ_SCOPE,
        "create": WRITE_SCOPE,
        "update": WRITE_SCOPE,
        "partial_update": WRITE_SCOPE,
        "destroy": WRITE_SCOPE,
    }

    def get_object(self) -> WebhookEndpoint:
        try:
            return webhook_endpoint_get(merchant=self.request.merchant, endpoint_id=self.kwargs["endpoint_id"])
        except WebhookEndpoint.DoesNotExist:
            raise NotFound("No webhook endpoint with this id.") from None

    def list(self, request):
        endpoints = webhook_endpoint_list(merchant=request.merchant)
        return Response({"data": [webhook_endpoint_as_dict(endpoint) for endpoint in endpoints]})

    def create(self, request):
        endpoint = webhook_endpoint_create(merchant=request.merchant, data=request.data)
        body = webhook_endpoint_as_dict(endpoint)
        # The only response that ever holds the signing secret.
        body["secret"] = endpoint.secret
        location = reverse("api:webhook-endpoint-detail", kwargs={"endpoint_id": endpoint.id})
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})

    def retrieve(self, request, endpoint_id=None):
        return Response(webhook_endpoint_as_dict(self.get_object()))

    def partial_update(self, request, endpoint_id=None):
        endpoint = webhook_endpoint_update(endpoint=self.get_object(), data=request.data, partial=True)
        return Response(webhook_endpoint_as_dict(endpoint))

    def update(self, request, endpoint_id=None):
        endpoint = webhook_endpoint_update(endpoint=self.get_object(), data=request.data, partial=False)
        return Response(webhook_endpoint_as_dict(endpoint))

    def destroy(self, request, endpoint_id=None):
        webhook_endpoint_delete(endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


def postprocess_schema(result, generator, request, public):
    """Unknown fields of a webhook endpoint are a 400: say so in the schema."""
    schemas = result.get("components", {}).get("schemas", {})
    for name in ("WebhookEndpointWriteShapeRequest", "PatchedWebhookEndpointPatchShapeRequest"):
        if name in schemas:
            schemas[name]["additionalProperties"] = False
    return result
