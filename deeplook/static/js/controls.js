// The new-run form, built from the server's settings table (GET /api/info `settings`): one field per
// setting in the server's order, the advanced ones under "More settings", a field shown only while
// the setting it depends on has one of its values. Presets fill every field, any field can be
// changed, and the API's validation messages appear next to the field they are about.

import { ApiError, api } from "./api.js";
import { element } from "./dom.js";
import { describeError, fieldMessage } from "./errors.js";
import { setting as settingText } from "./format.js";
import { has, onLangChange, t } from "./i18n.js";
import { applies, byName, configValue } from "./registry.js";
import {
  choiceExplanation,
  choiceLabel,
  explains,
  fieldLabel,
  presetHint,
  settingHelp,
} from "./words.js";

const NUMERIC = new Set(["integer", "number"]);
// The settings explained in a line under their field: what a learner should read before pressing
// Start, while the form stays one screen tall. Every other field has its help and, for a choice,
// the chosen value's explanation as its tooltip and screen-reader description.
const EXPLAINED = new Set(["activation", "lr", "init"]);

/** A setting's value as its field shows it. */
function asText(setting, value) {
  if (value == null) return "";
  if (setting.kind === "sizes") return value.join(", ");
  if (setting.kind === "number") return settingText(value);
  return String(value);
}

/** The numbers of a sizes field ("256, 128" or "256 128"), or null when it holds anything else. */
function parseSizes(text) {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  return parts.length && parts.every((part) => /^\d+$/.test(part)) ? parts.map(Number) : null;
}

