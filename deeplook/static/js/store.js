// What the page knows: server info, the connection, and every run it hears about (its summary, and
// for the runs the socket follows their step series, epochs, data-loading progress and
// learning-rate changes), keyed by id. The Train tab follows one of them.
//
// Events (CustomEvent, `detail` as noted):
//   info, connection            the server's registries; the socket's state
//   runs                        a run appeared, went, or its summary changed (lists re-render)
//   run-reset {id}              a run's history was replaced (a snapshot, a resume from a checkpoint)
//   run-status {id}             a run's summary changed
//   run-steps {id}              steps were added to a run's series
//   run-epoch {id, metrics}     an epoch ended
//   run-progress {id}           data-loading progress
//   run-change {id, change}     a learning-rate change ({step, lr})
//   follow                      another run is followed (or none)
//   reset, run, steps, epoch, progress, change
//                               the same for the followed run only (reset also on `follow`)
//   races                       a race's name and settings arrived
//   wanted                      the runs views want the socket to follow changed
//
// Which run is followed: the one the learner picks or this page starts, for as long as it is active;
// otherwise the newest run that became active since, or on (re)connecting the newest active run
// (else the latest run). A run that finishes stays followed until another starts: no flipping.

import { statusSets } from "./registry.js";
import { StepSeries } from "./series.js";

/** One run as the page holds it. */
export class RunRecord {
  constructor(summary) {
    this.summary = summary;
    this.steps = new StepSeries();
    this.epochs = [];
    this.progress = null; // {message, fraction} while it loads its data
    this.lrChanges = []; // [{step, lr}] in step order
    this.loaded = false; // its history came from the server (a snapshot), not only from the stream
    this.stale = false; // held from before a reconnection: the next snapshot replaces it whole
    this.statusAt = 0; // when the stream last told its summary (newer than any list fetched before)
  }

  get id() {
    return this.summary.id;
  }

  get lastEpoch() {
    return this.epochs.length ? this.epochs[this.epochs.length - 1].epoch : 0;
  }
}

export class Store extends EventTarget {
  constructor() {
    super();
    this.info = null;
    this.statuses = statusSets(null); // {active, finished, resumable}: sets of names from info.statuses
    this.connection = { state: "connecting", retryIn: 0 };
    this.records = new Map(); // run id -> RunRecord
    this.followedId = null;
    this.chosen = null; // the run the learner picked or this page started
    this.races = new Map(); // race id -> RaceOut (name, differs, runs)
    this.wanted = new Map(); // a view's key -> ids it wants followed over the socket
    this.sorted = null; // records newest first, rebuilt when a run comes or goes
  }

  emit(type, detail = null) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** A run event, and its twin for the followed run (`run-status` is `run` for it). */
  emitRun(type, id, extra = {}) {
    this.emit(`run-${type}`, { id, ...extra });
    if (id === this.followedId) this.emit(type === "status" ? "run" : type, { id, ...extra });
  }

  setInfo(info) {
    this.info = info;
    this.statuses = statusSets(info);
    this.emit("info");
  }

  setConnection(state, retryIn = 0) {
    this.connection = { state, retryIn };
    this.emit("connection");
  }

  // -- reading ------------------------------------------------------------------------------------

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

  record(id) {
    return id == null ? null : (this.records.get(id) ?? null);
  }

  summary(id) {
    return this.record(id)?.summary ?? null;
  }

  /** Every run known (its summary as it is now), newest first. */
  get runs() {
    this.sorted ??= [...this.records.values()].sort((a, b) => b.summary.created_at - a.summary.created_at);
    return this.sorted.map((record) => record.summary);
  }

  /** The runs that train or wait, oldest first (the order they started in). */
  get activeRuns() {
    return this.runs.filter((run) => this.isActive(run)).reverse();
  }

  get followed() {
    return this.record(this.followedId);
  }

  // the followed run, as the views of the Train tab read it
  get run() {
    return this.followed?.summary ?? null;
  }

  get steps() {
    return this.followed?.steps ?? EMPTY_SERIES;
  }

  get epochs() {
    return this.followed?.epochs ?? [];
  }

  get progress() {
    return this.followed?.progress ?? null;
  }

  get lrChanges() {
    return this.followed?.lrChanges ?? [];
  }

