// What each unit wants to see: for one dense layer of the run at the tab's epoch, each unit's
// preferred input (GET /api/runs/{id}/wants: gradient ascent on the pixels, optionally smoothed by a
// total-variation penalty), beside its first-layer weights for the first hidden layer; pressing a unit
// shows the test digits that excite it most. Pages of units are asked for only when shown: the
// first ascent of a page takes the server a few seconds.

import { api } from "./api.js";
import { element, finder } from "./dom.js";
import { describeError } from "./errors.js";
import { integer, measure } from "./format.js";
import { onLangChange, t } from "./i18n.js";
import { bytesOf, canvas, drawDigit, drawWeights, float16s, imageCanvas } from "./pixels.js";
import { pixelCount } from "./registry.js";
import { layerName } from "./words.js";

const PAGE = 32; // units per request (the API takes up to 64)
const SMOOTH_TV = 20; // the total-variation weight of "smooth": visibly smoother on every layer

export class WantsView {
  /** `shown()` says whether the view is on screen. */
  constructor(root, state, shown) {
    Object.assign(this, { root, state, shown, find: finder(root) });
    this.layer = 0;
    this.offset = 0;
    this.data = null; // {key, wants, pixels, weights: {images, values} | null}
    this.asked = null; // the key of the page being asked for
    this.problem = null;
    this.selected = null; // the unit pressed, or null
    this.top = null; // {key, unit, images}: its most exciting test digits
    this.sequence = 0;
    this.layerChoice = this.find("wants-layer");
    this.smooth = this.find("wants-smooth");
    this.layerChoice.addEventListener("change", () => {
      this.layer = Number(this.layerChoice.value);
      this.offset = 0;
      this.select(null);
      this.load();
    });
    this.smooth.addEventListener("change", () => this.load());
    this.find("wants-prev").addEventListener("click", () => this.page(-1));
    this.find("wants-next").addEventListener("click", () => this.page(1));
    this.find("wants").addEventListener("click", (event) => {
      const button = event.target.closest("[data-unit]");
      if (button) this.select(Number(button.dataset.unit));
    });
    state.addEventListener("run", () => this.clear());
    state.addEventListener("epoch", () => this.refresh());
    for (const type of ["info", "summary"]) state.addEventListener(type, () => this.renderLayers());
    onLangChange(() => {
      this.renderLayers();
      this.render();
    });
  }

  get model() {
    return this.state.run?.config?.model ?? null;
  }

  /** Dense layers of the run's network: its hidden layers, then the output. */
  get layers() {
    return this.model ? this.model.hidden.length + 1 : 0;
  }

  get tv() {
    return this.smooth.checked ? SMOOTH_TV : 0;
  }

  key() {
    const { runId, epoch } = this.state;
    return `${runId}|${epoch}|${this.layer}|${this.offset}|${this.tv}`;
  }

  clear() {
    this.layer = 0;
    this.offset = 0;
    this.data = null;
    this.asked = null;
    this.problem = null;
    this.selected = null;
    this.top = null;
    this.sequence += 1;
    this.find("wants").replaceChildren();
    this.renderLayers();
    this.render();
  }

  /** On screen: the page of the chosen layer at the tab's epoch, unless it is there already. */
  refresh() {
    if (!this.shown()) return;
    this.renderLayers();
    this.load();
  }

  page(direction) {
    const units = this.data?.wants.units ?? 0;
    const next = this.offset + direction * PAGE;
    if (next < 0 || next >= units) return;
    this.offset = next;
    this.select(null);
    this.load();
  }