/** Whether a field's text says the same as the preset's value (0.10 is 0.1; "256,128" is "256, 128"). */
function same(setting, text, value) {
  if (NUMERIC.has(setting.kind)) {
    if (value == null) return text.trim() === "";
    return text.trim() !== "" && Number(text) === Number(value);
  }
  if (setting.kind === "sizes") return parseSizes(text)?.join(",") === value.join(",");
  return text === value;
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

/** One setting's field: label, input or select, help for screen readers, error, explanation. */
function buildField(setting) {
  const id = `f-${setting.name}`;
  const box = element("div", "field");
  box.dataset.setting = setting.name;
  box.dataset.kind = setting.kind;
  const label = element("label");
  label.htmlFor = id;
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
  input.id = id;
  input.dataset.field = setting.name;
  const help = element("p", "visually-hidden");
  help.id = `help-${setting.name}`;
  help.dataset.helpFor = setting.name;
  const error = element("p", "field-error");
  error.id = `err-${setting.name}`;
  error.dataset.errorFor = setting.name;
  error.hidden = true;
  const described = [help.id, error.id];
  box.append(label, input, help, error);
  return { box, input, label, help, described };
}

export class RunForm {
  constructor(form, store) {
    this.form = form;
    this.store = store;
    this.settings = []; // info.settings
    this.parts = new Map(); // setting name -> {box, input, label, help, explain}
    this.fields = {}; // name -> input or select: preset, name and every setting
    for (const input of form.querySelectorAll("[data-field]")) this.fields[input.dataset.field] = input;
    this.startButton = form.querySelector("[data-start]");
    this.submitting = false;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.fields.preset.addEventListener("change", () => this.applyPreset());
    form.addEventListener("input", (event) => this.onEdit(event.target));
    form.addEventListener("change", (event) => this.onEdit(event.target));
    store.addEventListener("info", () => this.build());
    for (const event of ["info", "reset", "run"]) store.addEventListener(event, () => this.renderBusy());
    onLangChange(() => this.renderTexts());
  }

  get info() {
    return this.store.info;
  }

  get preset() {
    return byName(this.info?.presets, this.fields.preset.value);
  }

  /** The fields, once the settings are known: the main ones, then the advanced ones. */
  build() {
    const info = this.info;
    this.settings = info.settings;
    this.parts.clear();
    const main = [];
    const advanced = [];
    for (const setting of this.settings) {
      const part = buildField(setting);
      if (EXPLAINED.has(setting.name) && explains(info, setting)) {
        part.explain = element("p", "hint wide explain");
        part.explain.id = `explain-${setting.name}`;
        part.explain.dataset.explainFor = setting.name;
        part.described.push(part.explain.id);
      }
      part.input.setAttribute("aria-describedby", part.described.join(" "));
      this.parts.set(setting.name, part);
      this.fields[setting.name] = part.input;
      const nodes = part.explain ? [part.box, part.explain] : [part.box];
      (setting.advanced ? advanced : main).push(...nodes);
    }
    this.form.querySelector("[data-settings]").replaceChildren(...main);
    this.form.querySelector("[data-settings-advanced]").replaceChildren(...advanced);
    const preset = this.fields.preset;
    preset.replaceChildren(...info.presets.map(({ name }) => new Option(name, name)));
    preset.value = info.default_preset;
    this.renderTexts();
    this.applyPreset();
  }

  applyPreset() {
    const config = this.preset?.config;
    if (!config) return;
    for (const setting of this.settings) {
      this.fields[setting.name].value = asText(setting, configValue(config, setting));
    }
    this.clearErrors();
    this.onEdit(null);
  }

  /** The value a setting's field holds now, as the API names it (for applies_when). */
  valueOf(setting) {
    return this.fields[setting.name]?.value;
  }

  applies(setting) {
    return applies(this.settings, setting, (other) => this.valueOf(other));
  }

  onEdit(target) {
    if (target?.dataset?.field) this.showFieldError(target.dataset.field, "");
    for (const setting of this.settings) this.parts.get(setting.name).box.hidden = !this.applies(setting);
    this.layout();
    const config = this.preset?.config;
    const modified =
      config != null &&
      this.settings.some(
        (setting) =>
          this.applies(setting) &&
          !same(setting, this.fields[setting.name].value, configValue(config, setting)),
      );
    this.form.querySelector("[data-preset-modified]").hidden = !modified;
    this.form.querySelector("[data-preset-hint]").textContent = presetHint(this.preset);
    this.renderExplanations();
  }

  /**
   * Two fields a row, each row followed by its fields' explanations: a grid order over what is
   * shown (the DOM keeps the settings' order, so the tab order does not move under the pointer).
   */
  layout() {
    for (const group of [false, true]) {
      let order = 0;
      let row = [];
      const flush = () => {
        for (const part of row) if (part.explain) part.explain.style.order = String(order++);
        row = [];
      };
      for (const setting of this.settings) {
        if (setting.advanced !== group) continue;
        const part = this.parts.get(setting.name);
        if (part.box.hidden) continue;
        part.box.style.order = String(order++);
        row.push(part);
        if (row.length === 2) flush();
      }
      flush();
    }
  }

  renderTexts() {
    const info = this.info;
    for (const setting of this.settings) {
      const part = this.parts.get(setting.name);
      part.label.textContent = fieldLabel(setting);
      if (setting.kind === "choice") {
        for (const option of part.input.options) option.textContent = choiceLabel(info, setting, option.value);
      }
      if (setting.optional) part.input.placeholder = t("form.auto");
    }
    this.form.querySelector("[data-preset-hint]").textContent = presetHint(this.preset);
    this.startButton.textContent = t(this.submitting ? "form.starting" : "form.start");
    this.renderExplanations();
    this.renderBusy();
  }

  /**
   * A field's help and explanation (of its chosen value for a choice, else of the setting): under
   * the field for the few explained there, else in its tooltip and screen-reader description.
   */
  renderExplanations() {
    for (const setting of this.settings) {
      const part = this.parts.get(setting.name);
      const text =
        setting.kind === "choice"
          ? choiceExplanation(this.info, setting, this.valueOf(setting))
          : has(`explain.${setting.name}`)
            ? t(`explain.${setting.name}`)
            : null;
      const help = settingHelp(setting);
      if (part.explain) {
        part.explain.textContent = text ?? "";
        part.explain.hidden = !text || part.box.hidden;
        part.help.textContent = help;
        part.input.title = help;
      } else {
        part.help.textContent = [help, text].filter(Boolean).join(". ");
        part.input.title = [help, text].filter(Boolean).join("\n\n");
      }
    }
  }

  renderBusy() {
    this.form.querySelector("[data-busy-note]").hidden = !this.store.isActive(this.store.run);
  }

  /** The request body, or null after marking the fields that cannot be read. */
  read() {
    const body = { preset: this.fields.preset.value };
    const name = this.fields.name.value.trim();
    if (name) body.name = name;
    let ok = true;
    const fail = (setting, key) => {
      this.showFieldError(setting.name, t(key));
      ok = false;
    };
    for (const setting of this.settings) {
      if (!this.applies(setting)) continue; // no effect with the other settings as they are
      const text = this.fields[setting.name].value.trim();
      if (setting.kind === "choice") {
        body[setting.name] = text;
      } else if (setting.kind === "sizes") {
        const sizes = parseSizes(text);
        if (sizes) body[setting.name] = sizes;
        else fail(setting, "error.sizes");
      } else if (text === "" && setting.optional) {
        // not given: chosen by the server
      } else {
        const value = Number(text);
        if (text === "" || !Number.isFinite(value)) fail(setting, "error.number");
        else if (setting.kind === "integer" && !Number.isInteger(value)) fail(setting, "error.integer");
        else body[setting.name] = value;
      }
    }
    return ok ? body : null;
  }

  async submit() {
    if (this.submitting || !this.info) return;
    this.clearErrors();
    const body = this.read();
    if (!body) {
      this.focusFirstError();
      return;
    }
    this.submitting = true;
    this.startButton.disabled = true;
    this.renderTexts();
    try {
      const summary = await api.start(body);
      this.store.applyStatus(summary);
    } catch (error) {
      this.showApiError(error);
    } finally {
      this.submitting = false;
      this.startButton.disabled = false;
      this.renderTexts();
    }
  }

  showApiError(error) {
    const fields = error instanceof ApiError ? error.fields : {};
    let placed = false;
    for (const [name, problems] of Object.entries(fields)) {
      if (!(name in this.fields)) continue;
      this.showFieldError(name, problems.map(fieldMessage).join(" "));
      placed = true;
    }
    if (placed) {
      this.focusFirstError();
      return;
    }
    const message = this.form.querySelector("[data-form-error]");
    message.textContent = describeError(error);
    message.hidden = false;
  }

  showFieldError(name, text) {
    const message = this.form.querySelector(`[data-error-for="${name}"]`);
    const field = this.fields[name];
    if (!message || !field) return;
    message.textContent = text;
    message.hidden = !text;
    if (text) {
      field.setAttribute("aria-invalid", "true");
      const more = field.closest("details");
      if (more) more.open = true;
    } else {
      field.removeAttribute("aria-invalid");
    }
  }

  clearErrors() {
    for (const name of Object.keys(this.fields)) this.showFieldError(name, "");
    const message = this.form.querySelector("[data-form-error]");
    message.textContent = "";
    message.hidden = true;
  }

  focusFirstError() {
    const invalid = this.form.querySelector("[aria-invalid='true']");
    invalid?.focus();
  }
}
