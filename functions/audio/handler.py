"""Audio function: upload URLs, conversion jobs and their status (``/api/v1/audio``)."""

from melody.api.apps import audio_app
from melody.api.lambda_handler import lambda_handler_for
from melody.settings import AudioApiSettings
from melody.wiring import TokenContainer

app = audio_app(TokenContainer(AudioApiSettings()))
handler = lambda_handler_for(app)