  async load() {
    const { runId, epoch } = this.state;
    if (runId == null || epoch == null || !this.shown()) return;
    const key = this.key();
    if (this.data?.key === key || this.asked === key) return;
    this.asked = key;
    const sequence = ++this.sequence;
    const { layer, offset, tv } = this;
    this.renderLoading();
    try {
      const [wants, weights] = await Promise.all([
        api.wants(runId, { epoch, layer, offset, limit: PAGE, tv }),
        layer === 0 ? api.weights(runId, { epoch, offset, limit: PAGE }) : null,
      ]);
      if (sequence !== this.sequence) return;
      this.data = {
        key,
        wants,
        pixels: bytesOf(wants.images),
        weights: weights ? { images: weights, values: float16s(weights.data) } : null,
      };
      this.problem = null;
    } catch (error) {
      if (sequence !== this.sequence) return;
      this.problem = error.status === 404 || error.status === 409 ? { key: "inside.noModel" } : { error };
    }
    this.asked = null;
    this.draw();
    this.render();
    if (this.selected != null) this.loadTop();
  }

  select(unit) {
    this.selected = unit;
    for (const button of this.find("wants").querySelectorAll("[data-unit]")) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.unit) === unit));
    }
    if (unit == null) this.top = null;
    this.renderTop();
    if (unit != null) this.loadTop();
  }

  /** The test digits that excite the selected unit most, with their z. */
  async loadTop() {
    const data = this.data;
    const unit = this.selected;
    const row = data ? unit - data.wants.offset : -1;
    if (!data || row < 0 || row >= data.wants.count) return;
    const key = `${data.key}|${unit}`;
    if (this.top?.key === key) return;
    const sequence = this.sequence;
    try {
      const images = await api.testImagesAt(this.state.dataset.name, data.wants.top[row]);
      if (sequence !== this.sequence || this.selected !== unit) return;
      this.top = { key, unit, row, images };
    } catch (error) {
      this.problem = { error };
      this.render();
    }
    this.renderTop();
    this.reveal();
  }

  /** A unit's name: its number, or for the output layer its class. */
  unitName(unit) {
    const names = this.state.dataset?.class_names ?? [];
    return this.layer === this.layers - 1 && names[unit] != null
      ? t("wants.class", { label: names[unit] })
      : t("inside.unit", { n: unit });
  }

  draw() {
    const grid = this.find("wants");
    const data = this.data;
    if (!data) {
      grid.replaceChildren();
      return;
    }
    const { wants, pixels, weights } = data;
    const shape = [wants.height, wants.width];
    const size = wants.height * wants.width;
    const buttons = [];
    for (let row = 0; row < wants.count; row++) {
      const unit = wants.offset + row;
      const button = element("button", "wants-unit");
      button.type = "button";
      button.dataset.unit = String(unit);
      button.setAttribute("aria-pressed", String(unit === this.selected));
      const tiles = element("span", "wants-tiles");
      if (weights && row < weights.images.count) {
        const { width, height, scale } = weights.images;
        const image = canvas("tile", width, height);
        image.dataset.kind = "weights";
        drawWeights(image, weights.values, row * width * height, scale);
        tiles.append(image);
      }
      const image = imageCanvas(shape);
      image.dataset.kind = "wants";
      drawDigit(image, pixels, row * size);
      tiles.append(image);
      const name = this.unitName(unit);
      button.append(tiles, element("span", "wants-caption", name));
      button.setAttribute(
        "aria-label",
        t(weights ? "wants.unitWithWeights" : "wants.unitLabel", {
          unit: name,
          z: measure(wants.reached[row]),
          best: measure(wants.best_test[row]),
        }),
      );
      buttons.push(button);
    }
    grid.replaceChildren(...buttons);
    grid.dataset.pair = String(weights != null);
  }

  renderLayers() {
    const model = this.model;
    const info = this.state.info;
    const options = [];
    for (let layer = 0; layer < this.layers; layer++) {
      options.push(new Option(layerName(info, model, layer), String(layer)));
    }
    const same =
      options.length === this.layerChoice.options.length &&
      options.every((option, i) => option.text === this.layerChoice.options[i].text);
    if (!same) this.layerChoice.replaceChildren(...options);
    if (this.layer >= this.layers) this.layer = 0;
    this.layerChoice.value = String(this.layer);
    this.layerChoice.disabled = options.length === 0;
  }

  renderLoading() {
    const box = this.find("wants-loading");
    const asked = this.asked != null;
    box.hidden = !asked;
    this.root.dataset.loading = String(asked);
    this.root.setAttribute("aria-busy", String(asked));
    if (!asked) return;
    const units = this.data?.wants.units ?? (this.layer < this.layers - 1 ? this.model.hidden[this.layer] : this.model.classes);
    this.find("wants-loading-text").textContent = t("wants.loading", {
      a: integer(this.offset + 1),
      b: integer(Math.min(this.offset + PAGE, units)),
    });
  }

  render() {
    const data = this.data;
    const root = this.root;
    root.dataset.layer = String(this.layer);
    root.dataset.units = String(data?.wants.count ?? 0);
    root.dataset.epoch = data ? String(data.wants.epoch) : "";
    root.dataset.tv = String(data?.wants.tv ?? this.tv);
    this.renderLoading();
    this.find("wants-explain").textContent = data ? t("wants.explain", { steps: integer(data.wants.steps) }) : "";
    this.find("wants-first").hidden = this.layer !== 0 || this.layers < 2;
    const when = this.find("wants-when");
    when.textContent = data
      ? t(data.wants.epoch === 0 ? "inside.weightsStart" : "inside.weightsEpoch", { epoch: integer(data.wants.epoch) })
      : "";
    const units = data?.wants.units ?? 0;
    const pager = this.find("wants-pager");
    pager.hidden = units <= PAGE;
    if (units > PAGE) {
      this.find("wants-range").textContent = t("wants.units", {
        a: integer(this.offset + 1),
        b: integer(Math.min(this.offset + PAGE, units)),
        n: integer(units),
      });
      this.find("wants-prev").disabled = this.offset === 0;
      this.find("wants-next").disabled = this.offset + PAGE >= units;
    }
    const error = this.find("wants-error");
    const problem = this.problem;
    error.textContent = problem ? (problem.key ? t(problem.key) : describeError(problem.error)) : "";
    error.hidden = !problem;
    this.renderTop();
  }

  renderTop() {
    const box = this.find("wants-top");
    const top = this.top;
    const data = this.data;
    box.hidden = top == null || data == null;
    this.find("wants-pick").hidden = !box.hidden || data == null;
    if (box.hidden) return;
    const { row, unit, images } = top;
    const name = this.unitName(unit);
    this.find("wants-top-title").textContent = t("wants.top", { unit: name });
    this.find("wants-top-hint").textContent = t("wants.topHint", {
      z: measure(data.wants.reached[row]),
      best: measure(data.wants.best_test[row]),
    });
    const shape = this.state.dataset.image_shape;
    const size = pixelCount(this.state.dataset);
    const pixels = bytesOf(images.pixels);
    const names = images.class_names;
    const figures = images.labels.map((label, i) => {
      const figure = element("figure", "example");
      figure.dataset.index = String(data.wants.top[row][i]);
      figure.dataset.true = String(label);
      const image = imageCanvas(shape);
      drawDigit(image, pixels, i * size);
      const caption = element("figcaption");
      caption.append(
        element("span", "example-true", names[label]),
        element("span", "example-confidence", t("wants.z", { z: measure(data.wants.top_values[row][i]) })),
      );
      figure.append(image, caption);
      return figure;
    });
    this.find("wants-top-gallery").replaceChildren(...figures);
    box.dataset.unit = String(unit);
  }

  /** Bring the selected unit's digits into view (below a long grid on a phone). */
  reveal() {
    const box = this.find("wants-top");
    const bounds = box.getBoundingClientRect();
    if (!box.hidden && (bounds.top < 0 || bounds.bottom > window.innerHeight)) {
      box.scrollIntoView({ behavior: "smooth", block: "nearest" });
    }
  }
}
