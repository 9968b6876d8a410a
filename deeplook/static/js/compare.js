// Up to four runs side by side: their settings (differences marked) and their curves overlaid,
// against epochs so that runs with different batch sizes line up. The runs come from the store,
// which the socket keeps current for them (a snapshot of each, then what they train): a run still
// training grows here as it does on the Train tab.

import { Plot, baseOptions, epochLine, formats, joinTables, line } from "./charts.js";
import { element } from "./dom.js";
import { duration, percent, setting as settingText } from "./format.js";
import { onLangChange, t } from "./i18n.js";
import { applies, configValue } from "./registry.js";
import { RunningAverage } from "./series.js";
import { choiceLabel, fieldLabel, runDuration, runName, statusLabel } from "./words.js";

const SMOOTHING = 0.9;
const LINE_POINTS = 2000; // points per smoothed curve: it is smooth, so every k-th point will do
const REDRAW_EVERY = 500; // ms between redraws while a shown run trains

/** The table's rows, [label, run => text]: the preset, every run setting of info, then the results. */
function rows(info) {
  const settings = info?.settings ?? [];
  const value = (run, setting) => {
    const valueOf = (other) => configValue(run.config, other);
    if (!applies(settings, setting, valueOf)) return "–"; // no effect on this run
    const held = valueOf(setting);
    if (held == null) return t("form.auto");
    if (setting.kind === "choice") return choiceLabel(info, setting, held);
    if (setting.kind === "sizes") return held.join(", ");
    return setting.kind === "number" ? settingText(held) : String(held);
  };
  return [
    [t("field.name"), (run) => run.name ?? "–"],
    [t("field.preset"), (run) => run.preset ?? "–"],
    ...settings.map((setting) => [fieldLabel(setting), (run) => value(run, setting)]),
    [t("history.epochsDone"), (run) => `${run.epochs_done} / ${run.epochs_total}`],
    [t("history.status"), (run) => statusLabel(run.status)],
    [t("history.finalTrain"), (run) => percent(run.epochs.at(-1)?.train_accuracy, 2)],
    [t("history.finalTest"), (run) => percent(run.epochs.at(-1)?.test_accuracy, 2)],
    [t("history.durationPauses"), (run) => duration(runDuration(run))],
  ];
}

export class Compare {
  constructor(root, store) {
    this.element = root;
    this.store = store;
    this.ids = []; // the runs shown
    this.averages = new Map(); // run id -> RunningAverage of its losses
    this.timer = 0;
    const colors = (index, palette) => palette.runs[index % palette.runs.length];
    // each run by its name, else by what distinguishes it, never by its id alone
    const label = (id) => runName(this.store.record(id)?.summary ?? { id });
    this.lossPlot = new Plot(root.querySelector("[data-chart='compare-loss']"), {
      options: (palette) =>
        baseOptions(
          palette,
          this.ids.map((id, i) => line(label(id), colors(i, palette))),
          { xLabel: t("axis.epoch"), yLabel: t("axis.crossEntropy") },
        ),
      data: () => this.lossColumns(),
      emptyKey: "chart.noSteps",
    });
    this.accuracyPlot = new Plot(root.querySelector("[data-chart='compare-accuracy']"), {
      options: (palette) =>
        baseOptions(
          palette,
          this.ids.map((id, i) => epochLine(label(id), colors(i, palette), formats.percent)),
          { xLabel: t("axis.epoch"), yLabel: t("axis.accuracy"), yFormat: formats.percent, wholeX: true, ySpace: 18 },
        ),
      data: () => this.accuracyColumns(),
      emptyKey: "chart.noEpoch",
    });
    this.testLossPlot = new Plot(root.querySelector("[data-chart='compare-test-loss']"), {
      options: (palette) =>
        baseOptions(
          palette,
          this.ids.map((id, i) => epochLine(label(id), colors(i, palette))),
          { xLabel: t("axis.epoch"), yLabel: t("axis.lossNats"), wholeX: true },
        ),
      data: () => this.epochColumns("test_loss"),
      emptyKey: "chart.noEpoch",
    });
    this.plots = [this.lossPlot, this.accuracyPlot, this.testLossPlot];
    onLangChange(() => this.renderTable());
    new ResizeObserver(() => this.showScrollCue()).observe(root);
    store.addEventListener("info", () => this.renderTable());
    for (const type of ["run-reset", "run-steps", "run-epoch", "run-status"]) {
      store.addEventListener(type, (event) => {
        if (this.ids.includes(event.detail.id)) this.redrawSoon();
      });
    }
  }

