// Layer health over a run's epochs (small multiples: update ratio on a log scale with the 1e-3 rule
// of thumb, the share of saturated or dead units as the activation's health rule says, weight RMS;
// one line per layer) and the chosen epoch's weight and gradient histograms as plain canvas bars.

import { api } from "./api.js";
import { Plot, baseOptions, boundaryHooks, epochLine, formats, line, palette } from "./charts.js";
import { element, finder } from "./dom.js";
import { onLangChange, t } from "./i18n.js";
import { measure } from "./format.js";
import { choiceLabel, layerLabel } from "./words.js";
import { byName } from "./registry.js";

const RULE_OF_THUMB = 1e-3;
const dark = window.matchMedia("(prefers-color-scheme: dark)");

function layerColors(colors) {
  return [colors.train, colors.test, colors.runs[1], colors.smooth];
}

export class HealthView {
  constructor(root, state) {
    Object.assign(this, { root, state, find: finder(root) });
    this.series = null; // the last HealthSeries
    this.report = null; // the last InspectOut
    this.kind = "saturated"; // the measure the flat chart shows: the activation's health kind
    this.peer = null; // the HealthView of a run shown beside this one: the charts share their scales
    const chart = (name, measureName, options) =>
      new Plot(this.find(`chart='${name}'`), {
        options: (colors) => this.options(colors, measureName, options),
        data: () => this.columns(measureName),
        emptyKey: "inside.noHealth",
        summary: () => this.summary(name, measureName, options.yFormat ?? measure),
      });
    this.ratio = chart("update-ratio", "update_ratio", { log: true, rule: true, yLabel: "axis.updateRatio" });
    const top = (measureName) => () => this.peer?.largest(measureName, this.kind) ?? null;
    this.flat = chart("flat", "flat", {
      yFormat: formats.percent,
      share: true,
      yTop: top("flat"),
      yLabel: "axis.shareOfUnits",
    });
    this.rms = chart("weight-rms", "weight_rms", { yTop: top("weight_rms"), yLabel: "axis.rms" });
    // the epoch chosen on the slider is marked on every chart
    state.addEventListener("epoch", () => [this.ratio, this.flat, this.rms].forEach((plot) => plot.invalidate()));
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

  /** A layer's name for people, from the run's config (the engine calls them dense0, dense1...). */
  layerName(name) {
    return layerLabel(this.state.info, this.state.run?.config, name);
  }

  options(
    colors,
    measureName,
    { log = false, rule = false, share = false, yTop = null, yFormat = log ? formats.log : measure, yLabel = null },
  ) {
    const palette = layerColors(colors);
    const series = this.layers(measureName).map((name, i) =>
      epochLine(this.layerName(name), palette[i % palette.length], log ? measure : yFormat),
    );
    if (rule) series.push(line(t("inside.ruleOfThumb"), colors.text, { dash: [4, 4], width: 1 }));
    const options = baseOptions(colors, series, {
      xLabel: t("axis.epoch"),
      yLabel: yLabel && t(yLabel),
      yFormat,
      log,
      share,
      yTop,
      wholeX: true,
    });
    // the epoch axis fits the run's epochs (from 0, the random start)
    options.scales.x.range = (u, min, max) => [Math.min(min ?? 0, 0), Math.max(max ?? 1, 1)];
    options.hooks = boundaryHooks(() => this.chosenEpoch(), colors.marker, colors.marker);
    return options;
  }

  /** The epoch chosen on the slider, as a marked line. */
  chosenEpoch() {
    const epoch = this.state.epoch;
    return epoch == null ? [] : [{ x: epoch, label: t("chart.chosenEpoch", { n: epoch }), strong: true }];
  }

  /** For screen readers: each layer's value at the first and the last epoch. */
  summary(name, measureName, format) {
    const data = this.series;
    if (!data || data.epochs.length === 0) return "";
    const key = measureName === "flat" ? this.kind : measureName;
    const layers = this.layers(measureName).map((layer) => {
      const values = data.layers[layer][key];
      const first = values.find((v) => Number.isFinite(v) && (measureName !== "update_ratio" || v > 0));
      return `${this.layerName(layer)} ${first == null ? "–" : format(first)} → ${format(values.at(-1))}`;
    });
    const title = this.find(`chart='${name}'`).closest("figure")?.querySelector("h3")?.textContent ?? "";
    return t("summary.health", {
      what: title,
      first: data.epochs[0],
      last: data.epochs.at(-1),
      layers: layers.join("; "),
    });
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
        if (!histogram && kind === "weights") continue;
        const figure = element("figure", "histogram");
        figure.dataset.array = name;
        figure.dataset.kind = kind;
        const caption = element("figcaption");
        const array = this.layerName(name); // "hidden 1 (50, sigmoid) weights"
        const title = element("strong", "", kind === "weights" ? array : t("inside.gradientsOf", { array }));
        // epoch 0 is before the first step: its gradients do not exist yet (the server sends a
        // placeholder range), so say so rather than draw a made-up one
        const none = !histogram || (kind === "gradients" && report.epoch === 0);
        if (none) {
          figure.dataset.none = "true";
          caption.append(title, element("span", "muted histogram-none", t("inside.noGradients")));
          figure.append(caption);
          figures.push(figure);
          continue;
        }
        const bars = Object.assign(element("canvas"), { width: 180, height: 56 });
        drawBars(bars, histogram.counts, color, colors.grid);
        bars.setAttribute("role", "img");
        const most = Math.max(...histogram.counts);
        bars.setAttribute("aria-label", `${measure(histogram.edges[0])} … ${measure(histogram.edges.at(-1))}`);
        // the axes in words: the value range under the bars, the tallest bar's count beside them
        const axis = element("div", "histogram-axis");
        axis.append(
          element("span", "", measure(histogram.edges[0])),
          element("span", "muted", t("inside.kind.value")),
          element("span", "", measure(histogram.edges.at(-1))),
        );
        const top = element("span", "histogram-top muted", `${t("axis.count")} ≤ ${most}`);
        caption.append(title, top);
        figure.append(caption, bars, axis);
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
