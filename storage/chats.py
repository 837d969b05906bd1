"""Which plan a chat works on: bindings stored under the keyed hash of the chat id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, select
from sqlalchemy.orm import Session

from storage.codec import Codec
from storage.crypto import Keyring
from storage.models import Chat, utcnow
from storage.records import ChatRecord
from storage.tx import Tx


class ChatRepository:
    """Chat bindings; the caller owns the transaction."""

    def __init__(self, tx: Tx | Session | Connection, keyring: Keyring) -> None:
        self._tx = Tx.of(tx)
        self._codec = Codec(keyring)

    # A chat is stored under the keyed hash of its id (a private chat's id is its user's
    # Telegram id) and found by it, so a lookup decrypts nothing: the caller has the id.

    def key(self, chat_id: int) -> str:
        return self._codec.chat_key(chat_id)

    def chat(self, chat_id: int) -> ChatRecord | None:
        row = self._tx.execute(_CHAT_BY_KEY, {"chat_key": self._codec.chat_key(chat_id)})
        found = row.one_or_none()
        return None if found is None else _chat_record(chat_id, found)

    def bind_chat(
        self,
        chat_id: int,
        plan_id: int,
        *,
        kind: str,
        facilitator: str | None = None,
        first_message_id: int | None = None,
    ) -> ChatRecord:
        """Point a chat at a plan (and, in a group, at its facilitator)."""
        key = self._codec.chat_key(chat_id)
        row = self._tx.session.get(Chat, key)
        if row is None:
            sealed = self._codec.seal_chat(key, chat_id)
            row = Chat(chat_key=key, chat_enc=sealed, plan_id=plan_id, kind=kind)
            self._tx.session.add(row)
        elif row.plan_id == plan_id and first_message_id is not None and row.first_message_id:
            # Reopening the same plan keeps where it began in this chat.
            first_message_id = row.first_message_id
        row.plan_id, row.kind, row.facilitator = plan_id, kind, facilitator
        row.first_message_id = first_message_id
        row.updated_at = utcnow()
        self._tx.session.flush()
        return _chat_record(chat_id, row)

    def unbind_chat(self, chat_id: int) -> None:
        self._tx.execute(delete(Chat).where(Chat.chat_key == self._codec.chat_key(chat_id)))

    def move_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: its binding follows the new chat id."""
        row = self._tx.session.get(Chat, self._codec.chat_key(old_chat_id))
        if (
            row is None
            or self._tx.session.get(Chat, self._codec.chat_key(new_chat_id)) is not None
        ):
            return
        binding = _chat_record(old_chat_id, row)
        self._tx.session.delete(row)
        self._tx.session.flush()
        self.bind_chat(
            new_chat_id,
            binding.plan_id,
            kind=binding.kind,
            facilitator=binding.facilitator,
            first_message_id=binding.first_message_id,
        )


_CHAT_BY_KEY = select(Chat.plan_id, Chat.kind, Chat.facilitator, Chat.first_message_id).where(
    Chat.chat_key == bindparam("chat_key")
)


def _chat_record(chat_id: int, row: Chat | Row[*tuple[Any, ...]]) -> ChatRecord:
    """A chat as a record, from its ORM object or a row of _CHAT_BY_KEY (same names)."""
    return ChatRecord(chat_id, row.plan_id, row.kind, row.facilitator, row.first_message_id)