  /**
   * What starting `count` runs (one, or a race's) would do, as the server decides it (info.limits):
   * {kind: "now" | "queued" | "full" | "unknown", training, queued, max, position, last}. A race's
   * runs start together, once min(count, max) trainers are free and nothing waits before them.
   */
  startOutlook(count = 1) {
    const active = this.runs.filter((run) => this.isActive(run));
    const queued = active.filter((run) => run.status === "queued").length;
    const training = active.length - queued;
    const limits = this.info?.limits;
    if (!limits?.max_active_runs) return { kind: "unknown", training, queued };
    const max = limits.max_active_runs;
    const free = max - training;
    const base = { training, queued, max };
    if (queued === 0 && free >= Math.min(count, max)) return { kind: "now", ...base };
    if (limits.max_queued_runs != null && queued >= limits.max_queued_runs && free <= 0) {
      return { kind: "full", ...base };
    }
    return { kind: "queued", position: queued + 1, last: queued + count, ...base };
  }

  /** The runs of a race that the page knows, in the order they were created. */
  raceRuns(raceId) {
    return raceId == null ? [] : this.runs.filter((run) => run.race_id === raceId).reverse();
  }

  // -- following ----------------------------------------------------------------------------------

  /** Follow this run: the learner picked it, or this page started it. */
  follow(id) {
    this.chosen = id;
    this.setFollowed(id);
  }

  setFollowed(id) {
    if (id === this.followedId) return;
    this.followedId = id;
    this.emit("follow");
    this.emit("reset", { id });
    this.emit("wanted");
  }

  /** Whether the learner's (or this page's) choice still holds: that run exists and is active. */
  get choiceHolds() {
    return this.chosen != null && this.isActive(this.summary(this.chosen));
  }

  /** The newest active run that trains (else the newest waiting), else the one followed, else the latest. */
  defaultFollow() {
    const active = this.runs.filter((run) => this.isActive(run));
    const training = active.find((run) => run.status !== "queued");
    const id = training?.id ?? active[0]?.id ?? this.followed?.id ?? this.latestLoaded()?.id ?? null;
    this.setFollowed(id);
  }

  latestLoaded() {
    return this.runs.map((run) => this.records.get(run.id)).find((record) => record.loaded) ?? null;
  }


  /** A run started (or resumed): it is followed unless the learner's choice still trains. */
  onStarted(id) {
    if (this.choiceHolds && this.chosen !== id) return;
    this.chosen = this.chosen === id ? id : null;
    this.setFollowed(id);
  }

  // -- what the socket should follow --------------------------------------------------------------

  /** The runs a view (`key`) wants followed over the socket, beyond the active ones. */
  want(key, ids) {
    const next = [...new Set(ids)].filter(Boolean);
    const held = this.wanted.get(key) ?? [];
    if (next.length === held.length && next.every((id, i) => id === held[i])) return;
    if (next.length) this.wanted.set(key, next);
    else this.wanted.delete(key);
    this.emit("wanted");
  }

  /** Every run some view wants followed, the followed run included. */
  wantedIds() {
    const ids = new Set([...this.wanted.values()].flat());
    if (this.followedId) ids.add(this.followedId);
    return [...ids];
  }

  // -- changes from the server --------------------------------------------------------------------

  upsert(summary) {
    let record = this.records.get(summary.id);
    if (!record) {
      record = new RunRecord(summary);
      this.records.set(summary.id, record);
      this.sorted = null;
    }
    return record;
  }

  /**
   * The list of runs (GET /api/runs, asked for at `askedAt`): runs no longer there are forgotten; a
   * summary the stream told after the list was asked for is newer and stays.
   */
  setRuns(list, askedAt = 0) {
    const seen = new Set();
    for (const summary of list) {
      seen.add(summary.id);
      const record = this.upsert(summary);
      if (record.statusAt > askedAt) continue;
      record.summary = this.merged(record, summary);
    }
    for (const [id, record] of this.records) {
      if (seen.has(id) || record.statusAt > askedAt) continue;
      this.records.delete(id); // deleted
    }
    this.sorted = null;
    if (this.followedId && !this.records.has(this.followedId)) {
      this.chosen = null;
      this.defaultFollow();
    } else if (!this.followedId) {
      this.defaultFollow();
    }
    this.emit("runs");
  }

  /** A summary, with what the stream has already said of its steps and epochs (it lags the stream). */
  merged(record, summary) {
    return {
      ...summary,
      steps_done: Math.max(summary.steps_done, record.steps.lastStep),
      epochs_done: Math.max(summary.epochs_done, record.lastEpoch),
    };
  }

  /** The socket (re)connected: what is held may have missed messages, until a snapshot replaces it. */
  beginSync() {
    for (const record of this.records.values()) {
      if (record.loaded || record.steps.length) record.stale = true;
      record.loaded = false;
    }
  }

  /** The snapshots of a (re)connection have arrived. */
  endSync() {
    if (!this.choiceHolds) this.defaultFollow();
    this.emit("runs");
  }

