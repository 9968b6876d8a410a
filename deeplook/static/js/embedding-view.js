// The hidden space, live: the last hidden layer's activations of 2,000 test digits (200 a class) in
// 2-D at one epoch (GET /api/runs/{id}/embedding), a dot each in its class's colour, the learner's
// drawing as a star where `(h - mean) @ basis` puts it. An epoch slider of its own and a play button
// move the dots from epoch to epoch (positions interpolated between two epochs); new epochs of a
// training run appear as they are saved. Beside it: how well the classes separate in 2-D per epoch
// (the API's nearest-neighbour accuracy), the legend (a class can be picked out), the digit under
// the pointer and the one clicked, with what the network says of it at that epoch.

import { api } from "./api.js";
import { Plot, baseOptions, epochLine, formats, markerHooks, palette } from "./charts.js";
import { element, finder } from "./dom.js";
import { describeError } from "./errors.js";
import { integer, percent } from "./format.js";
import { onLangChange, t, tOr } from "./i18n.js";
import { bytesOf, drawDigit, fitCanvas } from "./pixels.js";
import { pixelCount } from "./registry.js";
import { Scatter, classColors, extentOf } from "./scatter.js";

const STEP_MS = 900; // one epoch's move while playing
const MOVE_MS = 450; // a move to another epoch or view
const IMAGE_BATCH = 1000; // test images per request (their indices travel in the URL)
const HOVER_WAIT = 150; // ms on a dot before asking what the network says of it
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
const dark = window.matchMedia("(prefers-color-scheme: dark)");

/** One epoch's points of one view, as the view draws them. */
function frameOf(data) {
  return {
    epoch: data.epoch,
    view: data.view,
    xs: Float64Array.from(data.x),
    ys: Float64Array.from(data.y),
    mean: data.mean,
    basis: data.basis,
    explained: data.explained,
    extent: extentOf(data.x, data.y),
  };
}

/** Activations of the last hidden layer in a frame's plane: (h - mean) @ basis. */
function projected(frame, hidden) {
  let x = 0;
  let y = 0;
  for (let i = 0; i < hidden.length; i++) {
    const centred = hidden[i] - frame.mean[i];
    x += centred * frame.basis[i][0];
    y += centred * frame.basis[i][1];
  }
  return { x, y };
}

const ease = (p) => (p < 0.5 ? 2 * p * p : 1 - (-2 * p + 2) ** 2 / 2);
const lerp = (a, b, p) => a + (b - a) * p;

export class EmbeddingView {
  /** `shown()` says whether the view is on screen; `drawing()` the pixels last drawn on the Draw tab. */
  constructor(root, state, shown, drawing) {
    Object.assign(this, { root, state, shown, drawing, find: finder(root) });
    this.canvas = this.find("space-canvas");
    this.scatter = new Scatter(this.canvas);
    this.slider = this.find("space-epoch");
    this.view = null; // the view chosen (one of info.embedding_views)
    this.epoch = null; // the epoch shown, or being moved to
    this.latest = true; // follow new epochs
    this.playing = false;
    this.reset();
    this.separation = new Plot(this.find("chart='separation'"), {
      options: (colors) => this.chartOptions(colors),
      data: () => this.chartColumns(),
      emptyKey: "embedding.loading",
    });
    this.find("space-play").addEventListener("click", () => (this.playing ? this.stop() : this.play()));
    this.slider.addEventListener("input", () => {
      this.stop();
      const epochs = this.state.epochs;
      const index = Number(this.slider.value);
      this.latest = index === epochs.length - 1;
      this.go(epochs[index]);
    });
    this.find("space-views").addEventListener("click", (event) => {
      const button = event.target.closest("[data-view]");
      if (button && button.dataset.view !== this.view) {
        this.view = button.dataset.view;
        this.renderViews();
        this.go(this.epoch);
      }
    });
    this.find("space-legend").addEventListener("click", (event) => {
      const button = event.target.closest("[data-class]");
      if (!button) return;
      const label = Number(button.dataset.class);
      this.highlight = this.highlight === label ? null : label;
      this.renderLegend();
      this.paint();
    });
    this.canvas.addEventListener("pointermove", (event) => this.onHover(event));
    this.canvas.addEventListener("pointerleave", () => this.setHover(-1));
    this.canvas.addEventListener("click", (event) => this.onClick(event));
    new ResizeObserver(() => {
      if (this.scatter.fit()) this.paint();
    }).observe(this.canvas);
    dark.addEventListener("change", () => {
      this.colors = null;
      this.renderLegend();
      this.paint();
    });
    state.addEventListener("run", () => {
      this.stop();
      this.reset();
      this.render();
    });
    state.addEventListener("info", () => this.renderViews());
    // the tab's epoch (its slider, or a new epoch while it follows the latest) leads this one
    state.addEventListener("epoch", () => {
      // (a new epoch does not pull away from one the learner chose here)
      if (this.playing || (this.shown() && !this.latest && state.latest)) return;
      this.epoch = state.epoch;
      this.latest = state.latest;
      if (this.shown()) this.go(this.epoch);
    });
    state.addEventListener("series", () => this.render());
    onLangChange(() => {
      this.renderViews();
      this.renderLegend();
      this.render();
      this.paint();
    });
  }

