"""Catalog function: multilingual search, track details and trending (``/music``)."""

from melody.api.apps import catalog_app
from melody.api.lambda_handler import lambda_handler_for
from melody.core.services import Services
from melody.core.settings import CatalogSettings

services = Services(CatalogSettings())
app = catalog_app(services)
handler = lambda_handler_for(app, services)
