"""System function: ``/system/health`` (no auth)."""

from melody.api.apps import system_app
from melody.api.lambda_handler import lambda_handler_for
from melody.settings import SystemSettings
from melody.wiring import SystemContainer

app = system_app(SystemContainer(SystemSettings()))
handler = lambda_handler_for(app)
