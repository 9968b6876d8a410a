// A race, live: shown while the followed run belongs to one. Every run of the race in its own colour,
// named by what makes it different: a row each (status, epoch, test accuracy; press to follow it),
// the smoothed loss per step of all of them in one chart and their test accuracy per epoch in
// another, redrawn as they train; and a button that stops the whole race.

import { api } from "./api.js";
import { Plot, baseOptions, epochLine, formats, joinTables, line } from "./charts.js";
import { element, finder } from "./dom.js";
import { describeError } from "./errors.js";
import { integer, percent } from "./format.js";
import { onLangChange, t } from "./i18n.js";
import { RUN_COLORS } from "./race-form.js";
import { byName } from "./registry.js";
import { RunningAverage } from "./series.js";
import { fieldLabel, runName, statusLabel } from "./words.js";

const SMOOTHING = 0.9;
const REDRAW_EVERY = 250; // ms: several runs stream at once; the charts keep up at a few frames a second

export class RaceView {
  constructor(root, store) {
    Object.assign(this, { root, store, find: finder(root) });
    this.raceId = null;
    this.runs = []; // the summaries of its runs, in the order they were created
    this.smoothed = new Map(); // run id -> its RunningAverage
    this.shape = ""; // the runs and their names the charts were built for
    this.timer = 0;
    this.asked = new Set(); // races whose name and settings were asked for
    const colors = (palette) => this.runs.map((_, i) => palette.runs[i % palette.runs.length]);
    this.lossPlot = new Plot(this.find("chart='race-loss'"), {
      options: (palette) =>
        baseOptions(
          palette,
          this.runs.map((run, i) => line(runName(run), colors(palette)[i])),
          { xLabel: t("axis.step"), wholeX: true },
        ),
      data: (width) => this.lossColumns(width),
      emptyKey: "chart.noSteps",
    });
    this.accuracyPlot = new Plot(this.find("chart='race-accuracy'"), {
      options: (palette) =>
        baseOptions(
          palette,
          this.runs.map((run, i) => epochLine(runName(run), colors(palette)[i], formats.percent)),
          { xLabel: t("axis.epoch"), yFormat: formats.percent, wholeX: true },
        ),
      data: () => this.accuracyColumns(),
      emptyKey: "chart.noEpoch",
    });
    this.find("race-stop").addEventListener("click", () => this.stop());
    this.find("race-runs").addEventListener("click", (event) => {
      const button = event.target.closest("[data-follow]");
      if (button) store.follow(button.dataset.follow);
    });
    for (const type of ["follow", "runs", "races", "info"]) store.addEventListener(type, () => this.sync());
    for (const type of ["run-steps", "run-epoch", "run-reset"]) {
      store.addEventListener(type, (event) => {
        if (this.runs.some((run) => run.id === event.detail.id)) this.redrawSoon();
      });
    }
    onLangChange(() => this.render());
  }

  /** The race of the followed run, if it has one. */
  sync() {
    const raceId = this.store.run?.race_id ?? null;
    if (raceId !== this.raceId) {
      this.raceId = raceId;
      this.smoothed.clear();
      this.showError("");
    }
    this.runs = this.store.raceRuns(raceId);
    this.root.hidden = raceId == null;
    this.root.dataset.race = raceId ?? "";
    this.store.want("race", this.runs.map((run) => run.id)); // their histories, if they are not training
    if (raceId && !this.store.races.has(raceId) && !this.asked.has(raceId)) {
      this.asked.add(raceId);
      api.race(raceId).then(
        (race) => this.store.setRace(race),
        () => this.asked.delete(raceId),
      );
    }
    this.render();
  }

