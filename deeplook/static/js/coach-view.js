// The coach: what the run's curves and layer health say (GET /api/runs/{id}/coach), each advice
// in the learner's language with the evidence it read, and a "Try it" that starts the suggested
// change: the run's own settings with the advice's `changes`, as a race beside the original
// settings where several runs can train at once (else as one run), then followed. Read again after
// every epoch; one calm line when nothing is wrong. The Coach tab counts the advice.

import { api } from "./api.js";
import { element, finder } from "./dom.js";
import { describeError } from "./errors.js";
import { integer, measure, percent, setting as settingText } from "./format.js";
import { onLangChange, t, tOr } from "./i18n.js";
import { applies, byName, configValue } from "./registry.js";
import { choiceLabel, fieldLabel, namedLayer, runLine } from "./words.js";

const SHARES = new Set(["saturated", "dead", "gap", "test_accuracy", "train_accuracy"]); // shown as %
const NAME_LENGTH = 80; // RunCreate.name

/** The format specs of a server template's fields: "{share:.0%}" gives {share: ".0%"}. */
function specs(template) {
  return Object.fromEntries([...(template ?? "").matchAll(/\{(\w+)(?::([^}]*))?\}/g)].map((m) => [m[1], m[2] ?? ""]));
}

/** A value as the page writes it, at the precision the server's template asks for. */
function formatted(info, name, value, spec) {
  if (typeof value === "string") {
    const setting = byName(info?.settings, name);
    return setting?.kind === "choice" ? choiceLabel(info, setting, value) : value;
  }
  if (spec.endsWith("%")) return percent(value, Number(/\.(\d+)/.exec(spec)?.[1] ?? 0));
  if (spec === "g") return settingText(value);
  return Number.isInteger(value) ? integer(value) : measure(value);
}

/** An advice's finding or advice (`part`): `coach.<code>.<part>` filled from its params, else the server's. */
export function coachText(info, advice, part) {
  const rule = byName((info?.coach ?? []).map((r) => ({ ...r, name: r.code })), advice.code);
  const spec = specs(rule?.[part]);
  const params = Object.fromEntries(
    Object.entries(advice.params).map(([name, value]) => [name, formatted(info, name, value, spec[name] ?? "")]),
  );
  return tOr(`coach.${advice.code}.${part}`, advice[part], params);
}

/** A setting's value as text (null: its default). */
function valueText(info, setting, value) {
  if (value == null) return t("coach.default");
  if (setting.kind === "choice") return choiceLabel(info, setting, value);
  if (setting.kind === "sizes") return value.join(", ");
  return setting.kind === "number" ? settingText(value) : String(value);
}

/** The settings a run was trained with, by setting name (those the server chose left out). */
function runSettings(info, run) {
  const settings = {};
  for (const setting of info.settings) {
    const value = configValue(run.config, setting);
    if (value != null) settings[setting.name] = value;
  }
  return settings;
}

/** Of `values` (setting -> value), those that apply (their `applies_when` holds); nulls dropped. */
function applying(info, values) {
  const valueOf = (setting) => values[setting.name];
  return Object.fromEntries(
    info.settings
      .filter((setting) => values[setting.name] != null && applies(info.settings, setting, valueOf))
      .map((setting) => [setting.name, values[setting.name]]),
  );
}

export class CoachView {
  /** `store`: to start and follow the run a "Try it" makes; `count`: the Coach tab's badge. */
  constructor(root, state, store, count) {
    Object.assign(this, { root, state, store, count, find: finder(root) });
    this.data = null; // the last CoachOut
    this.readKey = null; // what it was read at: run, epochs done, status
    this.problem = null;
    this.started = null; // {runs, race}: what the last "Try it" started
    this.busy = false;
    this.sequence = 0;
    this.find("coach-list").addEventListener("click", (event) => {
      const button = event.target.closest("[data-coach-try]");
      if (button) this.tryIt(Number(button.dataset.coachTry));
    });
    state.addEventListener("run", () => {
      this.data = null;
      this.readKey = null;
      this.problem = null;
      this.render();
      this.refresh();
    });
    for (const type of ["summary", "series", "model", "info"]) state.addEventListener(type, () => this.refresh());
    onLangChange(() => this.render());
  }

  key() {
    const run = this.state.run;
    return run ? `${run.id}|${run.epochs_done}|${run.status}` : null;
  }

  /** Read the run again if it has changed since (a new epoch, a new status); while the tab shows. */
  async refresh() {
    const run = this.state.run;
    const key = this.key();
    if (!this.state.visible || !run || key === this.readKey) return;
    this.readKey = key;
    const sequence = ++this.sequence;
    try {
      const data = await api.coach(run.id);
      if (sequence !== this.sequence) return;
      this.data = data;
      this.problem = null;
    } catch (error) {
      if (sequence !== this.sequence) return;
      this.readKey = null; // try again with the next event
      this.problem = { error };
    }
    this.render();
  }

  render() {
    const data = this.data;
    const run = this.state.run;
    const advice = data?.advice ?? [];
    this.root.dataset.codes = advice.map((a) => a.code).join(" ");
    this.root.dataset.read = data ? String(data.epoch) : "";
    this.count.hidden = advice.length === 0;
    this.count.textContent = advice.length ? integer(advice.length) : "";
    const line = this.find("coach-state");
    let text = "";
    if (data && (data.epoch === 0 || run?.epochs_done === 0)) text = t("coach.waiting");
    else if (data && advice.length === 0) text = t("coach.healthy", { epoch: integer(data.epoch) });
    else if (data) text = t("coach.readAt", { epoch: integer(data.epoch) });
    line.textContent = text;
    line.dataset.healthy = String(data != null && data.epoch > 0 && advice.length === 0);
    this.find("coach-list").replaceChildren(...advice.map((item, i) => this.item(item, i)));
    const error = this.find("coach-error");
    error.textContent = this.problem ? describeError(this.problem.error) : "";
    error.hidden = !this.problem;
    this.renderStarted();
  }

