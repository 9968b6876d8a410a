// The new-run form: presets fill every field, any field can be changed, the API's validation
// messages appear next to the field they are about.

import { ApiError, api } from "./api.js";
import { describeError, fieldMessage } from "./errors.js";
import { setting } from "./format.js";
import { has, onLangChange, t } from "./i18n.js";
import { isActive } from "./store.js";

const NUMBERS = ["init_std", "lr", "lr_decay", "momentum"];
const INTEGERS = ["batch_size", "epochs", "seed"];
const CHOICES = ["dataset", "activation", "init", "optimizer"];

/** The form's fields as the API's RunCreate names them, from a preset's full config. */
function fromConfig(config) {
  return {
    dataset: config.dataset,
    hidden: config.model.hidden.join(", "),
    activation: config.model.activation,
    init: config.model.init,
    init_std: setting(config.model.init_std),
    optimizer: config.optimizer.name,
    lr: setting(config.optimizer.lr),
    lr_decay: setting(config.optimizer.lr_decay),
    momentum: setting(config.optimizer.momentum),
    batch_size: String(config.batch_size),
    epochs: String(config.epochs),
    seed: String(config.seed),
  };
}

/** Whether a field's text says the same as the preset's (0.10 is 0.1; "256,128" is "256, 128"). */
function same(name, text, preset) {
  if (NUMBERS.includes(name) || INTEGERS.includes(name)) {
    return text.trim() !== "" && Number(text) === Number(preset);
  }
  if (name === "hidden") return text.split(/[\s,]+/).filter(Boolean).join(",") === preset.replace(/ /g, "");
  return text === preset;
}

export class RunForm {
  constructor(form, store) {
    this.form = form;
    this.store = store;
    this.fields = Object.fromEntries(
      [...form.querySelectorAll("[data-field]")].map((element) => [element.dataset.field, element]),
    );
    this.startButton = form.querySelector("[data-start]");
    this.submitting = false;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.fields.preset.addEventListener("change", () => this.applyPreset());
    form.addEventListener("input", (event) => this.onEdit(event.target));
    form.addEventListener("change", (event) => this.onEdit(event.target));
    store.addEventListener("info", () => this.fillChoices());
    for (const event of ["reset", "run"]) store.addEventListener(event, () => this.renderBusy());
    onLangChange(() => this.renderTexts());
  }

  fillChoices() {
    const info = this.store.info;
    const preset = this.fields.preset;
    preset.replaceChildren(...Object.keys(info.presets).map((name) => new Option(name, name)));
    this.fields.dataset.replaceChildren(...info.datasets.map((name) => new Option(name, name)));
    this.renderTexts();
    this.applyPreset();
  }

  applyPreset() {
    const config = this.store.info?.presets[this.fields.preset.value];
    if (!config) return;
    for (const [name, value] of Object.entries(fromConfig(config))) this.fields[name].value = value;
    this.clearErrors();
    this.onEdit(null);
  }

  onEdit(target) {
    if (target?.dataset?.field) this.showFieldError(target.dataset.field, "");
    for (const element of this.form.querySelectorAll("[data-only-when]")) {
      const [name, value] = element.dataset.onlyWhen.split("=");
      element.hidden = this.fields[name].value !== value;
    }
    const config = this.store.info?.presets[this.fields.preset.value];
    const modified =
      config != null &&
      Object.entries(fromConfig(config)).some(([name, value]) => !same(name, this.fields[name].value, value));
    this.form.querySelector("[data-preset-modified]").hidden = !modified;
    this.renderTexts();
  }

  renderTexts() {
    for (const option of this.fields.dataset.options) {
      option.textContent = has(`dataset.${option.value}`) ? t(`dataset.${option.value}`) : option.value;
    }
    const presetKey = `preset.${this.fields.preset.value}`;
    this.form.querySelector("[data-preset-hint]").textContent = has(presetKey) ? t(presetKey) : "";
    this.form.querySelector("[data-explain-activation]").textContent = t(
      `explain.${this.fields.activation.value}`,
    );
    this.startButton.textContent = t(this.submitting ? "form.starting" : "form.start");
    this.renderBusy();
  }

  renderBusy() {
    this.form.querySelector("[data-busy-note]").hidden = !isActive(this.store.run);
  }

  /** The request body, or null after marking the fields that cannot be read. */
  read() {
    const body = { preset: this.fields.preset.value };
    let ok = true;
    for (const name of CHOICES) body[name] = this.fields[name].value;
    const hidden = this.fields.hidden.value.split(/[\s,]+/).filter(Boolean);
    if (hidden.length && hidden.every((part) => /^\d+$/.test(part))) {
      body.hidden = hidden.map(Number);
    } else {
      this.showFieldError("hidden", t("error.hidden"));
      ok = false;
    }
    for (const name of [...NUMBERS, ...INTEGERS]) {
      const field = this.fields[name];
      if (field.closest("[data-only-when]")?.hidden) continue; // not used by this optimizer or init
      const text = field.value.trim();
      const value = Number(text);
      if (text === "" || !Number.isFinite(value)) {
        this.showFieldError(name, t("error.number"));
        ok = false;
      } else if (INTEGERS.includes(name) && !Number.isInteger(value)) {
        this.showFieldError(name, t("error.integer"));
        ok = false;
      } else {
        body[name] = value;
      }
    }
    return ok ? body : null;
  }

  async submit() {
    if (this.submitting) return;
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
    const element = this.form.querySelector(`[data-error-for="${name}"]`);
    if (!element) return;
    element.textContent = text;
    element.hidden = !text;
    if (text) {
      this.fields[name].setAttribute("aria-invalid", "true");
      const more = this.fields[name].closest("details");
      if (more) more.open = true;
    }
    if (!text) this.fields[name].removeAttribute("aria-invalid");
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
