// The batch a step is traced on: training images by index (the notebook's first five by default,
// picked from a gallery of the training set) and the learner's own drawings with their labels,
// drawn on a pad of the Draw tab's kind (draw.js) and sent as a PNG that the server preprocesses as
// it does for predictions.

import { api } from "./api.js";
import { element, finder } from "./dom.js";
import { DrawPad } from "./draw.js";
import { describeError } from "./errors.js";
import { integer } from "./format.js";
import { onLangChange, t } from "./i18n.js";
import { bytesOf, drawDigit, imageCanvas } from "./pixels.js";
import { datasetOf, pixelCount } from "./registry.js";
import { FIRST_FIVE, MAX_EXAMPLES } from "./step-state.js";

const PAGE = 24;
let drawn = 0; // drawings made on this page, for their ids

export class BatchPicker {
  constructor(root, state, store) {
    Object.assign(this, { root, state, store, find: finder(root) });
    this.offset = 0;
    this.gallery = null; // {dataset, offset, labels, names, pixels}
    this.thumbs = null; // {dataset, key, byIndex: Map(index -> {label, pixels})}
    this.pad = new DrawPad(this.find("step-pad"));
    this.labelChoice = this.find("step-label");
    this.find("step-pick").addEventListener("toggle", () => this.showGallery());
    this.find("step-gallery-prev").addEventListener("click", () => this.page(-1));
    this.find("step-gallery-next").addEventListener("click", () => this.page(1));
    this.find("step-first-five").addEventListener("click", () => this.setIndices([...FIRST_FIVE]));
    this.find("step-gallery").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-index]");
      if (button) this.toggleIndex(Number(button.dataset.index));
    });
    this.find("step-add").addEventListener("click", () => this.addDrawing());
    this.find("step-clear").addEventListener("click", () => this.pad.clear());
    this.pad.addEventListener("change", () => this.renderDrawTools());
    this.pad.addEventListener("clear", () => this.renderDrawTools());
    this.labelChoice.addEventListener("change", () => this.renderDrawTools());
    this.find("step-batch-list").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-remove]");
      if (button) this.remove(button.dataset.remove);
    });
    state.addEventListener("batch", () => this.render());
    for (const type of ["info", "runs", "follow"]) store.addEventListener(type, () => this.render());
    onLangChange(() => this.render());
    this.render();
  }

  get dataset() {
    return datasetOf(this.store.info, this.state.run?.dataset);
  }

  setIndices(indices) {
    this.state.setBatch(indices, this.state.drawings);
  }

  toggleIndex(index) {
    const { indices } = this.state;
    if (indices.includes(index)) this.setIndices(indices.filter((i) => i !== index));
    else if (this.state.size < MAX_EXAMPLES) this.setIndices([...indices, index].sort((a, b) => a - b));
    else this.problem(t("step.full", { n: integer(MAX_EXAMPLES) }));
  }

  remove(id) {
    const { indices, drawings } = this.state;
    if (id.startsWith("train-")) this.setIndices(indices.filter((i) => `train-${i}` !== id));
    else
      this.state.setBatch(
        indices,
        drawings.filter((drawing) => drawing.id !== id),
      );
  }

  addDrawing() {
    if (this.pad.empty || this.labelChoice.value === "") return;
    if (this.state.size >= MAX_EXAMPLES) {
      this.problem(t("step.full", { n: integer(MAX_EXAMPLES) }));
      return;
    }
    const drawing = { id: `drawing-${++drawn}`, image: this.pad.image(), label: Number(this.labelChoice.value) };
    this.state.setBatch(this.state.indices, [...this.state.drawings, drawing]);
    this.pad.clear();
  }

  problem(text) {
    const message = this.find("step-batch-error");
    message.textContent = text;
    message.hidden = !text;
  }

  page(direction) {
    const next = this.offset + direction * PAGE;
    if (next < 0 || next >= (this.dataset?.train_size ?? 0)) return;
    this.offset = next;
    this.loadGallery();
  }

  /** The gallery loads when it is first opened (and again for another dataset). */
  showGallery() {
    if (!this.find("step-pick").open || !this.dataset) return;
    if (this.gallery?.dataset !== this.dataset) this.loadGallery();
  }

  async loadGallery() {
    const dataset = this.dataset;
    const offset = this.offset;
    try {
      const data = await api.trainImages(dataset.name, { offset, limit: PAGE });
      if (dataset !== this.dataset || offset !== this.offset) return;
      this.gallery = { dataset, offset, labels: data.labels, names: data.class_names, pixels: bytesOf(data.pixels) };
      this.renderGallery();
    } catch (error) {
      this.problem(describeError(error));
    }
  }

  /** The batch's training images, for their thumbnails (asked for by index when the batch changes). */
  async loadThumbs() {
    const dataset = this.dataset;
    const indices = this.state.indices;
    const key = indices.join(",");
    if (!dataset || !indices.length || (this.thumbs?.dataset === dataset && this.thumbs.key === key)) return;
    this.thumbs = { dataset, key, byIndex: this.thumbs?.dataset === dataset ? this.thumbs.byIndex : new Map() };
    const missing = indices.filter((i) => !this.thumbs.byIndex.has(i));
    if (!missing.length) return;
    try {
      const data = await api.trainImages(dataset.name, { indices: missing });
      const size = pixelCount(dataset);
      const pixels = bytesOf(data.pixels);
      missing.forEach((index, i) => {
        this.thumbs.byIndex.set(index, { label: data.labels[i], pixels: pixels.subarray(i * size, (i + 1) * size) });
      });
      this.renderList();
    } catch (error) {
      this.problem(describeError(error));
    }
  }

  render() {
    this.renderList();
    this.loadThumbs();
    if (this.gallery) this.renderGallery();
    else this.showGallery();
    this.renderLabels();
    this.renderDrawTools();
  }

  renderList() {
    const { indices, drawings } = this.state;
    const dataset = this.dataset;
    const names = dataset?.class_names ?? [];
    this.find("step-batch-summary").textContent = t("step.batchSummary", {
      n: integer(indices.length + drawings.length),
      train: integer(indices.length),
      drawn: integer(drawings.length),
    });
    const items = [];
    for (const index of indices) {
      const known = this.thumbs?.byIndex.get(index);
      const label = known ? names[known.label] : "";
      const image = imageCanvas(dataset?.image_shape ?? [28, 28]);
      drawDigit(image, known?.pixels ?? null);
      const what = t("step.trainImage", { n: integer(index), label });
      items.push(this.item(`train-${index}`, image, `#${integer(index)}`, label, what));
    }
    drawings.forEach((drawing, i) => {
      const image = element("img", "tile");
      image.src = drawing.image;
      image.alt = "";
      const what = t("step.drawingItem", { n: integer(i + 1), label: names[drawing.label] ?? drawing.label });
      items.push(this.item(drawing.id, image, t("step.drawn"), names[drawing.label] ?? "", what));
    });
    this.find("step-batch-list").replaceChildren(...items);
    this.problem(indices.length + drawings.length === 0 ? t("step.empty") : "");
  }

  item(id, image, source, label, what) {
    const item = element("li", "step-batch-item");
    item.dataset.item = id;
    const caption = element("span", "step-batch-caption");
    caption.append(element("span", "", source), element("strong", "", label));
    const remove = element("button", "step-remove", "×");
    remove.type = "button";
    remove.dataset.remove = id;
    remove.setAttribute("aria-label", t("step.remove", { what }));
    item.append(image, caption, remove);
    return item;
  }

  renderGallery() {
    const { dataset, labels, names, pixels, offset } = this.gallery;
    const size = pixelCount(dataset);
    const chosen = new Set(this.state.indices);
    const buttons = labels.map((label, i) => {
      const index = offset + i;
      const button = element("button", "example pick");
      button.type = "button";
      button.dataset.index = String(index);
      button.setAttribute("aria-pressed", String(chosen.has(index)));
      button.setAttribute("aria-label", t("step.trainImage", { n: integer(index), label: names[label] }));
      const image = imageCanvas(dataset.image_shape);
      drawDigit(image, pixels, i * size);
      button.append(image, element("span", "", names[label]));
      return button;
    });
    this.find("step-gallery").replaceChildren(...buttons);
    this.find("step-gallery-range").textContent = t("step.images", {
      a: integer(offset + 1),
      b: integer(offset + labels.length),
      n: integer(dataset.train_size),
    });
    this.find("step-gallery-prev").disabled = offset === 0;
    this.find("step-gallery-next").disabled = offset + PAGE >= dataset.train_size;
  }

  /** The labels a drawing can be given: the classes of the run's dataset. */
  renderLabels() {
    const names = this.dataset?.class_names ?? [];
    const keep = this.labelChoice.value;
    this.labelChoice.replaceChildren(
      new Option(t("step.drawLabelNone"), ""),
      ...names.map((name, i) => new Option(name, String(i))),
    );
    this.labelChoice.value = keep !== "" && Number(keep) < names.length ? keep : "";
  }

  renderDrawTools() {
    this.find("step-add").disabled = this.pad.empty || this.labelChoice.value === "";
  }
}
