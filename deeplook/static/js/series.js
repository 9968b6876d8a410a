// Step curves in the browser: growable columns, an exponential moving average, and min/max
// downsampling that keeps spikes visible and costs only the new points on each frame.

const FIRST_CAPACITY = 1024;

/**
 * Runs up to this many steps are fetched whole when the server sent them downsampled (about 35
 * bytes a step), so the moving average is of every step rather than of each bucket's extremes.
 */
export const FULL_HISTORY_STEPS = 250_000;

let versions = 0; // every series' versions are distinct, so a cache keyed by one never matches another

function grow(array, capacity) {
  const bigger = new Float64Array(capacity);
  bigger.set(array.subarray(0, Math.min(array.length, capacity)));
  return bigger;
}

/** One run's step metrics as columns; steps arrive in order and repeats are ignored. */
export class StepSeries {
  constructor() {
    this.reset();
  }

  /** Empty, or filled from the API's columns {step, epoch, loss, accuracy}. */
  reset(columns = null) {
    const n = columns ? columns.step.length : 0;
    const capacity = Math.max(FIRST_CAPACITY, 2 ** Math.ceil(Math.log2(n + 1)));
    this.step = new Float64Array(capacity);
    this.epoch = new Float64Array(capacity);
    this.loss = new Float64Array(capacity);
    this.length = 0;
    this.version = ++versions; // changes whenever held points change other than by appending
    if (columns) this.append(columns);
  }

  get lastStep() {
    return this.length ? this.step[this.length - 1] : 0;
  }

  /** Append the steps newer than the last one held; returns how many were added. */
  append(columns) {
    const { step, epoch, loss } = columns;
    let added = 0;
    for (let i = 0; i < step.length; i++) {
      if (step[i] <= this.lastStep) continue; // already held (the stream repeats the snapshot)
      if (this.length === this.step.length) {
        const capacity = this.step.length * 2;
        this.step = grow(this.step, capacity);
        this.epoch = grow(this.epoch, capacity);
        this.loss = grow(this.loss, capacity);
      }
      this.step[this.length] = step[i];
      this.epoch[this.length] = epoch[i];
      this.loss[this.length] = loss[i] ?? Number.NaN; // JSON null: a non-finite loss
      this.length += 1;
      added += 1;
    }
    return added;
  }

  /** Forget the steps after `lastStep` (a run resumed from an earlier checkpoint). */
  truncate(lastStep) {
    let n = this.length;
    while (n > 0 && this.step[n - 1] > lastStep) n -= 1;
    if (n !== this.length) {
      this.length = n;
      this.version = ++versions;
    }
  }
}

/**
 * Exponential moving average of `values` into `out`, from index `from` on, continuing `state`.
 * Per point, like TensorBoard's, and debiased so the first points are not pulled towards zero; over
 * a min/max-downsampled history it follows the middle of the band.
 */
export function smooth(values, out, from, to, smoothing, state) {
  const s = Math.min(Math.max(smoothing, 0), 0.999);
  let { num, den } = state;
  for (let i = from; i < to; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      out[i] = Number.NaN;
      continue;
    }
    num = num * s + (1 - s) * v;
    den = den * s + (1 - s);
    out[i] = num / den;
  }
  state.num = num;
  state.den = den;
}

export function newSmoothState() {
  return { num: 0, den: 0 };
}

/** The moving average of one StepSeries' losses, kept current: each call averages only the new steps. */
export class RunningAverage {
  constructor(smoothing) {
    this.smoothing = smoothing;
    this.version = -1;
    this.done = 0;
    this.values = new Float64Array(0);
    this.state = newSmoothState();
  }

  of(series) {
    if (series.version !== this.version) {
      this.version = series.version;
      this.done = 0;
      this.state = newSmoothState();
    }
    if (this.values.length < series.length) {
      const bigger = new Float64Array(series.step.length);
      bigger.set(this.values.subarray(0, this.done));
      this.values = bigger;
    }
    smooth(series.loss, this.values, this.done, series.length, this.smoothing, this.state);
    this.done = series.length;
    return this.values;
  }
}

/**
 * Indices to draw: all points when there are at most 2 × buckets, else the first and the last
 * point and each bucket's minimum and maximum of `values`, in order. Buckets have a power-of-two size, so finished buckets are cached
 * and each call only looks at the points added since the previous one.
 */
export class MinMaxIndex {
  constructor() {
    this.clear();
  }

  clear() {
    this.size = 0;
    this.done = 0; // finished buckets in `kept`
    this.kept = [];
    this.version = -1;
  }

  indices(values, n, buckets, version) {
    if (n <= 2 * buckets) {
      const all = new Array(n);
      for (let i = 0; i < n; i++) all[i] = i;
      return all;
    }
    const size = 2 ** Math.ceil(Math.log2(n / buckets));
    if (size !== this.size || version !== this.version) {
      this.clear();
      this.size = size;
      this.version = version;
    }
    const full = Math.floor(n / size);
    for (let b = this.done; b < full; b++) pushMinMax(values, b * size, (b + 1) * size, this.kept);
    this.done = full;
    const result = this.kept.slice();
    if (full * size < n) pushMinMax(values, full * size, n, result);
    // the curve starts at the first point and ends at the newest one, whatever the buckets kept
    if (result[0] !== 0) result.unshift(0);
    if (result[result.length - 1] !== n - 1) result.push(n - 1);
    return result;
  }
}

function pushMinMax(values, start, stop, into) {
  let low = -1;
  let high = -1;
  for (let i = start; i < stop; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (low < 0 || v < values[low]) low = i;
    if (high < 0 || v > values[high]) high = i;
  }
  if (low < 0) {
    into.push(start); // a bucket of nothing finite: keep one point so the gap shows
  } else if (low === high) {
    into.push(low);
  } else {
    into.push(Math.min(low, high), Math.max(low, high));
  }
}

/** Column `values` at `indices`, with non-finite values as null (a gap in uPlot). */
export function pick(values, indices, positiveOnly = false) {
  const out = new Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const v = values[indices[k]];
    out[k] = Number.isFinite(v) && (!positiveOnly || v > 0) ? v : null;
  }
  return out;
}
