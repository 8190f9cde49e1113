"""Portal and admin logins: the authentication backends and the lock-out after failed logins (django-axes)."""

from config.env import env

# Login lock-out (django-axes) on /portal/login/ and /admin/login/ (merchants/login_lockout.py).
# Failures are counted per username *and* address, so guessing from one address never locks the
# owner out elsewhere. After AXES_FAILURE_LIMIT failures the pair is paused LOGIN_COOLOFF_BASE_MINUTES;
# each further failure after a pause pauses it twice as long as before, up to LOGIN_COOLOFF_MAX_HOURS.
# Paused attempts get a 429 page without any password being hashed. Unlock: delete the row in
# Django admin (Axes > Access attempts) or `manage.py axes_reset_username EMAIL`. The address is
# REMOTE_ADDR, as for the API's rate limit: behind a proxy it must be the client's address.
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out (username, address) before the next backend checks the password.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "merchants.login_lockout.LockoutHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
LOGIN_COOLOFF_BASE_MINUTES = env.int("LOGIN_COOLOFF_BASE_MINUTES", default=15)
LOGIN_COOLOFF_MAX_HOURS = env.int("LOGIN_COOLOFF_MAX_HOURS", default=24)
# And per address over all usernames, so trying many usernames cannot keep the hasher busy: this many
# failures within LOGIN_COOLOFF_BASE_MINUTES pause the address for every username; 0 turns it off.
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=100)
AXES_COOLOFF_TIME = "merchants.login_lockout.cool_off"
AXES_USERNAME_CALLABLE = "merchants.login_lockout.username"
AXES_LOCKOUT_CALLABLE = "merchants.login_lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
# An attempt while paused is refused, not counted: it neither lengthens the pause nor runs the hasher.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Only failures are kept (no row per successful login; Django's last_login records those).
AXES_DISABLE_ACCESS_LOG = True
AXES_HTTP_RESPONSE_CODE = 429
# No "AXES: BEGIN ..." banner on every start of every command (the worker's and the CLI's output stay clean).
AXES_VERBOSE = False

# Password-reset links (/portal/password-reset/, merchants/reset_throttle.py): at most this many requests
# per email address and per client address (REMOTE_ADDR) in each window of PASSWORD_RESET_WINDOW_SECONDS;
# past either, a 429 page, the same for known and unknown addresses. 0 turns a limit off. The log-in
# lock-out above is separate: hammering the reset form never keeps anyone from logging in.
PASSWORD_RESET_EMAIL_LIMIT = env.int("PASSWORD_RESET_EMAIL_LIMIT", default=3)
PASSWORD_RESET_CLIENT_LIMIT = env.int("PASSWORD_RESET_CLIENT_LIMIT", default=20)
PASSWORD_RESET_WINDOW_SECONDS = env.int("PASSWORD_RESET_WINDOW_SECONDS", default=3600)