  /** Forget the run shown: its frames, its points' answers, the drawing's place. */
  reset() {
    this.generation = (this.generation ?? 0) + 1;
    this.frames = new Map(); // `${view}|${epoch}` -> frame
    this.pending = new Map(); // the same key -> the promise of its frame
    this.separations = new Map(); // view -> Map(epoch -> 2-D nearest-neighbour accuracy)
    this.sample = null; // {indices, labels}: the test digits, in the order of the points
    this.settled = null; // the frame last arrived at
    this.xs = null; // the positions drawn now (between two frames while moving)
    this.ys = null;
    this.extent = 1;
    this.mark = null; // the drawing's {x, y, label, p} drawn now
    this.motion = 0;
    this.hover = -1;
    this.picked = -1;
    this.highlight = null;
    this.answers = new Map(); // `${epoch}|${point}` -> what the network says of a point at an epoch
    this.drawn = { pixels: null, byEpoch: new Map() }; // the drawing's answers per epoch
    this.problem = null;
    this.epoch = null;
    this.latest = true;
  }

  get names() {
    return this.state.dataset?.class_names ?? [];
  }

  /** The view is on screen now: show the epoch the tab shows (the latest, while it follows them). */
  refresh() {
    if (!this.shown() || this.state.runId == null) return;
    if (!this.view) this.renderViews();
    if (this.epoch == null || (this.latest && this.state.epochs.length)) {
      this.epoch = this.latest ? (this.state.epochs.at(-1) ?? null) : this.state.epoch;
    }
    this.renderLegend();
    this.render();
    if (this.epoch != null) this.go(this.epoch);
  }

  // -- loading ------------------------------------------------------------------------------------

  /** A frame (loaded once per run, view and epoch). */
  frame(view, epoch) {
    const key = `${view}|${epoch}`;
    if (this.frames.has(key)) return Promise.resolve(this.frames.get(key));
    if (this.pending.has(key)) return this.pending.get(key);
    const { generation } = this;
    const runId = this.state.runId;
    const promise = api
      .embedding(runId, { epoch, view })
      .then((data) => {
        if (generation !== this.generation) return null;
        const frame = frameOf(data);
        this.frames.set(key, frame);
        const separations = this.separations.get(view) ?? new Map();
        data.separation_epochs.forEach((e, i) => separations.set(e, data.separation[i]));
        this.separations.set(view, separations);
        if (!this.sample) {
          this.sample = { indices: data.indices, labels: data.labels };
          this.loadImages();
        }
        this.separation.invalidate();
        return frame;
      })
      .finally(() => this.pending.delete(key));
    this.pending.set(key, promise);
    return promise;
  }

  /** The sample's test images, for the digit under the pointer (once per dataset). */
  async loadImages() {
    const dataset = this.state.dataset;
    const { indices } = this.sample;
    if (this.images?.dataset === dataset.name && this.images.indices === indices.join()) return;
    const size = pixelCount(dataset);
    const pixels = new Uint8Array(indices.length * size);
    try {
      for (let start = 0; start < indices.length; start += IMAGE_BATCH) {
        const part = await api.testImagesAt(dataset.name, indices.slice(start, start + IMAGE_BATCH));
        pixels.set(bytesOf(part.pixels), start * size);
      }
      this.images = { dataset: dataset.name, indices: indices.join(), pixels, size };
      this.renderPicked();
    } catch {
      this.images = null; // the dots still show; their images come with the next run
    }
  }

  /** Where the drawing lands at a frame's epoch (null: nothing drawn, or no answer). */
  async markAt(frame) {
    const pixels = this.drawing();
    if (!pixels) return null;
    if (pixels !== this.drawn.pixels) this.drawn = { pixels, byEpoch: new Map() };
    const held = this.drawn.byEpoch;
    try {
      if (!held.has(frame.epoch)) held.set(frame.epoch, await api.explain(pixels, this.state.runId, frame.epoch));
    } catch {
      return null;
    }
    const answer = held.get(frame.epoch);
    const at = projected(frame, answer.activations.at(-2));
    return { ...at, label: answer.label, p: answer.probabilities[answer.digit] };
  }

