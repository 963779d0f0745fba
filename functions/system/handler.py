"""System function: ``/system/health`` (no auth)."""

from melody.api.apps import system_app
from melody.api.lambda_handler import lambda_handler_for
from melody.core.services import Services
from melody.core.settings import SystemSettings

services = Services(SystemSettings())
app = system_app(services)
handler = lambda_handler_for(app, services)
