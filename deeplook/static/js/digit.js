// The network on one digit: a test image picked from a gallery (or the digit drawn on the Draw
// tab) goes through the run's model; each hidden layer shows as a strip of cells shaded by
// activation, the output as labelled softmax bars, and the hidden units that pushed the winning class
// most, each with what it looks for (its first-layer weights) when the net has one hidden layer.

import { api } from "./api.js";
import { probabilityRows } from "./bars.js";
import { element, finder } from "./dom.js";
import { describeError } from "./errors.js";
import { integer, measure, percent } from "./format.js";
import { onLangChange, t } from "./i18n.js";
import { bytesOf, canvas, drawDigit, drawWeights, fitCanvas, float16s, imageCanvas } from "./pixels.js";
import { pixelCount } from "./registry.js";
import { drawSaliency, saliencyScale } from "./saliency-view.js";
import { layerLabel } from "./words.js";

const PAGE = 24;
const TOP_UNITS = 8;
const OFF = 236; // a silent unit: light grey; a firing one: deep blue (negative tanh: orange)
const POSITIVE = [24, 78, 168];
const NEGATIVE = [200, 90, 20];

export class DigitView {
  /** `drawing()` returns the pixels of the digit last drawn on the Draw tab, or null. */
  constructor(root, state, drawing) {
    Object.assign(this, { state, drawing, find: finder(root) });
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
      const size = pixelCount(this.gallery.dataset);
      const pixels = Array.from(this.gallery.pixels.subarray(i * size, (i + 1) * size), (v) => v / 255);
      this.choose({ pixels, label: this.gallery.labels[i], source: button.dataset.index });
      for (const other of this.find("test-gallery").querySelectorAll("button")) {
        other.setAttribute("aria-pressed", String(other === button));
      }
    });
    state.addEventListener("run", () => this.runChanged());
    state.addEventListener("model", () => this.modelChanged());
    for (const type of ["info", "run", "visible"]) state.addEventListener(type, () => this.show());
    onLangChange(() => {
      if (this.gallery) this.renderGallery();
      this.render();
    });
  }

  runChanged() {
    this.answer = null;
    this.problem = null;
    this.weights = null;
    if (this.input && this.state.visible) this.explain();
    this.render();
  }

  /** The tab is showing: the gallery of the run's dataset, if it is not there yet. */
  show() {
    if (!this.state.visible) return;
    const dataset = this.state.dataset;
    if (!dataset) return;
    if (this.gallery?.dataset !== dataset || this.gallery.offset !== this.offset) this.loadGallery();
    this.find("use-drawing").disabled = !this.drawing();
  }

  modelChanged() {
    if (this.input) this.explain(); // a better model: ask again
  }

  page(direction) {
    const next = this.offset + direction * PAGE;
    if (next < 0 || next >= (this.state.dataset?.test_size ?? 0)) return;
    this.offset = next;
    this.loadGallery();
  }

  async loadGallery() {
    const dataset = this.state.dataset;
    const offset = this.offset;
    try {
      const data = await api.testImages(dataset.name, offset, PAGE);
      if (dataset !== this.state.dataset || offset !== this.offset) return;
      this.gallery = { dataset, offset, labels: data.labels, names: data.class_names, pixels: bytesOf(data.pixels) };
      this.renderGallery();
    } catch (error) {
      this.problem = { text: describeError(error) };
      this.render();
    }
  }

  renderGallery() {
    const { dataset, labels, names, pixels, offset } = this.gallery;
    const size = pixelCount(dataset);
    const buttons = labels.map((label, i) => {
      const button = element("button", "example pick");
      button.type = "button";
      button.dataset.index = String(offset + i);
      button.dataset.position = String(i);
      button.dataset.true = String(label);
      button.setAttribute("aria-pressed", String(this.input?.source === button.dataset.index));
      button.setAttribute("aria-label", t("inside.pickLabel", { n: integer(offset + i), label: names[label] }));
      const image = imageCanvas(dataset.image_shape);
      drawDigit(image, pixels, i * size);
      button.append(image, element("span", "", names[label]));
      return button;
    });
    this.find("test-gallery").replaceChildren(...buttons);
    this.find("gallery-range").textContent = t("inside.images", {
      a: integer(offset + 1),
      b: integer(offset + labels.length),
      n: integer(dataset.test_size),
    });
    this.find("gallery-prev").disabled = offset === 0;
    this.find("gallery-next").disabled = offset + PAGE >= dataset.test_size;
  }

  choose(input) {
    this.input = input;
    this.explain();
  }

  async explain() {
    const runId = this.state.runId;
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
      for (const name of ["digit-layers", "digit-probs", "contributions", "digit-logits", "contributions-against"]) {
        this.find(name).replaceChildren();
      }
      this.find("contrib-title").textContent = "";
      return;
    }
    const names = answer.model.class_names;
    const input = this.find("digit-input");
    const shape = this.state.dataset?.image_shape;
    if (shape) fitCanvas(input, shape);
    drawDigit(input, answer.pixels, 0, true);
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
    this.renderLogits(names, answer.logits ?? [], answer.digit);
    this.renderSaliency(answer);
    this.renderContributions(answer);
  }

  /** Where it looked: the integrated gradients of the answer's score over the image (look inside). */
  renderSaliency(answer) {
    const figure = this.find("digit-saliency");
    const saliency = answer.saliency;
    const square = answer.pixels.length === 784; // the saliency overlay is drawn on 28x28
    figure.hidden = !saliency || !square;
    if (figure.hidden) return;
    const values = saliency.integrated;
    const scale = saliencyScale(values);
    drawSaliency(this.find("digit-saliency-canvas"), answer.pixels, values, scale);
    figure.dataset.scale = String(scale);
    figure.dataset.target = String(saliency.target);
    const label = answer.model.class_names[saliency.target];
    this.find("digit-saliency-caption").textContent = t("inside.saliency", {
      label,
      scale: measure(scale),
    });
  }

  /** The output scores before softmax: softmax turns them into the probabilities above. */
  renderLogits(names, logits, winner) {
    const most = Math.max(1e-9, ...logits.map(Math.abs));
    const items = logits.map((value, i) => {
      const item = element("li", i === winner ? "logit logit-winner" : "logit");
      item.dataset.class = String(i);
      item.dataset.value = String(value);
      const track = element("span", "logit-track");
      const bar = element("span", value < 0 ? "logit-bar logit-negative" : "logit-bar");
      // bars grow from the middle: right for positive scores, left for negative ones
      bar.style.width = `${((Math.abs(value) / most) * 50).toFixed(1)}%`;
      bar.style.left = value < 0 ? `${(50 - (Math.abs(value) / most) * 50).toFixed(1)}%` : "50%";
      track.append(bar);
      item.append(element("span", "logit-label", names[i]), track, element("span", "prob-value", measure(value)));
      return item;
    });
    this.find("digit-logits").replaceChildren(...items);
  }

  renderLayers(layers) {
    const rows = layers.map((values, i) => {
      const row = element("div", "layer");
      row.dataset.layer = String(i);
      row.dataset.units = String(values.length);
      const config = this.state.run?.config;
      const name = config ? layerLabel(this.state.info, config, `dense${i}`) : t("inside.layer", { n: i + 1, units: integer(values.length) });
      const label = element("span", "layer-label", name);
      const strip = canvas("strip", values.length, 1);
      // hover (or touch) a cell: which unit it is and its value
      const readout = element("span", "strip-readout muted");
      readout.dataset.readout = "";
      const say = (j) => {
        const text = t("inside.unitValue", { n: j, v: measure(values[j]) });
        readout.textContent = text;
        strip.title = text;
      };
      const show = (event) => {
        const box = strip.getBoundingClientRect();
        const j = Math.min(values.length - 1, Math.max(0, Math.floor(((event.clientX - box.left) / box.width) * values.length)));
        this.hovered = { layer: i, unit: j }; // kept when the answer is drawn again under the pointer
        say(j);
      };
      strip.addEventListener("pointermove", show);
      strip.addEventListener("pointerdown", show);
      strip.addEventListener("pointerleave", () => {
        this.hovered = null;
        readout.textContent = "";
      });
      if (this.hovered?.layer === i && this.hovered.unit < values.length) say(this.hovered.unit);
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
      row.append(label, strip, readout);
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
    const units = contributions.map((value, unit) => ({ value, unit }));
    const top = [...units].sort((a, b) => b.value - a.value).slice(0, TOP_UNITS);
    const most = Math.max(1e-9, ...top.map((item) => Math.abs(item.value)));
    const weights = answer.activations.length === 2 ? this.weights : null;
    this.find("contributions").replaceChildren(...top.map((item) => this.unitRow(item, most, weights, false)));
    // and those that pushed against it most (negative contributions), on the same scale
    const against = units.filter((item) => item.value < 0).sort((a, b) => a.value - b.value).slice(0, TOP_UNITS);
    this.find("contrib-against-title").textContent = against.length ? t("inside.pushedAgainst", { label: answer.label }) : "";
    this.find("contributions-against").replaceChildren(...against.map((item) => this.unitRow(item, most, weights, true)));
  }

  /** One hidden unit's push on the answer: what it looks for (one hidden layer), its bar and value. */
  unitRow({ value, unit }, most, weights, opposed) {
    const item = element("li");
    item.dataset.unit = String(unit);
    if (weights && unit < weights.images.count) {
      const { width, height, scale } = weights.images;
      const image = canvas("tile", width, height);
      drawWeights(image, weights.values, unit * width * height, scale);
      item.append(image);
    }
    const track = element("span", "prob-track");
    const bar = element("span", opposed ? "prob-bar contrib-against" : "prob-bar");
    const share = opposed ? Math.min(100, (Math.abs(value) / most) * 100) : Math.max(0, (value / most) * 100);
    bar.style.width = `${share.toFixed(1)}%`;
    track.append(bar);
    const shown = opposed ? measure(value) : `${value >= 0 ? "+" : ""}${measure(value)}`;
    item.append(element("span", "contrib-label", t("inside.unit", { n: unit })), track, element("span", "prob-value", shown));
    return item;
  }
}
