// A matrix as a heat map (blue negative, white zero, red positive, on the matrix's own symmetric
// scale) that tells the exact value of the cell under the pointer or under the keyboard cursor: the
// map is one tab stop, the arrow keys (Home/End, PageUp/PageDown) move inside it, and the value is
// read out in a live line below. With `pick`, a click or Enter picks the cell (the gradient check).

import { element } from "./dom.js";
import { measure } from "./format.js";
import { t } from "./i18n.js";
import { exactText, shapeText } from "./matrix.js";
import { diverging } from "./pixels.js";

const MAX_CELL = 26; // px: small matrices stay small
const MAX_HEIGHT = 300; // px: tall ones (784 rows) get rows thinner than a pixel
const MIN_ROW = 10; // px: a few long rows (X is 5 x 784) stay tall enough to point at
const MIN_CURSOR = 5; // px: the cursor's outline is visible however thin a cell is
const PAGE = 10;
let count = 0;

export class HeatMap {
  /**
   * `describe(row, col)`: what a row and a column stand for (an image, a pixel, a neuron), or "";
   * `pick({row, col, value})`: called on click or Enter, when the cells can be picked; `scale`: the
   * |value| drawn deepest (default: the largest; 1 for probabilities and pixels).
   */
  constructor(matrix, { describe = () => "", pick = null, scale = null } = {}) {
    this.matrix = matrix;
    this.scale = scale ?? matrix.scale;
    this.describe = describe;
    this.pick = pick;
    this.cursor = null; // {row, col} under the keyboard cursor or the pointer
    const id = `heatmap-${++count}`;
    const root = element("figure", "heatmap");
    root.dataset.array = matrix.name;
    root.dataset.rows = String(matrix.rows);
    root.dataset.cols = String(matrix.cols);
    root.dataset.exact = String(matrix.exact);
    if (pick) root.dataset.pickable = "true";
    const caption = element("figcaption");
    caption.append(
      element("code", "heatmap-name", matrix.name),
      element("span", "muted", shapeText(matrix.shape)),
      this.legend(),
    );
    this.frame = element("div", "heatmap-frame");
    this.frame.tabIndex = 0;
    this.frame.setAttribute("role", "group");
    this.frame.setAttribute("aria-roledescription", t("step.roleHeatmap"));
    const key = pick ? "step.heatmapPick" : "step.heatmap";
    this.frame.setAttribute("aria-label", t(key, { name: matrix.name, shape: shapeText(matrix.shape) }));
    this.frame.setAttribute("aria-describedby", `${id}-readout`);
    this.canvas = element("canvas", "heatmap-canvas");
    this.mark = element("span", "heatmap-cursor");
    this.mark.hidden = true;
    this.frame.append(this.canvas, this.mark);
    this.readout = element("p", "heatmap-readout");
    this.readout.id = `${id}-readout`;
    this.readout.setAttribute("aria-live", "polite");
    root.append(caption, this.frame, this.readout);
    this.root = root;
    this.paint();
    this.listen();
    new ResizeObserver(() => this.layout()).observe(root);
  }

  /** The colour scale: white at 0 to red at +scale, from blue at −scale when there are negatives. */
  legend() {
    const { min, max } = this.matrix;
    const signed = min < 0;
    const legend = element("span", "heatmap-legend");
    legend.title = t("step.range", { min: measure(min), max: measure(max) });
    const bar = element("span", signed ? "heatmap-scale" : "heatmap-scale positive");
    bar.setAttribute("aria-hidden", "true");
    const low = element("span", "", signed ? measure(-this.scale) : "0");
    low.setAttribute("aria-hidden", "true");
    const high = element("span", "", measure(this.scale));
    high.setAttribute("aria-hidden", "true");
    legend.append(low, bar, high, element("span", "visually-hidden", legend.title));
    return legend;
  }

  /** One canvas pixel per value (or per block of a large, inexact array), scaled up by CSS. */
  paint() {
    const { width, height, at } = this.matrix.cells();
    this.canvas.width = width;
    this.canvas.height = height;
    const context = this.canvas.getContext("2d");
    const image = context.createImageData(width, height);
    const scale = this.scale;
    for (let i = 0; i < width * height; i++) {
      const [r, g, b] = diverging(at(i), scale);
      image.data.set([r, g, b, 255], 4 * i);
    }
    context.putImageData(image, 0, 0);
  }

