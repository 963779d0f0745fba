"""Scores function: score uploads, the user's scores, analyses and downloads (``/scores``); never music21."""

from melody.api.apps import scores_app
from melody.api.lambda_handler import lambda_handler_for
from melody.core.services import Services
from melody.core.settings import ScoreSettings

services = Services(ScoreSettings())
app = scores_app(services)
handler = lambda_handler_for(app, services)
