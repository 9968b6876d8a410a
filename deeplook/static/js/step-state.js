// What the Step by step tab shows: one run's network at one epoch, traced on one batch, at one
// stage. The tab's controller (step.js) sets it; the views read it and re-render on its events:
//   batch    the batch changed (training images picked, drawings added or removed)
//   loading  a trace was asked for, or its answer arrived (`loading`)
//   trace    a new trace arrived: `trace`, its `stages`, its arrays through `matrix(name)`
//   stage    another stage is shown: `stage` (`index` in `stages`)
//   problem  `problem` changed: {key, params} or {error}, or null

import { Matrix } from "./matrix.js";
import { stagesOf } from "./step-stages.js";

export const FIRST_FIVE = [0, 1, 2, 3, 4]; // the notebook's batch: its first five training digits
export const MAX_EXAMPLES = 100; // the API's bound on a traced batch

export class StepState extends EventTarget {
  constructor() {
    super();
    this.info = null;
    this.run = null; // the summary of the run traced
    this.epoch = 0;
    this.steps = 5; // the notebook trains its batch five times
    this.lr = null; // null: the run's
    this.indices = [...FIRST_FIVE]; // training images in the batch, in order
    this.drawings = []; // [{id, image (a PNG data URL), label}], after the training images
    this.trace = null; // the API's TraceOut
    this.body = null; // the request it answered (the gradient check asks about the same batch)
    this.stages = [];
    this.index = 0;
    this.wanted = null; // a stage named by the address before the trace that has it arrived
    this.renderedTrace = null; // the trace the stage shown belongs to
    this.loading = false;
    this.problem = null;
    this.matrices = new Map();
  }

  emit(type) {
    this.dispatchEvent(new Event(type));
  }

  get stage() {
    return this.stages[this.index] ?? null;
  }

  get size() {
    return this.indices.length + this.drawings.length;
  }

  /** What the trace is asked about: the epoch and the batch (the gradient check takes the same). */
  batchBody() {
    const body = { epoch: this.epoch };
    if (this.indices.length) body.indices = [...this.indices];
    if (this.drawings.length) body.images = this.drawings.map(({ image, label }) => ({ image, label }));
    return body;
  }

  /** One array of the trace, decoded once (`prediction <i>`: y_hat after step i). */
  matrix(name) {
    if (!this.trace) return null;
    if (!this.matrices.has(name)) {
      const traced = this.trace.arrays.find((each) => each.name === name);
      const step = name.startsWith("prediction ") ? Number(name.slice(11)) : null;
      const out = traced?.array ?? (step == null ? null : this.trace.predictions[step]);
      this.matrices.set(name, out ? new Matrix(name, out) : null);
    }
    return this.matrices.get(name);
  }

  setBatch(indices, drawings) {
    this.indices = indices;
    this.drawings = drawings;
    this.emit("batch");
  }

  setLoading(loading) {
    this.loading = loading;
    this.emit("loading");
  }

  setTrace(trace, body) {
    const id = this.wanted ?? this.stage?.id ?? null;
    this.trace = trace;
    this.body = body;
    this.matrices = new Map();
    this.stages = stagesOf(trace);
    this.problem = null;
    this.emit("problem");
    this.emit("trace");
    this.show(id);
  }

  clearTrace() {
    this.trace = null;
    this.stages = [];
    this.matrices = new Map();
    this.emit("trace");
  }

  /** Show the stage called `id` (the first when there is none such); held until a trace has it. */
  show(id) {
    if (!this.stages.length) {
      this.wanted = id;
      return;
    }
    const index = this.stages.findIndex((stage) => stage.id === id);
    this.wanted = null;
    this.go(index < 0 ? 0 : index);
  }

  go(index) {
    const next = Math.min(Math.max(index, 0), this.stages.length - 1);
    if (next === this.index && this.renderedTrace === this.trace) return;
    this.index = next;
    this.renderedTrace = this.trace;
    this.emit("stage");
  }

  fail(problem) {
    this.problem = problem;
    this.emit("problem");
  }
}
