"""Auth function: OTP request/verify, token refresh and logout, and the issuer's JWKS."""

from melody.api.apps import auth_app
from melody.api.lambda_handler import lambda_handler_for
from melody.core.services import Services
from melody.core.settings import AuthSettings

services = Services(AuthSettings())
services.check_sms_sender()  # at init: a misconfigured sender (console outside dev) fails the deploy, not a login
app = auth_app(services)
# Imported on first use, so into the SnapStart snapshot ahead of time: phone parsing, OTP, signing.
handler = lambda_handler_for(app, services, preload=("phonenumbers", "melody.auth.otp", "melody.auth.tokens"))
