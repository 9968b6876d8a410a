// The list of a trace's stages, grouped by phase (forward, loss, backward, update, train): one link
// per stage to its own address, the one shown marked with aria-current.

import { element } from "./dom.js";
import { onLangChange, t } from "./i18n.js";
import { railLabel } from "./step-text.js";

export class StageRail {
  constructor(root, state) {
    this.state = state;
    this.list = root.querySelector("[data-step-rail]");
    state.addEventListener("trace", () => this.build());
    state.addEventListener("stage", () => this.mark());
    onLangChange(() => this.build());
  }

  build() {
    const { stages, trace } = this.state;
    const groups = [];
    for (const stage of stages) {
      let group = groups.at(-1);
      if (group?.phase !== stage.phase) {
        group = { phase: stage.phase, items: [] };
        groups.push(group);
      }
      const link = element("a", "step-link", railLabel(stage, trace));
      link.href = `#step/${encodeURIComponent(stage.id)}`;
      link.dataset.stageLink = stage.id;
      link.dataset.phase = stage.phase;
      const item = element("li");
      item.append(link);
      group.items.push(item);
    }
    this.list.replaceChildren(
      ...groups.map(({ phase, items }) => {
        const group = element("li", "step-phase");
        group.dataset.phase = phase;
        const list = element("ol", "step-links");
        list.append(...items);
        group.append(element("span", "step-phase-name", t(`step.phase.${phase}`)), list);
        return group;
      }),
    );
    this.mark();
  }

  mark() {
    const current = this.state.stage?.id;
    for (const link of this.list.querySelectorAll("[data-stage-link]")) {
      if (link.dataset.stageLink === current) link.setAttribute("aria-current", "step");
      else link.removeAttribute("aria-current");
    }
  }

  focusCurrent() {
    this.list.querySelector("[aria-current]")?.focus();
  }
}
