"""The provisioning API (``/api/v1/``), its OpenAPI 3.1 document (``/api/v1/openapi.json``) and
its reference page (``/api/docs/``, rendered on the server from that document in the portal's
layout: ``api/reference.py``).

Why django-ninja rather than Django REST framework with drf-spectacular: the representations
are pydantic models, validated on the way in and documented from the same classes; its OpenAPI
output is 3.1 natively (drf-spectacular's is 3.0, with 3.1 behind a setting); and the API is
plain typed functions calling the agreements services, with less code around them (no
serializers, viewsets or routers to configure)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema

from api import problems
from api import reference as api_reference
from api.auth import EntraBearer
from api.views import activity, people


class ProvisioningAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        """Every operation also documents its errors: problem documents
        (``application/problem+json``) for any other status."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        problem = {"$ref": "#/components/schemas/ProblemDocument"}
        schema.setdefault("components", {}).setdefault("schemas", {})["ProblemDocument"] = (
            _problem_schema()
        )
        _link(schema)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, response in list(responses.items()):
                    if str(status).startswith(("4", "5")):
                        response["content"] = {"application/problem+json": {"schema": problem}}
                responses["default"] = {
                    "description": "Error: a problem document (RFC 9457).",
                    "content": {"application/problem+json": {"schema": problem}},
                }
        return schema


# OpenAPI links: what a created row's id leads to (clients and schemathesis's stateful tests
# follow them from create to read to delete).
LINKS = {
    "createGrant": ("grant_id", ("getGrant", "deleteGrant")),
    "createContact": ("contact_id", ("getContact", "deleteContact")),
}


def _link(schema: dict[str, Any]) -> None:
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if operation.get("operationId") not in LINKS:
                continue
            name, targets = LINKS[operation["operationId"]]
            links = {
                target[0].upper() + target[1:]: {
                    "operationId": target,
                    "parameters": {"number": "$request.path.number", name: "$response.body#/id"},
                }
                for target in targets
            }
            for status, response in operation["responses"].items():
                if str(status) in ("200", "201"):
                    response["links"] = links


def _problem_schema() -> dict[str, Any]:
    from api.schemas import ProblemDocument

    return ProblemDocument.model_json_schema()


api = ProvisioningAPI(
    title="VLSC Portal provisioning API",
    version="1",
    description=(
        "Contacts, permissions, invitations, access requests and the audit trail of the "
        "agreements you administer. Authenticate with an access token from Microsoft Entra ID "
        "for the portal's API (delegated scopes Permissions.Read and Permissions.ReadWrite, or "
        "app roles Permissions.Read.All and Permissions.ReadWrite.All)."
    ),
    auth=EntraBearer(),
    urls_namespace="api",
    docs_url=None,
    openapi_url="/openapi.json",
)
api.add_router("", people.router)
api.add_router("", activity.router)


@api.exception_handler(problems.Problem)
def _problem(request: HttpRequest, exc: problems.Problem) -> HttpResponse:
    return problems.response(request, exc)


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {
            "loc": list(error.get("loc", ())),
            "msg": str(error.get("msg", "")),
            "type": error.get("type", ""),
        }
        for error in exc.errors
    ]
    return problems.response(
        request,
        problems.Problem(
            422,
            "invalid",
            _("The request does not match the API's schema."),
            extra={"errors": errors},
        ),
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    detail = _("The request body is not valid JSON.") if exc.status_code == 400 else str(exc)
    return problems.response(request, problems.Problem(exc.status_code, "bad-request", detail))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problems.response(request, problems.unauthenticated("missing"))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problems.response(request, problems.not_found())


def reference(request: HttpRequest) -> HttpResponse:
    """The API's reference page, read from the OpenAPI document the API serves."""
    document = api.get_openapi_schema()
    return render(request, "api/reference.html", api_reference.reference(document))


urlpatterns = [
    path("api/v1/", api.urls),
    path("api/docs/", reference, name="api-docs"),
]
