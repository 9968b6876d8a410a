// The followed run at a glance: status, epoch x of N, step, samples/s, time left, and the buttons
// that pause, resume and stop it.

import { api } from "./api.js";
import { describeError } from "./errors.js";
import { duration, integer, percent } from "./format.js";
import { onLangChange, t } from "./i18n.js";
import { datasetLabel, reasonText, runTitle, statusLabel } from "./words.js";

const RATE_WINDOW = 5000; // ms of step arrivals the speed is measured over

export class RunBar {
  constructor(root, store) {
    this.root = root;
    this.store = store;
    this.find = (name) => root.querySelector(`[data-run-${name}]`);
    this.arrivals = []; // [time, step] of recent step messages
    this.frame = 0;
    this.busy = false;
    this.find("pause").addEventListener("click", () => this.control("pause"));
    this.find("resume").addEventListener("click", () => this.control("resume"));
    this.find("stop").addEventListener("click", () => this.control("stop"));
    store.addEventListener("reset", () => {
      this.arrivals = [];
      this.showError("");
      this.invalidate();
    });
    store.addEventListener("steps", () => {
      this.arrivals.push([performance.now(), store.steps.lastStep]);
      this.invalidate();
    });
    for (const event of ["info", "run", "epoch", "progress"]) store.addEventListener(event, () => this.invalidate());
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

  async control(action) {
    const run = this.store.run;
    if (!run || this.busy) return;
    this.busy = true;
    this.showError("");
    this.render();
    try {
      const summary = await api[action](run.id);
      this.store.applyStatus(summary);
    } catch (error) {
      this.showError(describeError(error));
    } finally {
      this.busy = false;
      this.render();
    }
  }

  showError(text) {
    const element = this.find("error");
    element.textContent = text;
    element.hidden = !text;
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

  render() {
    const { run, steps, progress } = this.store;
    const has = run != null;
    this.root.dataset.status = has ? run.status : "none";
    this.find("none").hidden = has;
    this.find("details").hidden = !has;
    this.renderButtons(run);
    if (!has) return;
    this.find("name").textContent = runTitle(run);
    this.find("dataset").textContent = datasetLabel(this.store.info, run.dataset);
    const status = this.find("status");
    status.textContent = statusLabel(run.status);
    status.dataset.state = run.status;
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
    if (run.status === "running") {
      const rate = this.stepRate();
      if (rate) {
        this.find("rate").textContent = t("run.rate", { n: integer(rate * run.config.batch_size) });
        this.find("eta").textContent = t("run.eta", { t: duration((totalSteps - step) / rate) });
      }
    } else if (run.status === "loading-data") {
      const fraction = progress?.fraction;
      this.find("rate").textContent =
        fraction == null ? t("run.loading") : `${t("run.loading")} ${percent(fraction, 0)}`;
    } else if (run.finished_at && run.started_at) {
      this.find("eta").textContent = t("run.took", { t: duration(run.finished_at - run.started_at) });
    }
    const reason = this.find("reason");
    reason.textContent = reasonText(run);
    reason.hidden = !reason.textContent;
    reason.dataset.code = run.reason_code ?? "";
  }

  renderButtons(run) {
    const active = this.store.isActive(run);
    const pause = this.find("pause");
    const resume = this.find("resume");
    const stop = this.find("stop");
    pause.hidden = !active || run.status === "paused";
    resume.hidden = !this.store.canResume(run);
    stop.hidden = !active;
    for (const button of [pause, resume, stop]) button.disabled = this.busy;
  }
}
