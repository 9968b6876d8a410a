// deeplook's notebook widget (deeplook.notebook.watch): draws the state the kernel keeps in sync —
// the loss per step and the train/test accuracy per epoch of one run. An anywidget ES module.

const COLORS = { loss: '#4e79a7', train: '#f28e2b', test: '#59a14f', grid: '#ddd', text: '#333' };

function line(ctx, points, box, range, color) {
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  points.forEach(([x, y], i) => {
    const px = box.x + ((x - range.x0) / (range.x1 - range.x0 || 1)) * box.w;
    const py = box.y + box.h - ((y - range.y0) / (range.y1 - range.y0 || 1)) * box.h;
    if (i === 0) ctx.moveTo(px, py);
    else ctx.lineTo(px, py);
  });
  ctx.stroke();
}

function frame(ctx, box, title, range) {
  ctx.strokeStyle = COLORS.grid;
  ctx.strokeRect(box.x, box.y, box.w, box.h);
  ctx.fillStyle = COLORS.text;
  ctx.font = '12px sans-serif';
  ctx.fillText(title, box.x, box.y - 6);
  ctx.fillText(range.y1.toPrecision(3), box.x - 44, box.y + 10);
  ctx.fillText(range.y0.toPrecision(3), box.x - 44, box.y + box.h);
  ctx.fillText(String(range.x1), box.x + box.w - 30, box.y + box.h + 14);
}

function draw(canvas, model) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 640;
  const height = 220;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d');
  ctx.scale(ratio, ratio);
  ctx.clearRect(0, 0, width, height);
  const half = (width - 120) / 2;
  const steps = model.get('steps');
  const lossBox = { x: 50, y: 24, w: half, h: height - 60 };
  if (steps.length) {
    const losses = steps.map((p) => p[1]);
    const range = { x0: steps[0][0], x1: steps[steps.length - 1][0], y0: 0, y1: Math.max(...losses) };
    frame(ctx, lossBox, 'loss per step (cross-entropy) · 손실', range);
    line(ctx, steps, lossBox, range, COLORS.loss);
  }
  const epochs = model.get('epochs');
  const accBox = { x: 110 + half, y: 24, w: half, h: height - 60 };
  if (epochs.length) {
    const total = Math.max(model.get('epochs_total'), epochs[epochs.length - 1].epoch);
    const values = epochs.flatMap((e) => [e.train_accuracy, e.test_accuracy]);
    const range = { x0: 0, x1: total, y0: Math.min(...values, 0.9), y1: 1 };
    frame(ctx, accBox, 'accuracy per epoch · 정확도 (train / test)', range);
    line(ctx, epochs.map((e) => [e.epoch, e.train_accuracy]), accBox, range, COLORS.train);
    line(ctx, epochs.map((e) => [e.epoch, e.test_accuracy]), accBox, range, COLORS.test);
  }
}

function caption(model) {
  const epochs = model.get('epochs');
  const last = epochs[epochs.length - 1];
  const parts = [model.get('name'), model.get('status'), `epoch ${epochs.length}/${model.get('epochs_total')}`];
  if (last) parts.push(`test accuracy ${(100 * last.test_accuracy).toFixed(2)}%`);
  if (model.get('error')) parts.push(model.get('error'));
  return parts.filter(Boolean).join(' · ');
}

function render({ model, el }) {
  const title = document.createElement('div');
  title.style.font = '13px sans-serif';
  const canvas = document.createElement('canvas');
  canvas.style.width = '100%';
  el.append(title, canvas);
  const update = () => {
    title.textContent = caption(model);
    draw(canvas, model);
  };
  for (const name of ['steps', 'epochs', 'status', 'error']) model.on(`change:${name}`, update);
  update();
}

export default { render };
