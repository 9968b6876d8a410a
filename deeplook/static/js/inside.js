// The Look inside tab: one run (the followed one, or one picked) at one epoch (a slider over the
// epochs with a report; the latest by default, following new ones live). It owns the choice and the
// run's epoch list, kept in an InsideState; the weight images, layer health, one digit and the
// confusion matrix are views of that state, each loading and drawing its own part. A second run
// can be put beside it (another run of its race, say): its weights and layer health at the same epoch.

import { CoachView } from "./coach-view.js";
import { ConfusionView } from "./confusion-view.js";
import { DigitView } from "./digit.js";
import { finder, replaceOptions } from "./dom.js";
import { EmbeddingView } from "./embedding-view.js";
import { describeError } from "./errors.js";
import { integer } from "./format.js";
import { HealthView } from "./health.js";
import { apply, onLangChange, t } from "./i18n.js";
import { SecondLens, copyCards } from "./inside-lens.js";
import { InsideState } from "./inside-state.js";
import { LookTabs } from "./look-tabs.js";
import { WantsView } from "./wants-view.js";
import { WeightsView } from "./weights-view.js";
import { datasetLabel, runLine, runTitle, statusLabel } from "./words.js";

export class Inside {
  /** `drawing()` returns the pixels of the digit last drawn on the Draw tab, or null. */
  constructor(root, store, drawing) {
    Object.assign(this, { root, store, find: finder(root) });
    this.pick = ""; // a run id chosen in the list; "" follows the store's run
    this.secondPick = ""; // the run shown beside it, if any
    this.loaded = false; // the shown run's epochs were asked for
    // copies of the weights and health cards for a second run, made before any view draws in them;
    // they join the page (and get their views) when a second run is first picked
    this.lensCards = document.createDocumentFragment();
    copyCards([this.find("weights-card"), this.find("health-card")], this.lensCards, "second");
    this.second = null; // the SecondLens
    const state = new InsideState();
    this.state = state;
    new WeightsView(root, state);
    this.health = new HealthView(root, state);
    new DigitView(root, state, drawing);
    new ConfusionView(root, state);
    this.lookViews(drawing);
    this.secondChoice = this.find("inside-second-run");
    this.secondChoice.addEventListener("change", () => {
      this.secondPick = this.secondChoice.value;
      this.sync();
    });
    for (const type of ["epoch", "series"]) state.addEventListener(type, () => this.syncSecond());

    this.choice = this.find("inside-run");
    this.choice.addEventListener("change", () => {
      this.pick = this.choice.value;
      this.sync();
    });
    this.slider = this.find("inside-epoch");
    this.slider.addEventListener("input", () => state.choose(Number(this.slider.value)));
    store.addEventListener("info", () => {
      state.setInfo(store.info);
      this.sync();
    });
    for (const type of ["reset", "run", "runs"]) store.addEventListener(type, () => this.sync());
    store.addEventListener("run-epoch", (event) => {
      if (event.detail.id === state.runId) this.onNewEpoch();
    });
    for (const type of ["run", "summary", "series", "epoch", "problem"]) {
      state.addEventListener(type, () => this.render());
    }
    onLangChange(() => {
      this.fillChoices();
      this.render();
    });
    this.render();
  }

  /** The views beside the overview, one sub-tab each: the hidden space, what units want, the coach. */
  lookViews(drawing) {
    const state = this.state;
    const tabs = new LookTabs(this.root);
    const view = (name) => this.root.querySelector(`[data-look-view='${name}']`);
    const shown = (name) => () => state.visible && tabs.current === name;
    const views = [
      new EmbeddingView(view("space"), state, shown("space"), drawing),
      new WantsView(view("wants"), state, shown("wants")),
      new CoachView(view("coach"), state, this.store, this.find("coach-count")),
    ];
    const refresh = () => {
      for (const each of views) each.refresh();
    };
    tabs.addEventListener("change", refresh);
    state.addEventListener("visible", refresh);
  }

  setVisible(visible) {
    this.state.setVisible(visible);
    if (visible) this.sync();
    else this.syncSecond();
  }

  /** The summary of the run to show: the picked one, else the followed one. */
  chosenRun() {
    return this.pick ? this.store.summary(this.pick) : this.store.run;
  }

  sync() {
    this.fillChoices();
    const run = this.chosenRun();
    const state = this.state;
    if ((run?.id ?? null) !== state.runId) this.loaded = false;
    state.showRun(run, this.store.isActive(run)); // the stream keeps an active run's summary current
    if (state.visible && !this.loaded && run && !this.waiting(run)) this.load();
    this.syncSecond();
  }

  /** The second run's cards and views, the first time one is picked. */
  lens() {
    if (this.second) return this.second;
    const host = this.find("inside-lens");
    host.append(this.lensCards);
    apply(host); // their words in the current language
    const second = new SecondLens(host, this.store);
    second.state.setInfo(this.store.info);
    this.health.pair(second.health); // side by side, the health charts share their scales
    for (const type of ["run", "epoch", "problem", "series"]) {
      second.state.addEventListener(type, () => this.renderLabels());
    }
    this.second = second;
    return second;
  }

