"""Developer function: API keys and usage (``/developer``, signed in) and the B2B API (``/b2b``, API key)."""

from melody.api.apps import developer_app
from melody.api.lambda_handler import lambda_handler_for
from melody.core.services import Services
from melody.core.settings import DeveloperSettings

services = Services(DeveloperSettings())
app = developer_app(services)
handler = lambda_handler_for(app, services)