  // -- moving -------------------------------------------------------------------------------------

  /** Show `epoch` of the chosen view, moving the dots there from wherever they are. */
  async go(epoch, duration = MOVE_MS) {
    if (epoch == null || this.state.runId == null) return;
    this.epoch = epoch;
    const { generation, view } = this;
    this.root.dataset.loading = "true";
    this.render();
    let frame;
    try {
      frame = await this.frame(view, epoch);
    } catch (error) {
      if (generation !== this.generation) return;
      this.problem = error.status === 404 || error.status === 409 ? { key: "inside.noModel" } : { error };
      this.root.dataset.loading = "false";
      this.stop();
      this.render();
      return;
    }
    const mark = frame ? await this.markAt(frame) : null;
    if (!frame || generation !== this.generation || epoch !== this.epoch || view !== this.view) return;
    this.problem = null;
    await this.move(frame, mark, reducedMotion.matches ? 0 : duration);
    if (generation !== this.generation || epoch !== this.epoch || view !== this.view) return;
    this.settled = frame;
    this.root.dataset.loading = "false";
    this.render();
    if (this.picked >= 0) this.renderPicked();
  }

  /** Animate the dots (and the drawing's star) from where they are drawn to `frame`'s places. */
  move(frame, mark, duration) {
    const from = this.xs ? { xs: this.xs, ys: this.ys, extent: this.extent, mark: this.mark } : null;
    const motion = ++this.motion;
    return new Promise((resolve) => {
      const started = performance.now();
      const step = (now) => {
        if (motion !== this.motion) return resolve();
        const p = !from || duration <= 0 ? 1 : ease(Math.min(1, (now - started) / duration));
        if (p >= 1 || !from) {
          this.xs = frame.xs;
          this.ys = frame.ys;
          this.extent = frame.extent;
          this.mark = mark;
        } else {
          this.xs = frame.xs.map((x, i) => lerp(from.xs[i], x, p));
          this.ys = frame.ys.map((y, i) => lerp(from.ys[i], y, p));
          this.extent = lerp(from.extent, frame.extent, p);
          this.mark =
            mark && from.mark ? { ...mark, x: lerp(from.mark.x, mark.x, p), y: lerp(from.mark.y, mark.y, p) } : mark;
        }
        this.paint();
        if (p >= 1 || !from) resolve();
        else requestAnimationFrame(step);
      };
      requestAnimationFrame(step);
    });
  }

  /** Play from epoch 0 (or from where it stands) to the latest, one epoch at a time. */
  async play() {
    const epochs = this.state.epochs;
    if (epochs.length < 2) return;
    this.playing = true;
    this.renderPlay();
    let index = epochs.indexOf(this.epoch);
    if (index < 0 || index >= epochs.length - 1) index = 0;
    const { generation, view } = this;
    let duration = MOVE_MS;
    while (this.playing && generation === this.generation && view === this.view) {
      const list = this.state.epochs; // a training run adds epochs as it plays
      if (index >= list.length) break;
      if (index + 1 < list.length) this.frame(view, list[index + 1]).catch(() => {}); // the next one meanwhile
      await this.go(list[index], duration);
      if (this.problem) break;
      duration = STEP_MS;
      index += 1;
    }
    if (generation !== this.generation) return;
    this.playing = false;
    this.latest = this.epoch === this.state.epochs.at(-1);
    this.renderPlay();
  }

  stop() {
    if (!this.playing) return;
    this.playing = false;
    this.renderPlay();
  }

  // -- pointing -----------------------------------------------------------------------------------

  pointAt(event) {
    if (!this.xs) return -1;
    const box = this.canvas.getBoundingClientRect();
    const reach = event.pointerType === "touch" ? 16 : 8;
    return this.scatter.nearest(this.xs, this.ys, event.clientX - box.left, event.clientY - box.top, reach);
  }

  onHover(event) {
    if (event.pointerType === "touch") return; // a tap picks instead
    this.setHover(this.pointAt(event));
  }

  setHover(point) {
    if (point === this.hover) return;
    this.hover = point;
    clearTimeout(this.hoverTimer);
    if (point >= 0) this.hoverTimer = setTimeout(() => this.ask(point), HOVER_WAIT);
    this.renderTip();
  }

  onClick(event) {
    this.picked = this.pointAt(event);
    if (this.picked >= 0) this.ask(this.picked);
    this.renderPicked();
    this.paint();
  }

