// API errors as sentences for the person using the page.

import { integer } from "./format.js";
import { has, lang, t } from "./i18n.js";
import { statusLabel } from "./words.js";

/**
 * One line for a failed call: ours for its `code` (`error.<code>`, filled with its params) when we
 * have it, else the server's own English words, or ours for the cases it cannot explain.
 */
export function describeError(error) {
  const status = error?.status;
  if (status === 0) return t("error.network");
  if (status === 401) return t("token.needed");
  if (status === 403) return t("token.wrong");
  const code = error?.code;
  if (code && has(`error.${code}`)) return t(`error.${code}`, errorParams(error));
  if (typeof error?.detail === "string" && error.detail) return error.detail;
  if (Array.isArray(error?.detail) && error.detail.length) return String(error.detail[0].msg ?? "");
  return t("error.server", { status: status ?? "?" });
}

const TRANSLATED = new Set(["greater_than", "greater_than_equal", "less_than", "less_than_equal"]);

/** A validation message from the API: as sent in English; in another language when we know its type. */
export function fieldMessage({ msg, type }) {
  if (lang() === "en") return msg;
  const number = msg.match(/-?\d+(\.\d+)?(e-?\d+)?/i)?.[0];
  if (number != null && (TRANSLATED.has(type) || type === "too_short" || type === "too_long")) {
    return t(`val.${type}`, { n: number });
  }
  return msg;
}

/** An error's params as its template quotes them: statuses in words, numbers formatted. */
function errorParams(error) {
  const params = {};
  for (const [name, value] of Object.entries(error.params ?? {})) {
    if (name === "status") params[name] = statusLabel(String(value));
    else params[name] = typeof value === "number" ? integer(value) : String(value);
  }
  if (error.retryAfter != null) params.retry = integer(error.retryAfter);
  return params;
}
