"""``/auth``: request and verify a one-time code, rotate and revoke refresh tokens."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.metrics import MetricUnit
from fastapi import APIRouter, Depends, Request, Response, status

from melody.api.deps import AppServices
from melody.api.openapi_docs import STORE_UNAVAILABLE, error_responses, unavailable
from melody.auth.client_address import client_address
from melody.auth.phone import mask_phone, phone_hint
from melody.auth.schemas import LoginOut, OtpChallengeOut, RefreshBody, RequestOtpBody, TokensOut, VerifyOtpBody
from melody.core.observability import logger, metrics
from melody.users.schemas import UserOut

router = APIRouter(prefix="/auth", tags=["auth"])
REFRESH_401: dict[int | str, str] = {
    401: "The refresh token is not valid (`invalid_refresh_token`), has expired (`refresh_token_expired`) or was "
    "already used (`refresh_token_reused`: every session of its family is signed out)."
}


def client_ip(request: Request, services: AppServices) -> str:
    """The caller's address for the per-IP limits (behind CloudFront, the viewer's)."""
    # Behind API Gateway the caller's address is in the request context (Mangum keeps the event).
    event = request.scope.get("aws.event") or {}
    source = event.get("requestContext", {}).get("http", {}).get("sourceIp")
    if not source:
        source = request.client.host if request.client else "unknown"
    return client_address(str(source), request.headers, services.origin_verify_secret())


ClientIp = Annotated[str, Depends(client_ip)]


@router.post(
    "/request-otp",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=OtpChallengeOut,
    responses=error_responses(
        422,
        429,
        503,
        descriptions={
            422: "The phone number or country code is not valid (`invalid_phone_number`, `invalid_country_code`), "
            "or the body fails validation (`validation_error`).",
            429: "Too many codes asked for this number or from this address (`rate_limited`), or a code was sent "
            "moments ago (`otp_resend_too_soon`): retry after `Retry-After` seconds.",
            503: "The code could not be sent (`sms_unavailable`), or the account store is busy "
            "(`temporarily_unavailable`); try again shortly.",
        },
    ),
)
def request_otp(body: RequestOtpBody, services: AppServices, ip: ClientIp) -> OtpChallengeOut:
    issued = services.otp.request(body.phone_number, body.country_code, ip)
    logger.info("otp requested", extra={"phone": mask_phone(issued.phone_e164)})
    metrics.add_metric(name="OtpRequested", unit=MetricUnit.Count, value=1)
    now = services.clock.now()
    return OtpChallengeOut(
        challenge_id=issued.challenge_id,
        expires_at=int(issued.expires_at),
        expires_in=int(issued.expires_at - now),
        resend_at=int(issued.resend_at),
        phone_hint=phone_hint(issued.phone_e164),
    )


@router.post(
    "/verify-otp",
    response_model=LoginOut,
    responses=error_responses(
        401,
        404,
        410,
        422,
        429,
        descriptions={
            401: "That code is not right (`invalid_otp`; `details.attempts_remaining`).",
            404: "No such login challenge (`otp_challenge_not_found`).",
            410: "The code has expired (`otp_expired`) or was already used (`otp_already_used`).",
            429: "Too many attempts for this code (`otp_attempts_exceeded`) or wrong codes for this number "
            "(`rate_limited`): retry after `Retry-After` seconds.",
        },
    )
    | unavailable(STORE_UNAVAILABLE),
)
def verify_otp(body: VerifyOtpBody, services: AppServices) -> LoginOut:
    try:
        phone = services.otp.verify(body.challenge_id, body.code)
    except Exception:
        metrics.add_metric(name="OtpVerifyFailed", unit=MetricUnit.Count, value=1)
        raise
    user = services.users.login(phone)
    pair = services.tokens.issue(user.user_id)
    metrics.add_metric(name="LoginSucceeded", unit=MetricUnit.Count, value=1)
    logger.info("login", extra={"user_id": user.user_id})
    return LoginOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        refresh_expires_in=pair.refresh_expires_in,
        user=UserOut.of(user),
    )


@router.post(
    "/refresh-token",
    response_model=TokensOut,
    responses={**error_responses(401, 422, descriptions=REFRESH_401), **unavailable(STORE_UNAVAILABLE)},
)
def refresh_token(body: RefreshBody, services: AppServices) -> TokensOut:
    pair, user_id = services.tokens.rotate(body.refresh_token)
    logger.info("refresh token rotated", extra={"user_id": user_id})
    return TokensOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        refresh_expires_in=pair.refresh_expires_in,
    )


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={**error_responses(401, 422, descriptions=REFRESH_401), **unavailable(STORE_UNAVAILABLE)},
)
def logout(body: RefreshBody, services: AppServices) -> Response:
    user_id = services.tokens.revoke(body.refresh_token)
    logger.info("logout", extra={"user_id": user_id})
    return Response(status_code=status.HTTP_204_NO_CONTENT)
