"""Models for other runtimes: a run's network as an ONNX graph."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from deeplook.app.deps import ModelsDep
from deeplook.app.onnx_export import INPUT, OPSET, OUTPUT, onnx_bytes
from deeplook.app.schemas import CONFLICT, INVALID, NOT_FOUND, PIXELS, RUN_ID_PATTERN, Responses

router = APIRouter(prefix="/api/runs", tags=["runs"], responses=INVALID)

ONNX_ANSWER: Responses = {
    200: {
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        "description": f"an ONNX model (opset {OPSET}): input {INPUT!r} float32 [N, {PIXELS}] in [0, 1] "
        f"(ink = 1), output {OUTPUT!r} float32 [N, classes]",
    }
}


@router.get(
    "/{run_id}/model.onnx", response_class=Response, responses={**NOT_FOUND, **CONFLICT, **ONNX_ANSWER}
)
async def onnx_model(
    run_id: Annotated[str, Path(pattern=RUN_ID_PATTERN, description="12 lowercase hex digits")],
    models: ModelsDep,
    epoch: Annotated[
        int | None, Query(ge=0, description="an epoch's model (0: the random start); default: the latest")
    ] = None,
) -> Response:
    """The run's network as an ONNX graph (Gemm, the activation, Softmax) for onnxruntime and other
    runtimes: the same probabilities as /api/predict."""
    model = await asyncio.to_thread(models.load, run_id, epoch)
    payload = await asyncio.to_thread(onnx_bytes, model)
    return Response(
        payload,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="deeplook-{run_id}-epoch{model.epoch}.onnx"'},
    )
