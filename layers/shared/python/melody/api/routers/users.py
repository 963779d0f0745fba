"""``/users/me``: the signed-in user's profile and preferences."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from melody.api.deps import CurrentUser, get_token_container
from melody.api.openapi_docs import PROTECTED, error_responses
from melody.api.schemas import UserOut
from melody.domain.users import UserUpdate
from melody.wiring import TokenContainer

router = APIRouter(prefix="/users", tags=["users"], responses=PROTECTED)
Container = Annotated[TokenContainer, Depends(get_token_container)]


@router.get(
    "/me",
    response_model=UserOut,
    responses=error_responses(404, descriptions={404: "No such user (`user_not_found`)."}),
)
def get_me(user_id: CurrentUser, container: Container) -> UserOut:
    return UserOut.of(container.users.get(user_id))


@router.patch(
    "/me",
    response_model=UserOut,
    responses=error_responses(404, 422, descriptions={404: "No such user (`user_not_found`)."}),
)
def update_me(body: UserUpdate, user_id: CurrentUser, container: Container) -> UserOut:
    return UserOut.of(container.users.update(user_id, body))