  /** What the network says of a point's digit at the epoch shown (asked once, then held). */
  async ask(point) {
    const epoch = this.settled?.epoch;
    const key = `${epoch}|${point}`;
    if (epoch == null || !this.images || this.answers.has(key)) return;
    const { generation } = this;
    const { pixels, size } = this.images;
    const values = Array.from(pixels.subarray(point * size, (point + 1) * size), (v) => v / 255);
    try {
      const answer = await api.explain(values, this.state.runId, epoch);
      if (generation !== this.generation) return;
      this.answers.set(key, { label: answer.label, digit: answer.digit, p: answer.probabilities[answer.digit] });
      this.renderTip();
      this.renderPicked();
    } catch {
      // the image and its true class still show
    }
  }

  /** A point's words: its test image, its class, and (once asked) what the network says of it. */
  pointText(point) {
    const label = this.names[this.sample.labels[point]];
    const index = integer(this.sample.indices[point]);
    const answer = this.answers.get(`${this.settled?.epoch}|${point}`);
    const text = t("embedding.point", { index, label });
    if (!answer) return text;
    const says = t("embedding.says", { label: answer.label, p: percent(answer.p, 0) });
    return `${text} · ${says}`;
  }

  drawImage(target, point) {
    if (!this.images) return;
    fitCanvas(target, this.state.dataset.image_shape);
    drawDigit(target, this.images.pixels, point * this.images.size);
  }

  // -- drawing ------------------------------------------------------------------------------------

  paint() {
    if (!this.colors) this.colors = classColors(Math.max(this.names.length, 1));
    const colors = palette();
    const style = getComputedStyle(document.documentElement);
    this.scatter.extent = this.extent;
    this.scatter.draw({
      xs: this.xs,
      ys: this.ys,
      labels: this.sample?.labels ?? [],
      colors: this.colors,
      names: this.names,
      highlight: this.highlight,
      picked: this.picked,
      mark: this.mark,
      ink: { grid: colors.grid, text: style.getPropertyValue("--text").trim(), background: style.getPropertyValue("--surface").trim() },
    });
    this.root.dataset.points = String(this.xs?.length ?? 0);
    if (this.xs?.length) {
      const [px, py] = this.scatter.toPixel(this.xs[0], this.ys[0]);
      this.root.dataset.firstAt = `${px.toFixed(1)},${py.toFixed(1)}`;
    }
    this.renderTip();
  }

  chartOptions(colors) {
    const series = [epochLine(t("embedding.separationSeries"), colors.train, formats.percent)];
    const options = baseOptions(colors, series, {
      xLabel: t("axis.epoch"),
      yFormat: formats.percent,
      share: true,
      wholeX: true,
    });
    const marker = () => (this.epoch == null ? [] : [{ x: this.epoch, label: "" }]);
    return { ...options, hooks: markerHooks(marker, colors.marker) };
  }

  chartColumns() {
    const held = this.separations.get(this.view);
    if (!held?.size) return null;
    const epochs = [...held.keys()].sort((a, b) => a - b);
    return { columns: [epochs, epochs.map((e) => held.get(e))], points: epochs.length };
  }

  render() {
    const state = this.state;
    const epochs = state.epochs;
    const settled = this.settled;
    const root = this.root;
    root.dataset.epoch = settled ? String(settled.epoch) : "";
    root.dataset.view = settled ? settled.view : "";
    const first = settled ? `${settled.xs[0]},${settled.ys[0]}` : "";
    root.dataset.first = first;
    const value = settled ? this.separations.get(settled.view)?.get(settled.epoch) : undefined;
    root.dataset.separation = value == null ? "" : String(value);
    root.dataset.mark = settled && this.mark ? `${this.mark.x},${this.mark.y}` : "";
    this.slider.max = String(Math.max(epochs.length - 1, 0));
    this.slider.value = String(Math.max(epochs.indexOf(this.epoch), 0));
    this.slider.disabled = epochs.length < 2;
    const epochText =
      this.epoch == null
        ? "–"
        : t(this.epoch === 0 ? "inside.epochStart" : "inside.epochOf", {
            x: integer(this.epoch),
            n: integer(epochs.at(-1) ?? 0),
          });
    this.find("space-epoch-value").textContent = epochText;
    this.slider.setAttribute("aria-valuetext", epochText);
    this.renderPlay();
    const count = this.sample?.labels.length ?? 0;
    const classes = this.names.length || 1;
    this.find("space-explain").textContent = count
      ? t("embedding.explain", { n: integer(count), per: integer(Math.round(count / classes)) })
      : "";
    this.find("space-separation").textContent =
      value == null ? "" : t("embedding.separationValue", { acc: percent(value, 1), epoch: integer(settled.epoch) });
    this.find("space-separation-explain").textContent = t("embedding.separationExplain", {
      chance: percent(1 / classes, 0),
    });
    this.canvas.setAttribute(
      "aria-label",
      settled ? t("embedding.canvas", { n: integer(count), epoch: integer(settled.epoch) }) : t("embedding.title"),
    );
    this.renderViewExplain();
    this.renderDrawing();
    const empty = this.find("space-empty");
    const problem = this.problem ? (this.problem.key ? t(this.problem.key) : describeError(this.problem.error)) : "";
    empty.textContent = problem || (this.xs ? "" : t("embedding.loading"));
    empty.hidden = !empty.textContent || (this.xs != null && !problem);
    this.separation.invalidate();
  }

