// The stages of a traced step, in the order the notebook teaches them, derived from the trace's own
// arrays (so a deeper network gets its a3, z3, dW3 ... stages and Adam its moments): forward (X, then
// per layer the affine sums and the activation, then softmax), the loss, backward (one stage per
// gradient, the activation's slope shown inside da), the update of each parameter, and k steps.
// Also what a stage's shapes are, and what the rows and columns of each array stand for.

import { integer } from "./format.js";
import { t } from "./i18n.js";
import { shapeText } from "./matrix.js";

const KINDS = [
  [/^X$/, "input"],
  [/^a\d+$/, "affine"],
  [/^z\d+$/, "activation"],
  [/^y_hat$/, "softmax"],
  [/^Loss$/, "loss"],
  [/^dy$/, "dy"],
  [/^dW\d+$/, "dW"],
  [/^db\d+$/, "db"],
  [/^dz\d+$/, "dz"],
  [/^da\d+$/, "da"],
];
const FOLDED = /^t$|_grad\(/; // t is shown with the loss, the activation's slope with da
const PARAMETER = /^[Wb]\d+$/;

function kindOf(name) {
  return KINDS.find(([pattern]) => pattern.test(name))?.[1] ?? "other";
}

/** The layer a name belongs to: 2 for a2, dW2, step_W2, W2 before; null for X, y_hat, Loss... */
export function layerOf(name) {
  const match = name.match(/[Wbaz](\d+)(\)| before)?$/);
  return match ? Number(match[1]) : null;
}

/** The weights the forward and backward passes used are the ones from before the update. */
function used(name) {
  return PARAMETER.test(name) ? `${name} before` : name;
}

/** [{id, phase, kind, output, inputs, layer}] for a trace (the API's TraceOut). */
export function stagesOf(trace) {
  const stages = [];
  for (const traced of trace.arrays) {
    if (traced.stage === "update" || FOLDED.test(traced.name)) continue;
    const { name } = traced;
    stages.push({
      id: name,
      phase: traced.stage,
      kind: kindOf(name),
      output: name,
      inputs: traced.inputs.map(used),
      layer: layerOf(name),
    });
  }
  for (const traced of trace.arrays) {
    if (!traced.name.endsWith(" before")) continue;
    const param = traced.name.slice(0, -" before".length);
    const steps = trace.arrays
      .filter((other) => other.stage === "update" && new RegExp(`^(m|v|velocity|step)_${param}$`).test(other.name))
      .map((other) => other.name);
    stages.push({
      id: `update-${param}`,
      phase: "update",
      kind: "update",
      output: param,
      inputs: [traced.name, `d${param}`, ...steps],
      layer: layerOf(param),
      param,
    });
  }
  stages.push({ id: "train", phase: "train", kind: "train", output: null, inputs: [], layer: null });
  return stages;
}

/** The sizes of the shapes a stage combines, e.g. (5, 784)·(784, 50) + (50,) → (5, 50). */
export function shapeLine(stage, shapeOf) {
  const s = (name) => shapeText(shapeOf(name));
  const transposed = (name) => shapeText([...shapeOf(name)].reverse());
  const [a, b, c] = stage.inputs;
  const out = stage.output ? s(stage.output) : "";
  switch (stage.kind) {
    case "input":
      return out;
    case "affine":
      return `${s(a)}·${s(b)} + ${s(c)} → ${out}`;
    case "activation":
    case "softmax":
      return `${s(a)} → ${out}`;
    case "loss":
      return `${s(a)}, ${s(b)} → ${out}`;
    case "dy":
      return `(${s(a)} − ${s(b)}) / ${shapeOf(a)[0]} → ${out}`;
    case "dW":
      return `${transposed(a)}·${s(b)} → ${out}`;
    case "db":
      return `Σ ${s(a)} → ${out}`;
    case "dz":
      return `${s(a)}·${transposed(b)} → ${out}`;
    case "da":
      return `${s(a)} ⊙ ${s(b)} → ${out}`;
    case "update":
      return `${s(a)} − ${s(stage.inputs.at(-1))} → ${out}`;
    default:
      return "";
  }
}

const BATCH_ROWS = /^(X|t|y_hat|dy|[az]\d+|d[az]\d+|\w+_grad\(a\d+\))$/;

/**
 * What row `row` and column `col` of an array stand for, as a short text: the image of the batch
 * (and its label), the pixel, the neuron of a layer, the class. `context`: {layers, labels,
 * indices, classNames, imageShape}.
 */
export function describer(name, context) {
  const { layers, labels, indices, classNames, imageShape } = context;
  const unit = (layer, i) =>
    layer === layers ? t("step.axis.class", { label: classNames[i] ?? i }) : t("step.axis.unit", { i, k: layer });
  const input = (layer, i) => {
    if (layer > 1) return unit(layer - 1, i);
    const width = imageShape[1];
    return t("step.axis.pixel", { i, r: Math.floor(i / width), c: i % width });
  };
  const image = (i) =>
    t(indices[i] == null ? "step.axis.drawing" : "step.axis.image", {
      i,
      label: classNames[labels[i]] ?? labels[i],
      index: indices[i] == null ? "" : integer(indices[i]),
    });
  if (BATCH_ROWS.test(name)) {
    const layer = name === "X" ? 0 : ["t", "y_hat", "dy"].includes(name) ? layers : layerOf(name);
    return (row, col) => `${image(row)} · ${layer === 0 ? input(1, col) : unit(layer, col)}`;
  }
  const layer = layerOf(name);
  if (layer == null) return () => "";
  if (/(^|_|d)W\d+( before)?$/.test(name)) return (row, col) => `${input(layer, row)} → ${unit(layer, col)}`;
  return (row, col) => unit(layer, col); // a bias (or its gradient, moments, step)
}
