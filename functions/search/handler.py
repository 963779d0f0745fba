"""Search function: multilingual search, track details and trending (``/music``)."""

from aws_lambda_powertools.logging import correlation_paths
from mangum import Mangum

from melody.api.apps import search_app
from melody.observability import logger, metrics, tracer
from melody.settings import CatalogSettings
from melody.wiring import CatalogContainer

app = search_app(CatalogContainer(CatalogSettings()))
asgi = Mangum(app, lifespan="off")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context: object) -> dict:
    return asgi(event, context)
