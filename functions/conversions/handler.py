"""Conversions function: upload URLs, conversion jobs and their status (``/audio``)."""

from melody.api.apps import conversions_app
from melody.api.lambda_handler import lambda_handler_for
from melody.core.services import Services
from melody.core.settings import AudioApiSettings

services = Services(AudioApiSettings())
app = conversions_app(services)
handler = lambda_handler_for(app, services)
