// The followed run at a glance: status (and queue position), epoch x of N, step, samples/s, time
// left; the buttons that pause, resume and stop it; and, while it is active, its learning rate and
// pace, changed between two steps (PATCH /api/runs/{id}), with a "one step" button at the step pace.

import { ApiError, api } from "./api.js";
import { describeError, fieldMessage } from "./errors.js";
import { configSummary, duration, integer, percent, setting as settingText } from "./format.js";
import { onLangChange, t } from "./i18n.js";
import { byName, paceNames } from "./registry.js";
import { datasetLabel, paceExplanation, paceLabel, reasonText, runTitle, statusLabel } from "./words.js";

const RATE_WINDOW = 5000; // ms of step arrivals the speed is measured over
const ETA_SMOOTHING = 3000; // ms the time left is averaged over, so that it glides rather than jumps

export class RunBar {
  constructor(root, store) {
    this.root = root;
    this.store = store;
    this.find = (name) => root.querySelector(`[data-run-${name}]`);
    this.arrivals = []; // [time, step] of recent step messages
    this.frame = 0;
    this.busy = false;
    this.lrFor = null; // the run whose learning rate the field shows (it is not overwritten while edited)
    this.note = null; // {key, params} of the last change made from here
    const buttons = { pause: "pause", resume: "resume", stop: "stop", step: "one-step" };
    this.button = (action) => this.find(buttons[action]);
    for (const action of Object.keys(buttons)) {
      this.button(action).addEventListener("click", () => this.control(action));
    }
    this.find("lr-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.applyLearningRate();
    });
    this.find("lr").addEventListener("input", () => this.showError(""));
    this.find("pace").addEventListener("change", () => this.setPace(this.find("pace").value));
    this.epochArrivals = []; // times the followed run's epochs arrived (their evaluation included)
    this.finishAt = null; // the smoothed estimate of when the run ends (performance.now() ms)
    this.loadingShown = 0; // the loading percentage shown: it never goes back
    store.addEventListener("reset", () => {
      this.arrivals = [];
      this.epochArrivals = [];
      this.finishAt = null;
      this.finishAtTime = null;
      this.loadingShown = 0;
      this.showError("");
      this.invalidate();
    });
    store.addEventListener("follow", () => {
      this.lrFor = null;
      this.note = null;
    });
    store.addEventListener("steps", () => {
      this.arrivals.push([performance.now(), store.steps.lastStep]);
      this.invalidate();
    });
    store.addEventListener("change", (event) => {
      const { step, lr } = event.detail.change;
      this.note = { key: "run.lrChanged", params: { lr: settingText(lr), step: integer(step) } };
      this.lrFor = null; // show the learning rate now in force
      this.invalidate();
    });
    store.addEventListener("info", () => this.buildPaces());
    document.addEventListener("keydown", (event) => this.handleSpace(event));
    // on a phone the form is below the charts: a link goes straight to it
    this.find("new-link")?.addEventListener("click", (event) => {
      event.preventDefault();
      const form = document.querySelector("[data-run-form]");
      form?.scrollIntoView({ block: "start" });
      form?.querySelector("[data-field='preset']")?.focus({ preventScroll: true });
    });
    store.addEventListener("epoch", () => this.epochArrivals.push(performance.now()));
    store.addEventListener("run", () => this.showError("")); // a message about an earlier state goes
    for (const event of ["info", "run", "epoch", "progress", "connection"]) {
      store.addEventListener(event, () => this.invalidate());
    }
    onLangChange(() => this.render());
    this.render();
  }

  invalidate() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  buildPaces() {
    const select = this.find("pace");
    select.replaceChildren(...paceNames(this.store.info).map((name) => new Option(paceLabel(name), name)));
    const lr = byName(this.store.info?.settings, "lr");
    const input = this.find("lr");
    if (lr?.maximum != null) input.max = String(lr.maximum);
    this.invalidate();
  }

  /** Pause, resume, stop or one step; focus moves on when the pressed button goes away. */
  async control(action) {
    const run = this.store.run;
    if (!run || this.busy) return;
    const pressed = this.button(action);
    await this.call(() => api[action](run.id));
    if (pressed.hidden || !this.root.contains(document.activeElement)) this.focusNext(action);
  }

  /**
   * Space pauses or resumes the followed run while the Train tab shows and the page itself has the
   * focus (not a field, a button, a link or anything else that Space already works).
   */
  handleSpace(event) {
    if (event.key !== " " || event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    const interactive = "input, textarea, select, button, a[href], summary, [contenteditable], [role='button'], [role='slider'], canvas";
    if (target instanceof Element && target !== document.body && target.closest(interactive)) return;
    if (this.root.offsetParent === null) return; // the Train tab is not shown
    const run = this.store.run;
    if (!run) return;
    const action = run.status === "paused" ? "resume" : run.status === "running" ? "pause" : null;
    if (!action || this.button(action).hidden) return;
    event.preventDefault(); // not a scroll
    this.call(() => api[action](run.id));
  }

  /** After a button went away: the one that undoes it, else the next that is shown, else the bar. */
  focusNext(action) {
    const next = { pause: ["resume", "stop"], resume: ["pause", "stop"], stop: ["resume"], step: ["step", "resume"] };
    for (const name of next[action] ?? []) {
      const button = this.button(name);
      if (!button.hidden) {
        button.focus();
        return;
      }
    }
    this.root.focus();
  }

  /** A call that answers with the run's summary; its error is shown in the bar. */
  async call(request) {
    this.busy = true;
    this.showError("");
    this.render();
    try {
      const askedAt = performance.now();
      const summary = await request();
      if (summary) this.store.applyStatus(summary, askedAt);
      return summary;
    } catch (error) {
      this.showError(describeError(error), error);
      return null;
    } finally {
      this.busy = false;
      this.render();
    }
  }

  async applyLearningRate() {
    const run = this.store.run;
    if (!run || this.busy) return;
    const input = this.find("lr");
    const value = Number(input.value);
    if (input.value.trim() === "" || !Number.isFinite(value)) {
      this.showError(t("error.number"), null, true);
      input.focus();
      return;
    }
    const changesBefore = this.store.lrChanges.length;
    const summary = await this.call(() => api.change(run.id, { lr: value }));
    // the change may have come over the socket before this answer: its note (with its step) stays
    if (summary && this.store.lrChanges.length === changesBefore) {
      this.lrFor = run.id; // keep what was typed until the change comes back with its step
      this.note = { key: "run.lrAsked", params: { lr: settingText(value) } };
      this.render();
    }
  }

  /** A new pace; leaving the step pace also resumes the run it left paused. */
  async setPace(pace) {
    const run = this.store.run;
    if (!run || this.busy || pace === run.pace) return;
    const leavingSteps = run.pace === "step" && pace !== "step";
    const summary = await this.call(() => api.change(run.id, { pace }));
    if (summary && leavingSteps && summary.status === "paused") await this.call(() => api.resume(run.id));
    this.note = null;
    this.render();
  }

  showError(text, error = null, forLearningRate = false) {
    const element = this.find("error");
    const fields = error instanceof ApiError ? error.fields : {};
    const lr = fields.lr?.map(fieldMessage).join(" ");
    element.textContent = lr || text;
    element.hidden = !element.textContent;
    const input = this.find("lr");
    if (lr || forLearningRate) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  /** Steps per second over the last few seconds of arrivals, or null when unknown. */
  stepRate() {
    const now = performance.now();
    while (this.arrivals.length > 2 && now - this.arrivals[0][0] > RATE_WINDOW) this.arrivals.shift();
    if (this.arrivals.length < 2) return null;
    const [t0, s0] = this.arrivals[0];
    const [t1, s1] = this.arrivals[this.arrivals.length - 1];
    return t1 > t0 && s1 > s0 ? ((s1 - s0) * 1000) / (t1 - t0) : null;
  }

  /**
   * Seconds left: the steps left at the measured rate, plus each remaining epoch's evaluation (the
   * time between two epochs beyond their steps), smoothed so that it glides rather than jumps.
   */
  timeLeft(run, step, totalSteps, rate) {
    const now = performance.now();
    let evaluation = 0;
    const times = this.epochArrivals;
    if (times.length >= 2) {
      const between = (times.at(-1) - times.at(-2)) / 1000;
      evaluation = Math.max(0, between - run.steps_per_epoch / rate);
    }
    const epochsLeft = Math.max(0, run.epochs_total - run.epochs_done);
    const estimate = now + ((totalSteps - step) / rate + epochsLeft * evaluation) * 1000;
    // an exponential average over about ETA_SMOOTHING ms, whatever the rate of updates
    const since = now - (this.finishAtTime ?? now);
    this.finishAtTime = now;
    if (this.finishAt == null) this.finishAt = estimate;
    else this.finishAt += (estimate - this.finishAt) * (1 - Math.exp(-since / ETA_SMOOTHING));
    return Math.max(0, (this.finishAt - now) / 1000);
  }

  /** The learning rate in force: the last change's, else the configured one. */
  learningRate(run) {
    return this.store.lrChanges.at(-1)?.lr ?? run.config.optimizer.lr;
  }

  render() {
    const { run, steps, progress } = this.store;
    const has = run != null;
    this.root.dataset.status = has ? run.status : "none";
    this.root.dataset.followed = has ? run.id : "";
    this.root.dataset.pace = has ? run.pace : "";
    this.find("none").hidden = has;
    this.find("details").hidden = !has;
    this.renderButtons(run);
    if (!has) return;
    const name = this.find("name");
    name.textContent = runTitle(run);
    name.append(" ", Object.assign(document.createElement("code"), { className: "run-id muted", textContent: run.id }));
    this.find("settings").textContent = t("run.settings", {
      summary: configSummary(run.config, this.store.info?.settings ?? []),
    });
    const explain = this.find("state-explain");
    const stateKey = `run.explain.${run.status}`;
    explain.textContent = run.status === "paused" || run.status === "stopped" ? t(stateKey) : "";
    explain.hidden = !explain.textContent;
    this.find("keys").hidden = !this.store.isActive(run) || run.status === "queued";
    const offline = this.store.connection.state !== "live";
    this.root.dataset.offline = String(offline);
    this.find("dataset").textContent = datasetLabel(this.store.info, run.dataset);
    const status = this.find("status");
    status.textContent = statusLabel(run.status);
    status.dataset.state = run.status;
    this.find("queue").textContent =
      run.status === "queued" && run.queue_position != null ? t("run.queue", { n: integer(run.queue_position) }) : "";
    const totalSteps = run.steps_per_epoch * run.epochs_total;
    const step = Math.max(steps.lastStep, run.steps_done);
    const epoch = steps.length ? steps.epoch[steps.length - 1] : Math.max(run.epochs_done, 1);
    this.find("epoch").textContent = t("run.epochOf", { x: integer(epoch), n: integer(run.epochs_total) });
    this.find("step").textContent = t("run.step", { x: integer(step), n: integer(totalSteps) });
    const bar = this.find("progress");
    bar.max = totalSteps || 1;
    bar.value = Math.min(step, totalSteps);
    this.find("accuracy").textContent =
      run.test_accuracy == null ? "" : t("run.testAcc", { v: percent(run.test_accuracy, 2) });
    this.find("rate").textContent = "";
    this.find("eta").textContent = "";
    if (offline && this.store.isActive(run)) {
      // the server went away: what it last said may no longer be true, so no speed or time left
      status.textContent = `${statusLabel(run.status)}?`;
      this.find("rate").textContent = t("run.offline");
    } else if (run.status === "running") {
      const rate = this.stepRate();
      if (rate) {
        this.find("rate").textContent = t("run.rate", { n: integer(rate * run.config.batch_size) });
        this.find("eta").textContent = t("run.eta", { t: duration(this.timeLeft(run, step, totalSteps, rate)) });
      }
    } else if (run.status === "loading-data") {
      const fraction = progress?.fraction;
      if (fraction != null) this.loadingShown = Math.max(this.loadingShown, fraction);
      const message = progress?.message || t("run.loading");
      this.find("rate").textContent = this.loadingShown > 0 ? `${message} ${percent(this.loadingShown, 0)}` : message;
    } else if (run.finished_at && run.started_at) {
      this.find("eta").textContent = t("run.tookPauses", { t: duration(run.finished_at - run.started_at) });
    }
    const reason = this.find("reason");
    reason.textContent = reasonText(run);
    reason.hidden = !reason.textContent;
    reason.dataset.code = run.reason_code ?? "";
    this.renderTune(run);
  }

  /** The learning rate and pace of an active run. */
  renderTune(run) {
    const active = this.store.isActive(run);
    this.find("tune").hidden = !active;
    if (!active) return;
    const input = this.find("lr");
    if (this.lrFor !== run.id && document.activeElement !== input) {
      input.value = settingText(this.learningRate(run));
      this.lrFor = run.id;
    }
    input.dataset.current = String(this.learningRate(run));
    const select = this.find("pace");
    for (const option of select.options) option.textContent = paceLabel(option.value);
    if (document.activeElement !== select || !this.busy) select.value = run.pace;
    const stepButton = this.find("one-step");
    stepButton.hidden = run.pace !== "step" || run.status === "queued";
    const note = this.find("tune-note");
    note.textContent = this.note ? t(this.note.key, this.note.params) : paceExplanation(run.pace);
  }

  renderButtons(run) {
    const active = this.store.isActive(run);
    const pause = this.find("pause");
    const resume = this.find("resume");
    const stop = this.find("stop");
    pause.hidden = !active || run.status === "paused" || run.status === "queued";
    resume.hidden = !this.store.canResume(run);
    stop.hidden = !active;
    // not `disabled`: a disabled button loses the focus, and the keyboard user with it
    for (const button of [pause, resume, stop, this.find("one-step"), this.find("lr-apply")]) {
      button.setAttribute("aria-disabled", String(this.busy));
    }
  }
}
