"""Predictions from the current model or a named run's: JSON pixels or a picture, raw pixels, a
picture's bytes, a batch, or an uploaded file.

The routes read their bodies themselves (``app.inputs``: one parse, vectorised checks) and answer
with bytes serialised once (``app.answers``); the OpenAPI document still describes each body and
answer with its model, bounds included (``REQUEST_SCHEMAS``, merged into the components by main).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, TypeVar

import numpy as np
from fastapi import APIRouter, Form, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deeplook.app import answers, inputs
from deeplook.app.deps import ModelsDep, PicturesDep, SettingsDep
from deeplook.app.errors import ServiceError
from deeplook.app.models import ModelRegistry, ServingModel
from deeplook.app.pictures import Pictures
from deeplook.app.schemas import (
    INVALID,
    PIXELS,
    RETURN_PIXELS_HELP,
    RUN_ID_PATTERN,
    BatchOptions,
    BatchPredictRequest,
    BatchPredictResponse,
    PredictOptions,
    PredictRequest,
    PredictResponse,
    documented,
)

router = APIRouter(prefix="/api/predict", tags=["predict"], responses=INVALID)
# Batches may be larger than other bodies: main includes this router with its own size limit.
batch_router = APIRouter(prefix="/api/predict", tags=["predict"], responses=INVALID)

Query = TypeVar("Query", bound=BaseModel)
JSON = "application/json"
RAW = "application/octet-stream"
IMAGES = ("image/png", "image/jpeg")
ERRORS = documented(
    e400="bad base64 or data URL",
    e404="no run with this id, or no saved model of that epoch",
    e409="no trained model yet",
    e413="body or image too large",
    e415="a body of another media type",
    e422="invalid pixels, or a picture that is not a usable PNG/JPEG",
)

DTYPE_HELP = f"for {RAW} bodies: uint8 (ink = 255) or little-endian float32 in [0, 1]"


class PredictQuery(PredictOptions):
    """The query of a predict request: the options (a JSON body's fields win) and the raw dtype."""

    model_config = ConfigDict(extra="ignore")  # as FastAPI does with query parameters it does not know

    dtype: inputs.Dtype = Field("uint8", description=DTYPE_HELP)


class BatchQuery(BatchOptions):
    model_config = ConfigDict(extra="ignore")

    dtype: inputs.Dtype = Field("uint8", description=DTYPE_HELP)


NO_QUERY = PredictQuery()
NO_BATCH_QUERY = BatchQuery()


def _parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """OpenAPI query parameters for a query model's fields (read by ``_query``, not by FastAPI)."""
    schema = model.model_json_schema()
    return [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": field.get("description", ""),
            "schema": {key: value for key, value in field.items() if key not in ("description", "title")},
        }
        for name, field in schema["properties"].items()
    ]


def _query(request: Request, model: type[Query], default: Query) -> Query:
    """The query's options, validated as FastAPI would (its 422 on a bad value); none: the defaults."""
    if not request.scope["query_string"]:
        return default
    try:
        return model.model_validate(dict(request.query_params))
    except ValidationError as error:
        errors = [{**e, "loc": ("query", *e["loc"])} for e in error.errors(include_url=False)]
        raise RequestValidationError(errors) from None


def _schemas() -> dict[str, Any]:
    """The request models' JSON schemas (and the models they use), for the OpenAPI components."""
    found: dict[str, Any] = {}
    for model in (PredictRequest, BatchPredictRequest):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        found.update(schema.pop("$defs", {}))
        found[model.__name__] = schema
    return found


REQUEST_SCHEMAS = _schemas()


def _binary(description: str, length: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "format": "binary", "description": description}
    if length is not None:
        schema["minLength"] = schema["maxLength"] = length
    return {"schema": schema}


def _body(model: str, raw: str, images: bool, query: type[BaseModel]) -> dict[str, Any]:
    content = {JSON: {"schema": {"$ref": f"#/components/schemas/{model}"}}, RAW: _binary(raw)}
    if images:
        content.update(
            {kind: _binary(f"a {kind.split('/')[1].upper()} picture of a digit") for kind in IMAGES}
        )
    return {"requestBody": {"required": True, "content": content}, "parameters": _parameters(query)}


ONE_RAW = (
    f"{PIXELS} pixels: {PIXELS} bytes (dtype=uint8, ink = 255) or {PIXELS * 4} bytes (dtype=float32, "
    "little-endian, in [0, 1]), row-major"
)
MANY_RAW = f"N inputs one after another, each as for /api/predict ({PIXELS} uint8 or {PIXELS} float32 values)"


