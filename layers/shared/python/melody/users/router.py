"""``/users/me``: the signed-in user's profile and preferences."""

from __future__ import annotations

from fastapi import APIRouter

from melody.api.deps import AppServices, CurrentUser
from melody.api.openapi_docs import PROTECTED, STORE_UNAVAILABLE, TOKEN_KEYS_UNAVAILABLE, error_responses, unavailable
from melody.users.schemas import UserOut
from melody.users.service import UserUpdate

router = APIRouter(
    prefix="/users",
    tags=["users"],
    responses={**PROTECTED, **unavailable(f"{TOKEN_KEYS_UNAVAILABLE} or {STORE_UNAVAILABLE}")},
)


@router.get(
    "/me",
    response_model=UserOut,
    responses=error_responses(404, descriptions={404: "No such user (`user_not_found`)."}),
)
def get_me(user_id: CurrentUser, services: AppServices) -> UserOut:
    return UserOut.of(services.users.get(user_id))


@router.patch(
    "/me",
    response_model=UserOut,
    responses=error_responses(404, 422, descriptions={404: "No such user (`user_not_found`)."}),
)
def update_me(body: UserUpdate, user_id: CurrentUser, services: AppServices) -> UserOut:
    return UserOut.of(services.users.update(user_id, body))
