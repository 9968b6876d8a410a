// uPlot charts that follow their box, the colour scheme and the language, and redraw at most once
// per animation frame however often their data changes.

import uPlot from "../vendor/uplot-1.6.32/uPlot.esm.js";
import { element } from "./dom.js";
import { onLangChange, t } from "./i18n.js";
import { integer, measure, percent } from "./format.js";

const dark = window.matchMedia("(prefers-color-scheme: dark)");

/** The chart colours of the current scheme, from the CSS custom properties. */
export function palette() {
  const style = getComputedStyle(document.documentElement);
  const color = (name) => style.getPropertyValue(`--${name}`).trim();
  return {
    text: color("muted"),
    grid: color("grid"),
    train: color("train"),
    test: color("test-curve") || color("test"), // not a warning colour (app.css, learner)
    raw: color("raw"),
    smooth: color("smooth"),
    runs: [color("run-a"), color("run-b"), color("run-c"), color("run-d")],
    marker: color("marker"),
    font: `12px ${style.getPropertyValue("font-family") || "system-ui"}`,
  };
}

/**
 * One chart in `host`. `options(colors)` returns uPlot options without size; `data(width)` returns
 * {columns, points} (points: how many the chart holds, shown as data-points) or null when empty;
 * `emptyKey` (a string key, or a function returning one) says what shows while it is empty.
 */
export class Plot {
  constructor(host, { options, data, emptyKey = "chart.empty", summary = null }) {
    this.host = host;
    this.options = options;
    this.data = data;
    this.emptyKey = emptyKey;
    this.summary = summary; // () => a sentence saying what the chart shows, for screen readers
    this.said = element("p", "visually-hidden plot-summary");
    this.said.dataset.summary = "";
    host.append(this.said);
    this.chart = null;
    this.frame = 0;
    host.classList.add("plot");
    this.empty = element("p", "plot-empty");
    host.append(this.empty);
    new ResizeObserver(() => this.resize()).observe(host);
    dark.addEventListener("change", () => this.rebuild());
    onLangChange(() => this.rebuild());
  }

  /** Redraw on the next animation frame (once, however many times this is called before). */
  invalidate() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  rebuild() {
    this.chart?.destroy();
    this.chart = null;
    this.invalidate();
  }

  size() {
    const width = Math.floor(this.host.clientWidth);
    const legend = this.chart?.root.querySelector(".u-legend");
    const height = Math.floor(this.host.clientHeight - (legend ? legend.offsetHeight : 24));
    return { width, height: Math.max(height, 60) };
  }

  resize() {
    if (!this.chart) {
      this.invalidate();
      return;
    }
    if (this.fit()) this.invalidate(); // the number of buckets follows the width
  }

  /** Size the plot to its box less the legend (which wraps on narrow screens); true if it changed. */
  fit() {
    const { width, height } = this.size();
    if (width === 0 || (width === this.chart.width && height === this.chart.height)) return false;
    this.chart.setSize({ width, height });
    return true;
  }

  draw() {
    const width = this.host.clientWidth;
    if (width === 0) return; // hidden: drawn when its tab opens (the resize observer fires)
    const result = this.data(width);
    const columns = result?.columns ?? null;
    const points = result?.points ?? 0;
    this.host.dataset.points = String(points);
    this.empty.textContent = t(typeof this.emptyKey === "function" ? this.emptyKey() : this.emptyKey);
    this.empty.hidden = points > 0;
    this.host.dataset.empty = String(points === 0); // an empty chart shows no axes (app.css)
    this.said.textContent = points > 0 ? (this.summary?.() ?? "") : t("summary.none");
    const shown = columns ?? this.blank();
    if (!this.chart) {
      const options = this.options(palette());
      const hooks = { ...options.hooks, setLegend: [...(options.hooks?.setLegend ?? []), (chart) => this.showLatest(chart)] };
      this.chart = new uPlot({ ...options, hooks, ...this.size() }, shown, this.host);
      this.chart.root.setAttribute("aria-hidden", "true"); // the summary speaks for the canvas
      // the axis titles uPlot paints on the canvas, readable by tests and tools
      this.host.dataset.axisTitles = (options.axes ?? []).map((axis) => axis.label ?? "").join("|");
    } else {
      this.chart.setData(shown);
    }
    this.showLatest(this.chart);
    this.fit(); // the legend's values may have made it wrap
  }

