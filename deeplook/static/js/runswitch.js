// The runs that train or wait, as a row of buttons above the run bar: each names its run, its status
// and its place in the queue; pressing one follows it. Shown while there is more than one to choose.

import { element } from "./dom.js";
import { integer } from "./format.js";
import { onLangChange, t } from "./i18n.js";
import { runName, statusLabel } from "./words.js";

export class RunSwitch {
  constructor(root, store) {
    this.root = root;
    this.store = store;
    this.list = root.querySelector("[data-run-switch-list]");
    this.frame = 0;
    this.list.addEventListener("click", (event) => {
      const button = event.target.closest("[data-follow]");
      if (button) store.follow(button.dataset.follow);
    });
    for (const type of ["runs", "follow", "info"]) store.addEventListener(type, () => this.invalidate());
    onLangChange(() => this.render());
  }

  invalidate() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** The active runs in the order they started, and the followed one wherever it is. */
  entries() {
    const runs = this.store.activeRuns;
    const followed = this.store.run;
    if (followed && !runs.some((run) => run.id === followed.id)) runs.unshift(followed);
    return runs;
  }

  render() {
    const runs = this.entries();
    this.root.hidden = runs.length < 2;
    this.root.dataset.count = String(runs.length);
    const focused = document.activeElement?.dataset?.follow;
    const items = runs.map((run) => {
      const item = element("li");
      const button = element("button", "run-switch-item");
      button.type = "button";
      button.dataset.follow = run.id;
      button.dataset.status = run.status;
      button.setAttribute("aria-pressed", String(run.id === this.store.followedId));
      const status = element("span", "badge", statusLabel(run.status));
      status.dataset.state = run.status;
      const name = element("span", "run-switch-name", runName(run));
      button.append(name, status);
      if (run.status === "queued" && run.queue_position != null) {
        const place = element("span", "run-switch-queue", t("run.queueShort", { n: integer(run.queue_position) }));
        place.dataset.queuePosition = String(run.queue_position);
        button.append(place);
      }
      button.title = run.name ? `${run.id} · ${run.name}` : run.id;
      item.append(button);
      return item;
    });
    this.list.replaceChildren(...items);
    if (focused) this.list.querySelector(`[data-follow="${focused}"]`)?.focus();
  }
}
