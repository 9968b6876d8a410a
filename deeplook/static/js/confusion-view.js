// Where the network goes wrong at the chosen epoch: the confusion matrix (a cell opens its test
// images) and the most confident mistakes.

import { api } from "./api.js";
import { element, finder } from "./dom.js";
import { integer, percent } from "./format.js";
import { onLangChange, t } from "./i18n.js";
import { bytesOf, drawDigit, imageCanvas } from "./pixels.js";

const MISTAKES = 40;
const CELL_LIMIT = 60;

export class ConfusionView {
  constructor(root, state) {
    this.state = state;
    this.find = finder(root);
    this.table = this.find("confusion");
    this.matrix = null; // the last ConfusionOut
    this.mistakes = null; // the last ExamplesOut
    this.cell = null; // {trueClass, predicted, examples}
    this.table.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-true]");
      if (button) this.open(Number(button.dataset.true), Number(button.dataset.predicted));
    });
    // one tab stop for the whole matrix; the arrow keys (Home, End too) move between its cells
    this.table.addEventListener("keydown", (event) => this.moveFocus(event));
    this.table.addEventListener("focusin", (event) => {
      const button = event.target.closest?.("button[data-true]");
      if (button) this.rove = [Number(button.dataset.true), Number(button.dataset.predicted)];
    });
    this.rove = [0, 0]; // the cell that takes the matrix's one tab stop
    state.addEventListener("run", () => this.clear());
    state.addEventListener("epoch", () => this.load());
    onLangChange(() => this.render());
  }

  moveFocus(event) {
    const button = event.target.closest?.("button[data-true]");
    if (!button || !this.matrix) return;
    const n = this.matrix.class_names.length;
    let i = Number(button.dataset.true);
    let j = Number(button.dataset.predicted);
    const moves = {
      ArrowUp: () => (i = Math.max(0, i - 1)),
      ArrowDown: () => (i = Math.min(n - 1, i + 1)),
      ArrowLeft: () => (j = Math.max(0, j - 1)),
      ArrowRight: () => (j = Math.min(n - 1, j + 1)),
      Home: () => (j = 0),
      End: () => (j = n - 1),
    };
    if (!(event.key in moves)) return;
    event.preventDefault();
    moves[event.key]();
    this.focusCell(i, j);
  }

  /** Move the matrix's tab stop to a cell and focus it. */
  focusCell(i, j) {
    const target = this.table.querySelector(`[data-true="${i}"][data-predicted="${j}"]`);
    if (!target) return;
    for (const cell of this.table.querySelectorAll("button[data-true]")) cell.tabIndex = -1;
    target.tabIndex = 0;
    this.rove = [i, j];
    target.focus();
  }

  clear() {
    this.matrix = null;
    this.mistakes = null;
    this.cell = null;
    this.table.replaceChildren();
    this.find("mistakes").replaceChildren();
    this.render();
  }

  async load() {
    const { runId: id, epoch, generation } = this.state;
    try {
      const [matrix, mistakes] = await Promise.all([
        api.confusion(id, epoch),
        api.misclassified(id, { epoch, limit: MISTAKES }),
      ]);
      if (!this.state.isCurrent(generation)) return;
      this.matrix = matrix;
      this.mistakes = mistakes;
      const cell = this.cell;
      this.cell = null;
      this.render();
      if (cell) await this.open(cell.trueClass, cell.predicted, false); // the same cell, this epoch
    } catch (error) {
      this.state.fail({ error }, generation);
    }
  }

  async open(trueClass, predicted, focus = true) {
    const { runId, epoch, generation } = this.state;
    try {
      const examples = await api.misclassified(runId, { epoch, trueClass, predicted, limit: CELL_LIMIT });
      if (!this.state.isCurrent(generation)) return;
      this.cell = { trueClass, predicted, examples };
      this.render();
      if (focus) this.table.querySelector(`[data-true="${trueClass}"][data-predicted="${predicted}"]`)?.focus();
    } catch (error) {
      this.state.fail({ error });
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
    const shape = this.state.dataset?.image_shape;
    if (this.cell && this.matrix && shape) {
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
      fillGallery(this.find("cell-gallery"), examples, shape);
    }
    if (this.mistakes && shape) fillGallery(this.find("mistakes"), this.mistakes, shape);
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
    const caption = element("caption", "visually-hidden", t("inside.confusion"));
    const head = element("tr");
    const corner = element("th", "confusion-corner", `${t("inside.axisTrue")} ↓ / ${t("inside.axisPredicted")} →`);
    corner.scope = "col";
    head.append(corner, ...names.map((name) => Object.assign(element("th", "col-head", name), { scope: "col" })));
    const rows = data.matrix.map((row, i) => {
      const tr = element("tr");
      const th = element("th", "row-head", names[i]);
      th.scope = "row";
      tr.append(th);
      row.forEach((count, j) => {
        const td = element("td");
        const button = element("button", "cell", integer(count));
        button.type = "button";
        button.dataset.true = String(i);
        button.dataset.predicted = String(j);
        button.dataset.count = String(count);
        button.tabIndex = this.rove[0] === i && this.rove[1] === j ? 0 : -1;
        if (i === j) button.dataset.diagonal = "true";
        // right answers by their share of the row; mistakes on a stronger scale, as they are few
        const share = i === j ? count / rowMax[i] : Math.min(1, Math.sqrt(count / rowMax[i]) * 1.6);
        button.style.setProperty("--share", `${Math.round(share * 100)}%`);
        if (share > 0.55) button.dataset.strong = "true";
        if (this.cell?.trueClass === i && this.cell?.predicted === j) button.setAttribute("aria-pressed", "true");
        button.setAttribute("aria-label", t("inside.cellLabel", { t: names[i], p: names[j], n: integer(count) }));
        td.append(button);
        tr.append(td);
      });
      return tr;
    });
    const thead = element("thead");
    thead.append(head);
    const tbody = element("tbody");
    tbody.append(...rows);
    this.table.replaceChildren(caption, thead, tbody);
    if (focusKey) {
      this.table.querySelector(`[data-true="${focusKey[0]}"][data-predicted="${focusKey[1]}"]`)?.focus();
    }
  }
}

/** Test images (of `shape`) with their labels: true → predicted (confidence). */
function fillGallery(host, examples, shape) {
  const names = examples.class_names;
  const pixels = bytesOf(examples.pixels);
  const size = shape[0] * shape[1];
  const items = examples.items.map((item, i) => {
    const figure = element("figure", "example");
    figure.dataset.index = String(item.index);
    figure.dataset.true = String(item.true);
    figure.dataset.predicted = String(item.predicted);
    const image = imageCanvas(shape);
    drawDigit(image, pixels, i * size);
    const right = item.true === item.predicted;
    const caption = element("figcaption");
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
