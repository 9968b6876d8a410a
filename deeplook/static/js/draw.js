// The drawing pad: dark ink on white with pointer events (mouse, touch and pen), strokes about as
// thick relative to the box as MNIST's, cleared with a button or the C key.

const SIZE = 280; // drawing units: the pad's coordinates whatever its size on screen
const BRUSH = 22; // MNIST digits are ~20 px tall in 28 with 2–3 px strokes: ~22 on 280
const INK = "#111";
const PAPER = "#fff";

export class DrawPad extends EventTarget {
  constructor(canvas) {
    super();
    this.canvas = canvas;
    this.context = canvas.getContext("2d");
    this.scale = Math.min(window.devicePixelRatio || 1, 2);
    canvas.width = SIZE * this.scale;
    canvas.height = SIZE * this.scale;
    this.context.scale(this.scale, this.scale);
    this.pointer = null; // the pointer drawing now
    this.last = null;
    this.inked = false;
    this.clear(false);
    canvas.addEventListener("pointerdown", (event) => this.down(event));
    canvas.addEventListener("pointermove", (event) => this.move(event));
    for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
      canvas.addEventListener(type, (event) => this.up(event));
    }
  }

  get empty() {
    return !this.inked;
  }

  /** The ink's largest side in pad units (0 when empty): the server scales it to the dataset's box. */
  get inkSize() {
    const box = this.box;
    return box ? Math.max(box.x1 - box.x0, box.y1 - box.y0) : 0;
  }

  /** Grow the ink's bounding box by a brush stroke around a point. */
  extend({ x, y }) {
    const r = BRUSH / 2;
    const box = this.box ?? { x0: x - r, y0: y - r, x1: x + r, y1: y + r };
    this.box = {
      x0: Math.max(0, Math.min(box.x0, x - r)),
      y0: Math.max(0, Math.min(box.y0, y - r)),
      x1: Math.min(SIZE, Math.max(box.x1, x + r)),
      y1: Math.min(SIZE, Math.max(box.y1, y + r)),
    };
  }

  clear(notify = true) {
    const c = this.context;
    c.fillStyle = PAPER;
    c.fillRect(0, 0, SIZE, SIZE);
    this.inked = false;
    this.box = null;
    if (notify) this.dispatchEvent(new Event("clear"));
  }

  /** The drawing as a PNG data URL. */
  image() {
    return this.canvas.toDataURL("image/png");
  }

  point(event) {
    const box = this.canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) / box.width) * SIZE,
      y: ((event.clientY - box.top) / box.height) * SIZE,
    };
  }

  down(event) {
    if (this.pointer != null || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    this.pointer = event.pointerId;
    this.canvas.setPointerCapture?.(event.pointerId);
    this.last = this.point(event);
    this.dot(this.last);
    this.changed();
  }

  move(event) {
    if (event.pointerId !== this.pointer) return;
    event.preventDefault();
    const events = event.getCoalescedEvents?.() ?? [];
    for (const each of events.length ? events : [event]) {
      const next = this.point(each);
      this.segment(this.last, next);
      this.last = next;
    }
    this.changed();
  }

  up(event) {
    if (event.pointerId !== this.pointer) return;
    this.pointer = null;
    this.last = null;
    this.dispatchEvent(new Event("strokeend"));
  }

  dot({ x, y }) {
    this.extend({ x, y });
    const c = this.context;
    c.fillStyle = INK;
    c.beginPath();
    c.arc(x, y, BRUSH / 2, 0, Math.PI * 2);
    c.fill();
  }

  segment(from, to) {
    this.extend(from);
    this.extend(to);
    const c = this.context;
    c.strokeStyle = INK;
    c.lineWidth = BRUSH;
    c.lineCap = "round";
    c.lineJoin = "round";
    c.beginPath();
    c.moveTo(from.x, from.y);
    c.lineTo(to.x, to.y);
    c.stroke();
  }

  changed() {
    this.inked = true;
    this.dispatchEvent(new Event("change"));
  }
}
