"""Library function: saved tracks, plays and instrumental status (``/library``)."""

from melody.api.apps import library_app
from melody.api.lambda_handler import lambda_handler_for
from melody.core.services import Services
from melody.core.settings import CatalogSettings

services = Services(CatalogSettings())
app = library_app(services)
handler = lambda_handler_for(app, services)
