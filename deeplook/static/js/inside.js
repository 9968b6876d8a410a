// The Look inside tab: one run (the followed one, or one picked) at one epoch (a slider over the
// epochs with a report; the latest by default, following new ones live). It owns the choice and the
// loading; the weight images, layer health, one digit and the confusion matrix are drawn by views.

import { api } from "./api.js";
import { describeError } from "./errors.js";
import { integer, percent } from "./format.js";
import { onLangChange, t } from "./i18n.js";
import { DigitView } from "./digit.js";
import { HealthView } from "./health.js";
import { SIDE, bytesOf, canvas, drawDigit, drawWeights, float16s } from "./pixels.js";

const LIVE_EVERY = 1000; // ms between live weight images while the run trains
const UNITS_PAGE = 64;
const MISTAKES = 40;
const CELL_LIMIT = 60;

export class Inside {
  /** `drawing()` returns the 784 pixels of the digit last drawn on the Draw tab, or null. */
  constructor(root, store, drawing) {
    this.root = root;
    this.store = store;
    this.find = (name) => root.querySelector(`[data-${name}]`);
    this.visible = false;
    this.pick = ""; // a run id chosen in the list; "" follows the store's run
    this.runId = null;
    this.generation = 0; // answers about an earlier run or epoch are dropped
    this.epochs = []; // epochs with a report
    this.epoch = null;
    this.shownEpoch = null; // the epoch whose views are loaded
    this.latest = true; // the slider follows new epochs
    this.loaded = false;
    this.problem = null; // {key} or {text}
    this.liveBusy = false;

    this.weights = new WeightsView(root, this);
    this.health = new HealthView(root);
    this.digit = new DigitView(root, this, drawing);
    this.confusion = new ConfusionView(root, this);

    this.choice = this.find("inside-run");
    this.choice.addEventListener("change", () => {
      this.pick = this.choice.value;
      this.sync();
    });
    this.slider = this.find("inside-epoch");
    this.slider.addEventListener("input", () => {
      const index = Number(this.slider.value);
      this.latest = index === this.epochs.length - 1;
      this.setEpoch(this.epochs[index]);
    });
    for (const type of ["reset", "run", "runs"]) store.addEventListener(type, () => this.sync());
    store.addEventListener("epoch", () => {
      if (this.store.run?.id === this.runId) this.onNewEpoch();
    });
    onLangChange(() => this.render());
    setInterval(() => this.liveTick(), LIVE_EVERY);
    this.render();
  }

  setVisible(visible) {
    this.visible = visible;
    if (visible) this.sync();
  }

  /** The summary of the run shown: the picked one, else the store's (active or latest) run. */
  get run() {
    if (!this.pick) return this.store.run;
    const live = this.store.run?.id === this.pick ? this.store.run : null;
    return live ?? this.store.runs.find((run) => run.id === this.pick) ?? null;
  }

  get dataset() {
    return this.run?.dataset ?? "mnist";
  }

  isCurrent(generation) {
    return generation === this.generation;
  }

  sync() {
    this.fillChoices();
    const run = this.run;
    const id = run?.id ?? null;
    if (id !== this.runId) {
      this.runId = id;
      this.generation += 1;
      this.epochs = [];
      this.epoch = null;
      this.shownEpoch = null; // the epoch whose views are loaded
      this.latest = true;
      this.loaded = false;
      this.problem = null;
      this.weights.clear();
      this.health.clear();
      this.confusion.clear();
      this.digit.runChanged();
    }
    if (this.visible) {
      this.digit.show();
      if (!this.loaded && run && run.status !== "loading-data") this.load();
    }
    this.render();
  }

  fillChoices() {
    const options = [new Option(t("inside.followed"), "")];
    for (const run of this.store.runs) {
      options.push(new Option(`${run.id} · ${run.preset ?? ""} · ${t(`dataset.${run.dataset}`)}`, run.id));
    }
    const same =
      options.length === this.choice.options.length &&
      options.every((option, i) => option.text === this.choice.options[i].text);
    if (!same) this.choice.replaceChildren(...options);
    if (this.pick && !this.store.runs.some((run) => run.id === this.pick) && this.store.runs.length) {
      this.pick = ""; // deleted
    }
    this.choice.value = this.pick;
  }

