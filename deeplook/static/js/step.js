// The Step by step tab: one real training step of a run's network (the run and epoch picked; by
// default the untrained start of the run on the Train tab, as in the notebook), traced by the server
// on a batch (the notebook's first five training digits, or the learner's pick and drawings) and
// shown stage by stage. Each stage has its own address (#step/<stage>, e.g. #step/dW1: reload, links,
// back and forward); ← and → move between stages, Space plays them. `#step/<stage>?for=adam` (or sgd,
// momentum) asks for a run trained that way when the one shown is not: the concept help links there.

import { api } from "./api.js";
import { finder, replaceOptions } from "./dom.js";
import { describeError } from "./errors.js";
import { architecture, integer, setting } from "./format.js";
import { onLangChange, t } from "./i18n.js";
import { BatchPicker } from "./step-batch.js";
import { StageRail } from "./step-rail.js";
import { StageView } from "./step-stage.js";
import { StepState } from "./step-state.js";
import { configKind, optimizerLabel } from "./step-text.js";
import { runLine } from "./words.js";

const TAB = "step";
const PLAY_EVERY = 4000; // ms each stage stays while playing
const FULL_LIMIT = 120_000; // every value is asked for when no layer has more weights than this
const RELOAD_AFTER = 300; // ms after the last keystroke in the steps or learning-rate field

/** The stage and the optimizer an address names: #step/dW1?for=adam -> {id: "dW1", aim: "adam"}. */
function parseAddress() {
  const [tab, rest = ""] = location.hash.slice(1).split(/\/(.*)/s);
  if (tab !== TAB) return null;
  const [id, query = ""] = rest.split("?");
  return { id: decodeURIComponent(id) || null, aim: new URLSearchParams(query).get("for") };
}

