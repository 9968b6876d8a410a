// The race part of the new-run form: a ready-made race of GET /api/info `races` (with its
// description), or the learner's own: which settings differ (any but those a race's runs share,
// info.race_shared) and 2-4 runs, each with its values of them. The form's other fields are what
// the runs share. Start sends POST /api/races and follows the race's first run.

import { ApiError, api } from "./api.js";
import { element, finder } from "./dom.js";
import { fieldMessage } from "./errors.js";
import { asText, buildInput, readValue } from "./fields.js";
import { onLangChange, t, tOr } from "./i18n.js";
import { byName, raceVariable } from "./registry.js";
import { choiceLabel, fieldLabel } from "./words.js";

const OWN = ""; // the choice value of "your own race"
const FEWEST = 2;
const MOST = 4;
export const RUN_COLORS = ["run-a", "run-b", "run-c", "run-d"]; // CSS properties, one per run of a race

export class RaceForm {
  constructor(root, runForm, store) {
    Object.assign(this, { root, runForm, store });
    runForm.race = this;
    this.find = finder(root);
    this.choice = this.find("race-choice");
    this.table = this.find("variant-table");
    this.varied = []; // the names of the settings that differ, in the settings' order
    this.rows = []; // per run: setting name -> the text of its field
    this.readyMade = OWN; // the ready-made race shown, unchanged; OWN once the learner edits what differs
    this.chosenOnce = false;
    this.choice.addEventListener("change", () => this.choose(this.choice.value));
    this.find("variant-add").addEventListener("click", () => this.addRow());
    this.table.addEventListener("input", (event) => this.onCell(event.target));
    this.table.addEventListener("change", (event) => this.onCell(event.target));
    this.table.addEventListener("click", (event) => {
      const button = event.target.closest("[data-variant-remove]");
      if (button) this.removeRow(Number(button.dataset.variantRemove));
    });
    this.find("vary").addEventListener("click", (event) => {
      const button = event.target.closest("[data-vary-remove]");
      if (button) this.removeVaried(button.dataset.varyRemove);
    });
    this.find("vary").addEventListener("change", (event) => {
      if (event.target.matches("[data-vary-add]") && event.target.value) this.addVaried(event.target.value);
    });
    store.addEventListener("info", () => this.build());
    onLangChange(() => this.render());
  }

  get info() {
    return this.store.info;
  }

  get count() {
    return this.rows.length;
  }

  setting(name) {
    return byName(this.info?.settings, name);
  }

  build() {
    this.fillChoices();
    this.render();
  }

  fillChoices() {
    const races = this.info?.races ?? [];
    const options = races.map((race) => new Option(race.name, race.name));
    options.push(new Option(t("race.own"), OWN));
    this.choice.replaceChildren(...options);
    this.choice.value = this.readyMade;
  }

  setShown(shown) {
    this.root.hidden = !shown;
    if (shown && !this.chosenOnce) {
      this.chosenOnce = true;
      this.choose(this.info?.races?.[0]?.name ?? OWN);
    }
  }

  /** A ready-made race fills the form (its preset and shared settings) and what differs; OWN keeps them. */
  choose(name) {
    const race = byName(this.info?.races, name);
    if (race) {
      this.runForm.setPreset(race.preset);
      for (const [setting, value] of Object.entries(race.settings ?? {})) this.runForm.setValue(setting, value);
      this.varied = raceVariable(this.info)
        .map((setting) => setting.name)
        .filter((setting) => race.variants.some((variant) => setting in variant));
      this.rows = race.variants.map((variant) =>
        Object.fromEntries(this.varied.map((setting) => [setting, this.textOf(setting, variant[setting])])),
      );
      this.readyMade = race.name;
    } else {
      this.readyMade = OWN;
      if (this.varied.length === 0) this.startOwn();
    }
    this.clearErrors();
    this.render();
    this.runForm.onEdit(null);
    this.runForm.renderOutlook();
  }

  /** A race of one's own from nothing: the first variable choice setting, two of its values. */
  startOwn() {
    const setting = raceVariable(this.info).find((each) => each.kind === "choice" && !each.advanced);
    if (!setting) return;
    this.varied = [setting.name];
    this.rows = setting.choices.slice(0, FEWEST).map((choice) => ({ [setting.name]: choice }));
  }

