// Numbers, percentages, durations and run settings as text in the current language.

import { lang, t } from "./i18n.js";
import { applies, byName, configValue } from "./registry.js";

const cache = new Map();

function formatter(kind, options) {
  const key = `${lang()}|${kind}`;
  if (!cache.has(key)) cache.set(key, new Intl.NumberFormat(lang(), options));
  return cache.get(key);
}

export function integer(value) {
  return formatter("int", { maximumFractionDigits: 0 }).format(value);
}

export function percent(value, digits = 1) {
  if (value == null || !Number.isFinite(value)) return "–";
  return formatter(`pct${digits}`, {
    style: "percent",
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value);
}

/** A loss or other measurement: four significant digits. */
export function measure(value) {
  if (value == null || !Number.isFinite(value)) return "–";
  return formatter("measure", { maximumSignificantDigits: 4 }).format(value);
}

/** A hyperparameter as typed: 0.001 stays 0.001, 1e-5 stays 1e-5. */
export function setting(value) {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs < 1e-3 || abs >= 1e6) return value.toExponential().replace("e+", "e");
  return String(Number(value.toPrecision(6)));
}

/** Seconds as 0:42, 12:05 or 1:02:03. */
export function duration(seconds) {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return "–";
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

export function dateTime(epochSeconds) {
  const key = `${lang()}|date`;
  if (!cache.has(key)) {
    cache.set(key, new Intl.DateTimeFormat(lang(), { dateStyle: "medium", timeStyle: "short" }));
  }
  return cache.get(key).format(new Date(epochSeconds * 1000));
}

/** The network's shape, e.g. 784-256-128-10 relu. */
export function architecture(model) {
  return `${[model.input_size, ...model.hidden, model.classes].join("-")} ${model.activation}`;
}

/** One line describing a run's settings (momentum only where it applies, per info.settings). */
export function configSummary(config, settings = []) {
  const optimizer = config.optimizer;
  let text = `${optimizer.name} ${setting(optimizer.lr)}`;
  if (optimizer.lr_decay !== 1) text += ` ×${setting(optimizer.lr_decay)}`;
  const momentum = byName(settings, "momentum");
  const valueOf = (other) => configValue(config, other);
  if (momentum && applies(settings, momentum, valueOf) && optimizer.momentum > 0) {
    text += ` m${setting(optimizer.momentum)}`;
  }
  return [
    architecture(config.model),
    text,
    t("config.batch", { n: config.batch_size }),
    t("config.epochs", { n: config.epochs }),
  ].join(" · ");
}
