// Asking the network about the drawing as it is drawn, and showing its answer: the probabilities
// with the winner marked, and the picture it actually saw (the dataset's image shape).

import { api } from "./api.js";
import { probabilityRows } from "./bars.js";
import { finder } from "./dom.js";
import { describeError } from "./errors.js";
import { integer, percent } from "./format.js";
import { onLangChange, t, tOr } from "./i18n.js";
import { datasetOf } from "./registry.js";
import { runLine, runName } from "./words.js";
import { drawDigit, fitCanvas } from "./pixels.js";

const DEBOUNCE = 120; // ms after the last change while drawing

export class Predictor {
  constructor(root, pad, store) {
    Object.assign(this, { root, pad, store, find: finder(root) });
    this.timer = 0;
    this.sequence = 0; // answers to older drawings are dropped
    this.inFlight = false;
    this.again = false;
    this.answer = null; // the last PredictResponse
    this.problem = null; // {key} or {text} when there is no answer
    this.choice = this.find("model-choice");
    pad.addEventListener("change", () => this.schedule());
    pad.addEventListener("strokeend", () => this.now());
    pad.addEventListener("clear", () => this.reset());
    this.find("clear").addEventListener("click", () => {
      pad.clear();
      pad.canvas.focus();
    });
    this.choice.addEventListener("change", () => this.now());
    store.addEventListener("runs", () => this.fillChoices());
    store.addEventListener("info", () => this.render());
    store.addEventListener("runs", () => this.render());
    store.addEventListener("run-epoch", () => {
      if (!this.choice.value) this.now(); // the current model may just have got better: ask again
    });
    onLangChange(() => {
      this.fillChoices();
      this.render();
    });
    this.fillChoices();
    this.render();
  }

  /** Clear with C, Delete or Backspace while the draw panel is showing and no field has focus. */
  handleKey(event) {
    const target = event.target;
    if (target instanceof HTMLInputElement || target instanceof HTMLSelectElement) return false;
    if (event.ctrlKey || event.metaKey || event.altKey) return false;
    if (!["c", "C", "Delete", "Backspace"].includes(event.key)) return false;
    this.pad.clear();
    return true;
  }

  fillChoices() {
    const keep = this.choice.value;
    const options = [new Option(t("draw.current"), "")];
    for (const run of this.store.runs) {
      if (run.checkpoint_epoch < 1) continue;
      const accuracy = run.test_accuracy == null ? "" : ` · ${percent(run.test_accuracy, 1)}`;
      options.push(new Option(`${runLine(run)}${accuracy}`, run.id));
    }
    this.choice.replaceChildren(...options);
    this.choice.value = options.some((option) => option.value === keep) ? keep : "";
  }

  reset() {
    clearTimeout(this.timer);
    this.sequence += 1;
    this.answer = null;
    this.problem = null;
    this.render();
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.now(), DEBOUNCE);
  }

  async now() {
    clearTimeout(this.timer);
    if (this.pad.empty) return;
    if (this.inFlight) {
      this.again = true; // one request at a time; the newest drawing goes next
      return;
    }
    this.inFlight = true;
    const sequence = ++this.sequence;
    try {
      const answer = await api.predict(this.pad.image(), this.choice.value || null);
      if (sequence === this.sequence) {
        this.answer = answer;
        this.problem = null;
      }
    } catch (error) {
      if (sequence === this.sequence) {
        this.answer = null;
        this.problem = error.status === 409 ? { key: "draw.noModel" } : { text: describeError(error) };
      }
    } finally {
      this.inFlight = false;
      this.render();
      if (this.again) {
        this.again = false;
        this.now();
      }
    }
  }

  render() {
    const answer = this.answer;
    const label = this.find("answer-label");
    const hint = this.find("answer-hint");
    this.root.dataset.predicted = answer ? String(answer.digit) : "";
    label.textContent = answer ? answer.label : "?";
    label.dataset.empty = answer ? "false" : "true";
    // beside the pad too, for phones where the answer card is below the fold
    this.find("answer-inline").textContent = answer
      ? `${answer.label} · ${percent(answer.probabilities[answer.digit], 0)}`
      : "";
    // before anything is drawn, say so if no model could answer yet (not only after drawing)
    const noModel = !this.choice.value && !this.store.runs.some((run) => run.checkpoint_epoch >= 1);
    hint.textContent = this.problem
      ? (this.problem.text ?? t(this.problem.key))
      : this.pad.empty
        ? t(noModel ? "draw.noModel" : "draw.empty")
        : "";
    this.root.dataset.noModel = String(noModel);
    hint.dataset.problem = this.problem ? "true" : "false";
    const model = answer?.model;
    const about = this.find("answer-model");
    about.textContent = model
      ? t("draw.modelInfo", {
          // the run by its name or what distinguishes it, its id beside it (never the id alone)
          id: runName(this.store.runs.find((run) => run.id === model.run_id) ?? { id: model.run_id }),
          epoch: model.epoch,
          acc: percent(model.test_accuracy, 1),
        })
      : "";
    if (model) about.append(" ", Object.assign(document.createElement("code"), { className: "run-id", textContent: model.run_id }));
    // the model's dataset, else the followed run's, else the default one
    const dataset = datasetOf(this.store.info, model?.dataset ?? this.store.run?.dataset);
    const name = dataset?.name;
    this.find("draw-title").textContent = tOr(`draw.title.${name}`, t("draw.title"));
    this.find("draw-hint").textContent = tOr(`draw.hint.${name}`, t("draw.hint"));
    const names = model?.class_names ?? dataset?.class_names ?? [];
    this.find("softmax-explain").textContent = t("explain.softmax", { n: integer(names.length) });
    this.renderBars(names, answer?.probabilities ?? null, answer?.digit);
    if (dataset) this.renderSeen(dataset.image_shape, answer?.pixels ?? null);
    this.root.dispatchEvent(new Event("answer")); // look inside: the saliency view follows
  }

  renderBars(names, probabilities, winner) {
    this.find("probs").replaceChildren(...probabilityRows(names, probabilities, winner));
  }

  renderSeen(shape, pixels) {
    const canvas = this.find("seen");
    const [rows, cols] = shape;
    // MNIST fits a digit's box into 20 of 28 rows: a drawing smaller than that (in pad units, 10 per
    // row) was enlarged to get there, a larger one shrunk; before any drawing the picture is black
    const params = { rows: integer(rows), cols: integer(cols) };
    const ink = this.pad.inkSize;
    let key = "draw.seenEmpty";
    if (pixels) key = ink > 0 && ink < 200 ? "draw.seenEnlarged" : "draw.seenHint";
    const hint = t(key, params);
    this.find("seen").dataset.caption = key;
    this.find("seen-hint").textContent = hint;
    canvas.setAttribute("aria-label", hint);
    fitCanvas(canvas, shape);
    drawDigit(canvas, pixels, 0, true); // ink light on dark
  }
}
