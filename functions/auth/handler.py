"""Auth function: OTP request/verify, token refresh and logout, and the issuer's JWKS."""

from melody.api.apps import auth_app
from melody.api.lambda_handler import lambda_handler_for
from melody.core.services import Services
from melody.core.settings import AuthSettings

services = Services(AuthSettings())
services.sms_sender  # built at init: a misconfigured sender (console outside dev) fails the deploy, not a login
app = auth_app(services)
handler = lambda_handler_for(app, services)
