"""A typed Python client for a deeplook server, blocking (``Client``) or asyncio (``AsyncClient``).

    from deeplook.client import Client

    with Client("http://127.0.0.1:8000", token="...") as client:
        run = client.runs.start(preset="relu-adam", epochs=2)
        for event in client.watch(run.id):
            print(event["type"])
        print(client.predict("digit.png").label)

Needs ``pip install deeplook[client]`` (httpx2).
"""

from deeplook.client._async import AsyncClient, AsyncRuns
from deeplook.client._common import DeeplookError, Input, ModelInfo, Prediction, Run
from deeplook.client._sync import Client, Runs

__all__ = [
    "AsyncClient",
    "AsyncRuns",
    "Client",
    "DeeplookError",
    "Input",
    "ModelInfo",
    "Prediction",
    "Run",
    "Runs",
]