  /** The run's epochs and health, then the chosen epoch's views. */
  async load() {
    const generation = this.generation;
    const id = this.runId;
    this.loaded = true;
    try {
      const health = await api.health(id);
      if (!this.isCurrent(generation)) return;
      this.problem = null;
      this.epochs = health.epochs;
      this.health.showSeries(health, this.run);
      if (this.latest || !this.epochs.includes(this.epoch)) this.epoch = this.epochs.at(-1) ?? null;
      this.render();
      // a new epoch while an earlier one is chosen changes only the health series
      if (this.epoch != null && this.epoch !== this.shownEpoch) await this.loadEpoch();
    } catch (error) {
      if (!this.isCurrent(generation)) return;
      this.loaded = false; // try again on the next event
      this.problem = error.status === 404 ? { key: "inside.noReport" } : { text: describeError(error) };
      this.render();
    }
  }

  async onNewEpoch() {
    if (!this.visible) {
      this.loaded = false; // reloaded when the tab opens
      return;
    }
    this.digit.modelChanged();
    await this.load();
  }

  setEpoch(epoch) {
    if (epoch == null || epoch === this.epoch) return;
    this.epoch = epoch;
    this.generation += 1;
    this.render();
    this.loadEpoch();
  }

  async loadEpoch() {
    const generation = this.generation;
    const { runId: id, epoch } = this;
    this.shownEpoch = epoch;
    try {
      await Promise.all([
        this.weights.load(id, epoch, generation),
        api.inspect(id, epoch).then((report) => {
          if (this.isCurrent(generation)) this.health.showEpoch(report);
        }),
        this.confusion.load(id, epoch, generation),
      ]);
    } catch (error) {
      if (this.isCurrent(generation)) {
        this.shownEpoch = null; // tried again with the next epoch or choice
        this.problem = { text: describeError(error) };
        this.render();
      }
    }
  }

  /** While the run trains and the latest epoch is shown: its weights as they are now. */
  async liveTick() {
    const run = this.run;
    if (!this.visible || document.visibilityState !== "visible" || this.liveBusy) return;
    if (run?.status !== "running" || this.store.run?.id !== run.id || !this.latest) return;
    this.liveBusy = true;
    try {
      await this.weights.load(run.id, null, this.generation, true);
    } catch {
      // the next tick tries again; an epoch's images still come with its report
    } finally {
      this.liveBusy = false;
    }
  }

  render() {
    const run = this.run;
    this.root.dataset.run = run?.id ?? "";
    this.root.dataset.epoch = this.epoch == null ? "" : String(this.epoch);
    const about = this.find("inside-about");
    about.textContent = run
      ? [
          t("run.label", { id: run.id }),
          run.preset ?? "",
          t(`dataset.${run.dataset}`),
          t(`status.${run.status}`),
        ]
          .filter(Boolean)
          .join(" · ")
      : t("inside.none");
    const count = this.epochs.length;
    this.slider.max = String(Math.max(count - 1, 0));
    this.slider.value = String(Math.max(this.epochs.indexOf(this.epoch), 0));
    this.slider.disabled = count < 2;
    const value = this.find("inside-epoch-value");
    value.textContent =
      this.epoch == null
        ? "–"
        : t(this.epoch === 0 ? "inside.epochStart" : "inside.epochOf", {
            x: integer(this.epoch),
            n: integer(this.epochs.at(-1) ?? 0),
          });
    this.slider.setAttribute("aria-valuetext", value.textContent);
    const message = this.find("inside-message");
    let text = "";
    if (this.problem) text = this.problem.text ?? t(this.problem.key);
    else if (run?.status === "loading-data") text = t("inside.waiting");
    message.textContent = text;
    message.hidden = !text;
    this.weights.render();
    this.health.render(run);
    this.confusion.render();
    this.digit.render();
  }
}

/** The first layer's weights: one 28×28 image per hidden unit, paged for wide layers. */
class WeightsView {
  constructor(root, owner) {
    this.owner = owner;
    this.find = (name) => root.querySelector(`[data-${name}]`);
    this.grid = this.find("weights");
    this.offset = 0;
    this.shown = null; // the last WeightImages
    this.values = null;
    this.find("weights-prev").addEventListener("click", () => this.page(-1));
    this.find("weights-next").addEventListener("click", () => this.page(1));
  }

  clear() {
    this.offset = 0;
    this.shown = null;
    this.values = null;
    this.grid.replaceChildren();
    this.render();
  }

  page(direction) {
    const units = this.shown?.units ?? 0;
    const next = this.offset + direction * UNITS_PAGE;
    if (next < 0 || next >= units) return;
    this.offset = next;
    const owner = this.owner;
    this.load(owner.runId, owner.epoch, owner.generation).catch(() => {});
  }

