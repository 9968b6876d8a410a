// The numbers of a stage as tables: a readable window of an array (all of a small one; of a large
// one the rows where its values are largest, or the server's exact top-left corner when only that
// came), each image's part of the loss, and the batch's rows as the images they are.

import { element } from "./dom.js";
import { integer, measure, percent } from "./format.js";
import { t } from "./i18n.js";
import { drawDigit, imageCanvas } from "./pixels.js";

const ROWS = 8;
const COLS = 10; // a row of scores, probabilities or their gradients shows whole
const BATCH_ROWS = /^(X|t|y_hat|dy|[az]\d+|d[az]\d+)$/; // one row per image of the batch

/** A number of a table: four significant digits, tiny ones with an exponent (-9.44e-6). */
function rounded(value) {
  if (value == null || !Number.isFinite(value)) return "–";
  return value !== 0 && Math.abs(value) < 1e-3 ? value.toExponential(2) : measure(value);
}

/** The first of `ROWS` rows where |values| (of the first `cols` columns) add up to the most. */
function busiestRows(matrix, cols) {
  if (!matrix.exact || matrix.rows <= ROWS) return 0;
  const sums = Array.from({ length: matrix.rows }, (_, r) => {
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.abs(matrix.value(r, c));
    return sum;
  });
  let best = 0;
  let window = sums.slice(0, ROWS).reduce((a, b) => a + b, 0);
  let most = window;
  for (let r = ROWS; r < matrix.rows; r++) {
    window += sums[r] - sums[r - ROWS];
    if (window > most) {
      most = window;
      best = r - ROWS + 1;
    }
  }
  return best;
}

/** Which part of an array a table shows, and how to say it. */
function windowOf(matrix) {
  const known = matrix.exact ? null : matrix.excerpt;
  const rows = Math.min(matrix.rows, ROWS, known ? known.length : Infinity);
  const cols = Math.min(matrix.cols, COLS, known ? (known[0]?.length ?? 0) : Infinity);
  const top = busiestRows(matrix, cols);
  let key = "step.corner";
  if (rows === matrix.rows && cols === matrix.cols) key = "step.whole";
  else if (matrix.shape.length === 1) key = "step.first";
  else if (top > 0) key = "step.busiest";
  else if (!matrix.exact) key = "step.excerpt";
  const params = { rows, cols, a: top, b: top + rows - 1 };
  return { top, rows, cols, caption: t(key, params) };
}

/** A window of an array as rounded numbers; rows and columns named (images, classes) where they can be. */
export function numbersTable(matrix, context) {
  const { top, rows, cols, caption } = windowOf(matrix);
  const figure = element("figure", "step-table");
  const table = element("table", "step-numbers");
  table.dataset.array = matrix.name;
  table.dataset.top = String(top);
  const classes = ["y_hat", "t", "dy", `a${context.layers}`].includes(matrix.name);
  const images = BATCH_ROWS.test(matrix.name) && matrix.shape.length === 2;
  const head = element("tr");
  head.append(element("th"));
  for (let c = 0; c < cols; c++) {
    head.append(element("th", "", classes ? (context.classNames[c] ?? String(c)) : String(c)));
  }
  table.append(head);
  for (let r = top; r < top + rows; r++) {
    const line = element("tr");
    const label = images ? `${r}: ${context.classNames[context.labels[r]] ?? ""}` : String(r);
    line.append(element("th", "", matrix.shape.length === 1 ? "" : label));
    for (let c = 0; c < cols; c++) {
      const cell = element("td", "", rounded(matrix.value(r, c)));
      if (classes && images && context.labels[r] === c) cell.dataset.true = "true";
      line.append(cell);
    }
    table.append(line);
  }
  const wrap = element("div", "table-wrap");
  wrap.append(table);
  figure.append(element("figcaption", "hint", caption), wrap);
  return figure;
}

/** Each image's part of the loss: −log of the probability given to its right class; then their mean. */
export function lossTable(probabilities, loss, context) {
  const box = element("section", "step-surprise");
  box.append(element("h3", "", t("step.surprise")));
  const table = element("table", "step-numbers");
  const head = element("tr");
  for (const key of ["step.col.image", "step.col.right", "step.col.p", "step.col.log"]) {
    head.append(element("th", "", t(key)));
  }
  table.append(head);
  context.labels.forEach((label, r) => {
    const p = probabilities.value(r, label);
    const line = element("tr");
    line.append(
      element("td", "", String(r)),
      element("td", "", context.classNames[label] ?? String(label)),
      element("td", "", percent(p, 2)),
      element("td", "", measure(-Math.log(p))),
    );
    table.append(line);
  });
  const mean = t("step.lossValue", { loss: measure(loss), n: integer(context.labels.length) });
  box.append(table, element("p", "hint", mean));
  return box;
}

/** X's rows as the images they are, each with its label and where it came from. */
export function batchImages(matrix, context) {
  const box = element("section", "step-rows");
  box.append(element("h3", "", t("step.rows")));
  const list = element("ol", "gallery");
  for (let r = 0; r < matrix.rows; r++) {
    const drawn = context.indices[r] == null;
    const item = element("li", "example");
    item.dataset.row = String(r);
    item.dataset.source = drawn ? "drawing" : "train";
    const image = imageCanvas(context.imageShape);
    drawDigit(image, matrix.row(r), 0, true);
    const label = context.classNames[context.labels[r]] ?? context.labels[r];
    const index = drawn ? "" : integer(context.indices[r]);
    image.setAttribute("role", "img");
    image.setAttribute("aria-label", t(drawn ? "step.rowDrawn" : "step.rowLabel", { i: r, label, index }));
    const caption = element("span", "step-batch-caption");
    caption.append(element("strong", "", `${r}: ${label}`), element("span", "", drawn ? t("step.drawn") : `#${index}`));
    item.append(image, caption);
    list.append(item);
  }
  box.append(list);
  if (!matrix.exact) box.append(element("p", "hint", t("step.rowsUnknown")));
  return box;
}
