from django.urls import path

from merchants.token_views import ThrottledRevokeTokenView, ThrottledTokenView

# The toolkit's endpoints that check a client secret, each throttled (merchants/token_views.py).
# Only these two: no introspection (the API checks its tokens itself) and no authorization code flow.
urlpatterns = [
    path("token/", ThrottledTokenView.as_view(), name="oauth2_token"),
    path("revoke_token/", ThrottledRevokeTokenView.as_view(), name="oauth2_revoke_token"),
]