  /** Away from the cursor, the legend shows each series' newest value rather than dashes. */
  showLatest(chart) {
    const hovering = chart.cursor.left != null && chart.cursor.left >= 0;
    if (hovering || chart.data[0].length === 0) return;
    const idxs = chart.data.map((column) => {
      let i = column.length - 1;
      while (i > 0 && column[i] == null) i -= 1;
      return i;
    });
    if (idxs.some((idx, series) => chart.legend.idxs?.[series] !== idx)) chart.setLegend({ idxs }, false);
  }

  blank() {
    const series = this.options(palette()).series.length;
    return Array.from({ length: series }, () => []);
  }
}

/** A whole number as such, anything else to four significant digits. */
function number(value) {
  return Number.isInteger(value) ? integer(value) : measure(value);
}

/** Axes in the scheme's colours; `y` formats the values of the vertical axis. */
export function axes(colors, y = measure, { xTitle = null, yTitle = null } = {}) {
  const common = {
    stroke: colors.text,
    font: colors.font,
    labelFont: colors.font,
    grid: { stroke: colors.grid, width: 1 },
    ticks: { stroke: colors.grid, width: 1, size: 4 },
  };
  const title = (label) => (label ? { label, labelSize: 16, labelGap: 2 } : {});
  return [
    { ...common, size: 30, values: (u, splits) => splits.map(number), ...title(xTitle) },
    {
      ...common,
      size: 56,
      space: 26,
      values: (u, splits) => splits.map((v) => (v == null ? "" : y(v))),
      ...title(yTitle),
    },
  ];
}

export function line(label, stroke, extra = {}) {
  // uPlot marks the points itself when they are few and far apart (a run that diverged at once)
  return { label, stroke, width: 2, spanGaps: true, value: (u, v) => measure(v), ...extra };
}

export function epochLine(label, stroke, format = measure) {
  return line(label, stroke, { points: { show: true, size: 6, fill: stroke }, value: (u, v) => format(v) });
}

/** Tick steps for whole numbers (steps, epochs): 1, 2, 5, 10, 20, 50, ... */
const WHOLE = Array.from({ length: 27 }, (_, i) => [1, 2, 5][i % 3] * 10 ** Math.floor(i / 3));

/** A share's vertical range: from 0, up to a little above the largest value (at least 5%, at most 100%). */
function shareRange(u, min, max) {
  return [0, Math.min(1, Math.max(0.05, (max ?? 0) * 1.15))];
}

/**
 * Options shared by every chart: `log` puts the vertical axis on a log scale; `share` keeps it on
 * 0..1 from zero (all zeros is a flat line at the bottom, not an axis up to 10,000%); `wholeX` keeps
 * the horizontal ticks on whole numbers and its range at least 1..2 (one epoch still makes a chart);
 * `yTop()`, when given, is a value the vertical axis reaches at least (from 0), so that two charts
 * side by side can share one scale.
 */
export function baseOptions(
  colors,
  series,
  { xLabel, yLabel = null, yFormat = measure, log = false, share = false, wholeX = false, yTop = null, ySpace = 26 },
) {
  // every axis says what it counts (the x axis by its series' name), the y axis its unit when given
  const [x, yAxis] = axes(colors, yFormat, { xTitle: xLabel, yTitle: yLabel });
  const y = { ...yAxis, space: ySpace };
  const top = (max) => Math.max(max ?? 0, yTop?.() ?? 0);
  let yScale = { auto: true };
  if (log) yScale = { distr: 3, log: 10 };
  else if (share) yScale = { range: (u, min, max) => shareRange(u, min, top(max)) };
  else if (yTop) yScale = { range: (u, min, max) => [Math.min(0, min ?? 0), top(max) * 1.1 || 1] };
  return {
    series: [{ label: xLabel, value: (u, v) => (v == null ? "–" : number(v)) }, ...series],
    axes: [wholeX ? { ...x, incrs: WHOLE } : x, y],
    scales: {
      x: { time: false, ...(wholeX ? { range: (u, min, max) => [Math.min(min, 1), Math.max(max, 2)] } : {}) },
      y: yScale,
    },
    cursor: { points: { size: 6 }, drag: { x: true, y: false } },
    legend: { live: true },
  };
}

/**
 * uPlot hooks that paint at each of `items()` ([{x, ...}] in x order) within the plot's x range:
 * `begin(ctx, ratio, font)` sets the canvas up once a draw and returns `paint(item, px, bbox)`.
 */
