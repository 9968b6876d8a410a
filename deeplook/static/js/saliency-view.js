// Where the network looked: on the Draw tab, the saliency of a class (POST /api/predict with
// explain) over the 28x28 the network saw: the gradient of the class's score (before softmax) with
// respect to each pixel, or integrated gradients along a path from a blank image. A diverging scale
// (blue: against the class, red: for it) with its numbers; pointing at a cell gives its value.
// Pressing a class's bar (or picking it) explains that class instead of the answer. "Erase where it
// looked" paints the pad white under the cells that pushed the class most, and the answer updates.

import { api } from "./api.js";
import { finder } from "./dom.js";
import { describeError } from "./errors.js";
import { integer, measure, percent } from "./format.js";
import { onLangChange, t } from "./i18n.js";

const POSITIVE = [255, 72, 48]; // for the class
const NEGATIVE = [48, 140, 255]; // against it
const GAMMA = 0.6; // as the weight images: middling values stay visible
const BASE = 0.5; // the digit under the colours, dimmed
const ERASE_SHARE = 0.2; // of the inked cells that push the class: the top fifth
const INKED = 0.05; // a cell of the seen image with at least this much ink
// A drawing reaches the network through the server's picture preprocessing, which always makes
// 28x28 (deeplook/app/imaging.py), whatever the dataset: so the seen image is 28 cells square.

/** Draw `values` (one per pixel of a 28x28 image) over the dimmed `pixels` on a 28x28 canvas:
 * red where a pixel raises the class's score, blue where it lowers it, on a symmetric `scale`. */
export function drawSaliency(canvas, pixels, values, scale) {
  canvas.width = 28;
  canvas.height = 28;
  const context = canvas.getContext("2d");
  const image = context.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const base = Math.min(Math.max(pixels[i], 0), 1) * 255 * BASE;
    const v = values[i] / scale;
    const colour = v < 0 ? NEGATIVE : POSITIVE;
    const a = Math.min(1, Math.abs(v)) ** GAMMA;
    for (let c = 0; c < 3; c++) image.data[4 * i + c] = Math.round(base + (colour[c] - base) * a);
    image.data[4 * i + 3] = 255;
  }
  context.putImageData(image, 0, 0);
}

/** The largest magnitude of `values` (never 0), for a symmetric colour scale. */
export function saliencyScale(values) {
  return Math.max(1e-12, ...values.map(Math.abs));
}

export class SaliencyView {
  /** `root`: the Draw panel; `predictor`: its answers (an "answer" event on `root` after each); `pad`. */
  constructor(root, predictor, pad) {
    Object.assign(this, { root, predictor, pad, find: finder(root) });
    this.box = this.find("saliency");
    this.canvas = this.find("saliency-canvas");
    this.tip = this.find("saliency-tip");
    this.select = this.find("saliency-target");
    this.mode = "gradient";
    this.target = null; // a class picked by the learner; null: the answer
    this.asked = null; // the answer the saliency was asked for
    this.data = null; // the last PredictResponse with its saliency
    this.problem = null;
    this.inFlight = false;
    this.again = false;
    this.erased = null; // {cells, before: "label (p)"} after an erase, until the next drawing
    this.hover = null; // [row, col] pointed at
    root.addEventListener("answer", () => this.answered());
    pad.addEventListener("clear", () => {
      this.target = null;
      this.erased = null;
    });
    pad.addEventListener("pointerdown", () => {
      this.erased = null; // a new stroke: the note about the erase no longer holds
    });
    this.find("saliency-modes").addEventListener("click", (event) => {
      const button = event.target.closest("[data-saliency-mode]");
      if (!button) return;
      this.mode = button.dataset.saliencyMode;
      this.render();
    });
    this.find("probs").addEventListener("click", (event) => {
      const row = event.target.closest("li[data-class]");
      if (row && this.predictor.answer) this.pick(Number(row.dataset.class));
    });
    this.select.addEventListener("change", () => this.pick(this.select.value === "" ? null : Number(this.select.value)));
    this.find("saliency-erase").addEventListener("click", () => this.erase());
    this.canvas.addEventListener("pointermove", (event) => this.point(event));
    this.canvas.addEventListener("pointerdown", (event) => this.point(event));
    this.canvas.addEventListener("pointerleave", () => {
      this.hover = null;
      this.renderTip();
    });
    onLangChange(() => this.render());
  }

