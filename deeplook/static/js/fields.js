// The inputs of run settings, as GET /api/info describes them: building one (a select for a choice,
// a number or text input otherwise, with the bounds it can state), showing a value in it, and
// reading it back as the API wants it.

import { element } from "./dom.js";
import { setting as settingText } from "./format.js";

const NUMERIC = new Set(["integer", "number"]);

/** A setting's value as its field shows it. */
export function asText(setting, value) {
  if (value == null) return "";
  if (setting.kind === "sizes") return value.join(", ");
  if (setting.kind === "number") return settingText(value);
  return String(value);
}

/** The numbers of a sizes field ("256, 128" or "256 128"), or null when it holds anything else. */
export function parseSizes(text) {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  return parts.length && parts.every((part) => /^\d+$/.test(part)) ? parts.map(Number) : null;
}

/** Whether a field's text says the same as the preset's value (0.10 is 0.1; "256,128" is "256, 128"). */
export function same(setting, text, value) {
  if (NUMERIC.has(setting.kind)) {
    if (value == null) return text.trim() === "";
    return text.trim() !== "" && Number(text) === Number(value);
  }
  if (setting.kind === "sizes") return parseSizes(text)?.join(",") === value.join(",");
  return text === value;
}

/**
 * A field's text as the API's value: {value}, {empty: true} for an optional setting left blank, or
 * {error} with the key of what is wrong.
 */
export function readValue(setting, raw) {
  const text = raw.trim();
  if (setting.kind === "choice") return { value: text };
  if (setting.kind === "sizes") {
    const sizes = parseSizes(text);
    return sizes ? { value: sizes } : { error: "error.sizes" };
  }
  if (text === "" && setting.optional) return { empty: true };
  const value = Number(text);
  if (text === "" || !Number.isFinite(value)) return { error: "error.number" };
  if (setting.kind === "integer" && !Number.isInteger(value)) return { error: "error.integer" };
  return { value };
}

/** The bounds an <input type=number> can state (an exclusive bound only for whole numbers). */
function inputBounds(setting) {
  const bounds = {};
  const integer = setting.kind === "integer";
  if (setting.minimum != null && (integer || !setting.exclusive_minimum)) {
    bounds.min = setting.minimum + (setting.exclusive_minimum ? 1 : 0);
  }
  if (setting.maximum != null && (integer || !setting.exclusive_maximum)) {
    bounds.max = setting.maximum - (setting.exclusive_maximum ? 1 : 0);
  }
  return bounds;
}

/** The input (or select) of one setting, without label. */
export function buildInput(setting) {
  let input;
  if (setting.kind === "choice") {
    input = element("select");
    input.append(...setting.choices.map((choice) => new Option(choice, choice)));
  } else {
    input = element("input");
    input.autocomplete = "off";
    input.spellcheck = false;
    if (setting.kind === "sizes") {
      input.type = "text";
      input.inputMode = "numeric";
    } else {
      input.type = "number";
      input.step = setting.kind === "integer" ? "1" : "any";
      input.inputMode = setting.kind === "integer" ? "numeric" : "decimal";
      for (const [name, value] of Object.entries(inputBounds(setting))) input[name] = String(value);
    }
  }
  return input;
}
