"""Response headers that keep personal data out of caches and scripts out of our pages."""

from csp.constants import UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from django.utils.cache import patch_cache_control

# Third-party documentation pages whose scripts add <style> elements at run time.
_INLINE_STYLE_PATHS = ("/api/docs/", "/api/redoc/")


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response the app renders itself.

    API responses, portal pages, CSV exports and admin pages all may hold a
    customer's personal data, and a page that does not today may tomorrow; no
    browser, proxy or CDN may keep a copy. A view that already asked for
    no-store keeps its header as it is. Static files are answered by WhiteNoise
    before this middleware runs and stay cacheable.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        current = response.get("Cache-Control", "")
        if not current:
            response["Cache-Control"] = "no-store"
        elif "no-store" not in current:
            patch_cache_control(response, no_store=True)
        return response


# For anything that is not a page (API JSON, CSV, the OpenAPI file): nothing may load or frame
# it (OWASP's REST Security Cheat Sheet). A constant: django-csp builds its policy anew for each
# response, which cost 10% of a customer retrieve's CPU.
NOT_A_PAGE_POLICY = "default-src 'none'; frame-ancestors 'none'"


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware (policy in settings.CONTENT_SECURITY_POLICY) for HTML pages.

    Our own templates use no inline script or style, so the policy forbids
    both; only the interactive API docs, whose bundled Swagger UI and Redoc
    inject <style> elements, are allowed inline styles (never inline scripts).
    Other responses get NOT_A_PAGE_POLICY.
    """

    def process_response(self, request, response):
        if response.get("Content-Type", "").startswith("text/html"):
            return super().process_response(request, response)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = NOT_A_PAGE_POLICY
        return response

    def get_policy_parts(self, request, response, report_only=False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and request.path.startswith(_INLINE_STYLE_PATHS) and parts.update is None:
            parts.update = {"style-src": [UNSAFE_INLINE]}
        return parts