@router.post(
    "",
    response_model=PredictResponse,
    responses=ERRORS,
    openapi_extra=_body("PredictRequest", ONE_RAW, images=True, query=PredictQuery),
)
async def predict(request: Request, models: ModelsDep, pictures: PicturesDep) -> Response:
    """Classify one input: JSON (784 pixels in [0, 1], or a PNG/JPEG as base64, to which MNIST's
    preprocessing is applied), raw pixels (application/octet-stream), or a PNG/JPEG body; the current
    model, or a run's model of an epoch. Options go in the JSON body or the query."""
    query = _query(request, PredictQuery, NO_QUERY)
    body = await request.body()
    kind = _media_type(request)
    image: str | bytes | None = None
    pixels: np.ndarray | None = None
    if kind == JSON:
        options, item = inputs.predict_request(inputs.parse_json(body))
        options = _over(query, options)
        pixels, image = item.pixels, item.image
    elif kind == RAW:
        options, pixels = query, inputs.raw_pixels(body, query.dtype, batch=False, max_batch=1)[0]
    elif kind in IMAGES:
        options, image = query, body
    else:
        raise ServiceError(
            "unsupported_media_type", accepted=f"{JSON}, {RAW}, {' or '.join(IMAGES)}", media_type=kind
        )
    model = await _model(models, options.run_id, options.epoch)
    if pixels is None:
        assert image is not None
        pixels = await pictures.pixels(image)
    pinned = _pinned(models, model)
    if options.explain:  # saliency: a backward pass per point of its path, milliseconds
        return await asyncio.to_thread(
            answers.single, model, pinned, pixels, True, options.return_pixels, options.target
        )
    return answers.single(model, pinned, pixels, False, options.return_pixels)


@batch_router.post(
    "/batch",
    response_model=BatchPredictResponse,
    responses=ERRORS,
    openapi_extra=_body("BatchPredictRequest", MANY_RAW, images=False, query=BatchQuery),
)
async def predict_batch(
    request: Request, models: ModelsDep, pictures: PicturesDep, settings: SettingsDep
) -> Response:
    """Classify up to DEEPLOOK_MAX_BATCH inputs in one forward pass: JSON, or N raw inputs
    (application/octet-stream) one after another."""
    query = _query(request, BatchQuery, NO_BATCH_QUERY)
    body = await request.body()
    kind = _media_type(request)
    if kind not in (JSON, RAW):
        raise ServiceError("unsupported_media_type", accepted=f"{JSON} or {RAW}", media_type=kind)
    return await asyncio.to_thread(_batch, body, kind, query, models, pictures, settings.max_batch)


@router.post(
    "/file",
    response_model=PredictResponse,
    responses=ERRORS,
    openapi_extra={
        "requestBody": {
            "content": {"multipart/form-data": {"encoding": {"file": {"contentType": ", ".join(IMAGES)}}}}
        }
    },
)
async def predict_file(
    file: UploadFile,
    models: ModelsDep,
    pictures: PicturesDep,
    settings: SettingsDep,
    run_id: Annotated[str | None, Form(pattern=RUN_ID_PATTERN)] = None,
    epoch: Annotated[int | None, Form(ge=0)] = None,
    return_pixels: Annotated[bool, Form(description=RETURN_PIXELS_HELP)] = False,
) -> Response:
    """Classify an uploaded PNG or JPEG file (multipart/form-data, field ``file``)."""
    model = await _model(models, run_id, epoch)
    data = await file.read(settings.max_body_bytes + 1)
    pixels = await pictures.pixels(data)
    return answers.single(model, _pinned(models, model), pixels, False, return_pixels)


def _batch(
    body: bytes, kind: str, query: BatchQuery, models: ModelRegistry, pictures: Pictures, max_batch: int
) -> Response:
    """A whole batch, off the event loop: parse, check, one forward pass, one serialisation."""
    if kind == JSON:
        options, items = inputs.batch_request(inputs.parse_json(body), max_batch)
        chosen = _over(query, options)
        model = models.get(chosen.run_id, chosen.epoch)
        batch = np.stack(
            [
                item.pixels if item.pixels is not None else pictures.decode(item.image or "", index)
                for index, item in enumerate(items)
            ]
        )
    else:
        batch = inputs.raw_pixels(body, query.dtype, batch=True, max_batch=max_batch)
        chosen = query
        model = models.get(chosen.run_id, chosen.epoch)
    return answers.batch(model, _pinned(models, model), batch, chosen.return_pixels)


def _over(query: Query, body: BaseModel) -> Query:
    """The query's options with those the JSON body gives put over them."""
    fields = type(query).model_fields
    given = {name: getattr(body, name) for name in body.model_fields_set if name in fields}
    return query.model_copy(update=given) if given else query


async def _model(models: ModelRegistry, run_id: str | None, epoch: int | None) -> ServingModel:
    """The model asked for; from the event loop when it is in memory, else from a thread."""
    model = models.at_hand(run_id, epoch)
    return model if model is not None else await asyncio.to_thread(models.get, run_id, epoch)


def _pinned(models: ModelRegistry, model: ServingModel) -> bool:
    """Whether this model answers because it is pinned (not because it was named)."""
    return model is models.current and models.pinned


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", JSON).partition(";")[0].strip().lower() or JSON
