"""Library function: saved tracks, plays and instrumental status (``/library``)."""

from melody.api.apps import library_app
from melody.api.lambda_handler import lambda_handler_for
from melody.settings import CatalogSettings
from melody.wiring import CatalogContainer

app = library_app(CatalogContainer(CatalogSettings()))
handler = lambda_handler_for(app)
