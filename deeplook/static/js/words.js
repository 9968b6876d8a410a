// The server's words in the current language: ours from i18n.js when we have them, else the server's
// English from /api/info. A new activation, status or reason therefore shows at once, in English,
// and in Korean as soon as i18n.js has its keys.

import { integer, measure } from "./format.js";
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

/** A run's short name in lists and legends: its name, else its id. */
export function runName(run) {
  return run?.name || run?.id || "";
}

/** A run's title: its id, and its name when it has one. */
export function runTitle(run) {
  return run.name ? t("run.named", { id: run.id, name: run.name }) : t("run.label", { id: run.id });
}

/** A short line naming a run in lists: id, then its name or preset. */
export function runLine(run, ...more) {
  return [run.id, run.name ?? run.preset ?? "", ...more].filter(Boolean).join(" · ");
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
