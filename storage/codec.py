"""The only place that turns a household number or chat id into its stored key, and an
answer value, plan data or suggestion into its stored text and back.

Each value is bound to its row (storage.models.Encrypted). Decrypting raises WrongKey or
TamperedData (storage.crypto) rather than returning anything else.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from storage.crypto import Keyring, TamperedData
from storage.models import (
    ANSWER_VALUE,
    CHAT_ID,
    CHAT_PURPOSE,
    HOUSEHOLD_NUMBER,
    PLAN_DATA,
    SUGGESTION_TEXT,
)
from storage.records import dumps, reject_floats

# The purpose of the household number's keyed hash.
HOUSEHOLD_PURPOSE = "household"


class Codec:
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def household_key(self, number: str) -> str:
        return self.keyring.hash(number, purpose=HOUSEHOLD_PURPOSE)

    def chat_key(self, chat_id: int) -> str:
        return self.keyring.hash(str(chat_id), purpose=CHAT_PURPOSE)

    def seal_chat(self, key: str, chat_id: int) -> str:
        return CHAT_ID.seal(self.keyring, str(chat_id), {"chat_key": key})

    def encode_household(self, key: str, number: str) -> str:
        return HOUSEHOLD_NUMBER.seal(self.keyring, number, {"number": key})

    def decode_household(self, key: str, token: str | None) -> str:
        if token is None:
            raise TamperedData("households.number: not encrypted; run storage.db.ensure_encrypted")
        return HOUSEHOLD_NUMBER.open(self.keyring, token, {"number": key})

    def answer_row(
        self, plan_id: int, field: str, value: Any, author: str, at: datetime
    ) -> dict[str, Any]:
        row = {"plan_id": plan_id, "field": field, "author": author, "created_at": at}
        if value is None:
            return {**row, "value": None}
        reject_floats(value, f"answer {field!r}")
        return {**row, "value": ANSWER_VALUE.seal(self.keyring, dumps(value), row)}

    def decode_value(self, token: str | None, plan_id: int, field: str, at: datetime) -> Any:
        if token is None:
            return None
        row = {"plan_id": plan_id, "field": field, "created_at": at}
        return json.loads(ANSWER_VALUE.open(self.keyring, token, row))

    def encode_data(self, plan_id: int, data: dict[str, Any]) -> str:
        reject_floats(data, "plan data")
        return PLAN_DATA.seal(self.keyring, dumps(data), {"id": plan_id})

    def decode_data(self, plan_id: int, token: str) -> dict[str, Any]:
        data = json.loads(PLAN_DATA.open(self.keyring, token, {"id": plan_id}))
        if not isinstance(data, dict):
            raise ValueError("plan data is not a JSON object")
        return data

    def seal_suggestion(self, text: str, plan_id: int, field: str, at: datetime) -> str:
        values = {"plan_id": plan_id, "field": field, "created_at": at}
        return SUGGESTION_TEXT.seal(self.keyring, text, values)

    def open_suggestion(self, token: str, plan_id: int, field: str, at: datetime) -> str:
        values = {"plan_id": plan_id, "field": field, "created_at": at}
        return SUGGESTION_TEXT.open(self.keyring, token, values)
