// What the page knows: server info, the connection, the live run with its history, the run list.
// Views listen to its events: info, connection, reset, run, steps, epoch, progress, runs.

import { statusSets } from "./registry.js";
import { StepSeries } from "./series.js";

export class Store extends EventTarget {
  constructor() {
    super();
    this.info = null;
    this.statuses = statusSets(null); // {active, finished, resumable}: sets of names from info.statuses
    this.connection = { state: "connecting", retryIn: 0 };
    this.run = null; // the live run's summary: the active run, else the latest
    this.steps = new StepSeries();
    this.epochs = [];
    this.progress = null; // {message, fraction} while the run loads its data
    this.runs = []; // every run, newest first (GET /api/runs)
  }

  emit(type, detail = null) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  setInfo(info) {
    this.info = info;
    this.statuses = statusSets(info);
    this.emit("info");
  }

  /** The run has a trainer, or waits for one: it can be paused or stopped, not deleted. */
  isActive(run) {
    return run != null && this.statuses.active.has(run.status);
  }

  isFinished(run) {
    return run != null && this.statuses.finished.has(run.status);
  }

  /** Training can go on: a paused run, or a finished one that may resume and has epochs left. */
  canResume(run) {
    if (run == null) return false;
    if (run.status === "paused") return true;
    return this.statuses.resumable.has(run.status) && run.epochs_done < run.epochs_total;
  }

  setConnection(state, retryIn = 0) {
    this.connection = { state, retryIn };
    this.emit("connection");
  }

  setRuns(runs) {
    this.runs = runs;
    this.emit("runs");
  }

  /** A whole run (the websocket snapshot, or GET /api/runs/{id}) replaces what is held. */
  loadRun(detail, progress = null) {
    if (detail) {
      const { epochs, steps, ...summary } = detail;
      this.run = summary;
      this.steps.reset(steps);
      this.epochs = [...epochs].sort((a, b) => a.epoch - b.epoch);
    } else {
      this.run = null;
      this.steps.reset();
      this.epochs = [];
    }
    this.progress = progress && this.run && progress.run_id === this.run.id ? progress : null;
    this.emit("reset");
  }

  /** The history of the run followed, fetched after it started (a resumed run): keeps newer points. */
  mergeHistory(detail) {
    if (this.run?.id !== detail.id) return;
    const held = this.steps;
    const newer = { step: [], epoch: [], loss: [] };
    const last = detail.steps.step.at(-1) ?? 0;
    for (let i = 0; i < held.length; i++) {
      if (held.step[i] <= last) continue;
      newer.step.push(held.step[i]);
      newer.epoch.push(held.epoch[i]);
      newer.loss.push(held.loss[i]);
    }
    const lastEpoch = detail.epochs.at(-1)?.epoch ?? 0;
    this.steps.reset(detail.steps);
    this.steps.append(newer);
    this.epochs = [...detail.epochs, ...this.epochs.filter((e) => e.epoch > lastEpoch)];
    this.emit("reset");
  }

  /** A status message: a new run to follow, or a change of the one followed. */
  applyStatus(summary) {
    const previous = this.run;
    if (previous == null || previous.id !== summary.id) {
      this.run = summary;
      this.steps.reset();
      this.epochs = [];
      this.progress = null;
      this.emit("reset");
      return;
    }
    if (this.isFinished(previous) && this.isActive(summary)) {
      // resumed from its last checkpoint: what came after it will be trained again
      this.steps.truncate(summary.steps_done);
      this.epochs = this.epochs.filter((e) => e.epoch <= summary.epochs_done);
      this.emit("reset");
    }
    if (summary.status !== "loading-data") this.progress = null;
    // the store's step count lags the stream; never go back on what the stream said
    this.run = {
      ...summary,
      steps_done: Math.max(summary.steps_done, this.steps.lastStep),
      epochs_done: Math.max(summary.epochs_done, this.lastEpoch),
    };
    this.emit("run");
  }

  applySteps(message) {
    if (this.run?.id !== message.run_id) return;
    if (this.steps.append(message) > 0) {
      this.run = { ...this.run, steps_done: Math.max(this.run.steps_done, this.steps.lastStep) };
      this.emit("steps");
    }
  }

  get lastEpoch() {
    return this.epochs.length ? this.epochs[this.epochs.length - 1].epoch : 0;
  }

  applyEpoch(message) {
    const metrics = message.metrics;
    if (this.run?.id !== message.run_id || metrics.epoch <= this.lastEpoch) return;
    this.epochs = [...this.epochs, metrics];
    this.run = {
      ...this.run,
      epochs_done: Math.max(this.run.epochs_done, metrics.epoch),
      test_accuracy: metrics.test_accuracy,
      checkpoint_epoch: Math.max(this.run.checkpoint_epoch, metrics.epoch),
    };
    this.emit("epoch", metrics);
  }

  applyProgress(message) {
    if (this.run?.id !== message.run_id) return;
    this.progress = message;
    this.emit("progress");
  }
}
