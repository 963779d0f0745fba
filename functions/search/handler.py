"""Search function: multilingual search, track details and trending (``/music``)."""

from melody.api.apps import search_app
from melody.api.lambda_handler import lambda_handler_for
from melody.settings import CatalogSettings
from melody.wiring import CatalogContainer

app = search_app(CatalogContainer(CatalogSettings()))
handler = lambda_handler_for(app)
