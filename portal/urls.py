from django.contrib.auth import views as auth_views
from django.urls import path

from portal.views import account, credentials, customers, imports, invitations, settings, staff, webhooks

app_name = "portal"

urlpatterns = [
    path("", account.home_view, name="home"),
    path("login/", account.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", account.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", account.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password-reset/", account.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", account.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password-reset/done/", account.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("password-reset/<uidb64>/<token>/", account.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    # An invited person's only way in: the first password of a new account is chosen there too
    # (Django's set-password link of a user id and a token is not served, so it cannot go around it).
    path(
        "invitations/<int:membership_pk>/<str:token>/",
        invitations.invitation_accept_view,
        name="invitation_accept",
    ),
    path("switch/", account.switch_merchant_view, name="switch_merchant"),
    path("customers/", customers.customer_list_view, name="customer_list"),
    path("customers/new/", customers.customer_create_view, name="customer_create"),
    path("customers/export/", imports.export_start_view, name="customer_export"),
    path("customers/selected/", customers.customers_selected_view, name="customers_selected"),
    path("customers/selected/delete/", customers.customers_selected_delete_view, name="customers_selected_delete"),
    path("customers/<str:customer_id>/", customers.customer_detail_view, name="customer_detail"),
    path("customers/<str:customer_id>/edit/", customers.customer_edit_view, name="customer_edit"),
    path("customers/<str:customer_id>/delete/", customers.customer_delete_view, name="customer_delete"),
    path("imports/", imports.import_upload_view, name="import_upload"),
    path("imports/<uuid:import_id>/", imports.import_status_view, name="import_status"),
    path("imports/<uuid:import_id>/errors.csv", imports.import_errors_view, name="import_errors"),
    path("imports/<uuid:import_id>/status.json", imports.import_status_json_view, name="import_status_json"),
    path("imports/<uuid:import_id>/cancel/", imports.import_cancel_view, name="import_cancel"),
    path("exports/<uuid:export_id>/", imports.export_status_view, name="export_status"),
    path("exports/<uuid:export_id>/status.json", imports.export_status_json_view, name="export_status_json"),
    path("exports/<uuid:export_id>/download/", imports.export_download_view, name="export_download"),
    path("credentials/", credentials.client_list_view, name="client_list"),
    path("credentials/secret/", credentials.client_secret_view, name="client_secret"),
    path("credentials/<int:client_pk>/roll/", credentials.client_roll_view, name="client_roll"),
    path("credentials/<int:client_pk>/revoke/", credentials.client_revoke_view, name="client_revoke"),
    path("staff/", staff.staff_list_view, name="staff_list"),
    path("staff/<int:membership_pk>/role/", staff.staff_role_view, name="staff_role"),
    path("staff/<int:membership_pk>/remove/", staff.staff_remove_view, name="staff_remove"),
    path("staff/<int:membership_pk>/invitation/", staff.staff_reinvite_view, name="staff_reinvite"),
    path("settings/", settings.merchant_settings_view, name="merchant_settings"),
    path("webhooks/", webhooks.webhook_list_view, name="webhook_list"),
    path("webhooks/secret/", webhooks.webhook_secret_view, name="webhook_secret"),
    path("webhooks/<str:endpoint_id>/edit/", webhooks.webhook_edit_view, name="webhook_edit"),
    path("webhooks/<str:endpoint_id>/delete/", webhooks.webhook_delete_view, name="webhook_delete"),
    path("webhooks/<str:endpoint_id>/deliveries/", webhooks.webhook_deliveries_view, name="webhook_deliveries"),
    path("webhooks/<str:endpoint_id>/test/", webhooks.webhook_test_view, name="webhook_test"),
    path("customers/<str:customer_id>/events/", webhooks.customer_events_view, name="customer_events"),
    path("deliveries/<int:delivery_id>/retry/", webhooks.delivery_retry_view, name="delivery_retry"),
]