  /** The predictor has a new answer (or none): ask for its saliency. */
  answered() {
    const answer = this.predictor.answer;
    if (answer === this.asked) return this.markTarget();
    this.asked = answer;
    if (!answer) {
      this.data = null;
      this.problem = null;
      this.render();
      return;
    }
    this.ask();
  }

  pick(target) {
    this.target = target;
    this.ask();
  }

  async ask() {
    const answer = this.predictor.answer;
    if (!answer?.pixels) return;
    if (this.inFlight) {
      this.again = true; // the newest question goes next
      return;
    }
    this.inFlight = true;
    this.box.dataset.loading = "true";
    const target = this.target != null && this.target < answer.probabilities.length ? this.target : null;
    try {
      const data = await api.saliency(answer.pixels, {
        runId: answer.model.run_id,
        epoch: answer.model.epoch,
        target,
      });
      if (answer === this.predictor.answer) {
        this.data = data;
        this.problem = null;
      }
    } catch (error) {
      this.data = null;
      this.problem = describeError(error);
    } finally {
      this.inFlight = false;
      if (this.again) {
        this.again = false;
        this.ask();
      } else {
        this.box.dataset.loading = "false";
        this.render();
      }
    }
  }

  values() {
    return this.data ? this.data.saliency[this.mode] : null;
  }

  render() {
    const data = this.data;
    const answer = this.predictor.answer;
    this.box.hidden = !answer;
    const error = this.find("saliency-error");
    error.textContent = this.problem ?? "";
    error.hidden = !this.problem;
    this.renderTargets(answer);
    for (const button of this.find("saliency-modes").querySelectorAll("[data-saliency-mode]")) {
      button.setAttribute("aria-pressed", String(button.dataset.saliencyMode === this.mode));
    }
    this.box.dataset.mode = this.mode;
    if (!data || !answer) {
      this.box.dataset.target = "";
      this.box.dataset.scale = "";
      this.find("saliency-erase").disabled = true;
      return;
    }
    const saliency = data.saliency;
    const names = data.model.class_names;
    const label = names[saliency.target];
    this.box.dataset.target = String(saliency.target);
    this.find("saliency-title").textContent = t("saliency.title", { label });
    const values = this.values();
    const scale = saliencyScale(values);
    this.box.dataset.scale = String(scale);
    this.find("saliency-low").textContent = measure(-scale);
    this.find("saliency-high").textContent = `+${measure(scale)}`;
    this.find("saliency-explain").textContent = t(`saliency.explain.${this.mode}`, {
      label,
      steps: integer(saliency.steps),
    });
    const sum = values.reduce((a, b) => a + b, 0);
    this.find("saliency-sum").textContent =
      this.mode === "integrated"
        ? t("saliency.sum", {
            sum: measure(sum),
            score: measure(saliency.score),
            baseline: measure(saliency.baseline_score),
            diff: measure(saliency.score - saliency.baseline_score),
          })
        : t("saliency.score", { label, score: measure(saliency.score) });
    this.draw(data.pixels, values, scale);
    this.canvas.setAttribute("aria-label", t("saliency.canvas", { label }));
    this.find("saliency-erase").disabled = false;
    const note = this.find("saliency-erased");
    note.textContent = this.erased
      ? t("saliency.erased", {
          cells: integer(this.erased.cells),
          label: names[this.erased.target],
          before: this.erased.before,
          now: `${answer.label} (${percent(answer.probabilities[answer.digit], 1)})`,
        })
      : "";
    this.box.dataset.erased = this.erased ? String(this.erased.cells) : "";
    this.markTarget();
    this.renderTip();
  }

  renderTargets(answer) {
    const names = answer?.model?.class_names ?? [];
    const options = [new Option(answer ? t("saliency.answer", { label: answer.label }) : "", "")];
    names.forEach((name, k) => options.push(new Option(name, String(k))));
    this.select.replaceChildren(...options);
    this.select.value = this.target == null ? "" : String(this.target);
  }

  /** The explained class's bar marked (the bars are redrawn with every answer). */
  markTarget() {
    const target = this.data?.saliency.target;
    for (const row of this.find("probs").querySelectorAll("li[data-class]")) {
      if (this.data && Number(row.dataset.class) === target) row.dataset.explained = "true";
      else delete row.dataset.explained;
      row.title = t("saliency.pickClass");
    }
  }

