"""Auth function: OTP request/verify, token refresh and logout, and the issuer's JWKS."""

from melody.api.apps import auth_app
from melody.api.lambda_handler import lambda_handler_for
from melody.settings import AuthSettings
from melody.wiring import AuthContainer

app = auth_app(AuthContainer(AuthSettings()))
handler = lambda_handler_for(app)