  /** Show these run summaries (0, 1 or 2); the socket is asked to follow them. */
  show(summaries) {
    const ids = summaries.map((run) => run.id);
    this.store.want("history", ids);
    if (ids.join(" ") === this.ids.join(" ")) return;
    this.ids = ids;
    this.element.dataset.runs = ids.join(" ");
    this.renderTable();
    this.plots.forEach((plot) => plot.rebuild());
  }

  redrawSoon() {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = 0;
      this.renderTable();
      this.plots.forEach((plot) => plot.invalidate());
    }, REDRAW_EVERY);
  }

  /** The runs shown, as the table reads them: each summary with its epochs. */
  get runs() {
    return this.ids
      .map((id) => this.store.record(id))
      .filter(Boolean)
      .map((record) => ({ ...record.summary, epochs: record.epochs }));
  }

  renderTable() {
    const runs = this.runs;
    const empty = this.element.querySelector("[data-compare-empty]");
    const body = this.element.querySelector("[data-compare-body]");
    empty.hidden = runs.length > 0;
    empty.textContent = t("history.pick");
    body.hidden = runs.length === 0;
    const table = this.element.querySelector("[data-compare-table]");
    const head = element("tr");
    head.append(element("th", "", t("history.setting")));
    runs.forEach((run, index) => {
      const th = element("th", "", runName(run));
      th.append(" ", element("code", "run-id muted", run.id));
      th.dataset.run = String(index);
      head.append(th);
    });
    const lines = rows(this.store.info).map(([label, value]) => {
      const tr = element("tr");
      const values = runs.map(value);
      if (new Set(values).size > 1) tr.dataset.differs = "true";
      tr.append(element("th", "", label), ...values.map((text) => element("td", "", text)));
      return tr;
    });
    const thead = element("thead");
    thead.append(head);
    const tbody = element("tbody");
    tbody.append(...lines);
    table.replaceChildren(thead, tbody);
    this.showScrollCue();
  }

  /** The cue that the table scrolls sideways, shown only while it does (a phone, several runs). */
  showScrollCue() {
    const wrap = this.element.querySelector(".table-wrap");
    const cue = this.element.querySelector("[data-table-scroll-cue]");
    if (!wrap || !cue) return;
    requestAnimationFrame(() => {
      cue.hidden = wrap.clientWidth === 0 || wrap.scrollWidth <= wrap.clientWidth + 1;
    });
  }

  lossColumns() {
    const records = this.ids.map((id) => this.store.record(id)).filter(Boolean);
    const points = records.reduce((sum, record) => sum + record.steps.length, 0);
    if (points === 0) return null;
    const tables = records.map((record) => {
      let average = this.averages.get(record.id);
      if (!average) {
        average = new RunningAverage(SMOOTHING);
        this.averages.set(record.id, average);
      }
      const smoothed = average.of(record.steps);
      const { step } = record.steps;
      const n = record.steps.length;
      const perEpoch = record.summary.steps_per_epoch;
      const stride = Math.max(1, Math.ceil(n / LINE_POINTS));
      const x = [];
      const y = [];
      for (let i = 0; i < n; i += stride) {
        x.push(step[i] / perEpoch);
        y.push(Number.isFinite(smoothed[i]) ? smoothed[i] : null);
      }
      if (n > 0 && (n - 1) % stride !== 0) {
        x.push(step[n - 1] / perEpoch);
        y.push(Number.isFinite(smoothed[n - 1]) ? smoothed[n - 1] : null);
      }
      return [x, y];
    });
    return { points, columns: joinTables(tables) };
  }

  accuracyColumns() {
    return this.epochColumns("test_accuracy");
  }

  /** One epoch metric of every run shown, joined on the epoch. */
  epochColumns(key) {
    const records = this.ids.map((id) => this.store.record(id)).filter(Boolean);
    const tables = records.map((record) => [record.epochs.map((e) => e.epoch), record.epochs.map((e) => e[key])]);
    const points = records.reduce((sum, record) => sum + record.epochs.length, 0);
    return points ? { points, columns: joinTables(tables) } : null;
  }
}
