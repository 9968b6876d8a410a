// The gradient check, visible: for a weight picked in a dW (or db) heat map, the server nudges it by
// ±ε on the same batch, computes the loss again, and the page shows that slope beside
// backpropagation's, and how far apart they are (the idea behind the project's own tests).

import { api } from "./api.js";
import { element } from "./dom.js";
import { describeError } from "./errors.js";
import { measure } from "./format.js";
import { onLangChange, t } from "./i18n.js";
import { exactText } from "./matrix.js";

const AGREE = 1e-5; // a relative error below this: the two agree

export class GradientCheck {
  constructor(state) {
    this.state = state;
    this.root = element("section", "step-check");
    this.root.setAttribute("aria-live", "polite");
    this.param = null; // W2 for the dW2 stage
    this.status = "idle"; // checking, done, failed
    this.asked = null; // {index, traced}: the weight and the trace's value for its gradient
    this.answer = null; // GradientCheckOut
    this.error = null;
    this.sequence = 0;
    state.addEventListener("trace", () => this.reset());
    onLangChange(() => this.render());
  }

  reset() {
    this.sequence += 1;
    this.status = "idle";
    this.asked = null;
    this.answer = null;
    this.error = null;
  }

  /** The panel for a stage's gradient (dW2 checks W2), kept when the same stage is shown again. */
  attach(stage) {
    const param = stage.output.slice(1);
    if (param !== this.param) this.reset();
    this.param = param;
    this.render();
    return this.root;
  }

  /** Check the weight at the cell picked (row, col) of the gradient `matrix`. */
  async run(cell, matrix) {
    const { trace, body } = this.state;
    if (!trace || !body) return;
    const index = matrix.shape.length === 1 ? [cell.col] : [cell.row, cell.col];
    const sequence = ++this.sequence;
    this.status = "checking";
    this.asked = { index, traced: cell.value };
    this.answer = null;
    this.render();
    const request = { epoch: body.epoch, param: this.param, index };
    if (body.indices) request.indices = body.indices;
    if (body.images) request.images = body.images;
    try {
      const answer = await api.gradientCheck(trace.run_id, request);
      if (sequence !== this.sequence) return;
      this.answer = answer;
      this.status = "done";
    } catch (error) {
      if (sequence !== this.sequence) return;
      this.error = error;
      this.status = "failed";
    }
    this.render();
  }

  render() {
    const root = this.root;
    root.dataset.state = this.status;
    root.dataset.param = this.param ?? "";
    const weight = this.asked ? `${this.param}[${this.asked.index.join(", ")}]` : "";
    root.dataset.weight = weight;
    const parts = [element("h3", "", t("step.check.title"))];
    if (this.status === "idle") parts.push(element("p", "hint", t("step.check.hint", { name: `d${this.param}` })));
    if (this.status === "checking") parts.push(element("p", "muted", t("step.check.running", { weight })));
    if (this.status === "failed") parts.push(element("p", "form-error", describeError(this.error)));
    if (this.status === "done") parts.push(...this.result(weight));
    root.replaceChildren(...parts);
  }

  result(weight) {
    const answer = this.answer;
    const difference = Math.abs(answer.backprop - answer.numerical);
    this.root.dataset.backprop = String(answer.backprop);
    this.root.dataset.numerical = String(answer.numerical);
    this.root.dataset.relative = String(answer.relative_error);
    const rows = [
      ["step.check.weight", weight],
      ["step.check.traced", this.asked.traced == null ? "–" : exactText(this.asked.traced)],
      ["step.check.backprop", exactText(answer.backprop)],
      ["step.check.numerical", exactText(answer.numerical)],
      [
        "step.check.losses",
        `${exactText(answer.loss_plus)}, ${exactText(answer.loss_minus)} (ε = ${measure(answer.eps)})`,
      ],
      [
        "step.check.difference",
        `${difference.toExponential(2)} (${t("step.check.relative")} ${answer.relative_error.toExponential(2)})`,
      ],
    ];
    const list = element("dl", "step-check-values");
    for (const [key, value] of rows) {
      const row = element("div");
      row.append(element("dt", "", t(key)), element("dd", "", value));
      list.append(row);
    }
    const zero = answer.backprop === 0 && answer.numerical === 0;
    const agree = answer.relative_error < AGREE;
    const verdict = element("p", agree ? "step-check-verdict" : "step-check-verdict form-error");
    verdict.dataset.agree = String(agree);
    verdict.textContent = t(zero ? "step.check.zero" : agree ? "step.check.agree" : "step.check.disagree", {
      e: answer.relative_error.toExponential(1),
    });
    return [list, verdict];
  }
}