  /** Also all units of one epoch at once, for the digit view's contributions. */
  async load(id, epoch, generation, live = false) {
    const images = await api.weights(id, { epoch, offset: this.offset, limit: UNITS_PAGE, live });
    if (!this.owner.isCurrent(generation)) return;
    if (live && !images.live) return; // the run has just finished: its epoch's report is coming
    this.shown = images;
    this.values = float16s(images.data);
    this.draw();
    this.render();
  }

  draw() {
    const { count, offset, scale } = this.shown;
    const tiles = [...this.grid.children];
    while (tiles.length > count) tiles.pop().remove();
    while (tiles.length < count) {
      const figure = document.createElement("figure");
      figure.className = "weight";
      const image = canvas("tile");
      const caption = document.createElement("figcaption");
      figure.append(image, caption);
      this.grid.append(figure);
      tiles.push(figure);
    }
    tiles.forEach((figure, i) => {
      const unit = offset + i;
      figure.dataset.unit = String(unit);
      figure.lastChild.textContent = String(unit);
      figure.title = t("inside.unit", { n: unit });
      drawWeights(figure.firstChild, this.values, i * SIDE * SIDE, scale);
    });
  }

  render() {
    const shown = this.shown;
    const when = this.find("weights-when");
    const card = this.find("weights-card");
    card.dataset.live = shown?.live ? "true" : "false";
    card.dataset.step = shown?.step == null ? "" : String(shown.step);
    card.dataset.shownEpoch = shown ? String(shown.epoch) : "";
    if (!shown) when.textContent = "";
    else if (shown.live) {
      when.textContent = t("inside.weightsLive", { epoch: integer(shown.epoch), step: integer(shown.step) });
    } else {
      when.textContent = t(shown.epoch === 0 ? "inside.weightsStart" : "inside.weightsEpoch", {
        epoch: integer(shown.epoch),
      });
    }
    const units = shown?.units ?? 0;
    const pager = this.find("weights-pager");
    pager.hidden = units <= UNITS_PAGE;
    if (units > UNITS_PAGE) {
      this.find("weights-range").textContent = t("inside.units", {
        a: integer(this.offset + 1),
        b: integer(Math.min(this.offset + UNITS_PAGE, units)),
        n: integer(units),
      });
      this.find("weights-prev").disabled = this.offset === 0;
      this.find("weights-next").disabled = this.offset + UNITS_PAGE >= units;
    }
  }
}

