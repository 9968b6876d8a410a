// A second run on the Look inside tab, beside the first at the same epoch: its own InsideState with
// a weights view and a health view, drawn into copies of the first run's two cards. It loads its
// run's layer health and epochs, and shows the epoch the first run shows (or the last it has before
// that one; the latest while the first follows the latest).

import { HealthView } from "./health.js";
import { InsideState } from "./inside-state.js";
import { WeightsView } from "./weights-view.js";

/** Copies of `cards` into `host` (a fragment, say): ids and what refers to them renamed, so they stay unique. */
export function copyCards(cards, host, suffix) {
  for (const card of cards) {
    const copy = card.cloneNode(true);
    for (const node of [copy, ...copy.querySelectorAll("[id]")]) {
      if (node.id) node.id = `${node.id}-${suffix}`;
    }
    for (const name of ["aria-labelledby", "aria-describedby", "for", "aria-controls"]) {
      for (const node of [copy, ...copy.querySelectorAll(`[${name}]`)]) {
        const value = node.getAttribute(name);
        if (value) node.setAttribute(name, value.split(/\s+/).map((id) => `${id}-${suffix}`).join(" "));
      }
    }
    host.append(copy);
  }
}

export class SecondLens {
  constructor(root, store) {
    this.root = root;
    this.store = store;
    this.state = new InsideState();
    this.loaded = false;
    new WeightsView(root, this.state);
    this.health = new HealthView(root, this.state);
    store.addEventListener("info", () => this.state.setInfo(store.info));
    store.addEventListener("run-epoch", (event) => {
      if (event.detail.id !== this.state.runId) return;
      this.state.modelChanged();
      this.loaded = false;
      if (this.state.visible) this.load();
    });
  }

  /** Show this run (a summary, or null for none), at `epoch` of the first run (null: the latest). */
  show(run, epoch, visible) {
    const state = this.state;
    if ((run?.id ?? null) !== state.runId) this.loaded = false;
    state.showRun(run, this.store.isActive(run));
    state.setVisible(visible && run != null);
    this.root.hidden = run == null;
    this.root.dataset.run = run?.id ?? "";
    if (state.visible && run && !this.loaded) this.load();
    state.aim(epoch);
    this.root.dataset.epoch = state.epoch == null ? "" : String(state.epoch);
  }

  async load() {
    this.loaded = true;
    if (!(await this.state.loadSeries())) this.loaded = false;
    this.root.dataset.epoch = this.state.epoch == null ? "" : String(this.state.epoch);
  }
}