  /**
   * A whole run (a snapshot, or its full metrics): its history up to the detail's last step is
   * replaced; newer steps that streamed meanwhile are kept, unless what is held is stale.
   */
  loadRun(detail, progress = null) {
    const { epochs, steps, lr_changes: lrChanges, ...summary } = detail;
    const record = this.upsert(summary);
    const held = record.steps;
    const last = steps.step.at(-1) ?? 0;
    const newer = { step: [], epoch: [], loss: [] };
    if (!record.stale) {
      for (let i = 0; i < held.length; i++) {
        if (held.step[i] <= last) continue;
        newer.step.push(held.step[i]);
        newer.epoch.push(held.epoch[i]);
        newer.loss.push(held.loss[i]);
      }
    }
    const lastEpoch = epochs.at(-1)?.epoch ?? 0;
    const keptEpochs = record.stale ? [] : record.epochs.filter((e) => e.epoch > lastEpoch);
    held.reset(steps);
    held.append(newer);
    record.epochs = [...[...epochs].sort((a, b) => a.epoch - b.epoch), ...keptEpochs];
    if (lrChanges) {
      const later = record.stale ? [] : record.lrChanges.filter((c) => c.step > last);
      record.lrChanges = mergeChanges(lrChanges, later);
    }
    record.loaded = true;
    record.stale = false;
    record.summary = this.merged(record, summary);
    if (progress !== undefined) record.progress = progress?.run_id === summary.id ? progress : null;
    this.emitRun("reset", summary.id);
    this.emit("runs");
  }

  /**
   * A status message, or the answer to a call made at `askedAt` (performance.now()) that changed a
   * run: its whole summary. An answer is dropped when the stream has told a newer one meanwhile.
   */
  applyStatus(summary, askedAt = null) {
    const known = this.records.get(summary.id);
    if (askedAt != null && known && known.statusAt > askedAt) return;
    const wasActive = known != null && this.isActive(known.summary);
    const record = this.upsert(summary);
    if (askedAt == null) record.statusAt = performance.now();
    if (known && this.isFinished(known.summary) && this.isActive(summary)) {
      // resumed from its last checkpoint: what came after it will be trained again
      record.steps.truncate(summary.steps_done);
      record.epochs = record.epochs.filter((e) => e.epoch <= summary.epochs_done);
      record.lrChanges = record.lrChanges.filter((c) => c.step <= summary.steps_done);
      this.emitRun("reset", summary.id);
    }
    if (summary.status !== "loading-data") record.progress = null;
    if (!record.loaded && !record.stale && record.steps.length === 0 && summary.steps_done === 0) {
      record.loaded = true; // nothing trained yet: the stream brings all of it
    }
    record.summary = this.merged(record, summary);
    this.emitRun("status", summary.id);
    this.emit("runs");
    if (!wasActive && this.isActive(summary)) this.onStarted(summary.id);
  }

  applySteps(message) {
    const record = this.records.get(message.run_id);
    if (!record) return;
    if (record.steps.append(message) > 0) {
      record.summary = { ...record.summary, steps_done: Math.max(record.summary.steps_done, record.steps.lastStep) };
      this.emitRun("steps", message.run_id);
    }
  }

  applyEpoch(message) {
    const record = this.records.get(message.run_id);
    const metrics = message.metrics;
    if (!record || metrics.epoch <= record.lastEpoch) return;
    record.epochs = [...record.epochs, metrics];
    const summary = record.summary;
    record.summary = {
      ...summary,
      epochs_done: Math.max(summary.epochs_done, metrics.epoch),
      test_accuracy: metrics.test_accuracy,
      checkpoint_epoch: Math.max(summary.checkpoint_epoch, metrics.epoch),
    };
    this.emitRun("epoch", message.run_id, { metrics });
    this.emit("runs");
  }

  applyProgress(message) {
    const record = this.records.get(message.run_id);
    if (!record) return;
    record.progress = message;
    this.emitRun("progress", message.run_id);
  }

  /** A learning-rate change, from the step it applies to on. */
  applyChange(message) {
    const record = this.records.get(message.run_id);
    if (!record) return;
    const change = { step: message.step, lr: message.lr };
    record.lrChanges = mergeChanges(record.lrChanges, [change]);
    this.emitRun("change", message.run_id, { change });
  }

  setRace(race) {
    this.races.set(race.id, race);
    for (const summary of race.runs ?? []) {
      const record = this.records.get(summary.id);
      if (!record) this.upsert(summary);
    }
    this.emit("races", { id: race.id });
  }
}

const EMPTY_SERIES = new StepSeries();

/** Two lists of learning-rate changes as one, by step (a later word on the same step wins). */
function mergeChanges(first, second) {
  const bySteps = new Map();
  for (const change of [...first, ...second]) bySteps.set(change.step, { step: change.step, lr: change.lr });
  return [...bySteps.values()].sort((a, b) => a.step - b.step);
}
