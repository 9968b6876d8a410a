// The words of a stage: its title and what it means and why, in the current language, filled with
// the numbers of this trace (layer sizes, the batch size, the largest slope, Adam's corrections...).
// Keys: step.title.<kind> and step.why.<kind>, with step.why.<kind>.<activation or optimizer>
// where the text depends on it (a new activation falls back to the generic text).

import { integer, measure, percent } from "./format.js";
import { has, t } from "./i18n.js";
import { byName, healthRule } from "./registry.js";
import { choiceLabel } from "./words.js";

/** The optimizer as the update stage explains it: sgd, momentum (SGD with a velocity) or adam. */
export function updateKind(trace) {
  if (trace.optimizer !== "sgd") return trace.optimizer;
  return trace.arrays.some((traced) => traced.name.startsWith("velocity_")) ? "momentum" : "sgd";
}

/** The same for a run's settings (null before they are known). */
export function configKind(config) {
  const optimizer = config?.optimizer;
  if (!optimizer) return null;
  return optimizer.name === "sgd" && optimizer.momentum > 0 ? "momentum" : optimizer.name;
}

/** The activation's name for people. */
export function activationLabel(info, name) {
  const setting = byName(info?.settings, "activation");
  return setting ? choiceLabel(info, setting, name) : name;
}

/**
 * An optimizer kind's name for people: the server's optimizer registry names sgd, adam (and any
 * other it serves); "momentum" is SGD with a velocity, which it has no entry of its own for.
 */
export function optimizerLabel(info, kind) {
  const setting = byName(info?.settings, "optimizer");
  const label = (name) => (setting ? choiceLabel(info, setting, name) : name);
  return kind === "momentum" ? t("step.optimizer.momentum", { sgd: label("sgd") }) : label(kind);
}

/** A key with a more precise variant (`<key>.<variant>`) when the dictionary has one. */
function variant(key, name) {
  return has(`${key}.${name}`) ? `${key}.${name}` : key;
}

/**
 * A stage's title and explanation, {title, paragraphs}. `context`: {stage, trace, info, run (its
 * summary), matrix(name) -> Matrix}.
 */
export function stageWords(context) {
  const { stage, trace } = context;
  const params = stageParams(context);
  const kind = stage.kind;
  const paragraphs = [];
  if (kind === "activation" || kind === "da") {
    paragraphs.push(t(variant(`step.why.${kind}`, trace.activation), params));
  } else if (kind === "update") {
    paragraphs.push(t(`step.why.update.${updateKind(trace)}`, params));
    if (params.ratio) paragraphs.push(t("step.why.ratio", params));
  } else {
    paragraphs.push(t(`step.why.${kind}`, params));
  }
  if (kind === "dW" && stage.layer === 1) paragraphs.push(t("step.why.dW.blank"));
  if (kind === "db" && stage.layer === 1 && trace.layers > 1) paragraphs.push(t("step.why.db.slip", params));
  if (kind === "softmax") paragraphs.push(t("step.why.softmax.always", params));
  const titleKey =
    kind === "affine" && stage.layer === trace.layers ? "step.title.affine.output" : `step.title.${kind}`;
  const title = t(titleKey, { ...params, optimizer: optimizerLabel(context.info, updateKind(trace)) });
  return { title, paragraphs };
}

function stageParams({ stage, trace, info, run, matrix }) {
  const shape = (name) => matrix(name)?.shape ?? [];
  const n = trace.labels.length;
  const classes = shape("y_hat")[1] ?? 0;
  const layer = stage.layer;
  const [first, second] = stage.inputs;
  const params = {
    n: integer(n),
    k: layer ?? "",
    j: layer ?? "",
    layers: trace.layers,
    L: trace.layers,
    classes: integer(classes),
    chance: measure(Math.log(classes)),
    activation: activationLabel(info, trace.activation),
    input: first ?? "",
    d: (stage.kind === "dW" ? second : first) ?? "",
    steps: integer(trace.losses.length - 1),
    lr: measure(trace.lr),
  };
  if (stage.kind === "input") params.pixels = integer(shape("X")[1] ?? 0);
  if (stage.kind === "affine") {
    params.units = integer(shape(stage.output)[1] ?? 0);
    params.inputs = integer(shape(first)[1] ?? 0);
    params.out = stage.output;
  }
  if (stage.kind === "dz") params.next = integer(shape(second)[1] ?? 0);
  if (stage.kind === "loss") params.loss = measure(trace.losses[0]);
  if (stage.kind === "da") Object.assign(params, slopeParams(info, trace, matrix(first)));
  if (stage.kind === "update") Object.assign(params, updateParams(stage, run, matrix));
  return params;
}

/** The activation's slope in this trace: its largest value, the share of zeros, the flat thresholds. */
function slopeParams(info, trace, slope) {
  const rule = healthRule(info, trace.activation);
  const params = { max: slope ? measure(slope.max) : "–", min: slope ? measure(slope.min) : "–" };
  if (rule.kind === "saturated" && rule.low != null) {
    params.low = measure(rule.low);
    params.high = measure(rule.high);
    params.slope = measure(rule.low * (1 - rule.low));
  }
  if (slope?.exact) {
    let zeros = 0;
    for (const v of slope.values) if (v === 0) zeros += 1;
    params.zeros = percent(zeros / slope.values.length, 0);
  } else {
    params.zeros = "–";
  }
  return params;
}

/** The optimizer's settings, Adam's first-step corrections, and the update/weight ratio. */
function updateParams(stage, run, matrix) {
  const optimizer = run?.config?.optimizer ?? {};
  const beta1 = optimizer.beta1 ?? 0.9;
  const beta2 = optimizer.beta2 ?? 0.999;
  const before = matrix(`${stage.param} before`)?.norm();
  const step = matrix(`step_${stage.param}`)?.norm();
  return {
    param: stage.param,
    momentum: measure(optimizer.momentum ?? 0),
    beta1: measure(beta1),
    beta2: measure(beta2),
    c1: measure(1 / (1 - beta1)),
    c2: measure(1 / (1 - beta2)),
    ratio: before > 0 && step != null ? (step / before).toExponential(2) : "",
  };
}

/** A stage's short name in the list of stages: the array it computes, or what it does. */
export function railLabel(stage, trace) {
  if (stage.kind === "update") return stage.param;
  if (stage.kind === "train") return t("step.rail.train", { k: integer(trace.losses.length - 1) });
  return stage.id;
}
