"""Users function: the signed-in user's profile (``/users/me``)."""

from melody.api.apps import users_app
from melody.api.lambda_handler import lambda_handler_for
from melody.core.services import Services
from melody.core.settings import TokenSettings

services = Services(TokenSettings())
app = users_app(services)
handler = lambda_handler_for(app, services)