  redrawSoon() {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = 0;
      this.lossPlot.invalidate();
      this.accuracyPlot.invalidate();
      this.renderRuns();
    }, REDRAW_EVERY);
  }

  render() {
    if (this.raceId == null) return;
    const race = this.store.races.get(this.raceId);
    this.find("race-name").textContent = t("race.title", { name: race?.name ?? this.raceId });
    const differs = race?.differs.map((name) => {
      const setting = byName(this.store.info?.settings, name);
      return setting ? fieldLabel(setting) : name;
    });
    this.find("race-differs").textContent = differs?.length ? t("race.differsIn", { settings: differs.join(", ") }) : "";
    this.find("race-stop").hidden = !this.runs.some((run) => this.store.isActive(run));
    const shape = [document.documentElement.lang, ...this.runs.map((run) => `${run.id}:${runName(run)}`)].join("|");
    if (shape !== this.shape) {
      this.shape = shape;
      this.lossPlot.rebuild(); // a series per run, named after it
      this.accuracyPlot.rebuild();
    } else {
      this.lossPlot.invalidate();
      this.accuracyPlot.invalidate();
    }
    this.renderRuns();
  }

  renderRuns() {
    const focused = document.activeElement?.dataset?.follow;
    const items = this.runs.map((run, index) => {
      const item = element("li", "race-run");
      item.dataset.raceRun = run.id;
      const button = element("button", "race-run-button");
      button.type = "button";
      button.dataset.follow = run.id;
      button.setAttribute("aria-pressed", String(run.id === this.store.followedId));
      const swatch = element("span", "swatch");
      swatch.style.setProperty("--swatch", `var(--${RUN_COLORS[index % RUN_COLORS.length]})`);
      button.append(swatch, element("span", "race-run-name", runName(run)));
      const status = element("span", "badge", statusLabel(run.status));
      status.dataset.state = run.status;
      const epochs = element(
        "span",
        "muted",
        t("run.epochOf", { x: integer(this.epochShown(run)), n: integer(run.epochs_total) }),
      );
      const accuracy = element("strong", "race-run-accuracy", percent(run.test_accuracy, 2));
      item.append(button, status, epochs, accuracy);
      return item;
    });
    this.find("race-runs").replaceChildren(...items);
    if (focused) this.find("race-runs").querySelector(`[data-follow="${focused}"]`)?.focus();
  }

  /** The epoch a run is in, as the run bar says it: that of its newest step (or the last one done). */
  epochShown(run) {
    const steps = this.store.record(run.id)?.steps;
    return steps?.length ? steps.epoch[steps.length - 1] : Math.max(run.epochs_done, 1);
  }

  /** A run's moving average of every step it holds, computed only for the steps added since. */
  average(record) {
    let average = this.smoothed.get(record.id);
    if (!average) {
      average = new RunningAverage(SMOOTHING);
      this.smoothed.set(record.id, average);
    }
    return average.of(record.steps);
  }

  /**
   * Every run's smoothed loss at the same steps (every k-th, k from the longest run and the chart's
   * width, and each run's newest): the runs share their batch size, so their steps line up.
   */
  lossColumns(width) {
    const host = this.lossPlot.host;
    const records = this.runs.map((run) => this.store.record(run.id));
    const longest = Math.max(0, ...records.map((record) => record?.steps.length ?? 0));
    host.dataset.series = String(records.length);
    host.dataset.runPoints = records.map((record, i) => `${this.runs[i].id}:${record?.steps.length ?? 0}`).join(" ");
    if (longest === 0) return null;
    const stride = Math.max(1, Math.ceil(longest / Math.max(200, Math.round(width))));
    const tables = records.map((record) => {
      const xs = [];
      const ys = [];
      const n = record?.steps.length ?? 0;
      if (n > 0) {
        const values = this.average(record);
        const steps = record.steps.step;
        for (let i = 0; i < n; i += stride) {
          xs.push(steps[i]);
          ys.push(Number.isFinite(values[i]) ? values[i] : null);
        }
        if ((n - 1) % stride !== 0) {
          xs.push(steps[n - 1]);
          ys.push(Number.isFinite(values[n - 1]) ? values[n - 1] : null);
        }
      }
      return [xs, ys];
    });
    const points = records.reduce((sum, record) => sum + (record?.steps.length ?? 0), 0);
    return { points, columns: joinTables(tables) };
  }

  accuracyColumns() {
    const host = this.accuracyPlot.host;
    const records = this.runs.map((run) => this.store.record(run.id));
    host.dataset.series = String(records.length);
    host.dataset.runPoints = records.map((record, i) => `${this.runs[i].id}:${record?.epochs.length ?? 0}`).join(" ");
    const tables = records.map((record) => [
      (record?.epochs ?? []).map((e) => e.epoch),
      (record?.epochs ?? []).map((e) => e.test_accuracy),
    ]);
    const points = tables.reduce((sum, [xs]) => sum + xs.length, 0);
    return points ? { points, columns: joinTables(tables) } : null;
  }

  async stop() {
    const raceId = this.raceId;
    if (!raceId) return;
    this.showError("");
    try {
      const askedAt = performance.now();
      const race = await api.stopRace(raceId);
      this.store.setRace(race);
      for (const summary of race.runs) this.store.applyStatus(summary, askedAt);
    } catch (error) {
      this.showError(describeError(error));
    }
    if (this.find("race-stop").hidden) this.root.focus(); // the button went away: the race is over
  }

  showError(text) {
    const message = this.find("race-stop-error");
    message.textContent = text;
    message.hidden = !text;
  }
}
