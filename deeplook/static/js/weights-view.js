// What each hidden neuron looks for: the first layer's weights of the chosen epoch, one image per
// unit (the dataset's image shape), paged for wide layers; while the run trains and the latest
// epoch is chosen, the weights as they are right now, every second.

import { api } from "./api.js";
import { element, finder } from "./dom.js";
import { integer, measure } from "./format.js";
import { onLangChange, t } from "./i18n.js";
import { canvas, drawWeights, float16s } from "./pixels.js";
import { pixelCount } from "./registry.js";

const LIVE_EVERY = 1000; // ms between live weight images while the run trains
const UNITS_PAGE = 64;

export class WeightsView {
  constructor(root, state) {
    this.state = state;
    this.find = finder(root);
    this.grid = this.find("weights");
    this.offset = 0;
    this.shown = null; // the last WeightImages
    this.values = null;
    this.liveBusy = false;
    this.find("weights-prev").addEventListener("click", () => this.page(-1));
    this.find("weights-next").addEventListener("click", () => this.page(1));
    state.addEventListener("run", () => this.clear());
    state.addEventListener("epoch", () => this.loadChosen());
    for (const type of ["info", "run"]) state.addEventListener(type, () => this.renderExplain());
    onLangChange(() => {
      this.render();
      this.renderExplain();
    });
    setInterval(() => this.liveTick(), LIVE_EVERY);
    this.render();
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
    this.loadChosen();
  }

  async loadChosen() {
    const { runId, epoch, generation } = this.state;
    if (runId == null || epoch == null) return;
    try {
      await this.load(runId, epoch, generation);
    } catch (error) {
      this.state.fail({ error }, generation);
    }
  }

  async load(id, epoch, generation, live = false) {
    const images = await api.weights(id, { epoch, offset: this.offset, limit: UNITS_PAGE, live });
    if (!this.state.isCurrent(generation)) return;
    if (live && !images.live) return; // the run has just finished: its epoch's report is coming
    this.shown = images;
    this.values = float16s(images.data);
    this.draw();
    this.render();
  }

  /** While the run trains and the latest epoch is chosen: its weights as they are now. */
  async liveTick() {
    const state = this.state;
    if (!state.visible || document.visibilityState !== "visible" || this.liveBusy) return;
    if (!state.live || state.run?.status !== "running" || !state.latest) return;
    this.liveBusy = true;
    try {
      await this.load(state.runId, null, state.generation, true);
    } catch {
      // the next tick tries again; an epoch's images still come with its report
    } finally {
      this.liveBusy = false;
    }
  }

  draw() {
    const { count, offset, scale, height, width } = this.shown;
    const tiles = [...this.grid.children];
    while (tiles.length > count) tiles.pop().remove();
    while (tiles.length < count) {
      const figure = element("figure", "weight");
      figure.append(canvas("tile", width, height), element("figcaption"));
      this.grid.append(figure);
      tiles.push(figure);
    }
    tiles.forEach((figure, i) => {
      const unit = offset + i;
      const image = figure.firstChild;
      if (image.width !== width || image.height !== height) Object.assign(image, { width, height });
      figure.dataset.unit = String(unit);
      figure.lastChild.textContent = String(unit);
      figure.title = t("inside.unit", { n: unit });
      drawWeights(image, this.values, i * width * height, scale);
    });
  }

  renderExplain() {
    const dataset = this.state.dataset;
    if (!dataset) return;
    const [rows, cols] = dataset.image_shape;
    this.find("weights-explain").textContent = t("inside.weightsExplain", {
      pixels: integer(pixelCount(dataset)),
      rows: integer(rows),
      cols: integer(cols),
    });
  }

  render() {
    const shown = this.shown;
    const when = this.find("weights-when");
    const card = this.find("weights-card");
    card.dataset.live = shown?.live ? "true" : "false";
    card.dataset.step = shown?.step == null ? "" : String(shown.step);
    card.dataset.shownEpoch = shown ? String(shown.epoch) : "";
    // the colour scale in numbers: full blue is -scale, full red +scale (white is 0)
    this.find("scale-low").textContent = shown?.scale ? `−${measure(shown.scale)}` : "";
    this.find("scale-high").textContent = shown?.scale ? `+${measure(shown.scale)}` : "";
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