  /** The text a run's field starts with: the value given, else what the shared field holds. */
  textOf(name, value) {
    const setting = this.setting(name);
    if (value !== undefined && setting) return asText(setting, value);
    return this.runForm.fields[name]?.value ?? "";
  }

  /** What differs changed: this is the learner's own race now. */
  edited() {
    if (this.readyMade === OWN) return;
    this.readyMade = OWN;
    this.choice.value = OWN;
    this.renderAbout();
  }

  onCell(target) {
    const cell = target.closest("[data-variant-field]");
    if (!cell) return;
    const row = Number(cell.closest("[data-variant]").dataset.variant);
    this.rows[row][cell.dataset.variantField] = cell.value;
    this.markCell(cell, "");
    this.edited();
  }

  addVaried(name) {
    if (this.varied.includes(name) || !this.setting(name)) return;
    const order = raceVariable(this.info).map((setting) => setting.name);
    this.varied = order.filter((each) => each === name || this.varied.includes(each));
    for (const row of this.rows) row[name] = this.textOf(name);
    this.edited();
    this.render();
    this.runForm.onEdit(null);
    this.table.querySelector(`[data-variant="0"] [data-variant-field="${name}"]`)?.focus();
  }

  removeVaried(name) {
    if (this.varied.length <= 1) return;
    this.varied = this.varied.filter((each) => each !== name);
    for (const row of this.rows) delete row[name];
    this.edited();
    this.render();
    this.runForm.onEdit(null);
    this.find("vary").querySelector("[data-vary-add]")?.focus();
  }

  addRow() {
    if (this.rows.length >= MOST) return;
    this.rows.push({ ...this.rows.at(-1) });
    this.edited();
    this.render();
    this.runForm.renderOutlook();
    this.table.querySelector(`[data-variant="${this.rows.length - 1}"] [data-variant-field]`)?.focus();
  }

  removeRow(index) {
    if (this.rows.length <= FEWEST) return;
    this.rows.splice(index, 1);
    this.edited();
    this.render();
    this.runForm.renderOutlook();
    const next = Math.min(index, this.rows.length - 1);
    const target = this.table.querySelector(`[data-variant-remove="${next}"]`) ?? this.find("variant-add");
    target.focus();
  }

  render() {
    if (!this.info) return;
    this.fillChoices();
    this.renderAbout();
    this.renderVaried();
    this.renderTable();
    const add = this.find("variant-add");
    add.hidden = this.rows.length >= MOST;
    const shared = (this.info.race_shared ?? []).map((name) => {
      const setting = this.setting(name);
      return setting ? fieldLabel(setting) : name;
    });
    this.find("race-shared-note").textContent = shared.length
      ? t("race.sharedNote", { shared: shared.join(", ") })
      : t("race.sharedNoteShort");
  }

  renderAbout() {
    const race = byName(this.info?.races, this.readyMade);
    this.find("race-about").textContent = race ? tOr(`race.about.${race.name}`, race.description) : t("race.ownAbout");
  }

  renderVaried() {
    const host = this.find("vary");
    const chips = element("ul", "chips");
    for (const name of this.varied) {
      const setting = this.setting(name);
      const chip = element("li", "chip");
      chip.dataset.varied = name;
      chip.append(element("span", "", fieldLabel(setting)));
      if (this.varied.length > 1) {
        const remove = element("button", "chip-remove", "×");
        remove.type = "button";
        remove.dataset.varyRemove = name;
        remove.setAttribute("aria-label", t("race.unvary", { setting: fieldLabel(setting) }));
        chip.append(remove);
      }
      chips.append(chip);
    }
    const add = element("select", "vary-add");
    add.dataset.varyAdd = "";
    add.setAttribute("aria-label", t("race.vary"));
    add.append(new Option(t("race.vary"), ""));
    for (const setting of raceVariable(this.info)) {
      if (!this.varied.includes(setting.name)) add.append(new Option(fieldLabel(setting), setting.name));
    }
    host.replaceChildren(chips, add);
  }

