// Layer health over a run's epochs (small multiples: update ratio on a log scale with the 1e-3 rule
// of thumb, the share of saturated or dead units as the activation's health rule says, weight RMS;
// one line per layer) and the chosen epoch's weight and gradient histograms as plain canvas bars.

import { api } from "./api.js";
import { Plot, baseOptions, epochLine, formats, line, palette } from "./charts.js";
import { element } from "./dom.js";
import { onLangChange, t } from "./i18n.js";
import { measure } from "./format.js";
import { choiceLabel } from "./words.js";
import { byName } from "./registry.js";

const RULE_OF_THUMB = 1e-3;
const dark = window.matchMedia("(prefers-color-scheme: dark)");

function layerColors(colors) {
  return [colors.train, colors.test, colors.runs[1], colors.smooth];
}

export class HealthView {
  constructor(root, state) {
    this.root = root;
    this.state = state;
    this.find = (name) => root.querySelector(`[data-${name}]`);
    this.series = null; // the last HealthSeries
    this.report = null; // the last InspectOut
    this.kind = "saturated"; // the measure the flat chart shows: the activation's health kind
    this.peer = null; // the HealthView of a run shown beside this one: the charts share their scales
    const chart = (name, measureName, options) =>
      new Plot(this.find(`chart='${name}'`), {
        options: (colors) => this.options(colors, measureName, options),
        data: () => this.columns(measureName),
        emptyKey: "inside.noHealth",
      });
    this.ratio = chart("update-ratio", "update_ratio", { log: true, rule: true });
    const top = (measureName) => () => this.peer?.largest(measureName, this.kind) ?? null;
    this.flat = chart("flat", "flat", { yFormat: formats.percent, share: true, yTop: top("flat") });
    this.rms = chart("weight-rms", "weight_rms", { yTop: top("weight_rms") });
    dark.addEventListener("change", () => this.drawHistograms());
    onLangChange(() => {
      this.drawHistograms();
      this.renderTitle();
    });
    state.addEventListener("run", () => this.clear());
    state.addEventListener("series", () => this.showSeries(state.series));
    state.addEventListener("epoch", () => this.loadEpoch());
    for (const type of ["info", "run", "summary"]) state.addEventListener(type, () => this.renderTitle());
    this.renderTitle();
  }

  /** Hidden layers only for saturation (the output is a softmax); every layer otherwise. */
  layers(measureName) {
    const names = Object.keys(this.series?.layers ?? {});
    return measureName === "flat" ? names.slice(0, -1) : names;
  }

  /** Two views whose charts share their vertical scales (runs side by side). */
  pair(other) {
    this.peer = other;
    other.peer = this;
  }

  /** The largest value a measure reaches in this view's series (null: none shown, or another measure). */
  largest(measureName, kind) {
    if (!this.series || (measureName === "flat" && kind !== this.kind)) return null;
    const key = measureName === "flat" ? this.kind : measureName;
    let most = null;
    for (const name of this.layers(measureName)) {
      for (const value of this.series.layers[name][key]) {
        if (Number.isFinite(value) && (most == null || value > most)) most = value;
      }
    }
    return most;
  }

  options(colors, measureName, { log = false, rule = false, share = false, yTop = null, yFormat = log ? formats.log : measure }) {
    const palette = layerColors(colors);
    const series = this.layers(measureName).map((name, i) =>
      epochLine(name, palette[i % palette.length], log ? measure : yFormat),
    );
    if (rule) series.push(line(t("inside.ruleOfThumb"), colors.text, { dash: [4, 4], width: 1 }));
    return baseOptions(colors, series, { xLabel: t("axis.epoch"), yFormat, log, share, yTop, wholeX: true });
  }