/** The confusion matrix of the chosen epoch, a cell's images, and the most confident mistakes. */
class ConfusionView {
  constructor(root, owner) {
    this.owner = owner;
    this.find = (name) => root.querySelector(`[data-${name}]`);
    this.table = this.find("confusion");
    this.matrix = null; // the last ConfusionOut
    this.mistakes = null; // the last ExamplesOut
    this.cell = null; // {trueClass, predicted, examples}
    this.table.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-true]");
      if (button) this.open(Number(button.dataset.true), Number(button.dataset.predicted));
    });
  }

  clear() {
    this.matrix = null;
    this.mistakes = null;
    this.cell = null;
    this.table.replaceChildren();
    this.find("mistakes").replaceChildren();
    this.render();
  }

  async load(id, epoch, generation) {
    const [matrix, mistakes] = await Promise.all([
      api.confusion(id, epoch),
      api.misclassified(id, { epoch, limit: MISTAKES }),
    ]);
    if (!this.owner.isCurrent(generation)) return;
    this.matrix = matrix;
    this.mistakes = mistakes;
    const cell = this.cell;
    this.cell = null;
    this.render();
    if (cell) await this.open(cell.trueClass, cell.predicted, false); // the same cell, this epoch
  }

  async open(trueClass, predicted, focus = true) {
    const owner = this.owner;
    const generation = owner.generation;
    try {
      const examples = await api.misclassified(owner.runId, {
        epoch: owner.epoch,
        trueClass,
        predicted,
        limit: CELL_LIMIT,
      });
      if (!owner.isCurrent(generation)) return;
      this.cell = { trueClass, predicted, examples };
      this.render();
      if (focus) this.table.querySelector(`[data-true="${trueClass}"][data-predicted="${predicted}"]`)?.focus();
    } catch (error) {
      owner.problem = { text: describeError(error) };
      owner.render();
    }
  }

  render() {
    this.renderMatrix();
    const summary = this.find("confusion-summary");
    summary.textContent = this.matrix
      ? t("inside.confusionSummary", {
          epoch: integer(this.matrix.epoch),
          acc: percent(this.matrix.accuracy, 2),
          n: integer(this.matrix.total),
        })
      : "";
    const box = this.find("cell-examples");
    box.hidden = !this.cell;
    if (this.cell && this.matrix) {
      const { trueClass, predicted, examples } = this.cell;
      const names = this.matrix.class_names;
      this.find("cell-title").textContent = t(
        trueClass === predicted ? "inside.cellRight" : "inside.cellWrong",
        {
          t: names[trueClass],
          p: names[predicted],
          n: integer(examples.total),
          shown: integer(examples.items.length),
        },
      );
      fillGallery(this.find("cell-gallery"), examples, names);
    }
    if (this.mistakes) fillGallery(this.find("mistakes"), this.mistakes, this.mistakes.class_names);
  }

  renderMatrix() {
    const data = this.matrix;
    if (!data) {
      this.table.replaceChildren();
      return;
    }
    const focused = document.activeElement?.closest?.("[data-confusion] button");
    const focusKey = focused ? [focused.dataset.true, focused.dataset.predicted] : null;
    const names = data.class_names;
    const rowMax = data.matrix.map((row) => Math.max(1, ...row));
    const caption = document.createElement("caption");
    caption.className = "visually-hidden";
    caption.textContent = t("inside.confusion");
    const head = document.createElement("tr");
    const corner = element("th", "confusion-corner", `${t("inside.axisTrue")} ↓ / ${t("inside.axisPredicted")} →`);
    corner.scope = "col";
    head.append(corner, ...names.map((name) => Object.assign(element("th", "col-head", name), { scope: "col" })));
    const rows = data.matrix.map((row, i) => {
      const tr = document.createElement("tr");
      const th = element("th", "row-head", names[i]);
      th.scope = "row";
      tr.append(th);
      row.forEach((count, j) => {
        const td = document.createElement("td");
        const button = element("button", "cell", integer(count));
        button.type = "button";
        button.dataset.true = String(i);
        button.dataset.predicted = String(j);
        button.dataset.count = String(count);
        if (i === j) button.dataset.diagonal = "true";
        // right answers by their share of the row; mistakes on a stronger scale, as they are few
        const share = i === j ? count / rowMax[i] : Math.min(1, Math.sqrt(count / rowMax[i]) * 1.6);
        button.style.setProperty("--share", `${Math.round(share * 100)}%`);
        if (share > 0.55) button.dataset.strong = "true";
        if (this.cell?.trueClass === i && this.cell?.predicted === j) button.setAttribute("aria-pressed", "true");
        button.setAttribute(
          "aria-label",
          t("inside.cellLabel", { t: names[i], p: names[j], n: integer(count) }),
        );
        td.append(button);
        tr.append(td);
      });
      return tr;
    });
    const thead = document.createElement("thead");
    thead.append(head);
    const tbody = document.createElement("tbody");
    tbody.append(...rows);
    this.table.replaceChildren(caption, thead, tbody);
    if (focusKey) {
      this.table.querySelector(`[data-true="${focusKey[0]}"][data-predicted="${focusKey[1]}"]`)?.focus();
    }
  }
}

/** Test images with their labels: true → predicted (confidence). */
function fillGallery(host, examples, names) {
  const pixels = bytesOf(examples.pixels);
  const items = examples.items.map((item, i) => {
    const figure = element("figure", "example");
    figure.dataset.index = String(item.index);
    figure.dataset.true = String(item.true);
    figure.dataset.predicted = String(item.predicted);
    const image = canvas("tile");
    drawDigit(image, pixels, i * SIDE * SIDE);
    const right = item.true === item.predicted;
    const caption = element("figcaption", "", "");
    const truth = element("span", "example-true", names[item.true]);
    const guess = element("span", right ? "example-right" : "example-wrong", right ? "✓" : `→ ${names[item.predicted]}`);
    const sure = element("span", "example-confidence", percent(item.confidence, 0));
    caption.append(truth, guess, sure);
    figure.title = t("inside.exampleLabel", {
      t: names[item.true],
      p: names[item.predicted],
      c: percent(item.confidence, 1),
    });
    figure.append(image, caption);
    return figure;
  });
  host.replaceChildren(...items);
}

export function element(tag, className = "", text = null) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}
