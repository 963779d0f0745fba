"""Users function: the signed-in user's profile (``/users/me``)."""

from melody.api.apps import users_app
from melody.api.lambda_handler import lambda_handler_for
from melody.settings import TokenSettings
from melody.wiring import TokenContainer

app = users_app(TokenContainer(TokenSettings()))
handler = lambda_handler_for(app)
