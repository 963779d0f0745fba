"""What the users service needs from storage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from melody.users.models import User


class UserStore(Protocol):
    def get(self, user_id: str) -> User | None: ...

    def create_if_absent(self, user: User) -> User: ...

    def save(self, user: User) -> None: ...
