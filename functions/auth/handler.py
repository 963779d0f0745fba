"""Auth function: OTP request/verify, token refresh and logout, and the issuer's JWKS."""

from melody.api.apps import auth_app
from melody.api.lambda_handler import lambda_handler_for
from melody.settings import AuthSettings
from melody.wiring import AuthContainer

container = AuthContainer(AuthSettings())
container.sms_sender  # built at init: a misconfigured sender (console outside dev) fails the deploy, not a login
app = auth_app(container)
handler = lambda_handler_for(app)
