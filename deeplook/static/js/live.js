// The charts of the run being followed: loss per step (raw and smoothed, optionally on a log scale,
// with a labelled vertical line where the learning rate was changed) and accuracy and loss per epoch.

import { Plot, baseOptions, boundaryHooks, epochLine, formats, line, markerHooks, mergeHooks } from "./charts.js";
import { integer, measure, setting as settingText } from "./format.js";
import { onLangChange, t } from "./i18n.js";
import { datasetOf } from "./registry.js";
import { MinMaxIndex, newSmoothState, pick, smooth } from "./series.js";

const SMOOTHING_KEY = "deeplook.smoothing";
const LOG_KEY = "deeplook.logScale";

function remembered(key, fallback) {
  try {
    const value = localStorage.getItem(key);
    return value == null ? fallback : JSON.parse(value);
  } catch {
    return fallback;
  }
}

function remember(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // not remembered in private mode
  }
}

/** A text that quotes the dataset of the store's run (the default one before any run), kept current. */
function datasetText(target, store, render) {
  const update = () => {
    const dataset = datasetOf(store.info, store.run?.dataset);
    target.textContent = dataset ? render(dataset) : "";
  };
  for (const event of ["info", "reset"]) store.addEventListener(event, update);
  onLangChange(update);
  update();
}

/** Loss per step of the store's run: min/max-downsampled raw losses and their moving average. */
export class LossChart {
  constructor(root, store) {
    this.store = store;
    this.slider = root.querySelector("[data-smoothing]");
    this.sliderValue = root.querySelector("[data-smoothing-value]");
    this.logBox = root.querySelector("[data-log-scale]");
    this.smoothing = Number(remembered(SMOOTHING_KEY, 0.9));
    this.log = Boolean(remembered(LOG_KEY, false));
    this.slider.value = String(this.smoothing);
    this.logBox.checked = this.log;
    this.ema = new Float64Array(0);
    this.emaState = newSmoothState();
    this.emaDone = 0;
    this.emaKey = "";
    this.buckets = new MinMaxIndex();
    this.plot = new Plot(root.querySelector("[data-chart='loss']"), {
      options: (colors) => ({
        ...baseOptions(
          colors,
          [
            line(t("series.batch"), colors.raw, { width: 1 }),
            line(t("series.smoothed"), colors.smooth, { width: 2 }),
          ],
          {
            xLabel: t("axis.step"),
            yLabel: t("axis.crossEntropy"),
            log: this.log,
            yFormat: this.log ? formats.log : formats.measure,
            wholeX: true,
          },
        ),
        hooks: mergeHooks(boundaryHooks(() => this.boundaries(), colors.text), markerHooks(() => this.markers(), colors.marker)),
      }),
      data: (width) => this.columns(width),
      summary: () => this.summary(),
      emptyKey: () => {
        const status = store.run?.status;
        if (status === "loading-data") return "run.loading";
        return store.run ? "chart.noEpoch" : "chart.empty";
      },
    });
    this.showSmoothing();
    datasetText(root.querySelector("[data-loss-explain]"), store, (dataset) => {
      const classes = dataset.class_names.length;
      const chance = Math.round(Math.log(classes) * 10) / 10; // the loss of a uniform guess
      return t("chart.lossExplain", { classes: integer(classes), chance: measure(chance) });
    });
    this.slider.addEventListener("input", () => {
      this.smoothing = Number(this.slider.value);
      remember(SMOOTHING_KEY, this.smoothing);
      this.showSmoothing();
      this.plot.invalidate();
    });
    this.logBox.addEventListener("change", () => {
      this.log = this.logBox.checked;
      remember(LOG_KEY, this.log);
      this.plot.rebuild();
    });
    for (const event of ["reset", "run", "steps", "change"]) store.addEventListener(event, () => this.plot.invalidate());
  }

  /** The learning-rate changes of the run, as the chart's vertical lines. */
  markers() {
    return this.store.lrChanges.map(({ step, lr }) => ({ x: step, label: t("chart.lrMarker", { lr: settingText(lr) }) }));
  }

  /** Where each epoch after the first begins: faint lines labelled with the epoch. */
  boundaries() {
    const perEpoch = this.store.run?.steps_per_epoch;
    const last = this.store.steps.lastStep;
    if (!perEpoch || !last) return [];
    const lines = [];
    for (let epoch = 2; (epoch - 1) * perEpoch < last; epoch += 1) {
      lines.push({ x: (epoch - 1) * perEpoch + 0.5, label: t("chart.epochMark", { n: integer(epoch) }) });
    }
    this.plot.host.dataset.epochBoundaries = String(lines.length);
    return lines;
  }