export class StepView {
  constructor(root, store, tabs) {
    Object.assign(this, { root, store, find: finder(root) });
    this.state = new StepState();
    this.pick = ""; // a run picked in the list; "" is the run on the Train tab
    this.aim = null; // an optimizer the address asked for, until a run of it is found (or none is)
    this.runsKnown = false;
    this.sequence = 0;
    this.requested = null; // what the trace shown (or coming) was asked for
    this.visible = false;
    this.player = 0;
    this.timer = 0;
    this.moving = false;
    this.note = null; // the key of a note about the address's wish (no run trained with that optimizer)
    this.address = null; // the address last read or written
    new BatchPicker(this.find("step-batch"), this.state, store);
    this.rail = new StageRail(this.find("step-nav"), this.state);
    new StageView(this.find("step-stage"), this.state, store);
    this.runChoice = this.find("step-run");
    this.epochChoice = this.find("step-epoch");
    this.stepsField = this.find("step-steps");
    this.lrField = this.find("step-lr");
    this.runChoice.addEventListener("change", () => {
      this.pick = this.runChoice.value;
      this.note = null;
      this.state.epoch = 0;
      this.sync();
    });
    this.epochChoice.addEventListener("change", () => {
      this.state.epoch = Number(this.epochChoice.value);
      this.sync();
    });
    for (const field of [this.stepsField, this.lrField]) {
      field.addEventListener("input", () => {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.readFields(), RELOAD_AFTER);
      });
    }
    this.find("step-prev").addEventListener("click", () => this.move(-1));
    this.find("step-next").addEventListener("click", () => this.move(1));
    this.find("step-play").addEventListener("click", () => this.toggle());
    this.state.addEventListener("batch", () => this.sync());
    for (const type of ["trace", "loading", "problem", "stage"]) this.state.addEventListener(type, () => this.render());
    this.state.addEventListener("stage", () => {
      if (!this.moving) this.writeAddress(); // moves write their own (and push it)
    });
    store.addEventListener("info", () => {
      this.state.info = store.info;
      this.sync();
    });
    store.addEventListener("runs", () => {
      this.runsKnown = true;
      this.sync();
    });
    store.addEventListener("follow", () => this.sync());
    window.addEventListener("hashchange", () => this.readAddress());
    document.addEventListener("keydown", (event) => this.onKey(event));
    tabs.addEventListener("change", (event) => this.setVisible(event.detail === TAB));
    onLangChange(() => this.render());
    this.readAddress();
    this.setVisible(tabs.current === TAB);
  }

  setVisible(visible) {
    this.visible = visible;
    if (!visible) this.stop();
    if (visible) {
      this.readAddress(); // a link to a stage may be what opened the tab
      this.writeAddress();
      this.sync();
    }
  }

  /** The address changed (a link, back or forward, a reload): show the stage it names. */
  readAddress() {
    if (location.hash === this.address) return;
    const address = parseAddress();
    if (!address) return;
    this.address = location.hash;
    this.aim = address.aim;
    this.note = null;
    this.state.show(address.id ?? this.state.wanted ?? this.state.stage?.id ?? null);
    this.sync();
  }

  /** The stage shown, in the address (replacing it: moving between stages pushes its own entry). */
  writeAddress(push = false) {
    const id = this.state.wanted ?? this.state.stage?.id;
    if (!this.visible || !id) return;
    const hash = `#${TAB}/${encodeURIComponent(id)}`;
    this.address = hash;
    if (location.hash === hash) return;
    if (push) history.pushState(null, "", hash);
    else history.replaceState(null, "", hash);
  }

  /** The summary of the run to trace: the picked one, else the one the Train tab follows. */
  chosenRun() {
    return this.pick ? this.store.summary(this.pick) : this.store.run;
  }

  /** Runs that can be traced: they have a saved start (epoch 0) or a checkpoint. */
  traceable() {
    return this.store.runs.filter((run) => run.started_at != null || run.checkpoint_epoch > 0);
  }

  /** A run trained with the optimizer the address asks for, when the one shown is not. */
  resolveAim() {
    if (!this.aim || !this.runsKnown) return;
    const kind = this.aim;
    this.aim = null;
    if (configKind(this.chosenRun()?.config) === kind) return;
    const run = this.traceable().find((each) => configKind(each.config) === kind);
    if (run) this.pick = run.id;
    else this.note = `step.noRunFor.${kind}`;
    this.render();
  }

  sync() {
    this.resolveAim();
    this.fillChoices();
    const run = this.chosenRun();
    const state = this.state;
    state.run = run;
    if (!this.visible || !state.info) return;
    if (!run) {
      this.requested = null;
      state.clearTrace();
      state.fail({ key: "step.none" });
      return;
    }
    if (state.size === 0) {
      this.requested = null;
      state.clearTrace(); // the batch says it is empty
      return;
    }
    if (run.started_at == null && !(run.checkpoint_epoch > 0)) {
      state.clearTrace();
      state.fail({ key: "step.waiting" });
      this.requested = null;
      return;
    }
    const body = this.body(run);
    const key = JSON.stringify([run.id, body]);
    if (key !== this.requested) this.load(run.id, body, key);
  }

  /** The trace's request: the batch, k steps, the learning rate if changed, every value if affordable. */
  body(run) {
    const model = run.config.model;
    const sizes = [model.input_size, ...model.hidden, model.classes];
    const largest = Math.max(...sizes.slice(1).map((size, i) => size * sizes[i]));
    const body = { ...this.state.batchBody(), steps: this.state.steps, full: largest <= FULL_LIMIT };
    if (this.state.lr != null) body.lr = this.state.lr;
    return body;
  }

  async load(runId, body, key) {
    const state = this.state;
    const sequence = ++this.sequence;
    this.requested = key;
    state.setLoading(true);
    try {
      const trace = await api.trace(runId, body);
      if (sequence !== this.sequence) return;
      state.setTrace(trace, body);
    } catch (error) {
      if (sequence !== this.sequence) return;
      const run = this.store.summary(runId);
      this.requested = `${key}|${run?.status}|${run?.epochs_done}`; // asked again when the run moves on
      state.fail({ error });
    } finally {
      if (sequence === this.sequence) state.setLoading(false);
    }
  }

  readFields() {
    const steps = Number(this.stepsField.value);
    const stepsOk = Number.isInteger(steps) && steps >= 1 && steps <= 20;
    const text = this.lrField.value.trim();
    const lr = text === "" ? null : Number(text);
    const lrOk = lr == null || (Number.isFinite(lr) && lr > 0 && lr <= 1000);
    this.stepsField.toggleAttribute("aria-invalid", !stepsOk);
    this.lrField.toggleAttribute("aria-invalid", !lrOk);
    if (!stepsOk || !lrOk) return;
    this.state.steps = steps;
    this.state.lr = lr;
    this.sync();
  }

  fillChoices() {
    const runs = this.traceable();
    const options = [new Option(t("step.followed"), ""), ...runs.map((run) => new Option(runLine(run), run.id))];
    if (this.pick && !runs.some((run) => run.id === this.pick)) options.push(new Option(this.pick, this.pick));
    replaceOptions(this.runChoice, options);
    this.runChoice.value = this.pick;
    const run = this.chosenRun();
    const last = Math.max(run?.epochs_done ?? 0, run?.checkpoint_epoch ?? 0);
    if (this.state.epoch > last) this.state.epoch = 0;
    const epochs = Array.from(
      { length: last + 1 },
      (_, epoch) =>
        new Option(epoch === 0 ? t("step.epochStart") : t("step.epochAfter", { n: integer(epoch) }), String(epoch)),
    );
    replaceOptions(this.epochChoice, epochs);
    this.epochChoice.value = String(this.state.epoch);
    this.lrField.placeholder = run ? t("step.lrPlaceholder", { lr: setting(run.config.optimizer.lr) }) : "";
  }

  // -- moving between stages ----------------------------------------------------------------------

  move(direction, push = true) {
    const state = this.state;
    if (!state.stages.length) return;
    this.moving = true;
    state.go(state.index + direction);
    this.moving = false;
    this.writeAddress(push);
  }

  toggle() {
    if (this.player) {
      this.stop();
      return;
    }
    if (this.state.index >= this.state.stages.length - 1) this.state.go(0);
    this.player = setInterval(() => {
      if (this.state.index >= this.state.stages.length - 1) this.stop();
      else this.move(1, false);
    }, PLAY_EVERY);
    this.render();
  }

  stop() {
    clearInterval(this.player);
    this.player = 0;
    this.render();
  }

  /** ← and → move between stages, Space plays: not while typing, nor where the keys mean more. */
  onKey(event) {
    if (!this.visible || event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target instanceof Element ? event.target : null;
    if (target?.closest("input, select, textarea, canvas, [role='tab'], .heatmap-frame")) return;
    if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      this.move(event.key === "ArrowRight" ? 1 : -1);
      if (target?.matches("[data-stage-link]")) this.rail.focusCurrent();
    } else if (event.key === " " && !target?.closest("button, summary")) {
      this.toggle();
    } else {
      return;
    }
    event.preventDefault();
  }

  // -- showing ------------------------------------------------------------------------------------

  render() {
    const state = this.state;
    this.root.dataset.loading = String(state.loading);
    this.root.dataset.stage = state.stage?.id ?? "";
    const run = state.run;
    const trace = state.trace;
    const about = [];
    if (run && trace) {
      about.push(runLine(run), architecture(run.config.model));
      const optimizer = optimizerLabel(this.store.info, configKind(run.config));
      about.push(t("step.optimizerLr", { optimizer, lr: setting(trace.lr) }));
      about.push(t("step.batchOf", { n: integer(trace.labels.length) }));
    }
    if (state.loading) about.push(t("step.loading"));
    this.find("step-about").textContent = about.join(" · ");
    const note = this.find("step-note");
    note.textContent = this.note ? t(this.note) : "";
    note.hidden = !this.note;
    const error = this.find("step-error");
    const problem = state.problem;
    error.textContent = problem ? (problem.key ? t(problem.key) : describeError(problem.error)) : "";
    error.hidden = !problem;
    const playing = this.player !== 0;
    const play = this.find("step-play");
    play.setAttribute("aria-pressed", String(playing));
    this.find("step-play-text").textContent = t(playing ? "step.pause" : "step.play");
    this.find("step-prev").disabled = !state.stages.length || state.index === 0;
    this.find("step-next").disabled = !state.stages.length || state.index >= state.stages.length - 1;
    this.find("step-position").textContent = state.stages.length
      ? t("step.position", { x: integer(state.index + 1), n: integer(state.stages.length) })
      : "";
  }
}
