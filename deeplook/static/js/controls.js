// The new-run form, built from the server's settings table (GET /api/info `settings`): one field per
// setting in the server's order, the advanced ones under "More settings", a field shown only while
// the setting it depends on has one of its values. Presets fill every field, any field can be
// changed, and the API's validation messages appear next to the field they are about. In race mode
// the same fields are what the race's runs share, and race-form.js says what differs. The Start
// button says what will happen: the run starts now, waits in the queue (at which position), or the
// queue is full.

import { ApiError, api } from "./api.js";
import { conceptHelp, hasConcept } from "./concept.js";
import { element } from "./dom.js";
import { describeError, fieldMessage } from "./errors.js";
import { asText, buildInput, readValue, same } from "./fields.js";
import { has, onLangChange, t } from "./i18n.js";
import { applies, byName, configValue, paceNames } from "./registry.js";
import {
  choiceExplanation,
  choiceLabel,
  explains,
  fieldLabel,
  paceExplanation,
  paceLabel,
  presetHint,
  settingHelp,
} from "./words.js";

// The settings explained in a line under their field: what a learner should read before pressing
// Start, while the form stays one screen tall. Every other field has its help and, for a choice,
// the chosen value's explanation as its tooltip and screen-reader description.
const EXPLAINED = new Set(["activation", "lr", "init"]);

/**
 * One setting's field: label (with a "?" that opens what the setting means, when concept.js
 * explains it), input or select, help for screen readers, error, explanation.
 */