  /** For screen readers: where the smoothed loss started and where it is now. */
  summary() {
    const series = this.store.steps;
    const n = series.length;
    if (n === 0) return "";
    const ema = this.smoothed();
    const perEpoch = this.store.run?.steps_per_epoch || 0;
    return t("summary.loss", {
      a: measure(series.loss[0]),
      b: measure(ema[n - 1]),
      steps: integer(series.lastStep),
      epochs: perEpoch ? measure(Math.round((series.lastStep / perEpoch) * 10) / 10) : "–",
    });
  }

  showSmoothing() {
    this.sliderValue.textContent = this.smoothing.toFixed(3);
  }

  /** The moving average of every held step, computed only for new steps unless something changed. */
  smoothed() {
    const series = this.store.steps;
    const key = `${series.version}|${this.smoothing}`;
    if (key !== this.emaKey || this.ema.length < series.length) {
      if (this.ema.length < series.length) this.ema = new Float64Array(series.step.length);
      this.emaKey = key;
      this.emaState = newSmoothState();
      this.emaDone = 0;
    }
    smooth(series.loss, this.ema, this.emaDone, series.length, this.smoothing, this.emaState);
    this.emaDone = series.length;
    return this.ema;
  }

  columns(width) {
    const series = this.store.steps;
    const n = series.length;
    const host = this.plot.host; // what the chart holds, for tests and curious readers
    host.dataset.firstStep = n ? String(series.step[0]) : "0";
    host.dataset.lastStep = String(series.lastStep);
    host.dataset.markers = this.store.lrChanges.map(({ step, lr }) => `${step}:${lr}`).join(" ");
    if (n === 0) return null;
    const ema = this.smoothed();
    const indices = this.buckets.indices(series.loss, n, Math.max(100, Math.round(width)), series.version);
    return {
      points: n,
      columns: [pick(series.step, indices), pick(series.loss, indices, this.log), pick(ema, indices, this.log)],
    };
  }
}

/** Accuracy and loss per epoch, train and test, of the store's run. */
export class EpochCharts {
  constructor(root, store) {
    const column = (key) => store.epochs.map((e) => e[key]);
    const emptyKey = () => {
      if (store.run?.status === "loading-data") return "run.loading";
      return store.run ? "chart.noEpoch" : "chart.empty";
    };
    const data = (keys) => () =>
      store.epochs.length === 0
        ? null
        : { points: store.epochs.length, columns: [column("epoch"), ...keys.map(column)] };
    const options = (format, yKey, ySpace = 26) => (colors) =>
      baseOptions(
        colors,
        [
          epochLine(t("series.train"), colors.train, format),
          epochLine(t("series.test"), colors.test, format),
        ],
        { xLabel: t("axis.epoch"), yLabel: t(yKey), yFormat: format, wholeX: true, ySpace },
      );
    const summary = (titleKey, format, trainKey, testKey) => () => {
      const first = store.epochs[0];
      const last = store.epochs.at(-1);
      return t("summary.epochs", {
        what: t(titleKey),
        n: integer(last.epoch),
        train: format(last[trainKey]),
        test: format(last[testKey]),
        first: integer(first.epoch),
        train0: format(first[trainKey]),
        test0: format(first[testKey]),
      });
    };
    this.plots = [
      new Plot(root.querySelector("[data-chart='accuracy']"), {
        options: options(formats.percent, "axis.accuracy", 16),
        data: data(["train_accuracy", "test_accuracy"]),
        emptyKey,
        summary: summary("chart.accuracy", formats.percent, "train_accuracy", "test_accuracy"),
      }),
      new Plot(root.querySelector("[data-chart='epoch-loss']"), {
        options: options(formats.measure, "axis.lossNats"),
        data: data(["train_loss", "test_loss"]),
        emptyKey,
        summary: summary("chart.epochLoss", formats.measure, "train_loss", "test_loss"),
      }),
    ];
    for (const event of ["reset", "run", "epoch"]) {
      store.addEventListener(event, () => this.plots.forEach((plot) => plot.invalidate()));
    }
    datasetText(root.querySelector("[data-epoch-loss-explain]"), store, (dataset) =>
      // the run's own training set when it trains on part of the dataset (train_size)
      t("chart.epochLossExplain", {
        train: integer(store.run?.config?.train_size ?? dataset.train_size),
        test: integer(dataset.test_size),
      }),
    );
  }
}
