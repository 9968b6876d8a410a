// One or two past runs side by side: their settings (differences marked) and their curves overlaid,
// against epochs so that runs with different batch sizes line up.

import uPlot from "../vendor/uplot-1.6.32/uPlot.esm.js";
import { api } from "./api.js";
import { Plot, baseOptions, epochLine, formats, line } from "./charts.js";
import { element } from "./dom.js";
import { describeError } from "./errors.js";
import { duration, percent, setting as settingText } from "./format.js";
import { onLangChange, t } from "./i18n.js";
import { applies, configValue } from "./registry.js";
import { FULL_HISTORY_STEPS, newSmoothState, smooth } from "./series.js";
import { choiceLabel, fieldLabel, statusLabel } from "./words.js";

const SMOOTHING = 0.9;
const LINE_POINTS = 2000; // points per smoothed curve: it is smooth, so every k-th point will do

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
    [t("history.duration"), (run) => duration(run.epochs.reduce((sum, e) => sum + e.seconds, 0))],
  ];
}

export class Compare {
  constructor(root, store) {
    this.element = root;
    this.store = store;
    this.runs = []; // the RunDetail of each run shown
    this.cache = new Map(); // run id -> {key, detail}
    this.wanted = "";
    this.error = "";
    const colors = (index, palette) => palette.runs[index];
    this.lossPlot = new Plot(root.querySelector("[data-chart='compare-loss']"), {
      options: (palette) =>
        baseOptions(
          palette,
          this.runs.map((run, i) => line(run.id, colors(i, palette))),
          { xLabel: t("axis.epoch") },
        ),
      data: () => this.lossColumns(),
      emptyKey: "chart.noSteps",
    });
    this.accuracyPlot = new Plot(root.querySelector("[data-chart='compare-accuracy']"), {
      options: (palette) =>
        baseOptions(
          palette,
          this.runs.map((run, i) => epochLine(run.id, colors(i, palette), formats.percent)),
          { xLabel: t("axis.epoch"), yFormat: formats.percent, wholeX: true },
        ),
      data: () => this.accuracyColumns(),
      emptyKey: "chart.noEpoch",
    });
    onLangChange(() => this.renderTable());
    store.addEventListener("info", () => this.renderTable());
  }

  /** Show these run summaries (0, 1 or 2), fetching the details not held yet. */
  async show(summaries) {
    const key = summaries.map((run) => `${run.id}|${run.status}|${run.epochs_done}`).join(",");
    if (key === this.wanted) return;
    this.wanted = key;
    try {
      const details = await Promise.all(summaries.map((run) => this.detail(run)));
      if (key !== this.wanted) return; // the choice changed meanwhile
      this.runs = details;
      this.error = "";
    } catch (error) {
      this.runs = [];
      this.wanted = "";
      this.error = describeError(error);
    }
    this.element.dataset.runs = this.runs.map((run) => run.id).join(" ");
    this.renderTable();
    this.lossPlot.rebuild();
    this.accuracyPlot.rebuild();
  }

  async detail(summary) {
    const key = `${summary.status}|${summary.epochs_done}`;
    const held = this.cache.get(summary.id);
    if (held?.key === key) return held.detail;
    const detail = await api.run(summary.id);
    if (detail.steps.downsampled && detail.steps_done <= FULL_HISTORY_STEPS) {
      detail.steps = (await api.metrics(summary.id)).steps; // average every step, not the extremes
    }
    this.cache.set(summary.id, { key, detail });
    return detail;
  }

  renderTable() {
    const empty = this.element.querySelector("[data-compare-empty]");
    const body = this.element.querySelector("[data-compare-body]");
    empty.hidden = this.runs.length > 0;
    empty.textContent = this.error || t("history.pick");
    body.hidden = this.runs.length === 0;
    const table = this.element.querySelector("[data-compare-table]");
    const head = element("tr");
    head.append(element("th", "", t("history.setting")));
    this.runs.forEach((run, index) => {
      const th = element("th", "", run.id);
      th.dataset.run = String(index);
      head.append(th);
    });
    const lines = rows(this.store.info).map(([label, value]) => {
      const tr = element("tr");
      const values = this.runs.map(value);
      if (values.length === 2 && values[0] !== values[1]) tr.dataset.differs = "true";
      tr.append(element("th", "", label), ...values.map((text) => element("td", "", text)));
      return tr;
    });
    const thead = element("thead");
    thead.append(head);
    const tbody = element("tbody");
    tbody.append(...lines);
    table.replaceChildren(thead, tbody);
  }

  lossColumns() {
    if (this.runs.length === 0) return null;
    const tables = this.runs.map((run) => {
      const { step, loss } = run.steps;
      const n = step.length;
      const smoothed = new Float64Array(n);
      smooth(loss.map((v) => v ?? Number.NaN), smoothed, 0, n, SMOOTHING, newSmoothState());
      const stride = Math.max(1, Math.ceil(n / LINE_POINTS));
      const x = [];
      const y = [];
      for (let i = 0; i < n; i += stride) {
        x.push(step[i] / run.steps_per_epoch);
        y.push(Number.isFinite(smoothed[i]) ? smoothed[i] : null);
      }
      if (n > 0 && (n - 1) % stride !== 0) {
        x.push(step[n - 1] / run.steps_per_epoch);
        y.push(Number.isFinite(smoothed[n - 1]) ? smoothed[n - 1] : null);
      }
      return [x, y];
    });
    const points = this.runs.reduce((sum, run) => sum + run.steps.step.length, 0);
    return points ? { points, columns: uPlot.join(tables) } : null;
  }

  accuracyColumns() {
    if (this.runs.length === 0) return null;
    const tables = this.runs.map((run) => [
      run.epochs.map((e) => e.epoch),
      run.epochs.map((e) => e.test_accuracy),
    ]);
    const points = this.runs.reduce((sum, run) => sum + run.epochs.length, 0);
    return points ? { points, columns: uPlot.join(tables) } : null;
  }
}
