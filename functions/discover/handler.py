"""Discover function: sources to browse and suggest, follows and the feed (``/discover``), and the
operators' source admin (``/admin/sources``)."""

from melody.api.apps import discover_app
from melody.api.lambda_handler import lambda_handler_for
from melody.core.services import Services
from melody.core.settings import DiscoverSettings

services = Services(DiscoverSettings())
app = discover_app(services)
handler = lambda_handler_for(app, services)