function buildField(setting, store) {
  const id = `f-${setting.name}`;
  const box = element("div", "field");
  box.dataset.setting = setting.name;
  box.dataset.kind = setting.kind;
  const label = element("label");
  label.htmlFor = id;
  const input = buildInput(setting);
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
  if (hasConcept(setting.name)) {
    const { toggle, panel } = conceptHelp(setting.name, store, { lead: () => settingHelp(setting) });
    const head = element("div", "field-head");
    head.append(label, toggle);
    box.append(head, input, help, error, panel);
  } else {
    box.append(label, input, help, error);
  }
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
    this.mode = "run"; // or "race"
    this.race = null; // the RaceForm, when race-form.js is wired in
    this.errorOutlook = null; // the outlook when the form's error was shown: it clears when that changes
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.fields.preset.addEventListener("change", () => this.applyPreset());
    form.addEventListener("input", (event) => this.onEdit(event.target));
    form.addEventListener("change", (event) => this.onEdit(event.target));
    for (const button of form.querySelectorAll("[data-mode]")) {
      button.addEventListener("click", () => this.setMode(button.dataset.mode));
    }
    store.addEventListener("info", () => this.build());
    for (const event of ["info", "runs"]) store.addEventListener(event, () => this.renderOutlook());
    onLangChange(() => this.renderTexts());
  }

  /** One run, or a race of several. */
  setMode(mode) {
    if (mode === this.mode) return;
    this.mode = mode;
    this.form.dataset.mode = mode;
    for (const button of this.form.querySelectorAll("button[data-mode]")) {
      button.setAttribute("aria-pressed", String(button.dataset.mode === mode));
    }
    this.clearErrors();
    this.race?.setShown(mode === "race");
    this.onEdit(null);
    this.renderTexts();
  }

  /** Settings a race varies: their fields are not shared, so they are hidden in race mode. */
  get varied() {
    return this.mode === "race" && this.race ? new Set(this.race.varied) : new Set();
  }

  /** Set one setting's field (a ready-made race's shared settings). */
  setValue(name, value) {
    const setting = byName(this.settings, name);
    if (setting && this.fields[name]) this.fields[name].value = asText(setting, value);
  }

  /** Choose a preset and fill every field from it. */
  setPreset(name) {
    if (!byName(this.info?.presets, name)) return;
    this.fields.preset.value = name;
    this.applyPreset();
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
      const part = buildField(setting, this.store);
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
    const pace = this.fields.pace;
    pace.replaceChildren(...paceNames(info).map((name) => new Option(name, name)));
    pace.value = "full";
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
    const varied = this.varied;
    for (const setting of this.settings) {
      this.parts.get(setting.name).box.hidden = !this.applies(setting) || varied.has(setting.name);
    }
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
    this.form.querySelector("[data-pace-hint]").textContent = paceExplanation(this.fields.pace.value);
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
    for (const option of this.fields.pace.options) option.textContent = paceLabel(option.value);
    this.form.querySelector("[data-form-title]").textContent = t(this.mode === "race" ? "form.titleRace" : "form.title");
    this.form.querySelector("[data-preset-hint]").textContent = presetHint(this.preset);
    this.form.querySelector("[data-pace-hint]").textContent = paceExplanation(this.fields.pace.value);
    this.renderExplanations();
    this.renderOutlook();
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

  /** How many runs Start would create. */
  get count() {
    return this.mode === "race" && this.race ? this.race.count : 1;
  }

  /** What pressing Start would do, on the button and in the note beside it. */
  renderOutlook() {
    if (!this.info) return;
    const race = this.mode === "race";
    const outlook = this.store.startOutlook(this.count);
    const key = JSON.stringify(outlook);
    if (this.errorOutlook != null && key !== this.errorOutlook) this.clearFormError(); // things moved on
    const position = { n: outlook.position, last: outlook.last };
    let label;
    if (this.submitting) label = t("form.starting");
    else if (outlook.kind === "queued") label = t(race ? "form.queueRace" : "form.queue", position);
    else label = t(race ? "form.startRace" : "form.start");
    this.startButton.textContent = label;
    this.startButton.dataset.outlook = outlook.kind;
    const params = {
      busy: outlook.training,
      max: outlook.max,
      queued: outlook.queued,
      runs: this.count,
      ...position,
    };
    const noteKey = outlook.kind === "queued" && outlook.last > outlook.position ? "outlook.queuedMany" : `outlook.${outlook.kind}`;
    const note = this.form.querySelector("[data-start-note]");
    note.textContent = outlook.kind === "unknown" ? "" : t(noteKey, params);
    note.dataset.outlook = outlook.kind;
  }

  /** The request body, or null after marking the fields that cannot be read. */
  read() {
    const body = { preset: this.fields.preset.value };
    const name = this.fields.name.value.trim();
    if (name) body.name = name;
    const varied = this.varied;
    let ok = true;
    const fail = (setting, key) => {
      this.showFieldError(setting.name, t(key));
      ok = false;
    };
    for (const setting of this.settings) {
      if (!this.applies(setting) || varied.has(setting.name)) continue; // no effect, or per run
      const read = readValue(setting, this.fields[setting.name].value);
      if (read.error) fail(setting, read.error);
      else if (!read.empty) body[setting.name] = read.value; // empty: chosen by the server
    }
    return ok ? body : null;
  }

  async submit() {
    if (this.submitting || !this.info) return;
    this.clearErrors();
    const body = this.read();
    const race = this.mode === "race" && this.race ? this.race.read(body) : null;
    if (!body || (this.mode === "race" && !race)) {
      this.focusFirstError();
      return;
    }
    this.submitting = true;
    this.renderTexts();
    const pace = this.fields.pace.value;
    try {
      if (race) {
        await this.race.start(race, pace);
      } else {
        const askedAt = performance.now();
        const summary = await api.start({ ...body, pace });
        this.store.applyStatus(summary, askedAt);
        this.store.follow(summary.id);
      }
    } catch (error) {
      this.showApiError(error);
    } finally {
      this.submitting = false;
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
    if (this.race?.showApiError(error)) {
      this.focusFirstError();
      return;
    }
    const message = this.form.querySelector("[data-form-error]");
    message.textContent = describeError(error);
    message.hidden = false;
    message.dataset.code = error?.code ?? "";
    this.errorOutlook = JSON.stringify(this.store.startOutlook(this.count));
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
    this.race?.clearErrors();
    this.clearFormError();
  }

  clearFormError() {
    const message = this.form.querySelector("[data-form-error]");
    message.textContent = "";
    message.hidden = true;
    message.dataset.code = "";
    this.errorOutlook = null;
  }

  focusFirstError() {
    const invalid = this.form.querySelector("[aria-invalid='true']");
    invalid?.focus();
  }
}
