"""Audio function: upload URLs, conversion jobs and their status (``/api/v1/audio``)."""

from aws_lambda_powertools.logging import correlation_paths
from mangum import Mangum

from melody.api.apps import audio_app
from melody.observability import logger, metrics, tracer
from melody.settings import PipelineSettings
from melody.wiring import TokenContainer

app = audio_app(TokenContainer(PipelineSettings()))
asgi = Mangum(app, lifespan="off")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context: object) -> dict:
    return asgi(event, context)