function xHooks(items, begin) {
  const draw = (u) => {
    const list = items();
    if (!list.length) return;
    const { ctx, bbox } = u;
    const { min, max } = u.scales.x;
    ctx.save();
    const font = getComputedStyle(u.root).fontFamily || "system-ui";
    const paint = begin(ctx, window.devicePixelRatio || 1, font);
    for (const item of list) {
      if (item.x >= min && item.x <= max) paint(item, Math.round(u.valToPos(item.x, "x", true)) + 0.5, bbox);
    }
    ctx.restore();
  };
  return { draw: [draw] };
}

/** A vertical line across the plot at canvas x `px`. */
function verticalLine(ctx, px, bbox) {
  ctx.beginPath();
  ctx.moveTo(px, bbox.top);
  ctx.lineTo(px, bbox.top + bbox.height);
  ctx.stroke();
}

/**
 * uPlot hooks drawing vertical marker lines across the plot, each labelled at its top (a label that
 * would overlap the previous one goes a row lower): `markers()` returns [{x, label}] in x order.
 */
export function markerHooks(markers, color) {
  return xHooks(markers, (ctx, ratio, font) => {
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = Math.max(1, ratio);
    ctx.font = `600 ${11 * ratio}px ${font}`;
    ctx.textBaseline = "top";
    const rowHeight = 14 * ratio;
    const pad = 4 * ratio;
    const ends = []; // per label row, where its last label ends
    return ({ label }, px, bbox) => {
      ctx.setLineDash([5 * ratio, 4 * ratio]);
      verticalLine(ctx, px, bbox);
      const width = ctx.measureText(label).width;
      const left = px + pad + width > bbox.left + bbox.width ? px - pad - width : px + pad;
      let row = ends.findIndex((end) => end < left);
      if (row < 0) row = ends.length;
      ends[row] = left + width + pad;
      ctx.setLineDash([]);
      ctx.fillText(label, left, bbox.top + pad + row * rowHeight);
    };
  });
}

/** uPlot.join of [xs, ys] tables, where a table without points still makes a (blank) series. */
export function joinTables(tables) {
  const filled = tables.filter(([xs]) => xs.length > 0);
  if (filled.length === tables.length) return uPlot.join(tables);
  const joined = filled.length ? uPlot.join(filled) : [[]];
  const columns = [joined[0]];
  let next = 1;
  for (const [xs] of tables) columns.push(xs.length ? joined[next++] : joined[0].map(() => null));
  return columns;
}

/** Log-axis ticks: 0.5, 1, 10 as such; 0.001 and below, 1000 and above as 1e-3, 1e3. */
function logTick(value) {
  return value >= 0.01 && value < 1000 ? measure(value) : value.toExponential(0).replace("e+", "e");
}

export const formats = { percent: (v) => percent(v, 1), measure, log: logTick };

/**
 * uPlot hooks drawing faint vertical lines where epochs begin (or at any x), with a small label at
 * the bottom of the plot when there is room: `lines()` returns [{x, label, strong}] in x order; a
 * `strong` line (the epoch chosen on a slider) is drawn solid in `strongColor`.
 */
export function boundaryHooks(lines, color, strongColor = color) {
  return xHooks(lines, (ctx, ratio, font) => {
    ctx.font = `${10 * ratio}px ${font}`;
    ctx.textBaseline = "bottom";
    let lastLabel = -Infinity;
    return ({ label, strong }, px, bbox) => {
      ctx.strokeStyle = strong ? strongColor : color;
      ctx.fillStyle = strong ? strongColor : color;
      ctx.globalAlpha = strong ? 0.9 : 0.55;
      ctx.lineWidth = (strong ? 2 : 1) * ratio;
      verticalLine(ctx, px, bbox);
      const width = ctx.measureText(label ?? "").width;
      if (label && (strong || px - lastLabel > width + 8 * ratio)) {
        ctx.globalAlpha = 1;
        const left = px + 3 * ratio + width > bbox.left + bbox.width ? px - 3 * ratio - width : px + 3 * ratio;
        ctx.fillText(label, left, bbox.top + bbox.height - 2 * ratio);
        lastLabel = px;
      }
    };
  });
}

/** Hooks of several kinds merged: {draw: [...], ...}. */
export function mergeHooks(...parts) {
  const merged = {};
  for (const part of parts) {
    for (const [name, list] of Object.entries(part ?? {})) merged[name] = [...(merged[name] ?? []), ...list];
  }
  return merged;
}
