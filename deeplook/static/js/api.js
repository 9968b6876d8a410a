// Every call to the REST API: JSON in and out, the bearer token on mutating calls, errors as ApiError.

const TOKEN_KEY = "deeplook.token";

/**
 * A failed call: `status` (0 when the server could not be reached), the server's English `detail`,
 * its stable `code` with the `params` its text quotes (null for validation errors), and for a 429
 * the seconds the server asks to wait (`retryAfter`).
 */
export class ApiError extends Error {
  constructor(status, detail, { code = null, params = {}, retryAfter = null } = {}) {
    super(typeof detail === "string" ? detail : `HTTP ${status}`);
    this.status = status;
    this.detail = detail;
    this.code = code;
    this.params = params ?? {};
    this.retryAfter = retryAfter;
  }

  /** Field errors of a 422 as {field: [{msg, type}]}; the field is the first name after "body". */
  get fields() {
    const fields = {};
    if (!Array.isArray(this.detail)) return fields;
    for (const item of this.detail) {
      const loc = Array.isArray(item.loc) ? item.loc : [];
      const field = loc[0] === "body" ? loc[1] : loc[loc.length - 1];
      if (typeof field !== "string") continue;
      (fields[field] ??= []).push({ msg: String(item.msg ?? ""), type: String(item.type ?? "") });
    }
    return fields;
  }
}

let memoryToken = ""; // used only when localStorage refuses (private mode)

export function getToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) || memoryToken;
  } catch {
    return memoryToken;
  }
}

export function setToken(token) {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    memoryToken = token;
  }
}

async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") {
    const token = getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
  }
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch (error) {
    throw new ApiError(0, error instanceof Error ? error.message : String(error));
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const retry = Number(response.headers.get("Retry-After"));
    throw new ApiError(response.status, data?.detail ?? `HTTP ${response.status}`, {
      code: typeof data?.code === "string" ? data.code : null,
      params: data?.params,
      retryAfter: Number.isFinite(retry) && retry > 0 ? retry : null,
    });
  }
  return data;
}

const runPath = (id) => `/api/runs/${encodeURIComponent(id)}`;

export const api = {
  info: () => request("GET", "/api/info"),
  runs: () => request("GET", "/api/runs"),
  run: (id) => request("GET", runPath(id)),
  /** Every step and epoch of a run (GET /api/runs/{id} downsamples long runs). */
  metrics: (id) => request("GET", `${runPath(id)}/metrics`),
  start: (settings) => request("POST", "/api/runs", settings),
  /** Change a run: {lr, pace, name}; lr and pace take effect between two steps. */
  change: (id, changes) => request("PATCH", runPath(id), changes),
  /** Train exactly one step, then stay paused. */
  step: (id) => request("POST", `${runPath(id)}/step`),
  pause: (id) => request("POST", `${runPath(id)}/pause`),
  resume: (id) => request("POST", `${runPath(id)}/resume`),
  stop: (id) => request("POST", `${runPath(id)}/stop`),
  remove: (id) => request("DELETE", runPath(id)),

  // -- races: runs trained side by side from the same start --
  startRace: (body) => request("POST", "/api/races", body),
  race: (id) => request("GET", `/api/races/${encodeURIComponent(id)}`),
  stopRace: (id) => request("POST", `/api/races/${encodeURIComponent(id)}/stop`),
  /** Classify a picture (a data URL); `runId` null means the current model. */
  predict: (image, runId = null) => request("POST", "/api/predict", { image, return_pixels: true, ...(runId ? { run_id: runId } : {}) }),
  csvUrl: (id) => `${runPath(id)}/metrics.csv`,
  /** Classify an image's pixel values in [0, 1] (row-major) with every layer's activations and the units' contributions. */
  explain: (pixels, runId = null) =>
    request("POST", "/api/predict", { pixels, explain: true, ...(runId ? { run_id: runId } : {}) }),

  // -- look inside a run (epoch null: the latest) --
  /** First-layer weights as float16 images; `live` while training: as they are right now. */
  weights: (id, { epoch = null, offset = 0, limit = 64, live = false } = {}) =>
    request("GET", `${runPath(id)}/weights${query({ epoch, offset, limit, live: live || null })}`),
  inspect: (id, epoch = null) => request("GET", `${runPath(id)}/inspect${query({ epoch })}`),
  health: (id) => request("GET", `${runPath(id)}/health`),
  confusion: (id, epoch = null) => request("GET", `${runPath(id)}/confusion${query({ epoch })}`),
  /** The most confident mistakes, or one confusion cell's images (`trueClass`, `predicted`). */
  misclassified: (id, { epoch = null, trueClass = null, predicted = null, limit = 60 } = {}) =>
    request(
      "GET",
      `${runPath(id)}/misclassified${query({ epoch, true: trueClass, predicted, limit })}`,
    ),
  testImages: (dataset, offset = 0, limit = 24) =>
    request("GET", `/api/datasets/${encodeURIComponent(dataset)}/test${query({ offset, limit })}`),

  // -- step by step: one training step of a run, number by number (never changes the run) --
  /** Training images: from `offset`, or the `indices` asked for. */
  trainImages: (dataset, { offset = 0, limit = 24, indices = null } = {}) =>
    request(
      "GET",
      `/api/datasets/${encodeURIComponent(dataset)}/train${query(indices ? { indices: indices.join(",") } : { offset, limit })}`,
    ),
  /** Every array of one step: {epoch, indices, images: [{image, label}], steps, lr, full}. */
  trace: (id, body) => request("POST", `${runPath(id)}/trace`, body),
  /** One weight's derivative by backpropagation and by ±eps: {epoch, indices, images, param, index}. */
  gradientCheck: (id, body) => request("POST", `${runPath(id)}/gradient-check`, body),
};

/** "?a=1&b=2" from the parameters that are not null ("" when none are). */
function query(params) {
  const pairs = Object.entries(params).filter(([, value]) => value != null);
  return pairs.length ? `?${new URLSearchParams(pairs.map(([k, v]) => [k, String(v)]))}` : "";
}