  /** The run beside the first, at the first's epoch (the latest while the first follows the latest). */
  syncSecond() {
    const state = this.state;
    let run = this.secondPick ? this.store.summary(this.secondPick) : null;
    if (run && (run.id === state.runId || this.waiting(run))) run = null;
    if (run == null && !this.second) return;
    this.lens().show(run, state.latest ? null : state.epoch, state.visible);
    this.root.toggleAttribute("data-side-by-side", run != null);
    this.renderLabels();
  }

  /** In side-by-side mode, each card says whose it is (in the run's colour). */
  renderLabels() {
    const pairs = [[this.state, this.root.querySelectorAll(".inside-col [data-lens-label]")]];
    if (this.second) pairs.push([this.second.state, this.find("inside-lens").querySelectorAll("[data-lens-label]")]);
    const shown = this.root.hasAttribute("data-side-by-side");
    for (const [state, labels] of pairs) {
      const run = state.run;
      const epoch = state.epoch == null ? "" : t("inside.lensEpoch", { epoch: integer(state.epoch) });
      const problem = state.problem ? (state.problem.key ? t(state.problem.key) : describeError(state.problem.error)) : "";
      for (const label of labels) {
        label.hidden = !shown || run == null;
        label.textContent = run ? [runLine(run), epoch, problem].filter(Boolean).join(" · ") : "";
      }
    }
  }

  /** A run that has not begun training yet (queued, loading its data) has nothing to look at. */
  waiting(run) {
    return run.started_at == null && this.store.isActive(run);
  }

  fillChoices() {
    const info = this.store.info;
    const options = [new Option(t("inside.followed"), "")];
    for (const run of this.store.runs) {
      options.push(new Option(runLine(run, datasetLabel(info, run.dataset)), run.id));
    }
    replaceOptions(this.choice, options);
    if (this.pick && !this.store.runs.some((run) => run.id === this.pick) && this.store.runs.length) {
      this.pick = ""; // deleted
    }
    this.choice.value = this.pick;
    this.fillSecondChoices();
  }

  /** Runs to put beside the first: the other runs of its race first, then every other run. */
  fillSecondChoices() {
    const info = this.store.info;
    const first = this.chosenRun();
    const others = this.store.runs.filter((run) => run.id !== first?.id);
    const race = first?.race_id ? others.filter((run) => run.race_id === first.race_id) : [];
    const rest = others.filter((run) => !race.includes(run));
    const options = [new Option(t("inside.secondNone"), "")];
    for (const run of race) options.push(new Option(t("inside.sameRace", { run: runLine(run) }), run.id));
    for (const run of rest) options.push(new Option(runLine(run, datasetLabel(info, run.dataset)), run.id));
    replaceOptions(this.secondChoice, options);
    if (this.secondPick && !options.some((option) => option.value === this.secondPick)) this.secondPick = "";
    this.secondChoice.value = this.secondPick;
  }

  /** The run's epochs and layer health; the state then tells the views which epoch to show. */
  async load() {
    this.loaded = true;
    if (!(await this.state.loadSeries())) this.loaded = false; // try again on the next event
  }

  onNewEpoch() {
    if (!this.state.visible) {
      this.loaded = false; // reloaded when the tab opens
      return;
    }
    this.state.modelChanged();
    this.load();
  }

  render() {
    const state = this.state;
    const run = state.run;
    this.renderLabels();
    const info = this.store.info;
    this.root.dataset.run = run?.id ?? "";
    this.root.dataset.epoch = state.epoch == null ? "" : String(state.epoch);
    this.find("inside-about").textContent = run
      ? [runTitle(run), run.name ? (run.preset ?? "") : "", datasetLabel(info, run.dataset), statusLabel(run.status)]
          .filter(Boolean)
          .join(" · ")
      : t("inside.none");
    const count = state.epochs.length;
    this.slider.max = String(Math.max(count - 1, 0));
    this.slider.value = String(Math.max(state.epochs.indexOf(state.epoch), 0));
    this.slider.disabled = count < 2;
    const value = this.find("inside-epoch-value");
    value.textContent =
      state.epoch == null
        ? "–"
        : t(state.epoch === 0 ? "inside.epochStart" : "inside.epochOf", {
            x: integer(state.epoch),
            n: integer(state.epochs.at(-1) ?? 0),
          });
    this.slider.setAttribute("aria-valuetext", value.textContent);
    const message = this.find("inside-message");
    const problem = state.problem;
    let text = "";
    if (problem) text = problem.key ? t(problem.key) : describeError(problem.error);
    else if (run && this.waiting(run)) text = t("inside.waiting");
    message.textContent = text;
    message.hidden = !text;
  }
}