  /** The digit, dimmed, under the saliency: red where it raises the class's score, blue where it lowers it. */
  draw(pixels, values, scale) {
    drawSaliency(this.canvas, pixels, values, scale);
  }

  point(event) {
    const box = this.canvas.getBoundingClientRect();
    const col = Math.floor(((event.clientX - box.left) / box.width) * 28);
    const row = Math.floor(((event.clientY - box.top) / box.height) * 28);
    this.hover = row >= 0 && row < 28 && col >= 0 && col < 28 ? [row, col] : null;
    this.renderTip();
  }

  renderTip() {
    const values = this.values();
    if (!this.hover || !values) {
      this.tip.hidden = true;
      return;
    }
    const [row, col] = this.hover;
    const value = values[row * 28 + col];
    this.tip.hidden = false;
    this.tip.dataset.cell = `${row},${col}`;
    this.tip.dataset.value = String(value);
    this.tip.textContent = t("saliency.cell", {
      row: integer(row),
      col: integer(col),
      value: `${value > 0 ? "+" : ""}${measure(value)}`,
    });
    const left = ((col + 0.5) / 28) * 100;
    this.tip.style.left = `${left}%`;
    this.tip.style.top = `${((row + 1) / 28) * 100}%`;
  }

  /**
   * Paint the pad white under the inked cells that push the explained class most (the top fifth).
   * The seen image is the pad's ink cropped, its longest side scaled to 20 cells and its centre of
   * mass put at the centre; so a cell maps back to the pad through the two centres of mass and
   * that scale.
   */
  erase() {
    const data = this.data;
    const answer = this.predictor.answer;
    if (!data || !answer) return;
    const values = this.values();
    const pixels = data.pixels;
    const cells = [];
    for (let i = 0; i < 784; i++) if (pixels[i] >= INKED && values[i] > 0) cells.push(i);
    cells.sort((a, b) => values[b] - values[a]);
    const inked = pixels.filter((v) => v >= INKED).length;
    const chosen = cells.slice(0, Math.max(1, Math.ceil(inked * ERASE_SHARE)));
    const map = this.padMap(pixels);
    if (!map || !chosen.length) return;
    const context = this.pad.context;
    context.fillStyle = "#fff";
    const radius = 0.8 / map.scale;
    for (const i of chosen) {
      const row = Math.floor(i / 28);
      const col = i % 28;
      const x = map.x + (col - map.col) / map.scale;
      const y = map.y + (row - map.row) / map.scale;
      context.beginPath();
      context.arc(x, y, radius, 0, Math.PI * 2);
      context.fill();
    }
    this.erased = {
      cells: chosen.length,
      target: data.saliency.target,
      before: `${answer.label} (${percent(answer.probabilities[answer.digit], 1)})`,
    };
    this.pad.dispatchEvent(new Event("change"));
    this.pad.dispatchEvent(new Event("strokeend"));
  }

  /** Where the seen image's centre of mass is on the pad (pad units), and cells per pad unit. */
  padMap(pixels) {
    const canvas = this.pad.canvas;
    const density = canvas.width / 280;
    const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    let most = 0;
    for (let i = 0; i < data.length; i += 4) most = Math.max(most, 255 - data[i]);
    if (most === 0) return null;
    let [left, right, top, bottom, mass, sx, sy] = [Infinity, -1, Infinity, -1, 0, 0, 0];
    for (let y = 0; y < canvas.height; y++) {
      for (let x = 0; x < canvas.width; x++) {
        const ink = 255 - data[4 * (y * canvas.width + x)];
        if (ink >= 0.2 * most) {
          left = Math.min(left, x);
          right = Math.max(right, x);
          top = Math.min(top, y);
          bottom = Math.max(bottom, y);
        }
        mass += ink;
        sx += ink * (x + 0.5);
        sy += ink * (y + 0.5);
      }
    }
    const side = Math.max(right - left + 1, bottom - top + 1) / density;
    let seen = 0;
    let cx = 0;
    let cy = 0;
    pixels.forEach((v, i) => {
      seen += v;
      cx += v * (i % 28);
      cy += v * Math.floor(i / 28);
    });
    return {
      x: sx / mass / density,
      y: sy / mass / density,
      col: cx / seen,
      row: cy / seen,
      scale: 20 / side,
    };
  }
}
