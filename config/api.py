"""The HTTP API at /api/v1 (django-ninja): session (with CSRF) or personal token, one error shape."""

from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, SessionAuth

from hearth.accounts.actor import actor_for
from hearth.accounts.middleware import client_ip, needs_second_factor
from hearth.accounts.services import token_authenticate
from hearth.core.errors import DomainError, as_list


class TokenAuth(HttpBearer):
    openapi_description = "Personal API token: Authorization: Bearer hth_…"

    def authenticate(self, request, token):
        found = token_authenticate(token)
        if found is None:
            return None
        request.actor = actor_for(found.grant, ip=client_ip(request), via="token")
        return found


class GrantSessionAuth(SessionAuth):
    """The browser session, only once a grant is active and any required second factor is given."""

    def authenticate(self, request, key):
        actor = getattr(request, "actor", None)
        if not request.user.is_authenticated or actor is None or actor.grant is None:
            return None
        if needs_second_factor(actor) and not request.user.is_verified():
            return None
        return request.user


api = NinjaAPI(
    title="Hearth API",
    version="1",
    urls_namespace="api",
    auth=[TokenAuth(), GrantSessionAuth()],
    docs_url="/docs",
)

# Pydantic error types, said in Chinese; the field is named in `loc`.
_MESSAGES = {
    "missing": gettext_lazy("必填项。"),
    "string_too_long": gettext_lazy("内容过长。"),
    "string_too_short": gettext_lazy("内容过短。"),
    "string_type": gettext_lazy("应为文本。"),
    "int_parsing": gettext_lazy("应为整数。"),
    "int_type": gettext_lazy("应为整数。"),
    "date_from_datetime_parsing": gettext_lazy("日期格式应为 YYYY-MM-DD。"),
    "date_parsing": gettext_lazy("日期格式应为 YYYY-MM-DD。"),
    "date_type": gettext_lazy("日期格式应为 YYYY-MM-DD。"),
    "uuid_parsing": gettext_lazy("编号格式无效。"),
    "uuid_type": gettext_lazy("编号格式无效。"),
    "less_than_equal": gettext_lazy("数值过大。"),
    "greater_than_equal": gettext_lazy("数值过小。"),
    "enum": gettext_lazy("取值无效。"),
    "literal_error": gettext_lazy("取值无效。"),
    "json_invalid": gettext_lazy("请求内容不是有效的 JSON。"),
    "model_attributes_type": gettext_lazy("请求内容格式无效。"),
    "dict_type": gettext_lazy("请求内容格式无效。"),
    "extra_forbidden": gettext_lazy("不允许的字段。"),
}


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    detail = [
        {
            "loc": list(e.get("loc", [])),
            "msg": str(_MESSAGES.get(e.get("type", ""), _("输入无效。"))),
            "type": e.get("type", "invalid"),
        }
        for e in exc.errors
    ]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    detail = [
        {"loc": ["body", e.field] if e.field else ["body"], "msg": str(e.message), "type": e.code}
        for e in as_list(exc)
    ]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    if exc.status_code == 400:
        # A body that is not JSON at all: still the one error shape, still 422.
        detail = [{"loc": ["body"], "msg": _("请求内容不是有效的 JSON。"), "type": "json_invalid"}]
        return api.create_response(request, {"detail": detail}, status=422)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return api.create_response(request, {"detail": _("未找到。")}, status=404)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return api.create_response(request, {"detail": _("未登录或令牌无效。")}, status=401)


from hearth.accounts.api import router as accounts_router  # noqa: E402
from hearth.audit.api import router as audit_router  # noqa: E402
from hearth.care.api import router as care_router  # noqa: E402
from hearth.care.api_checkdays import router as checkdays_router  # noqa: E402
from hearth.care.api_notices import router as notices_router  # noqa: E402
from hearth.care.api_referrals import router as referrals_router  # noqa: E402
from hearth.documents.api import router as documents_router  # noqa: E402
from hearth.imports.api import router as imports_router  # noqa: E402
from hearth.linkage.api import router as linkage_router  # noqa: E402
from hearth.migrants.api import router as migrants_router  # noqa: E402
from hearth.places.api import facilities_router  # noqa: E402
from hearth.places.api import router as places_router  # noqa: E402
from hearth.registry.api import events_router, merges_router  # noqa: E402
from hearth.registry.api import router as registry_router  # noqa: E402
from hearth.registry.api_lists import router as lists_router  # noqa: E402
from hearth.registry.api_reports import router as reports_router  # noqa: E402

api.add_router("/", accounts_router)
api.add_router("/places", places_router)
api.add_router("/facilities", facilities_router)
api.add_router("/persons", registry_router)
api.add_router("/events", events_router)
api.add_router("/merges", merges_router)
api.add_router("/lists", lists_router)
# Mounted at the root: they define /change-reports… and /households…, /migrants… and /landlords….
api.add_router("/", reports_router)
api.add_router("/", migrants_router)
api.add_router("/", imports_router)
api.add_router("/", linkage_router)
api.add_router("/audit", audit_router)
api.add_router("/care", care_router)
api.add_router("/care/checkdays", checkdays_router)
api.add_router("/care/notices", notices_router)
api.add_router("/care/referrals", referrals_router)
api.add_router("/preconception", "hearth.preconception.api.router")
api.add_router("/documents", documents_router)
