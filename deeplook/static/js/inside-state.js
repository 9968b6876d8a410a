// What the Look inside tab shows: one run at one epoch. The tab's controller (inside.js) sets it;
// the views (weights, health, one digit, confusion) read it and re-render on its events:
//   info     the server's registries arrived
//   run      another run is shown (or none): views clear what they hold
//   summary  the same run changed (its status, its epochs done)
//   series   the run's epochs with a report (and its layer health) arrived
//   epoch    views should show `epoch` of `run`: the choice changed, or what was shown failed
//   model    the run's model got better (a new epoch): answers about it may change
//   problem  `problem` changed
//   visible  the tab was shown or hidden
// Answers that arrive after the run or the epoch changed are dropped: `generation` counts the changes.

import { api } from "./api.js";
import { datasetOf, healthRule } from "./registry.js";

export class InsideState extends EventTarget {
  constructor() {
    super();
    this.info = null;
    this.run = null; // the summary of the run shown
    this.live = false; // it is active, so the stream keeps its summary current
    this.series = null; // its HealthSeries
    this.epochs = []; // epochs with a report
    this.epoch = null; // the epoch chosen
    this.latest = true; // the choice follows new epochs
    this.aimed = null; // an epoch asked for from outside (a run shown beside another): the nearest held
    this.generation = 0;
    this.problem = null; // {key} or {text}
    this.stale = false; // a view could not show the epoch chosen: ask again with the next series
    this.visible = false;
  }

  emit(type) {
    this.dispatchEvent(new Event(type));
  }

  get runId() {
    return this.run?.id ?? null;
  }

  /** The registry entry of the run's dataset (the default one before any run). */
  get dataset() {
    return datasetOf(this.info, this.run?.dataset);
  }

  /** How the run's hidden layers are judged: {kind: "saturated"|"dead", low, high}. */
  get healthRule() {
    return healthRule(this.info, this.run?.config?.model?.activation);
  }

  isCurrent(generation) {
    return generation === this.generation;
  }

  setInfo(info) {
    this.info = info;
    this.emit("info");
  }

  setVisible(visible) {
    if (visible === this.visible) return;
    this.visible = visible;
    this.emit("visible");
  }

  /** Show this run (a summary, or null); `live` when the page follows it. */
  showRun(run, live) {
    this.live = live;
    if ((run?.id ?? null) === this.runId) {
      this.run = run;
      this.emit("summary");
      return;
    }
    this.run = run;
    this.series = null;
    this.epochs = [];
    this.epoch = null;
    this.latest = true;
    this.problem = null;
    this.stale = false;
    this.generation += 1;
    this.emit("run");
  }

  /** The run's layer health and its epochs: the latest one is chosen if the choice follows them. */
  setSeries(series) {
    this.series = series;
    this.epochs = series.epochs;
    this.problem = null;
    const epoch = this.pick();
    this.emit("series");
    this.emit("problem");
    if (epoch !== this.epoch || this.stale) this.show(epoch);
  }

  /** Fetch the run's epochs and layer health into `series`; false when that failed for the run still
   * shown (a problem is set: try again later). */
  async loadSeries() {
    const id = this.runId;
    try {
      const series = await api.health(id);
      if (this.runId === id) this.setSeries(series);
      return true;
    } catch (error) {
      if (this.runId !== id) return true;
      this.fail(error.status === 404 ? { key: "inside.noReport" } : { error });
      return false;
    }
  }

  /** The epoch to show of those held: the latest, the one aimed at (or the last before it), the one chosen. */
  pick() {
    if (this.latest) return this.epochs.at(-1) ?? null;
    if (this.aimed != null) {
      const before = this.epochs.filter((epoch) => epoch <= this.aimed);
      return before.at(-1) ?? this.epochs[0] ?? null;
    }
    return this.epochs.includes(this.epoch) ? this.epoch : (this.epochs.at(-1) ?? null);
  }

  /** Show the epoch of another run (null: follow the latest), or the nearest before it that this run has. */
  aim(epoch) {
    this.aimed = epoch;
    this.latest = epoch == null;
    const next = this.pick();
    if (next !== this.epoch) this.show(next);
  }

  /** The person picked an epoch (an index into `epochs`). */
  choose(index) {
    this.latest = index === this.epochs.length - 1;
    const epoch = this.epochs[index];
    if (epoch != null && epoch !== this.epoch) this.show(epoch);
  }

  show(epoch) {
    this.epoch = epoch;
    this.stale = false;
    this.generation += 1;
    if (epoch != null) this.emit("epoch");
  }

  modelChanged() {
    this.emit("model");
  }

  /** Something could not be loaded; with the generation it was for, the epoch is asked for again. */
  fail(problem, generation = null) {
    if (generation != null) {
      if (!this.isCurrent(generation)) return;
      this.stale = true;
    }
    this.problem = problem;
    this.emit("problem");
  }
}
