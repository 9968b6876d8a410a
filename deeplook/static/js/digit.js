// The network on one digit: a test image picked from a gallery (or the digit drawn on the Draw
// tab) goes through the run's model; each hidden layer shows as a strip of cells shaded by
// activation, the output as labelled softmax bars, and the hidden units that pushed the winning class
// most, each with what it looks for (its first-layer weights) when the net has one hidden layer.

import { api } from "./api.js";
import { probabilityRows } from "./bars.js";
import { describeError } from "./errors.js";
import { integer, measure, percent } from "./format.js";
import { t } from "./i18n.js";
import { SIDE, bytesOf, canvas, drawDigit, drawWeights, float16s } from "./pixels.js";

const PAGE = 24;
const TEST_IMAGES = 10000;
const TOP_UNITS = 8;
const OFF = 236; // a silent unit: light grey; a firing one: deep blue (negative tanh: orange)
const POSITIVE = [24, 78, 168];
const NEGATIVE = [200, 90, 20];

export class DigitView {
  constructor(root, owner, drawing) {
    this.owner = owner;
    this.drawing = drawing;
    this.find = (name) => root.querySelector(`[data-${name}]`);
    this.offset = 0;
    this.gallery = null; // {dataset, offset, images}
    this.input = null; // {pixels, label (true class) or null}
    this.answer = null; // the last PredictResponse with explain
    this.problem = null;
    this.weights = null; // {key, images, values}: every first-layer unit of the answer's model
    this.sequence = 0;
    this.find("gallery-prev").addEventListener("click", () => this.page(-1));
    this.find("gallery-next").addEventListener("click", () => this.page(1));
    this.find("use-drawing").addEventListener("click", () => {
      const pixels = this.drawing();
      if (pixels) this.choose({ pixels, label: null, source: "drawing" });
    });
    this.find("test-gallery").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-index]");
      if (!button || !this.gallery) return;
      const i = Number(button.dataset.position);
      const pixels = Array.from(this.gallery.pixels.subarray(i * 784, (i + 1) * 784), (v) => v / 255);
      this.choose({ pixels, label: this.gallery.labels[i], source: button.dataset.index });
      for (const other of this.find("test-gallery").querySelectorAll("button")) {
        other.setAttribute("aria-pressed", String(other === button));
      }
    });
  }

  runChanged() {
    this.answer = null;
    this.problem = null;
    this.weights = null;
    if (this.input && this.owner.visible) this.explain();
  }

  /** The tab is showing: the gallery of the run's dataset, if it is not there yet. */
  show() {
    const dataset = this.owner.dataset;
    if (this.gallery?.dataset !== dataset || this.gallery.offset !== this.offset) this.loadGallery();
    this.find("use-drawing").disabled = !this.drawing();
  }

  modelChanged() {
    if (this.input) this.explain(); // a better model: ask again
  }

  page(direction) {
    const next = this.offset + direction * PAGE;
    if (next < 0 || next >= TEST_IMAGES) return;
    this.offset = next;
    this.loadGallery();
  }

  async loadGallery() {
    const dataset = this.owner.dataset;
    const offset = this.offset;
    try {
      const data = await api.testImages(dataset, offset, PAGE);
      if (dataset !== this.owner.dataset || offset !== this.offset) return;
      this.gallery = { dataset, offset, labels: data.labels, names: data.class_names, pixels: bytesOf(data.pixels) };
      this.renderGallery();
    } catch (error) {
      this.problem = { text: describeError(error) };
      this.render();
    }
  }

  renderGallery() {
    const { labels, names, pixels, offset } = this.gallery;
    const buttons = labels.map((label, i) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "example pick";
      button.dataset.index = String(offset + i);
      button.dataset.position = String(i);
      button.dataset.true = String(label);
      button.setAttribute("aria-pressed", String(this.input?.source === button.dataset.index));
      button.setAttribute("aria-label", t("inside.pickLabel", { n: integer(offset + i), label: names[label] }));
      const image = canvas("tile");
      drawDigit(image, pixels, i * SIDE * SIDE);
      const caption = document.createElement("span");
      caption.textContent = names[label];
      button.append(image, caption);
      return button;
    });
    this.find("test-gallery").replaceChildren(...buttons);
    this.find("gallery-range").textContent = t("inside.images", {
      a: integer(offset + 1),
      b: integer(offset + labels.length),
      n: integer(TEST_IMAGES),
    });
    this.find("gallery-prev").disabled = offset === 0;
    this.find("gallery-next").disabled = offset + PAGE >= TEST_IMAGES;
  }

  choose(input) {
    this.input = input;
    this.explain();
  }

  async explain() {
    const owner = this.owner;
    const runId = owner.runId;
    if (!this.input || !runId) return;
    const sequence = ++this.sequence;
    try {
      const answer = await api.explain(this.input.pixels, runId);
      if (sequence !== this.sequence) return;
      this.answer = answer;
      this.problem = null;
      if (answer.activations.length === 2) await this.loadWeights(answer.model, sequence);
    } catch (error) {
      if (sequence !== this.sequence) return;
      this.answer = null;
      this.problem = error.status === 409 ? { key: "inside.noModel" } : { text: describeError(error) };
    }
    if (sequence === this.sequence) this.render();
  }

  /** The first layer of the answering model, for the images beside the top units. */
  async loadWeights(model, sequence) {
    const key = `${model.run_id}/${model.epoch}`;
    if (this.weights?.key === key) return;
    try {
      const images = await api.weights(model.run_id, { epoch: model.epoch, limit: 1024 });
      if (sequence === this.sequence) this.weights = { key, images, values: float16s(images.data) };
    } catch {
      this.weights = null; // the units are still listed, without their images
    }
  }

  render() {
    const result = this.find("digit-result");
    const answer = this.answer;
    this.find("use-drawing").disabled = !this.drawing();
    const message = this.find("digit-answer");
    result.hidden = !answer && !this.problem;
    result.dataset.winner = answer ? String(answer.digit) : "";
    if (!answer) {
      message.textContent = this.problem ? (this.problem.text ?? t(this.problem.key)) : "";
      for (const name of ["digit-layers", "digit-probs", "contributions"]) this.find(name).replaceChildren();
      this.find("contrib-title").textContent = "";
      return;
    }
    const names = answer.model.class_names;
    drawDigit(this.find("digit-input"), answer.pixels, 0, true);
    const truth = this.input?.label;
    message.textContent =
      truth == null
        ? t("inside.says", { label: answer.label, p: percent(answer.probabilities[answer.digit], 1) })
        : t("inside.saysTrue", {
            label: answer.label,
            p: percent(answer.probabilities[answer.digit], 1),
            truth: names[truth],
          });
    message.dataset.right = truth == null ? "" : String(truth === answer.digit);
    this.renderLayers(answer.activations.slice(0, -1));
    this.renderProbs(names, answer.probabilities, answer.digit);
    this.renderContributions(answer);
  }

  renderLayers(layers) {
    const rows = layers.map((values, i) => {
      const row = document.createElement("div");
      row.className = "layer";
      row.dataset.layer = String(i);
      row.dataset.units = String(values.length);
      const label = document.createElement("span");
      label.className = "layer-label";
      label.textContent = t("inside.layer", { n: i + 1, units: integer(values.length) });
      const strip = canvas("strip", values.length, 1);
      const most = Math.max(1e-9, ...values.map(Math.abs));
      const context = strip.getContext("2d");
      const image = context.createImageData(values.length, 1);
      values.forEach((v, j) => {
        // sigmoid outputs are already 0..1; tanh and ReLU are shown relative to the largest
        const level = most <= 1 ? Math.abs(v) : Math.abs(v) / most;
        const target = v < 0 ? NEGATIVE : POSITIVE;
        image.data.set([...target.map((c) => Math.round(OFF + (c - OFF) * level)), 255], j * 4);
      });
      context.putImageData(image, 0, 0);
      strip.setAttribute("role", "img");
      strip.setAttribute(
        "aria-label",
        t("inside.layerLabel", { n: i + 1, active: integer(values.filter((v) => v > 0.5).length) }),
      );
      row.append(label, strip);
      return row;
    });
    this.find("digit-layers").replaceChildren(...rows);
  }

  renderProbs(names, probabilities, winner) {
    this.find("digit-probs").replaceChildren(...probabilityRows(names, probabilities, winner));
  }

  renderContributions(answer) {
    const contributions = answer.contributions ?? [];
    this.find("contrib-title").textContent = t("inside.contrib", { label: answer.label });
    const top = contributions
      .map((value, unit) => ({ value, unit }))
      .sort((a, b) => b.value - a.value)
      .slice(0, TOP_UNITS);
    const most = Math.max(1e-9, ...top.map((item) => Math.abs(item.value)));
    const weights = answer.activations.length === 2 ? this.weights : null;
    const items = top.map(({ value, unit }) => {
      const item = document.createElement("li");
      item.dataset.unit = String(unit);
      if (weights && unit < weights.images.count) {
        const image = canvas("tile");
        drawWeights(image, weights.values, unit * SIDE * SIDE, weights.images.scale);
        item.append(image);
      }
      const text = document.createElement("span");
      text.className = "contrib-label";
      text.textContent = t("inside.unit", { n: unit });
      const track = document.createElement("span");
      track.className = "prob-track";
      const bar = document.createElement("span");
      bar.className = "prob-bar";
      bar.style.width = `${Math.max(0, (value / most) * 100).toFixed(1)}%`;
      track.append(bar);
      const amount = document.createElement("span");
      amount.className = "prob-value";
      amount.textContent = `${value >= 0 ? "+" : ""}${measure(value)}`;
      item.append(text, track, amount);
      return item;
    });
    this.find("contributions").replaceChildren(...items);
  }
}
