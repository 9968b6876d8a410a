// One array of a step-by-step trace as the API sends it (ArrayOut), read as rows x columns (a vector
// is one row, a scalar one cell): its exact values when they came (small arrays whole; large ones
// when `full` was asked for), else the server's heat map of block means and its exact top-left corner.

import { bytesOf } from "./pixels.js";

/** Little-endian float32 values in base64 as a Float32Array. */
function float32s(base64) {
  const bytes = bytesOf(base64);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2);
}

export class Matrix {
  constructor(name, out) {
    this.name = name;
    this.shape = out.shape;
    const [first = 1, ...rest] = out.shape;
    this.rows = out.shape.length < 2 ? 1 : first;
    this.cols = out.shape.length < 2 ? (out.shape[0] ?? 1) : rest.reduce((a, b) => a * b, 1);
    this.min = out.min;
    this.max = out.max;
    this.values = out.values ? Float64Array.from(out.values) : out.base64 ? float32s(out.base64) : null;
    this.excerpt = out.excerpt ?? null;
    this.image = out.image ? bytesOf(out.image) : null;
    this.imageShape = out.image_shape ?? null;
  }

  /** Every value is known exactly (else only the corner, and block means). */
  get exact() {
    return this.values != null;
  }

  /** The largest |value|: the colour scale is symmetric around 0. */
  get scale() {
    return Math.max(Math.abs(this.min), Math.abs(this.max));
  }

  /** The value at (row, col), or null when only its block's mean is known. */
  value(row, col) {
    if (this.values) return this.values[row * this.cols + col];
    const line = this.excerpt?.[row];
    return line && col < line.length ? line[col] : null;
  }

  /** The rows and columns of the heat map cell holding (row, col) and its mean (large, inexact arrays). */
  block(row, col) {
    const [height, width] = this.imageShape;
    const fy = Math.ceil(this.rows / height);
    const fx = Math.ceil(this.cols / width);
    const by = Math.min(Math.floor(row / fy), height - 1);
    const bx = Math.min(Math.floor(col / fx), width - 1);
    const level = this.image[by * width + bx] / 255;
    return {
      rows: [by * fy, Math.min((by + 1) * fy, this.rows) - 1],
      cols: [bx * fx, Math.min((bx + 1) * fx, this.cols) - 1],
      mean: this.min + level * (this.max - this.min),
    };
  }

  /** What the heat map is drawn from: [width, height] and the value of each of its cells, row-major. */
  cells() {
    if (this.values) return { width: this.cols, height: this.rows, at: (i) => this.values[i] };
    const [height, width] = this.imageShape;
    const span = this.max - this.min;
    return { width, height, at: (i) => this.min + (this.image[i] / 255) * span };
  }

  /** One row's values (exact arrays only). */
  row(row) {
    return this.values ? this.values.subarray(row * this.cols, (row + 1) * this.cols) : null;
  }

  /** The Euclidean norm (exact arrays only). */
  norm() {
    if (!this.values) return null;
    let sum = 0;
    for (const v of this.values) sum += v * v;
    return Math.sqrt(sum);
  }
}

/** A value as exactly as float32 holds it: nine significant digits, without trailing zeros. */
export function exactText(value) {
  if (value == null || !Number.isFinite(value)) return String(value);
  return String(Number(value.toPrecision(9)));
}

/** A shape as NumPy prints it: (5, 784), (50,) or (). */
export function shapeText(shape) {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}