  /** Cells as wide as the figure allows (at most MAX_CELL), rows at most MAX_HEIGHT tall in all. */
  layout() {
    const { rows, cols } = this.matrix;
    const available = this.root.clientWidth;
    if (available === 0) return;
    const width = Math.min(MAX_CELL, available / cols);
    let height = rows * width > MAX_HEIGHT ? MAX_HEIGHT / rows : width;
    if (height < MIN_ROW && rows * MIN_ROW <= MAX_HEIGHT) height = MIN_ROW;
    this.cell = { width, height };
    this.frame.style.width = `${width * cols}px`;
    this.frame.style.height = `${height * rows}px`;
    this.placeMark();
  }

  listen() {
    const frame = this.frame;
    frame.addEventListener("pointermove", (event) => this.moveTo(this.cellAt(event), false));
    frame.addEventListener("pointerleave", () => {
      if (document.activeElement !== frame) this.hideMark();
    });
    frame.addEventListener("click", (event) => {
      const cell = this.cellAt(event);
      this.moveTo(cell, false);
      if (this.pick) this.pick(this.pickOf(cell));
    });
    frame.addEventListener("focus", () => this.moveTo(this.cursor ?? { row: 0, col: 0 }, true));
    frame.addEventListener("blur", () => this.hideMark());
    frame.addEventListener("keydown", (event) => this.onKey(event));
  }

  cellAt(event) {
    const box = this.frame.getBoundingClientRect();
    const { rows, cols } = this.matrix;
    const col = Math.floor(((event.clientX - box.left) / box.width) * cols);
    const row = Math.floor(((event.clientY - box.top) / box.height) * rows);
    return { row: clamp(row, 0, rows - 1), col: clamp(col, 0, cols - 1) };
  }

  onKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const { rows, cols } = this.matrix;
    const { row, col } = this.cursor ?? { row: 0, col: 0 };
    const moves = {
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      PageUp: [-PAGE, 0],
      PageDown: [PAGE, 0],
      Home: [0, -col],
      End: [0, cols - 1 - col],
    };
    if (event.key in moves) {
      const [dy, dx] = moves[event.key];
      this.moveTo({ row: clamp(row + dy, 0, rows - 1), col: clamp(col + dx, 0, cols - 1) }, true);
    } else if (event.key === "Enter" && this.pick) {
      this.pick(this.pickOf({ row, col }));
    } else {
      return;
    }
    event.preventDefault(); // the page's own keys (← → between stages) leave it alone
  }

  pickOf({ row, col }) {
    return { row, col, value: this.matrix.value(row, col) };
  }

  /** Show a cell's value (and, from the keyboard, keep the cursor there). */
  moveTo(cell, keyboard) {
    this.cursor = cell;
    this.placeMark();
    const { row, col } = cell;
    const matrix = this.matrix;
    const index = matrix.shape.length === 2 ? `${row}, ${col}` : matrix.shape.length === 1 ? `${col}` : "";
    const value = matrix.value(row, col);
    let text;
    if (value != null) {
      text = t("step.cell", { name: matrix.name, index, value: exactText(value) });
    } else {
      const block = matrix.block(row, col);
      text = t("step.block", {
        name: matrix.name,
        rows: `${block.rows[0]}–${block.rows[1]}`,
        cols: `${block.cols[0]}–${block.cols[1]}`,
        value: measure(block.mean),
      });
    }
    const context = this.describe(row, col);
    this.readout.textContent = context ? `${text} · ${context}` : text;
    this.readout.dataset.row = String(row);
    this.readout.dataset.col = String(col);
    this.readout.dataset.value = value == null ? "" : String(value);
    this.root.dataset.cursor = keyboard ? "keyboard" : "pointer";
  }

  placeMark() {
    if (!this.cursor || !this.cell) return;
    const { width, height } = this.cell;
    const w = Math.max(width, MIN_CURSOR);
    const h = Math.max(height, MIN_CURSOR);
    this.mark.style.width = `${w}px`;
    this.mark.style.height = `${h}px`;
    this.mark.style.left = `${this.cursor.col * width + width / 2 - w / 2}px`;
    this.mark.style.top = `${this.cursor.row * height + height / 2 - h / 2}px`;
    this.mark.hidden = false;
  }

  hideMark() {
    this.mark.hidden = true;
  }
}

function clamp(value, low, high) {
  return Math.min(Math.max(value, low), high);
}