  renderTable() {
    const head = element("tr");
    head.append(element("th", "", t("race.run")));
    for (const name of this.varied) head.append(element("th", "", fieldLabel(this.setting(name))));
    head.append(element("th"));
    const body = element("tbody");
    this.rows.forEach((row, index) => {
      const tr = element("tr");
      tr.dataset.variant = String(index);
      const label = element("th", "variant-label");
      const swatch = element("span", "swatch");
      swatch.style.setProperty("--swatch", `var(--${RUN_COLORS[index]})`);
      label.append(swatch, element("span", "", String(index + 1)));
      tr.append(label);
      for (const name of this.varied) {
        const setting = this.setting(name);
        const input = buildInput(setting);
        input.dataset.variantField = name;
        input.setAttribute("aria-label", t("race.cell", { n: index + 1, setting: fieldLabel(setting) }));
        if (setting.kind === "choice") {
          for (const option of input.options) option.textContent = choiceLabel(this.info, setting, option.value);
        }
        input.value = row[name] ?? "";
        const td = element("td");
        td.append(input);
        tr.append(td);
      }
      const actions = element("td");
      if (this.rows.length > FEWEST) {
        const remove = element("button", "chip-remove", "×");
        remove.type = "button";
        remove.dataset.variantRemove = String(index);
        remove.setAttribute("aria-label", t("race.removeRun", { n: index + 1 }));
        actions.append(remove);
      }
      tr.append(actions);
      body.append(tr);
    });
    const thead = element("thead");
    thead.append(head);
    this.table.replaceChildren(thead, body);
  }

  /**
   * The race to start from the form's body (the shared settings; null when some could not be read):
   * the request, or null after marking the runs' fields that cannot be read.
   */
  read(body) {
    let ok = body != null;
    const variants = this.rows.map((row, index) => {
      const variant = {};
      for (const name of this.varied) {
        const setting = this.setting(name);
        const cell = this.cell(index, name);
        const read = readValue(setting, row[name] ?? "");
        if (read.error) {
          this.markCell(cell, t(read.error));
          ok = false;
        } else if (!read.empty) {
          variant[name] = read.value;
        }
      }
      return variant;
    });
    if (!ok) return null;
    const { preset, name, ...settings } = body;
    const request = { preset, settings, variants };
    if (name) request.name = name;
    if (this.readyMade !== OWN) request.race = this.readyMade;
    return request;
  }

  /** Start the race and follow its first run; a pace other than full is set on each of its runs. */
  async start(request, pace) {
    let askedAt = performance.now();
    const race = await api.startRace(request);
    this.store.setRace(race);
    for (const summary of race.runs) this.store.applyStatus(summary, askedAt);
    this.store.follow(race.runs[0].id);
    if (pace && pace !== "full") {
      askedAt = performance.now();
      const changed = await Promise.all(race.runs.map((run) => api.change(run.id, { pace })));
      for (const summary of changed) this.store.applyStatus(summary, askedAt);
    }
  }

  cell(index, name) {
    return this.table.querySelector(`[data-variant="${index}"] [data-variant-field="${name}"]`);
  }

  markCell(cell, text) {
    if (!cell) return;
    if (text) cell.setAttribute("aria-invalid", "true");
    else cell.removeAttribute("aria-invalid");
    if (text) cell.title = text;
    else cell.removeAttribute("title");
    const error = this.find("race-error");
    const invalid = this.table.querySelectorAll("[aria-invalid='true']").length > 0;
    if (text) error.textContent = `${cell.getAttribute("aria-label")}: ${text}`;
    error.hidden = !invalid;
  }

  /** A 422 about a run's settings (body.variants.N.setting) or the shared ones; true if placed. */
  showApiError(error) {
    if (!(error instanceof ApiError) || !Array.isArray(error.detail)) return false;
    let placed = false;
    for (const item of error.detail) {
      const loc = Array.isArray(item.loc) ? item.loc : [];
      const problem = fieldMessage({ msg: String(item.msg ?? ""), type: String(item.type ?? "") });
      if (loc[1] === "variants" && typeof loc[2] === "number") {
        const cell = this.cell(loc[2], loc[3]);
        if (cell) {
          this.markCell(cell, problem);
          placed = true;
        }
      } else if (loc[1] === "settings" && typeof loc[2] === "string") {
        this.runForm.showFieldError(loc[2], problem);
        placed = true;
      }
    }
    return placed;
  }

  clearErrors() {
    for (const cell of this.table.querySelectorAll("[aria-invalid='true']")) this.markCell(cell, "");
    const error = this.find("race-error");
    error.textContent = "";
    error.hidden = true;
  }
}