  columns(measureName) {
    const data = this.series;
    if (!data || data.epochs.length === 0) return null;
    const key = measureName === "flat" ? this.kind : measureName;
    const log = measureName === "update_ratio";
    const columns = [data.epochs];
    for (const name of this.layers(measureName)) {
      // epoch 0 has no update yet: no point rather than a zero a log scale cannot show
      columns.push(data.layers[name][key].map((v) => (log && !(v > 0) ? null : v)));
    }
    if (log) columns.push(data.epochs.map(() => RULE_OF_THUMB));
    return { columns, points: data.epochs.length };
  }

  clear() {
    this.series = null;
    this.report = null;
    for (const plot of [this.ratio, this.flat, this.rms]) plot.rebuild();
    this.drawHistograms();
    this.peer?.rescale();
  }

  /** The peer's values changed: the shared scales may have. */
  rescale() {
    this.flat.invalidate();
    this.rms.invalidate();
  }

  showSeries(series) {
    const shape = (data) => Object.keys(data?.layers ?? {}).join();
    const changed = shape(series) !== shape(this.series);
    this.series = series;
    for (const plot of [this.ratio, this.flat, this.rms]) {
      if (changed) plot.rebuild(); // new layers: new series
      else plot.invalidate();
    }
    this.peer?.rescale();
  }

  /** The chosen epoch's histograms. */
  async loadEpoch() {
    const { runId, epoch, generation } = this.state;
    try {
      const report = await api.inspect(runId, epoch);
      if (!this.state.isCurrent(generation)) return;
      this.report = report;
      this.drawHistograms();
    } catch (error) {
      this.state.fail({ error }, generation);
    }
  }

  /** The flat chart's title and text, for the run's activation: saturated outputs or dead units. */
  renderTitle() {
    const rule = this.state.healthRule;
    if (rule.kind !== this.kind) {
      this.kind = rule.kind;
      if (this.series) this.flat.rebuild();
    }
    const info = this.state.info;
    const name = this.state.run?.config?.model?.activation;
    const setting = byName(info?.settings, "activation");
    const activation = name && setting ? choiceLabel(info, setting, name) : (name ?? "");
    const params = { activation, low: measure(rule.low), high: measure(rule.high) };
    this.find("flat-title").textContent = t(rule.kind === "dead" ? "inside.dead" : "inside.saturated");
    this.find("flat-explain").textContent = t(
      rule.kind === "dead" ? "inside.deadExplain" : "inside.saturatedExplain",
      params,
    );
    this.find("flat-title").closest("figure").dataset.kind = rule.kind;
  }

  drawHistograms() {
    const host = this.find("histograms");
    const report = this.report;
    if (!report) {
      host.replaceChildren();
      return;
    }
    const colors = palette();
    const figures = [];
    for (const name of Object.keys(report.histograms)) {
      for (const [kind, histogram, color] of [
        ["weights", report.histograms[name], colors.train],
        ["gradients", report.gradient_histograms[name], colors.test],
      ]) {
        if (!histogram) continue;
        const figure = element("figure", "histogram");
        figure.dataset.array = name;
        figure.dataset.kind = kind;
        const bars = Object.assign(element("canvas"), { width: 180, height: 56 });
        drawBars(bars, histogram.counts, color, colors.grid);
        const caption = element("figcaption");
        const title = element("strong", "", `${name} · ${t(`inside.kind.${kind}`)}`);
        const range = element("span", "muted", `${measure(histogram.edges[0])} … ${measure(histogram.edges.at(-1))}`);
        caption.append(title, range);
        figure.append(bars, caption);
        figures.push(figure);
      }
    }
    host.replaceChildren(...figures);
  }
}

function drawBars(target, counts, color, baseline) {
  const context = target.getContext("2d");
  const { width, height } = target;
  context.clearRect(0, 0, width, height);
  const most = Math.max(1, ...counts);
  const step = width / Math.max(counts.length, 1);
  context.fillStyle = color;
  counts.forEach((count, i) => {
    const h = count > 0 ? Math.max(1, (count / most) * (height - 2)) : 0;
    context.fillRect(i * step + 0.5, height - 1 - h, Math.max(step - 1, 1), h);
  });
  context.fillStyle = baseline;
  context.fillRect(0, height - 1, width, 1);
}
