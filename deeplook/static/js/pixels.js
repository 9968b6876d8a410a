// Small images from the API's base64 arrays: float16 weights on a diverging colour scale (blue
// negative, white zero, red positive) and uint8 test images, drawn 1:1 on canvases of the dataset's
// image shape that CSS scales up crisply (image-rendering: pixelated).

import { element } from "./dom.js";
const NEGATIVE = [33, 102, 172]; // blue
const POSITIVE = [178, 24, 43]; // red
// |w| / scale is raised to this power: the largest weights set the scale, and without it the
// middling ones that draw the strokes would be barely tinted
const GAMMA = 0.6;

export function bytesOf(base64) {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

let halves = null; // float16 bit pattern -> value, built on first use

function halfTable() {
  if (halves) return halves;
  halves = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    if (exponent === 0) halves[h] = sign * fraction * 2 ** -24;
    else if (exponent === 31) halves[h] = fraction ? NaN : sign * Infinity;
    else halves[h] = sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  return halves;
}

/** Little-endian float16 values in base64 as a Float32Array. */
export function float16s(base64) {
  const bytes = bytesOf(base64);
  const table = halfTable();
  const values = new Float32Array(bytes.length >> 1);
  for (let i = 0; i < values.length; i++) values[i] = table[bytes[2 * i] | (bytes[2 * i + 1] << 8)];
  return values;
}

/** A weight in [-scale, scale] as [r, g, b]: white at zero, deeper blue or red further out. */
export function diverging(value, scale) {
  const t = scale > 0 ? Math.max(-1, Math.min(1, value / scale)) : 0;
  const target = t < 0 ? NEGATIVE : POSITIVE;
  const a = Math.abs(t) ** GAMMA;
  return [255 + (target[0] - 255) * a, 255 + (target[1] - 255) * a, 255 + (target[2] - 255) * a];
}

export function canvas(className, width, height) {
  const node = element("canvas", className);
  node.width = width;
  node.height = height;
  return node;
}

/** A canvas one image of `shape` ([rows, columns], as info.datasets gives it) big. */
export function imageCanvas(shape, className = "tile") {
  return canvas(className, shape[1], shape[0]);
}

/** Size a canvas to `shape` (clearing it only when the size changes). */
export function fitCanvas(target, shape) {
  if (target.width !== shape[1]) target.width = shape[1];
  if (target.height !== shape[0]) target.height = shape[0];
}

/** One unit's weights, an image as big as the canvas from `offset` in `values`. */
export function drawWeights(target, values, offset, scale) {
  const context = target.getContext("2d");
  const image = context.createImageData(target.width, target.height);
  for (let i = 0; i < target.width * target.height; i++) {
    const [r, g, b] = diverging(values[offset + i], scale);
    image.data[4 * i] = r;
    image.data[4 * i + 1] = g;
    image.data[4 * i + 2] = b;
    image.data[4 * i + 3] = 255;
  }
  context.putImageData(image, 0, 0);
}

/**
 * A grey image as big as the canvas (values 0..255, or 0..1 with `unit`; none: blank), light ink on
 * dark like the Draw tab shows it.
 */
export function drawDigit(target, values, offset = 0, unit = false) {
  const context = target.getContext("2d");
  const image = context.createImageData(target.width, target.height);
  for (let i = 0; i < target.width * target.height; i++) {
    const raw = values ? values[offset + i] : 0;
    const v = unit ? Math.round(Math.min(Math.max(raw, 0), 1) * 255) : raw;
    image.data[4 * i] = v;
    image.data[4 * i + 1] = v;
    image.data[4 * i + 2] = v;
    image.data[4 * i + 3] = 255;
  }
  context.putImageData(image, 0, 0);
}
