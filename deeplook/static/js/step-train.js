// The last stage: the same batch trained k times, as the notebook's five train_step calls. The loss
// after each step as a small chart, and each image's probability for its right class after each step
// as a table (y_hat approaching t).

import { Plot, baseOptions, line } from "./charts.js";
import { element } from "./dom.js";
import { integer, measure, percent } from "./format.js";
import { t } from "./i18n.js";

export class TrainSteps {
  /** `context()`: the rows' labels and class names, as the stage view describes them. */
  constructor(state, context) {
    this.state = state;
    this.context = context;
    this.root = element("div", "step-train");
    this.summary = element("p", "step-train-summary");
    const figure = element("figure", "chart-card");
    this.caption = element("h3");
    const caption = element("figcaption");
    caption.append(this.caption);
    const host = element("div", "chart chart-small");
    host.dataset.chart = "step-losses";
    figure.append(caption, host);
    this.tableTitle = element("h3");
    this.table = element("table", "step-numbers step-progress");
    const wrap = element("div", "table-wrap");
    wrap.append(this.table);
    this.root.append(this.summary, figure, this.tableTitle, wrap);
    this.plot = new Plot(host, {
      options: (colors) => {
        const series = [line(t("step.series.loss"), colors.train, { points: { show: true, size: 7 } })];
        const options = baseOptions(colors, series, { xLabel: t("step.axisStep"), wholeX: true });
        const [x, y] = options.axes; // axis titles: what is counted, and the loss's unit
        options.axes = [
          { ...x, label: t("step.axisSteps") },
          { ...y, label: t("step.axisLoss") },
        ];
        return options;
      },
      data: () => this.columns(),
      emptyKey: "step.nothing",
    });
  }

  columns() {
    const losses = this.state.trace?.losses ?? [];
    return losses.length ? { columns: [losses.map((_, i) => i), losses], points: losses.length } : null;
  }

  /** The view, filled for the trace shown (its element is kept: the chart lives in it). */
  attach() {
    const { trace } = this.state;
    const losses = trace.losses;
    const steps = losses.length - 1;
    this.root.dataset.steps = String(steps);
    this.summary.textContent = t("step.trainSummary", {
      first: measure(losses[0]),
      last: measure(losses.at(-1)),
      k: integer(steps),
    });
    this.caption.textContent = t("step.lossAfter");
    this.tableTitle.textContent = t("step.pRight");
    this.renderTable(steps);
    this.plot.rebuild();
    return this.root;
  }

  renderTable(steps) {
    const { labels, classNames } = this.context();
    const head = element("tr");
    head.append(element("th", "", t("step.col.image")));
    for (let s = 0; s <= steps; s++)
      head.append(element("th", "", s === 0 ? t("step.before") : t("step.after", { n: s })));
    const rows = labels.map((label, r) => {
      const row = element("tr");
      row.append(element("th", "", `${r}: ${classNames[label] ?? label}`));
      for (let s = 0; s <= steps; s++) {
        const p = this.state.matrix(`prediction ${s}`)?.value(r, label) ?? 0;
        const cell = element("td", "", percent(p, 1));
        cell.style.setProperty("--p", p.toFixed(3));
        cell.dataset.p = String(p);
        row.append(cell);
      }
      return row;
    });
    this.table.replaceChildren(head, ...rows);
  }
}
