// The server's words in the current language: ours from i18n.js when we have them, else the server's
// English from /api/info. A new activation, status or reason therefore shows at once, in English,
// and in Korean as soon as i18n.js has its keys.

import { architecture, integer, measure } from "./format.js";
import { has, t, tOr } from "./i18n.js";
import { byName, choiceRegistry } from "./registry.js";

/** A status's name for people: `status.<name>`. */
export function statusLabel(name) {
  return tOr(`status.${name}`, name);
}

/** Why a run is in its status: the template `reason.<code>` with its parameters, else the server's text. */
export function reasonText(run) {
  const code = run?.reason_code;
  if (!code) return run?.reason ?? "";
  const params = Object.fromEntries(
    Object.entries(run.reason_params ?? {}).map(([name, value]) => [
      name,
      typeof value === "number" ? (Number.isInteger(value) ? integer(value) : measure(value)) : String(value),
    ]),
  );
  return tOr(`reason.${code}`, run.reason ?? "", params);
}

export function datasetLabel(info, name) {
  return tOr(`dataset.${name}`, byName(info?.datasets, name)?.label ?? name);
}

/** A setting's label: `field.<name>`. */
export function fieldLabel(setting) {
  return tOr(`field.${setting.name}`, setting.name);
}

/** A setting's one-line help: `help.<name>`, else the server's. */
export function settingHelp(setting) {
  return tOr(`help.${setting.name}`, setting.help);
}

/** One choice of a choice setting: `<setting>.<value>`, else the registry's label, else the value. */
export function choiceLabel(info, setting, value) {
  const entry = byName(choiceRegistry(info, setting), value);
  return tOr(`${setting.name}.${value}`, entry?.label ?? value);
}

/** What a choice means: `explain.<setting>.<value>`, else the registry's description (or null). */
export function choiceExplanation(info, setting, value) {
  const entry = byName(choiceRegistry(info, setting), value);
  const key = `explain.${setting.name}.${value}`;
  return entry?.description == null && !has(key) ? null : tOr(key, entry?.description);
}

/** Whether a setting's field carries an explanation under it: its choices explain themselves, or
 * `explain.<setting>` exists. */
export function explains(info, setting) {
  if (has(`explain.${setting.name}`)) return true;
  const registry = choiceRegistry(info, setting);
  return registry != null && registry.some((entry) => entry.description);
}

/** The hint under the preset: `preset.<name>` when we have one, else the server's description. */
export function presetHint(preset) {
  return preset ? tOr(`preset.${preset.name}`, preset.description) : "";
}

/** A pace's name for people: `pace.<name>`. */
export function paceLabel(name) {
  return tOr(`pace.${name}`, name);
}

/** What a pace does: `explain.pace.<name>`. */
export function paceExplanation(name) {
  return tOr(`explain.pace.${name}`, "");
}

/** What distinguishes a run when it has no name: its preset (else its network) and its epochs. */
export function runDescription(run) {
  if (!run) return "";
  const model = run.config?.model;
  const what = run.preset ?? (model ? architecture(model) : run.id);
  return t("run.describe", { what, n: integer(run.epochs_total ?? run.config?.epochs ?? 0) });
}

/** A run's short name in lists and legends: its name, else what distinguishes it. */
export function runName(run) {
  return run?.name || runDescription(run);
}

/** A run's title: its name, else what distinguishes it (its id goes beside it, never alone). */
export function runTitle(run) {
  return runName(run);
}

/** A short line naming a run in lists: its name or description, then more, then its id. */
export function runLine(run, ...more) {
  return [runName(run), ...more, run.id].filter(Boolean).join(" · ");
}

/**
 * How long a run took (or has taken so far), the same on every tab: from its start to its end,
 * pauses included; null before it started.
 */
export function runDuration(run) {
  if (!run?.started_at) return null;
  return (run.finished_at ?? Date.now() / 1000) - run.started_at;
}

/**
 * A layer's name for people, from the run's config: "hidden 1 (50, sigmoid)", "output (10, softmax)".
 * `name` is the engine's (dense0, dense1...; "dense0.W" and "dense0.b" name its weights and biases).
 */
export function layerLabel(info, config, name) {
  const match = /^dense(\d+)(?:\.(W|b))?$/.exec(name ?? "");
  const model = config?.model;
  if (!match || !model) return name ?? "";
  const index = Number(match[1]);
  const hidden = model.hidden ?? [];
  let label;
  if (index < hidden.length) {
    const setting = byName(info?.settings, "activation");
    const activation = setting ? choiceLabel(info, setting, model.activation) : model.activation;
    label = t("layer.hidden", { n: integer(index + 1), units: integer(hidden[index]), activation });
  } else {
    label = t("layer.output", { units: integer(model.classes ?? 10) });
  }
  if (match[2]) label = t(match[2] === "W" ? "layer.weights" : "layer.biases", { layer: label });
  return label;
}

/**
 * A dense layer of a run's network by its index (0: the first hidden layer), as the page names
 * layers: "Hidden layer 1 (50 neurons, sigmoid)", and the last one "Output (10 classes)".
 */
export function layerName(info, model, index) {
  const hidden = model?.hidden ?? [];
  if (index >= hidden.length) return t("look.layer.output", { classes: integer(model?.classes ?? 0) });
  const setting = byName(info?.settings, "activation");
  const activation = setting ? choiceLabel(info, setting, model.activation) : model.activation;
  return t("look.layer.hidden", { n: integer(index + 1), units: integer(hidden[index]), activation });
}

/** A layer named by the API ("dense0", "dense1", ...) as `layerName` names it; other names as they are. */
export function namedLayer(info, model, name) {
  const match = /^dense(\d+)$/.exec(name ?? "");
  return match ? layerName(info, model, Number(match[1])) : (name ?? "");
}
