// A scatter plot of many points on one canvas (thousands redraw in a frame): points coloured by
// class, the classes' names at their centres, one class picked out, a picked point ringed and a
// marked point (the learner's drawing) as a star. Square, centred on 0, scaled to `extent`; follows
// its box and the screen's pixel ratio. The class colours are the stylesheet's --class-0.. --class-9
// (a colour-blind-safe set, lighter in the dark scheme).

const PAD = 14; // CSS px between the outermost points and the edge
const RADIUS = 2.3;
const FADED = 0.1; // alpha of the classes not picked out

/** The colours of `count` classes from the stylesheet (they repeat beyond ten). */
export function classColors(count) {
  const style = getComputedStyle(document.documentElement);
  return Array.from({ length: count }, (_, i) => style.getPropertyValue(`--class-${i % 10}`).trim());
}

export class Scatter {
  constructor(canvas) {
    this.canvas = canvas;
    this.context = canvas.getContext("2d");
    this.size = 0; // CSS px of the square
    this.extent = 1; // data units from the centre to the edge of the plot (less the padding)
    this.fit();
  }

  /** Match the canvas to its box; true if it changed. */
  fit() {
    const size = Math.floor(this.canvas.clientWidth);
    const ratio = Math.min(window.devicePixelRatio || 1, 2);
    if (size === this.size && this.canvas.width === Math.round(size * ratio)) return false;
    this.size = size;
    this.canvas.width = Math.round(size * ratio);
    this.canvas.height = Math.round(size * ratio);
    this.context.setTransform(ratio, 0, 0, ratio, 0, 0);
    return true;
  }

  /** Where a data point lands, in CSS px from the canvas's top left (kept inside the plot). */
  toPixel(x, y) {
    const half = this.size / 2;
    const scale = (half - PAD) / this.extent;
    const clamp = (v) => Math.max(PAD / 2, Math.min(this.size - PAD / 2, v));
    return [clamp(half + x * scale), clamp(half - y * scale)];
  }

  /** The index of the point nearest to (px, py) within `reach` CSS px, or -1. */
  nearest(xs, ys, px, py, reach = 8) {
    let best = -1;
    let bestDistance = reach * reach;
    for (let i = 0; i < xs.length; i++) {
      const [x, y] = this.toPixel(xs[i], ys[i]);
      const distance = (x - px) ** 2 + (y - py) ** 2;
      if (distance <= bestDistance) {
        best = i;
        bestDistance = distance;
      }
    }
    return best;
  }

  /**
   * Draw `xs`, `ys` (coloured by `labels` with `colors`); `names` at the classes' centres;
   * `highlight` a class to pick out (or null); `picked` a point to ring (or -1); `mark` {x, y} (or
   * null); `ink` {grid, text, background}: the scheme's colours.
   */
  draw({ xs, ys, labels, colors, names, highlight = null, picked = -1, mark = null, ink }) {
    const { grid, text, background } = ink;
    const c = this.context;
    const size = this.size;
    c.clearRect(0, 0, size, size);
    if (!size) return;
    c.strokeStyle = grid;
    c.lineWidth = 1;
    c.beginPath();
    c.moveTo(size / 2 + 0.5, 0);
    c.lineTo(size / 2 + 0.5, size);
    c.moveTo(0, size / 2 + 0.5);
    c.lineTo(size, size / 2 + 0.5);
    c.stroke();
    if (!xs) return;
    const order = highlight == null ? [null] : ["faded", "picked"];
    for (const pass of order) {
      for (let i = 0; i < xs.length; i++) {
        const label = labels[i];
        if (pass === "faded" && label === highlight) continue;
        if (pass === "picked" && label !== highlight) continue;
        c.globalAlpha = pass === "faded" ? FADED : 0.78;
        c.fillStyle = colors[label];
        const [x, y] = this.toPixel(xs[i], ys[i]);
        c.beginPath();
        c.arc(x, y, RADIUS, 0, Math.PI * 2);
        c.fill();
      }
    }
    c.globalAlpha = 1;
    this.drawNames(xs, ys, labels, colors, names, highlight, ink);
    if (picked >= 0) this.ring(xs[picked], ys[picked], text);
    if (mark) this.star(mark.x, mark.y, ink);
  }

  /** Each class's name at the median of its points, on a halo so it reads over them. */
  drawNames(xs, ys, labels, colors, names, highlight, { text, background }) {
    const c = this.context;
    c.font = "600 13px system-ui, sans-serif";
    c.textAlign = "center";
    c.textBaseline = "middle";
    c.lineJoin = "round";
    names.forEach((name, label) => {
      if (highlight != null && label !== highlight) return;
      const px = [];
      const py = [];
      for (let i = 0; i < xs.length; i++) {
        if (labels[i] === label) {
          px.push(xs[i]);
          py.push(ys[i]);
        }
      }
      if (!px.length) return;
      const [x, y] = this.toPixel(median(px), median(py));
      c.lineWidth = 4;
      c.strokeStyle = background;
      c.strokeText(name, x, y);
      c.fillStyle = text;
      c.fillText(name, x, y);
      const width = c.measureText(name).width;
      c.fillStyle = colors[label];
      c.fillRect(x - width / 2, y + 8, width, 2);
    });
  }

  ring(x, y, color) {
    const c = this.context;
    const [px, py] = this.toPixel(x, y);
    c.strokeStyle = color;
    c.lineWidth = 2;
    c.beginPath();
    c.arc(px, py, 7, 0, Math.PI * 2);
    c.stroke();
  }

  star(x, y, { text, background }) {
    const c = this.context;
    const [px, py] = this.toPixel(x, y);
    c.beginPath();
    for (let k = 0; k < 10; k++) {
      const r = k % 2 ? 4.5 : 11;
      const angle = -Math.PI / 2 + (k * Math.PI) / 5;
      c.lineTo(px + r * Math.cos(angle), py + r * Math.sin(angle));
    }
    c.closePath();
    c.fillStyle = text;
    c.strokeStyle = background;
    c.lineWidth = 2;
    c.fill();
    c.stroke();
  }
}

function median(values) {
  const sorted = Float64Array.from(values).sort();
  return sorted[sorted.length >> 1];
}

/** Half the side of a square centred on 0 holding nearly every point (a few far ones sit on the edge). */
export function extentOf(xs, ys) {
  const far = Float64Array.from(xs, (x, i) => Math.max(Math.abs(x), Math.abs(ys[i]))).sort();
  return Math.max(far[Math.floor((far.length - 1) * 0.995)] ?? 1, 1e-6) * 1.05;
}