  renderPlay() {
    const button = this.find("space-play");
    button.setAttribute("aria-pressed", String(this.playing));
    button.disabled = this.state.epochs.length < 2;
    this.root.dataset.playing = String(this.playing);
    this.find("space-play-icon").textContent = this.playing ? "❚❚" : "▶";
    this.find("space-play-text").textContent = t(this.playing ? "embedding.pause" : "embedding.play");
  }

  renderViews() {
    const views = this.state.info?.embedding_views ?? [];
    if (!this.view && views.length) this.view = views[0].name;
    const buttons = views.map((view) => {
      const button = element("button", "", tOr(`embedding.viewLabel.${view.name}`, view.label));
      button.type = "button";
      button.dataset.view = view.name;
      button.setAttribute("aria-pressed", String(view.name === this.view));
      return button;
    });
    this.find("space-views").replaceChildren(...buttons);
    this.renderViewExplain();
    this.separation.rebuild();
  }

  renderViewExplain() {
    const view = (this.state.info?.embedding_views ?? []).find((each) => each.name === this.view);
    const explained = this.settled?.explained;
    const parts = view ? [tOr(`embedding.view.${view.name}`, view.description)] : [];
    if (explained) {
      parts.push(t("embedding.axes", { a: percent(explained[0], 0), b: percent(explained[1], 0) }));
    }
    this.find("space-view-explain").textContent = parts.join(" ");
  }

  renderLegend() {
    if (!this.colors) this.colors = classColors(Math.max(this.names.length, 1));
    const items = this.names.map((name, label) => {
      const item = element("li");
      const button = element("button", "space-class");
      button.type = "button";
      button.dataset.class = String(label);
      button.setAttribute("aria-pressed", String(this.highlight === label));
      const swatch = element("span", "swatch");
      swatch.style.setProperty("--swatch", this.colors[label]);
      button.append(swatch, element("span", "", name));
      item.append(button);
      return item;
    });
    this.find("space-legend").replaceChildren(...items);
  }

  renderDrawing() {
    const line = this.find("space-drawing");
    const mark = this.settled ? this.mark : null;
    line.textContent = mark
      ? t("embedding.drawingSays", { label: mark.label, p: percent(mark.p, 0) })
      : t("embedding.noDrawing");
    line.dataset.drawn = String(mark != null);
  }

  renderTip() {
    const tip = this.find("space-tip");
    const point = this.hover;
    tip.hidden = point < 0 || !this.xs || !this.sample;
    if (tip.hidden) return;
    this.drawImage(this.find("space-tip-image"), point);
    this.find("space-tip-text").textContent = this.pointText(point);
    tip.dataset.index = String(this.sample.indices[point]);
    tip.dataset.label = String(this.sample.labels[point]);
    const [x, y] = this.scatter.toPixel(this.xs[point], this.ys[point]);
    const left = x + 12 + 180 > this.scatter.size ? x - 12 - 180 : x + 12;
    tip.style.left = `${Math.max(0, left)}px`;
    tip.style.top = `${Math.max(0, y - 30)}px`;
  }

  renderPicked() {
    const box = this.find("space-picked");
    const point = this.picked;
    box.hidden = point < 0 || !this.sample;
    this.find("space-pick-hint").hidden = !box.hidden;
    if (box.hidden) return;
    box.dataset.index = String(this.sample.indices[point]);
    box.dataset.label = String(this.sample.labels[point]);
    const image = this.find("space-picked-image");
    this.drawImage(image, point);
    const text = this.pointText(point);
    image.setAttribute("aria-label", text);
    this.find("space-picked-text").textContent = text;
  }
}
