// One stage of the traced step: its title, the formula, the notebook's line of NumPy, the shapes,
// what it means and why, and its arrays as heat maps (the inputs, then what it computes with its
// top-left numbers); the batch's rows as images for X, each image's loss for the loss, the gradient
// check for dW and db, the loss and y_hat after each step for the last stage.

import { element } from "./dom.js";
import { has, onLangChange, t } from "./i18n.js";
import { HeatMap } from "./heatmap.js";
import { exactText } from "./matrix.js";
import { datasetOf } from "./registry.js";
import { GradientCheck } from "./step-check.js";
import { describer, shapeLine } from "./step-stages.js";
import { batchImages, lossTable, numbersTable } from "./step-tables.js";
import { stageWords } from "./step-text.js";
import { TrainSteps } from "./step-train.js";

const PICKABLE = new Set(["dW", "db"]);
const UNIT_SCALE = new Set(["X", "t", "y_hat"]); // pixels and probabilities: drawn on 0..1

export class StageView {
  constructor(root, state, store) {
    Object.assign(this, { root, state, store });
    this.check = new GradientCheck(state);
    this.train = new TrainSteps(state, () => this.context());
    for (const type of ["stage", "trace", "loading"]) state.addEventListener(type, () => this.render());
    onLangChange(() => this.render());
    this.shown = null; // the stage and trace drawn: the same again is not rebuilt
  }

  /** What describes the rows and columns of the trace's arrays. */
  context() {
    const { trace, info, run } = this.state;
    const dataset = datasetOf(info, run?.dataset);
    return {
      layers: trace.layers,
      labels: trace.labels,
      indices: trace.indices,
      classNames: dataset?.class_names ?? [],
      imageShape: dataset?.image_shape ?? [28, 28],
    };
  }

  render(force = false) {
    const { stage, trace, loading } = this.state;
    this.root.dataset.loading = String(loading);
    const key = stage && trace ? stage : null;
    if (
      !force &&
      key === this.shown?.stage &&
      trace === this.shown?.trace &&
      this.shownLang === document.documentElement.lang
    )
      return;
    this.shown = { stage: key, trace };
    this.shownLang = document.documentElement.lang;
    this.root.dataset.stage = key ? stage.id : "";
    this.root.dataset.kind = key ? stage.kind : "";
    this.root.dataset.phase = key ? stage.phase : "";
    if (!key) {
      this.root.replaceChildren(element("p", "muted", t(loading ? "step.loading" : "step.nothing")));
      return;
    }
    const matrix = (name) => this.state.matrix(name);
    const words = stageWords({ stage, trace, info: this.state.info, run: this.state.run, matrix });
    const head = element("header", "step-stage-head");
    const badge = element("span", "step-badge", t(`step.phase.${stage.phase}`));
    badge.dataset.phase = stage.phase;
    const title = element("h2", "", words.title);
    title.id = "step-stage-title";
    head.append(badge, title);
    this.root.setAttribute("aria-labelledby", title.id);
    const why = element("div", "step-why");
    why.append(...words.paragraphs.map((text) => element("p", "explain", text)));
    const parts = [head, this.facts(stage), why];
    parts.push(...(stage.kind === "train" ? [this.train.attach()] : this.arrays(stage)));
    this.root.replaceChildren(...parts);
  }

  /** The formula, the notebook's NumPy and the shapes, as a list of terms. */
  facts(stage) {
    const list = element("dl", "step-facts");
    const add = (key, lines, className) => {
      if (!lines.length) return;
      const box = element("div", "step-fact");
      const terms = element("dd");
      terms.append(...lines.map((line) => element("code", className, line)));
      box.append(element("dt", "", t(key)), terms);
      list.append(box);
    };
    const traced = this.tracedOf(stage);
    add("step.formula", traced.map(formulaOf), "math");
    add(
      "step.code",
      traced.map((each) => each.code),
      "numpy",
    );
    if (stage.kind !== "train")
      add("step.shapes", [shapeLine(stage, (name) => this.state.matrix(name)?.shape ?? [])], "math");
    return list;
  }

  /** The trace's arrays whose formula and code a stage shows. */
  tracedOf(stage) {
    const arrays = this.state.trace.arrays;
    const named = (name) => arrays.find((each) => each.name === name);
    if (stage.kind === "loss") return [named("t"), named("Loss")].filter(Boolean);
    if (stage.kind === "update") return stage.inputs.slice(2).concat(stage.output).map(named).filter(Boolean);
    if (stage.kind === "train") return [];
    return [named(stage.output)].filter(Boolean);
  }

  arrays(stage) {
    const context = this.context();
    const heat = (name, pick = null) => {
      const matrix = this.state.matrix(name);
      if (!matrix) return null;
      const scale = UNIT_SCALE.has(name) ? 1 : null;
      return new HeatMap(matrix, { describe: describer(name, context), pick, scale }).root;
    };
    const section = (className, key) => {
      const part = element("section", className);
      part.append(element("h3", "", t(key)));
      return part;
    };
    const box = element("div", "step-arrays");
    box.dataset.count = stage.inputs.length ? "2" : "1";
    if (stage.inputs.length) {
      const inputs = section("step-inputs", "step.inputs");
      inputs.append(...stage.inputs.map((name) => heat(name)).filter(Boolean));
      box.append(inputs);
    }
    const output = section("step-output", "step.output");
    const matrix = this.state.matrix(stage.output);
    let table = null; // its numbers, below the heat maps at the stage's full width
    if (matrix?.shape.length === 0) {
      output.append(this.scalar(matrix));
    } else if (matrix) {
      const pickable = PICKABLE.has(stage.kind);
      output.append(heat(stage.output, pickable ? (cell) => this.check.run(cell, matrix) : null));
      if (pickable) output.append(this.check.attach(stage));
      if (stage.kind !== "input") table = numbersTable(matrix, context); // X's rows show as images
    }
    box.append(output);
    const parts = [element("p", "hint", t(PICKABLE.has(stage.kind) ? "step.hoverPick" : "step.hover")), box];
    if (table) parts.push(table);
    if (stage.kind === "input" && matrix) parts.push(batchImages(matrix, context));
    if (stage.kind === "loss") {
      parts.push(lossTable(this.state.matrix("y_hat"), this.state.matrix("Loss").value(0, 0), context));
    }
    return parts;
  }

  scalar(matrix) {
    const value = matrix.value(0, 0);
    const box = element("p", "step-scalar");
    box.dataset.value = String(value);
    box.append(element("code", "", `${matrix.name} = ${exactText(value)}`));
    return box;
  }
}

/** A traced array's formula; the prose ones (X, t, the weights before) in the page's language. */
function formulaOf(traced) {
  const key = `step.formula.${traced.name}`;
  return has(key) ? t(key) : traced.formula;
}