  item(advice, index) {
    const info = this.state.info;
    const li = element("li", "coach-item");
    li.dataset.code = advice.code;
    li.append(
      element("p", "coach-finding", coachText(info, advice, "finding")),
      element("p", "coach-advice", coachText(info, advice, "advice")),
      this.evidence(advice.evidence),
    );
    const changes = Object.entries(advice.changes);
    if (changes.length) {
      const actions = element("div", "coach-actions");
      const button = element("button", "primary", t("coach.try"));
      button.type = "button";
      button.dataset.coachTry = String(index);
      button.disabled = this.busy;
      const race = this.asRace(advice);
      const what = t(race ? "coach.tryRace" : "coach.tryRun", { changes: this.changesText(advice) });
      const note = element("span", "hint", what);
      note.id = `coach-try-${index}`;
      button.setAttribute("aria-describedby", note.id);
      actions.append(button, note);
      li.append(actions);
    }
    return li;
  }

  evidence(list) {
    const info = this.state.info;
    const model = this.state.run?.config?.model;
    const table = element("table", "coach-evidence");
    const caption = element("caption", "", t("coach.evidence"));
    const columns = ["measure", "value", "limit", "epoch", "layer"].map((name) => t(`coach.col.${name}`));
    const head = element("tr");
    for (const text of columns) head.append(Object.assign(element("th", "", text), { scope: "col" }));
    const rows = list.map((item) => {
      const tr = element("tr");
      tr.dataset.measure = item.measure;
      const number = (value) => (value == null ? "–" : SHARES.has(item.measure) ? percent(value, 1) : measure(value));
      const cells = [
        number(item.value),
        item.limit == null ? "–" : number(item.limit),
        item.epoch == null ? "–" : integer(item.epoch),
        item.layer == null ? "–" : namedLayer(info, model, item.layer),
      ].map((text, i) => {
        const cell = element("td", "", text);
        cell.dataset.label = columns[i + 1]; // shown before the value where the table stacks (phones)
        return cell;
      });
      const name = Object.assign(element("th", "", tOr(`coach.measure.${item.measure}`, item.measure)), { scope: "row" });
      tr.append(name, ...cells);
      return tr;
    });
    const thead = element("thead");
    thead.append(head);
    const tbody = element("tbody");
    tbody.append(...rows);
    table.append(caption, thead, tbody);
    return table;
  }

  /** "Learning rate 5 → 0.5, ...": each change from the run's value. */
  changesText(advice) {
    const info = this.state.info;
    const run = this.state.run;
    return Object.entries(advice.changes)
      .map(([name, value]) => {
        const setting = byName(info?.settings, name);
        if (!setting) return `${name} ${value}`;
        const before = valueText(info, setting, configValue(run?.config, setting));
        return t("coach.change", { setting: fieldLabel(setting), before, after: valueText(info, setting, value) });
      })
      .join(", ");
  }

  /** Whether to start the change as a race beside the original settings: several runs may train at
   * once and it changes no setting a race's runs must share. */
  asRace(advice) {
    const info = this.state.info;
    const shared = new Set(info?.race_shared ?? []);
    return (info?.limits?.max_active_runs ?? 1) > 1 && !Object.keys(advice.changes).some((name) => shared.has(name));
  }

  async tryIt(index) {
    const advice = this.data?.advice[index];
    const run = this.state.run;
    const info = this.state.info;
    if (!advice || !run || !info || this.busy) return;
    this.busy = true;
    this.problem = null;
    this.render();
    const original = runSettings(info, run);
    const changed = applying(info, { ...original, ...advice.changes });
    const preset = run.preset ?? info.default_preset;
    const name = `${t("coach.title")}: ${this.changesText(advice)}`.slice(0, NAME_LENGTH);
    try {
      let askedAt = performance.now();
      if (this.asRace(advice)) {
        const before = applying(info, original);
        const shared = Object.fromEntries(Object.entries(before).filter(([key, value]) => changed[key] === value));
        const only = (values) => Object.fromEntries(Object.entries(values).filter(([key]) => !(key in shared)));
        const race = await api.startRace({ preset, settings: shared, variants: [only(before), only(changed)], name });
        this.store.setRace(race);
        for (const summary of race.runs) this.store.applyStatus(summary, askedAt);
        this.started = { runs: race.runs, race: true };
        this.store.follow(race.runs[1].id);
      } else {
        askedAt = performance.now();
        const summary = await api.start({ preset, ...changed, name });
        this.store.applyStatus(summary, askedAt);
        this.started = { runs: [summary], race: false };
        this.store.follow(summary.id);
      }
    } catch (error) {
      this.problem = { error };
    } finally {
      this.busy = false;
      this.render();
    }
  }

  renderStarted() {
    const note = this.find("coach-started");
    const started = this.started;
    note.hidden = started == null;
    if (!started) return;
    const runs = started.runs.map((summary) => runLine(summary)).join("; ");
    note.textContent = t(started.race ? "coach.startedRace" : "coach.startedRun", { runs });
    note.dataset.runs = started.runs.map((summary) => summary.id).join(" ");
  }
}
