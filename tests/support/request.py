"""A python-telegram-bot BaseRequest that answers from the Bot API stand-in without HTTP."""

from __future__ import annotations

import json
import time

from telegram.request import BaseRequest, RequestData

from tests.support.botapi import BotApiStandIn, Call


class StandInRequest(BaseRequest):
    """Records every Bot API call of a real Application and answers it like Telegram would."""

    def __init__(self, stand_in: BotApiStandIn) -> None:
        self.stand_in = stand_in

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float:
        return 1.0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = None,
        write_timeout: object = None,
        connect_timeout: object = None,
        pool_timeout: object = None,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data is not None else {}
        files: dict[str, bytes] = {}
        filenames: dict[str, str] = {}
        if request_data is not None and request_data.contains_files:
            for key, value in request_data.multipart_data.items():
                filename, content = value[0], value[1]
                files[key] = content if isinstance(content, bytes) else content.read()
                filenames[key] = filename or key
        status, body = self.stand_in.handle(
            Call(name, params, files, time.monotonic(), filenames=filenames)
        )
        return status, json.dumps(body).encode()
